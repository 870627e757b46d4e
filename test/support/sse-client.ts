// Event-stream clients for tests: one that reads every frame (with its `id:`), and one that asks
// for a stream and never reads it.
//
//   const sse = await readSse(`https://${address}/api/v1/events`, { lastEventId });
//   const e = await sse.waitFor((f) => f.event === 'task_updated');
//   sse.close();
//   const stalled = await stalledSse(address, '/api/v1/events');   // raw TLS; await stalled.drain()
import tls from 'node:tls';
import { secureFetch, testPki } from './security.js';

export interface SseFrame {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: unknown;
}

export interface SseClient {
  readonly status: number;
  /** Every frame so far (comments excluded). */
  readonly frames: readonly SseFrame[];
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  waitFor(match: (f: SseFrame) => boolean, timeoutMs?: number): Promise<SseFrame>;
  close(): void;
}

const open = new Set<() => void>();

export async function readSse(url: string, options: { lastEventId?: string } = {}): Promise<SseClient> {
  const abort = new AbortController();
  const res = await secureFetch(url, { signal: abort.signal, ...(options.lastEventId === undefined ? {} : { headers: { 'last-event-id': options.lastEventId } }) });
  const frames: SseFrame[] = [];
  const close = (): void => abort.abort();
  open.add(close);
  let wake = (): void => undefined;
  const ended = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let cut = buffer.indexOf('\n\n'); cut !== -1; cut = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          if (event === undefined) continue;
          const data = /^data: (.*)$/m.exec(block)?.[1];
          frames.push({ id: /^id: (.*)$/m.exec(block)?.[1], event, data: data === undefined ? undefined : JSON.parse(data) });
        }
        wake();
      }
    } catch {
      // aborted, or the server dropped us
    } finally {
      open.delete(close);
      wake();
    }
  })();
  let done = false;
  void ended.then(() => (done = true));
  return {
    status: res.status,
    frames,
    ended,
    async waitFor(match, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      let from = 0;
      for (;;) {
        for (; from < frames.length; from += 1) if (match(frames[from] as SseFrame)) return frames[from] as SseFrame;
        if (done) throw new Error(`the stream ended; saw ${frames.map((f) => f.event).join(', ')}`);
        if (Date.now() > deadline) throw new Error(`no matching event within ${timeoutMs} ms; saw ${frames.length} frames`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
    },
    close,
  };
}

export interface StalledClient {
  /**
   * Starts reading again and resolves once the server has closed the connection, with the bytes
   * that were waiting (a paused socket does not see the server close it until it reads).
   */
  drain(): Promise<number>;
  close(): void;
}

/** Asks `address` for the event stream at `path` as the test admin, reads the response head, and then never reads again. */
export async function stalledSse(address: string, path: string): Promise<StalledClient> {
  const i = address.lastIndexOf(':');
  const socket = tls.connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)), ca: testPki().clientTls.ca, servername: 'localhost' });
  const close = (): void => {
    socket.destroy();
  };
  open.add(close);
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  let received = 0;
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      open.delete(close);
      resolve(received);
    }),
  );
  socket.write(`GET ${path} HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ${testPki().adminToken}\r\naccept: text/event-stream\r\n\r\n`);
  await new Promise<void>((resolve, reject) => {
    socket.once('data', (head: Buffer) => {
      socket.pause();
      if (head.toString('latin1').startsWith('HTTP/1.1 200')) resolve();
      else reject(new Error(`expected 200, got ${head.toString('latin1').split('\r\n')[0]}`));
    });
  });
  return {
    drain: () => {
      socket.on('data', (chunk: Buffer) => (received += chunk.length));
      socket.resume();
      return closed;
    },
    close,
  };
}

/** Close every client these helpers opened (afterEach). */
export function closeSseClients(): void {
  for (const close of [...open]) close();
  open.clear();
}
