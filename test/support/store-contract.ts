// The Store contract: one suite that every backend must pass, so code above the Store can rely on
// ZooKeeper's semantics whichever backend runs it. `open` must return a new session on the same
// shared data each time it is called (so tests can watch one session from another).
//
//   storeContract('embedded (memory)', (opts) => openStore(`memory://${name}`, opts));

import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { AgoraError, type ErrorCode } from '../../core/errors.js';
import type { NodeData, SessionEvent, Store, WatchEvent } from '../../core/store/index.js';

export interface ContractStore extends Store {
  /** Expire the session for real (the store then opens a new one). */
  expireSession(): Promise<void>;
}

export interface ContractOpenOptions {
  chroot: string;
  sessionTimeoutMs: number;
}

export type ContractOpen = (options: ContractOpenOptions) => Promise<ContractStore>;

const SESSION_TIMEOUT_MS = 2_000;
const enc = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Poll until `check` stops throwing (reads on other ensemble members may lag a little). */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(25);
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<AgoraError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(AgoraError);
  expect((err as AgoraError).code).toBe(code);
  return err as AgoraError;
}

/** Collects watch events; `watcher` is one stable function. */
export function recorder(): { events: WatchEvent[]; watcher: (e: WatchEvent) => void } {
  const events: WatchEvent[] = [];
  return { events, watcher: (e) => events.push(e) };
}

export function sessionLog(store: Store): SessionEvent[] {
  const log: SessionEvent[] = [];
  store.onSession((e) => log.push(e));
  return log;
}

export function storeContract(name: string, open: ContractOpen): void {
  describe(`Store contract: ${name}`, () => {
    const opened: Store[] = [];
    let chroot = '';

    /** A new session on the test's chroot (or another). */
    const session = async (root = chroot): Promise<ContractStore> => {
      const store = await open({ chroot: root, sessionTimeoutMs: SESSION_TIMEOUT_MS });
      opened.push(store);
      return store;
    };
    const fresh = async (): Promise<ContractStore> => {
      chroot = `/t-${randomBytes(6).toString('hex')}`;
      return session();
    };

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close().catch(() => undefined)));
    });

    describe('nodes', () => {
      it('creates, reads, updates and deletes nodes, with stats', async () => {
        const s = await fresh();
        expect(s.state).toBe('connected');
        expect(s.sessionId).toMatch(/^[0-9a-f]{16}$/);
        expect(await s.create('/a', enc('one'))).toBe('/a');
        const got = await s.get('/a');
        expect(got.data.toString()).toBe('one');
        expect(got.stat).toMatchObject({ version: 0, cversion: 0, dataLength: 3, numChildren: 0, ephemeralOwner: undefined });
        expect(got.stat.ctime).toBe(got.stat.mtime);
        expect(Math.abs(got.stat.ctime - Date.now())).toBeLessThan(60_000);

        const stat = await s.set('/a', enc('two'));
        expect(stat.version).toBe(1);
        expect(stat.mtime).toBeGreaterThanOrEqual(stat.ctime);
        expect((await s.get('/a')).data.toString()).toBe('two');

        await s.create('/a/b');
        expect((await s.get('/a/b')).data.length).toBe(0);
        expect((await s.exists('/a'))?.numChildren).toBe(1);
        expect((await s.exists('/a'))?.cversion).toBe(1);
        expect(await s.exists('/a/missing')).toBeUndefined();

        await s.delete('/a/b');
        expect((await s.exists('/a'))?.cversion).toBe(2);
        await s.delete('/a', 1);
        expect(await s.exists('/a')).toBeUndefined();
      });

      it('lists children sorted, by name', async () => {
        const s = await fresh();
        await s.create('/p');
        for (const n of ['c', 'a', 'b']) await s.create(`/p/${n}`);
        expect(await s.getChildren('/p')).toEqual(['a', 'b', 'c']);
        expect(await s.getChildren('/p/a')).toEqual([]);
      });

      it('stores JSON', async () => {
        const s = await fresh();
        await s.createJson('/j', { x: 1, y: ['z'] });
        expect((await s.getJson<{ x: number }>('/j')).value).toEqual({ x: 1, y: ['z'] });
        await s.setJson('/j', { x: 2 }, 0);
        const node = await s.getJson<{ x: number }>('/j');
        expect(node.value.x).toBe(2);
        expect(node.stat.version).toBe(1);
        await s.create('/not-json', enc('{'));
        await expectCode(s.getJson('/not-json'), 'AGORA_INTERNAL');
      });

      it('creates parents on request, mkdirp and deleteRecursive', async () => {
        const s = await fresh();
        await expectCode(s.create('/x/y/z', enc('d')), 'AGORA_NO_NODE');
        expect(await s.create('/x/y/z', enc('d'), { createParents: true })).toBe('/x/y/z');
        expect((await s.get('/x/y')).data.length).toBe(0);
        await s.mkdirp('/x/y/w/v');
        await s.mkdirp('/x/y/w/v'); // idempotent
        expect(await s.getChildren('/x/y')).toEqual(['w', 'z']);
        await s.deleteRecursive('/x');
        expect(await s.exists('/x')).toBeUndefined();
        await s.deleteRecursive('/x'); // missing is fine
      });
    });

    describe('ACLs', () => {
      // Who else may touch the nodes depends on the backend and its credentials (ZooKeeper only:
      // store-zookeeper-acl.test.ts); everywhere the store that made them keeps every right.
      it('accepts an ACL on create, createParents, mkdirp and multi, and the store keeps every right on its nodes', async () => {
        const s = await fresh();
        const other = await session();
        await s.create('/w', enc('w'), { acl: 'world-readable' });
        await s.create('/p', enc('p'), { acl: 'private' });
        await s.create('/deep/er/node', enc('d'), { createParents: true, acl: 'world-readable' });
        await s.mkdirp('/dir/leaf', { acl: 'world-readable' });
        await s.create('/dir/leaf/eph-', undefined, { mode: 'ephemeral-sequential', acl: 'world-readable' });
        const [created] = await s.multi([{ op: 'create', path: '/tx-', mode: 'sequential', acl: 'world-readable' }, { op: 'create', path: '/tx', acl: 'private' }]);
        expect(created).toEqual({ op: 'create', path: '/tx-0000000004' });
        for (const store of [s, other]) {
          expect((await store.get('/w')).data.toString()).toBe('w');
          expect(await store.getChildren('/dir/leaf')).toHaveLength(1);
          await store.set('/p', enc('p2'));
          await store.create('/dir/leaf/kid', undefined, { mode: 'ephemeral' });
          await store.delete('/dir/leaf/kid');
        }
        await s.deleteRecursive('/deep');
        await s.multi([{ op: 'delete', path: '/tx' }, { op: 'delete', path: '/tx-0000000004' }]);
        expect(await s.getChildren('/')).toEqual(['dir', 'p', 'w']);
      });
    });

    describe('versions and errors', () => {
      it('compare-and-set: set and delete honour the expected version', async () => {
        const s = await fresh();
        await s.create('/v', enc('0'));
        await s.set('/v', enc('1'), 0);
        const conflict = await expectCode(s.set('/v', enc('x'), 0), 'AGORA_BAD_VERSION');
        expect(conflict.details).toMatchObject({ path: '/v', expected: 0 });
        expect((await s.get('/v')).data.toString()).toBe('1');
        await expectCode(s.delete('/v', 0), 'AGORA_BAD_VERSION');
        await s.set('/v', enc('2'), -1);
        await s.delete('/v', 2);
        expect(await s.exists('/v')).toBeUndefined();
      });

      it('a CAS race has exactly one winner', async () => {
        const s = await fresh();
        const other = await session();
        await s.create('/race', enc('0'));
        const results = await Promise.allSettled([s.set('/race', enc('a'), 0), other.set('/race', enc('b'), 0)]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect((loser.reason as AgoraError).code).toBe('AGORA_BAD_VERSION');
      });

      it('raises typed errors with stable codes', async () => {
        const s = await fresh();
        const missing = await expectCode(s.get('/nope'), 'AGORA_NO_NODE');
        expect(missing.details.path).toBe('/nope');
        await expectCode(s.set('/nope', enc('')), 'AGORA_NO_NODE');
        await expectCode(s.delete('/nope'), 'AGORA_NO_NODE');
        await expectCode(s.getChildren('/nope'), 'AGORA_NO_NODE');
        await expectCode(s.create('/nope/child'), 'AGORA_NO_NODE');
        await s.create('/e');
        await expectCode(s.create('/e'), 'AGORA_NODE_EXISTS');
        await s.create('/e/kid');
        await expectCode(s.delete('/e'), 'AGORA_NOT_EMPTY');
        await s.create('/eph', undefined, { mode: 'ephemeral' });
        await expectCode(s.create('/eph/kid'), 'AGORA_FAILED_PRECONDITION');
        for (const bad of ['', 'rel', '/trailing/', '/a//b', '/a/./b', '/a/../b']) {
          await expectCode(s.get(bad), 'AGORA_INVALID_ARGUMENT');
        }
      });
    });

    describe('sequential nodes', () => {
      it('appends a 10-digit counter taken from the parent cversion', async () => {
        const s = await fresh();
        await s.create('/q');
        const a = await s.create('/q/job-', enc('a'), { mode: 'sequential' });
        const b = await s.create('/q/job-', enc('b'), { mode: 'sequential' });
        const c = await s.create('/q/lock-', undefined, { mode: 'ephemeral-sequential' });
        expect([a, b, c]).toEqual(['/q/job-0000000000', '/q/job-0000000001', '/q/lock-0000000002']);
        await s.delete(b);
        // the counter counts child creations (of any mode); cversion counts deletions too
        expect((await s.exists('/q'))?.cversion).toBe(4);
        expect(await s.create('/q/job-', undefined, { mode: 'sequential' })).toBe('/q/job-0000000003');
        await s.create('/q/plain');
        expect(await s.create('/q/job-', undefined, { mode: 'sequential' })).toBe('/q/job-0000000005');
        expect((await s.get(a)).data.toString()).toBe('a');
        expect((await s.exists(c))?.ephemeralOwner).toBe(s.sessionId);
      });
    });

    describe('ephemeral nodes and sessions', () => {
      it('ties ephemeral nodes to the session: gone when it closes', async () => {
        const a = await fresh();
        const b = await session();
        await a.create('/live', enc('a'), { mode: 'ephemeral' });
        await a.create('/kept', enc('a'));
        const seen = await eventually(async () => (await b.exists('/live')) ?? Promise.reject(new Error('not yet')));
        expect(seen.ephemeralOwner).toBe(a.sessionId);
        expect(a.sessionId).not.toBe(b.sessionId);
        const gone = recorder();
        await b.exists('/live', { watch: gone.watcher });
        const log = sessionLog(a);
        await a.close();
        expect(a.state).toBe('closed');
        expect(log).toEqual(['closed']);
        await eventually(() => expect(gone.events).toEqual([{ type: 'deleted', path: '/live' }]));
        expect(await b.exists('/live')).toBeUndefined();
        expect(await b.exists('/kept')).toBeDefined();
        await expectCode(a.get('/kept'), 'AGORA_SESSION_EXPIRED');
        await expectCode(a.create('/after'), 'AGORA_SESSION_EXPIRED');
      });

      it('expiry deletes the ephemerals, fires watches once, and the store carries on in a new session', async () => {
        const a = await fresh();
        const b = await session();
        await a.create('/e', undefined, { mode: 'ephemeral' });
        await a.create('/p', enc('x'));
        const mine = recorder();
        await a.get('/p', { watch: mine.watcher });
        await a.getChildren('/p', { watch: mine.watcher });
        const theirs = recorder();
        await eventually(async () => expect(await b.exists('/e', { watch: theirs.watcher })).toBeDefined());
        const log = sessionLog(a);
        const before = a.sessionId;

        await a.expireSession();
        await eventually(() => expect(log).toContain('connected'));
        expect(log.filter((e) => e !== 'suspended')).toEqual(['expired', 'connected']);
        expect(a.state).toBe('connected');
        expect(a.sessionId).not.toBe(before);
        expect(mine.events).toEqual([{ type: 'sessionExpired', path: '/p' }]);
        await eventually(() => expect(theirs.events).toEqual([{ type: 'deleted', path: '/e' }]));
        expect(await a.exists('/e')).toBeUndefined();
        expect((await a.get('/p')).data.toString()).toBe('x');
        await a.create('/e2', undefined, { mode: 'ephemeral' });
        expect((await a.exists('/e2'))?.ephemeralOwner).toBe(a.sessionId);
      });
    });

    describe('watches', () => {
      it('a data watch fires once, for the next change only, with the path', async () => {
        const s = await fresh();
        await s.create('/w', enc('0'));
        const r = recorder();
        await s.get('/w', { watch: r.watcher });
        await s.get('/w', { watch: r.watcher }); // the same watcher twice is one watch
        await s.set('/w', enc('1'));
        await s.set('/w', enc('2'));
        await eventually(() => expect(r.events).toEqual([{ type: 'dataChanged', path: '/w' }]));
        await sleep(100);
        expect(r.events).toHaveLength(1);
        await s.get('/w', { watch: r.watcher });
        await s.delete('/w');
        await eventually(() => expect(r.events[1]).toEqual({ type: 'deleted', path: '/w' }));
      });

      it('exists watches creation; child watches fire on children and on deletion, not on data', async () => {
        const s = await fresh();
        const r = recorder();
        expect(await s.exists('/c', { watch: r.watcher })).toBeUndefined();
        await s.create('/c');
        await eventually(() => expect(r.events).toEqual([{ type: 'created', path: '/c' }]));

        const kids = recorder();
        await s.getChildren('/c', { watch: kids.watcher });
        await s.set('/c', enc('data'));
        await s.create('/c/k1');
        await s.create('/c/k2');
        await eventually(() => expect(kids.events).toEqual([{ type: 'childrenChanged', path: '/c' }]));
        await s.getChildren('/c', { watch: kids.watcher });
        await s.set('/c/k1', enc('child data'));
        await s.delete('/c/k1');
        await eventually(() => expect(kids.events).toHaveLength(2));
        expect(kids.events[1]).toEqual({ type: 'childrenChanged', path: '/c' });

        await s.getChildren('/c', { watch: kids.watcher });
        await s.delete('/c/k2');
        await s.getChildren('/c', { watch: kids.watcher });
        await s.delete('/c');
        await eventually(() => expect(kids.events).toHaveLength(4));
        expect(kids.events.slice(2)).toEqual([
          { type: 'childrenChanged', path: '/c' },
          { type: 'deleted', path: '/c' },
        ]);
      });

      it('delivers another session’s changes, and several watchers on one path all fire', async () => {
        const a = await fresh();
        const b = await session();
        await a.create('/shared', enc('0'));
        const r1 = recorder();
        const r2 = recorder();
        await eventually(() => b.get('/shared', { watch: r1.watcher }));
        await b.exists('/shared', { watch: r2.watcher });
        await a.set('/shared', enc('1'));
        await eventually(() => expect([...r1.events, ...r2.events]).toHaveLength(2));
        expect(r1.events).toEqual([{ type: 'dataChanged', path: '/shared' }]);
        expect(r2.events).toEqual([{ type: 'dataChanged', path: '/shared' }]);
      });

      it('watchData follows a node through changes, deletion and re-creation', async () => {
        const s = await fresh();
        const seen: Array<string | undefined> = [];
        const stop = s.watchData('/f', (node: NodeData | undefined) => seen.push(node?.data.toString()));
        await eventually(() => expect(seen).toEqual([undefined]));
        await s.create('/f', enc('a'));
        await eventually(() => expect(seen).toEqual([undefined, 'a']));
        await s.set('/f', enc('b'));
        await eventually(() => expect(seen.at(-1)).toBe('b'));
        await s.delete('/f');
        await eventually(() => expect(seen.at(-1)).toBeUndefined());
        await s.create('/f', enc('c'));
        await eventually(() => expect(seen.at(-1)).toBe('c'));
        stop();
        await s.set('/f', enc('d'));
        await sleep(100);
        expect(seen.at(-1)).toBe('c');
      });

      it('watchChildren follows the children, and keeps following after session expiry', async () => {
        const s = await fresh();
        const other = await session();
        const seen: Array<string[] | undefined> = [];
        const stop = s.watchChildren('/dir', (c) => seen.push(c));
        await eventually(() => expect(seen).toEqual([undefined]));
        await other.create('/dir');
        await eventually(() => expect(seen.at(-1)).toEqual([]));
        await other.create('/dir/b');
        await other.create('/dir/a');
        await eventually(() => expect(seen.at(-1)).toEqual(['a', 'b']));
        await s.expireSession();
        await other.create('/dir/c');
        await eventually(() => expect(seen.at(-1)).toEqual(['a', 'b', 'c']));
        stop();
      });
    });

    describe('multi', () => {
      it('applies every operation atomically and returns each result', async () => {
        const s = await fresh();
        await s.create('/m', enc('0'));
        const results = await s.multi([
          { op: 'check', path: '/m', version: 0 },
          { op: 'set', path: '/m', data: enc('1'), version: 0 },
          { op: 'create', path: '/m/run-', data: enc('r'), mode: 'sequential' },
          { op: 'create', path: '/m/tmp' },
          { op: 'delete', path: '/m/tmp', version: 0 },
        ]);
        expect(results[0]).toEqual({ op: 'check' });
        expect(results[1]).toMatchObject({ op: 'set', stat: { version: 1 } });
        expect(results[2]).toEqual({ op: 'create', path: '/m/run-0000000000' });
        expect(results.slice(3)).toEqual([{ op: 'create', path: '/m/tmp' }, { op: 'delete' }]);
        expect(await s.getChildren('/m')).toEqual(['run-0000000000']);
        expect(await s.multi([])).toEqual([]);
      });

      it('a failing operation applies nothing and names its index', async () => {
        const s = await fresh();
        await s.create('/m', enc('0'));
        const r = recorder();
        await s.getChildren('/m', { watch: r.watcher });
        const err = await expectCode(
          s.multi([
            { op: 'create', path: '/m/a' },
            { op: 'set', path: '/m', data: enc('1') },
            { op: 'check', path: '/m', version: 0 }, // version is 1 by now
            { op: 'create', path: '/m/b' },
          ]),
          'AGORA_BAD_VERSION',
        );
        expect(err.details.index).toBe(2);
        expect(await s.getChildren('/m')).toEqual([]);
        expect((await s.get('/m')).stat.version).toBe(0);
        await expectCode(s.multi([{ op: 'create', path: '/m/a' }, { op: 'create', path: '/m/a' }]), 'AGORA_NODE_EXISTS');
        await expectCode(s.multi([{ op: 'delete', path: '/m/none' }]), 'AGORA_NO_NODE');
        await sleep(100);
        expect(r.events).toEqual([]);
      });

      it('exactly one of two racing transactions on the same version wins', async () => {
        const a = await fresh();
        const b = await session();
        await a.create('/cron', enc('0'));
        const claim = (store: Store, who: string) =>
          store.multi([
            { op: 'check', path: '/cron', version: 0 },
            { op: 'set', path: '/cron', data: enc(who), version: 0 },
            { op: 'create', path: `/cron/run-${who}` },
          ]);
        const results = await Promise.allSettled([claim(a, 'a'), claim(b, 'b')]);
        expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
        expect(await a.getChildren('/cron')).toHaveLength(1);
      });
    });

    describe('chroot', () => {
      it('isolates stores under different roots and maps paths both ways', async () => {
        const outer = await fresh();
        const inner = await session(`${chroot}/inner`);
        const sibling = await session(`${chroot}/sibling`);
        expect(inner.chroot).toBe(`${chroot}/inner`);
        await inner.create('/a', enc('inner'));
        await sibling.create('/a', enc('sibling'));
        expect((await inner.get('/a')).data.toString()).toBe('inner');
        expect((await sibling.get('/a')).data.toString()).toBe('sibling');
        // Another session may be served by a ZooKeeper follower that has not applied the write yet.
        await eventually(async () => expect(await outer.getChildren('/')).toEqual(['inner', 'sibling']));
        await eventually(async () => expect((await outer.get('/inner/a')).data.toString()).toBe('inner'));
        expect(await inner.getChildren('/')).toEqual(['a']);

        const r = recorder();
        await inner.get('/a', { watch: r.watcher });
        await outer.set('/inner/a', enc('changed'));
        await eventually(() => expect(r.events).toEqual([{ type: 'dataChanged', path: '/a' }]));
        expect(await inner.create('/s-', undefined, { mode: 'sequential' })).toBe('/s-0000000001');
        const [created] = await inner.multi([{ op: 'create', path: '/t-', mode: 'sequential' }]);
        expect(created).toEqual({ op: 'create', path: '/t-0000000002' });
        const err = await expectCode(inner.get('/missing'), 'AGORA_NO_NODE');
        expect(err.details.path).toBe('/missing');
        await inner.deleteRecursive('/');
        await eventually(async () => expect(await outer.getChildren('/inner')).toEqual([]));
        expect(await outer.getChildren('/sibling')).toEqual(['a']);
      });
    });
  });
}
