import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { writeQueuedTogether } from '../../master/grpc-services.js';

// writeQueuedTogether reaches into grpc-js's server stream (its `call`). These tests hold it to the
// grpc-js version the project pins: should an upgrade move `call`, the first one fails instead of
// the batching silently falling back to one message per turn.
const require = createRequire(import.meta.url);
const { ServerWritableStreamImpl } = require('@grpc/grpc-js/build/src/server-call.js') as {
  ServerWritableStreamImpl: new (path: string, call: unknown, metadata: unknown, request: unknown) => grpc.ServerWritableStream<unknown, unknown>;
};

function fakeCall() {
  const sent: unknown[] = [];
  const pending: Array<() => void> = [];
  return {
    sent,
    pending,
    sendMessage: (message: unknown, done: () => void) => {
      sent.push(message);
      pending.push(done);
    },
    getPeer: () => 'test',
  };
}

describe('writeQueuedTogether', () => {
  it("hands every queued message of grpc-js's own server stream to its call at once", async () => {
    const call = fakeCall();
    const stream = new ServerWritableStreamImpl('/test', call, undefined, {});
    writeQueuedTogether(stream);
    stream.write('a'); // goes out alone (nothing queued before it) ...
    stream.write('b'); // ... and these two wait for it, then go together
    stream.write('c');
    expect(call.sent).toEqual(['a']);
    call.pending.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(call.sent).toEqual(['a', 'b', 'c']);
    // The batch is done only when every message in it is.
    let drained = false;
    stream.write('d', () => (drained = true));
    call.pending.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(call.sent).toEqual(['a', 'b', 'c']);
    call.pending.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(call.sent).toEqual(['a', 'b', 'c', 'd']);
    call.pending.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(true);
  });

  it('leaves a stream without a grpc-js call as it is: one message at a time', async () => {
    const written: unknown[] = [];
    const pending: Array<() => void> = [];
    const stream = new Writable({
      objectMode: true,
      write: (chunk: unknown, _enc, done: () => void) => {
        written.push(chunk);
        pending.push(done);
      },
    });
    writeQueuedTogether(stream as unknown as grpc.ServerWritableStream<unknown, unknown>);
    stream.write('a');
    stream.write('b');
    stream.write('c');
    expect(written).toEqual(['a']);
    pending.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toEqual(['a', 'b']);
    pending.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toEqual(['a', 'b', 'c']);
  });
});
