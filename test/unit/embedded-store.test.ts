// The embedded backend's own behaviour (the shared semantics are in the Store contract suite):
// store URLs, process-wide sharing of servers, and the session hooks that stand in for a network.

import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from '../../core/clock.js';
import { AgoraError } from '../../core/errors.js';
import { EmbeddedStore, EmbeddedStoreServer, bySequence, openStore, type SessionEvent, type WatchEvent } from '../../core/store/index.js';
import { parseStoreUrl } from '../../core/store/index.js';

describe('store URLs', () => {
  it('parses zk, file, plain paths and memory', () => {
    expect(parseStoreUrl('zk://h1:2181,h2/agora')).toEqual({ kind: 'zookeeper', servers: 'h1:2181,h2:2181', chroot: '/agora' });
    expect(parseStoreUrl('zk://127.0.0.1:2181')).toEqual({ kind: 'zookeeper', servers: '127.0.0.1:2181', chroot: '' });
    expect(parseStoreUrl('file:///var/lib/agora')).toEqual({ kind: 'file', dir: '/var/lib/agora' });
    expect(parseStoreUrl('/var/lib/agora')).toEqual({ kind: 'file', dir: '/var/lib/agora' });
    expect(parseStoreUrl('memory:')).toEqual({ kind: 'memory', name: undefined });
    expect(parseStoreUrl('memory://shared')).toEqual({ kind: 'memory', name: 'shared' });
  });

  it('rejects bad URLs naming the field', () => {
    for (const bad of ['zk://', 'zk://h:1:2/x', 'zk://h/a//b', 'http://x', '']) {
      let err: unknown;
      try {
        parseStoreUrl(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(AgoraError);
      expect((err as AgoraError).code).toBe('AGORA_INVALID_ARGUMENT');
    }
  });

  it('memory://name is shared within the process; memory: is private', async () => {
    const a = await openStore('memory://unit-shared');
    const b = await openStore('memory://unit-shared');
    const c = await openStore('memory:');
    await a.create('/x');
    expect(await b.exists('/x')).toBeDefined();
    expect(await c.exists('/x')).toBeUndefined();
    await Promise.all([a.close(), b.close(), c.close()]);
  });
});

describe('embedded sessions', () => {
  const open = async (server: EmbeddedStoreServer) => EmbeddedStore.open(server, { sessionTimeoutMs: 200 });

  it('queues operations while suspended and runs them on reconnect; missed watch events arrive', async () => {
    // On a FakeClock the session cannot expire while suspended, so it is the suspension alone
    // that holds the write back.
    const server = EmbeddedStoreServer.memory(new FakeClock());
    const a = await open(server);
    const b = await open(server);
    await b.create('/n', Buffer.from('0'));
    const events: WatchEvent[] = [];
    await a.get('/n', { watch: (e) => events.push(e) });
    const log: SessionEvent[] = [];
    a.onSession((e) => log.push(e));
    a.disconnect();
    expect(a.state).toBe('suspended');
    let done = false;
    const pending = a.set('/n', Buffer.from('mine')).then(() => (done = true));
    await b.set('/n', Buffer.from('theirs'));
    await flushMicrotasks();
    expect(done).toBe(false);
    expect(events).toEqual([]);
    a.reconnect();
    await pending;
    await flushMicrotasks();
    expect(log).toEqual(['suspended', 'reconnected']);
    expect(events).toEqual([{ type: 'dataChanged', path: '/n' }]);
    expect((await b.get('/n')).data.toString()).toBe('mine');
    await Promise.all([a.close(), b.close()]);
  });

  it('a session out of contact for longer than its timeout expires: queued operations fail', async () => {
    const clock = new FakeClock();
    const server = EmbeddedStoreServer.memory(clock);
    const a = await open(server);
    const b = await open(server);
    await a.create('/eph', undefined, { mode: 'ephemeral' });
    const old = a.sessionId;
    a.disconnect();
    const queued = a.get('/eph').catch((e: unknown) => e);
    await clock.advanceAsync(199);
    expect(await b.exists('/eph')).toBeDefined(); // within the 200 ms session timeout
    await clock.advanceAsync(1);
    expect(await b.exists('/eph')).toBeUndefined(); // the server expired it meanwhile
    const log: SessionEvent[] = [];
    a.onSession((e) => log.push(e));
    a.reconnect();
    expect(((await queued) as AgoraError).code).toBe('AGORA_SESSION_EXPIRED');
    expect(log).toEqual(['expired', 'connected']);
    expect(a.sessionId).not.toBe(old);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('sequence order', () => {
  it('sorts by the counter, not by prefix', () => {
    expect(['b-0000000002', 'a-0000000010', 'c-0000000001', 'plain'].sort(bySequence)).toEqual([
      'c-0000000001',
      'b-0000000002',
      'a-0000000010',
      'plain',
    ]);
  });
});
