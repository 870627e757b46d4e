// Leader election on both backends, against real sessions: the embedded server (losing contact is
// simulated by its test hooks) and real ZooKeeper (sessions expired for real, candidates killed
// with SIGKILL in their own processes, connections cut by a proxy that stops forwarding, and a
// dedicated server frozen with SIGSTOP).

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LeaderElection, readLeader, readSuccessor, watchLeader, type LeaderInfo, type LostReason } from '../../core/election.js';
import { FakeClock } from '../../core/clock.js';
import { EmbeddedStore, EmbeddedStoreServer, ZooKeeperStore, type Store, type Watcher } from '../../core/store/index.js';
import { eventually } from '../support/store-contract.js';
import { testServices } from '../support/services.js';
import { startZooKeeper } from '../support/zookeeper.js';
import { holdsFor, pace } from '../support/waits.js';

const SESSION_TIMEOUT_MS = 2_000;
const repoRoot = path.resolve(import.meta.dirname, '../..');
const zkStandalone = (): string => process.env.AGORA_TEST_ZK ?? testServices().zk;

type TestStore = Store & { expireSession(): Promise<void> };
interface Addr {
  http: string;
}

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await Promise.resolve(fn()).catch(() => undefined);
});

/** A store proxy counting watch firings and child listings (the herd-effect check). */
function counted<S extends Store>(store: S): { store: S; watchFired: number; listings: number; reset(): void } {
  const stats = { watchFired: 0, listings: 0 };
  const wrapped = new WeakMap<Watcher, Watcher>();
  const wrap = (w: Watcher): Watcher => {
    let c = wrapped.get(w);
    if (!c) {
      c = (e) => {
        stats.watchFired += 1;
        w(e);
      };
      wrapped.set(w, c);
    }
    return c;
  };
  const proxy = new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (prop === 'getChildren' || prop === 'exists' || prop === 'get') {
        const fn = value as (p: string, o?: { watch?: Watcher }) => Promise<unknown>;
        return (p: string, o?: { watch?: Watcher }) => {
          if (prop === 'getChildren') stats.listings += 1;
          return fn.call(target, p, o?.watch ? { ...o, watch: wrap(o.watch) } : o);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    store: proxy,
    get watchFired() {
      return stats.watchFired;
    },
    get listings() {
      return stats.listings;
    },
    reset() {
      stats.watchFired = 0;
      stats.listings = 0;
    },
  };
}

interface Candidate {
  election: LeaderElection<Addr>;
  store: TestStore;
  log: string[];
  /** Times of events, by name. */
  at: Partial<Record<'elected' | 'lost', number>>;
  lost: LostReason[];
}

async function candidate(store: TestStore, electionPath: string, name: string, trackLeader = true): Promise<Candidate> {
  const election = new LeaderElection<Addr>({ store, path: electionPath, data: { http: `${name}:5050` }, trackLeader });
  const c: Candidate = { election, store, log: [], at: {}, lost: [] };
  election.on('elected', () => {
    c.log.push('elected');
    c.at.elected = Date.now();
  });
  election.on('lost', (reason) => {
    c.log.push(`lost:${reason}`);
    c.lost.push(reason);
    c.at.lost = Date.now();
  });
  cleanups.push(() => election.resign());
  await election.start();
  return c;
}

const leaders = (cs: Candidate[]): Candidate[] => cs.filter((c) => c.election.isLeader);

interface Backend {
  name: string;
  open(sessionTimeoutMs?: number): Promise<TestStore>;
}

function electionSuite(backend: Backend): void {
  describe(`leader election: ${backend.name}`, () => {
    // Not under /agora: the masters other tests start own that node, private to their credentials.
    const electionPath = (): string => `/elections/c-${randomBytes(5).toString('hex')}/master/election`;
    const open = async (timeout = SESSION_TIMEOUT_MS): Promise<TestStore> => {
      const s = await backend.open(timeout);
      cleanups.push(() => s.close());
      return s;
    };

    it('three candidates: exactly one leads and the others know its data', async () => {
      const p = electionPath();
      const cs = [await candidate(await open(), p, 'a'), await candidate(await open(), p, 'b'), await candidate(await open(), p, 'c')];
      await eventually(() => expect(leaders(cs)).toHaveLength(1));
      const [leader] = leaders(cs);
      expect(leader!.election.memberPath).toMatch(/\/member-\d{10}$/);
      expect(leader).toBe(cs[0]); // the first to join has the lowest sequence
      for (const c of cs) await eventually(() => expect(c.election.leader?.data).toEqual({ http: 'a:5050' }));
      expect(cs.map((c) => c.election.state)).toEqual(['leader', 'candidate', 'candidate']);
      const follower = await open();
      expect((await readLeader<Addr>(follower, p))?.data).toEqual({ http: 'a:5050' });
      expect(await follower.getChildren(p)).toHaveLength(3);
    });

    it('each candidate knows its place in line, and followers read the successor', async () => {
      const p = electionPath();
      const cs = [await candidate(await open(), p, 'a'), await candidate(await open(), p, 'b'), await candidate(await open(), p, 'c')];
      await eventually(() => expect(cs.map((c) => c.election.position)).toEqual([0, 1, 2]));
      const follower = await open();
      expect((await readSuccessor<Addr>(follower, p))?.data).toEqual({ http: 'b:5050' });
      await cs[0]!.election.resign();
      expect(cs[0]!.election.position).toBeUndefined();
      await eventually(() => expect(cs.slice(1).map((c) => c.election.position)).toEqual([0, 1]));
      expect((await readSuccessor<Addr>(follower, p))?.data).toEqual({ http: 'c:5050' });
      await cs[2]!.election.resign();
      expect(await readSuccessor(follower, p)).toBeUndefined();
    });

    for (const trackLeader of [false, true]) {
      it(`on resignation only the successor is woken (trackLeader: ${trackLeader})`, async () => {
        const p = electionPath();
        const stores = [counted(await open()), counted(await open()), counted(await open())];
        const order: string[] = [];
        const cs: Candidate[] = [];
        for (const [i, s] of stores.entries()) {
          const c = await candidate(s.store as TestStore, p, `n${i}`, trackLeader);
          c.election.on('lost', () => order.push(`lost:${i}`));
          c.election.on('elected', () => order.push(`elected:${i}`));
          cs.push(c);
        }
        await eventually(() => expect(cs[0]!.election.isLeader).toBe(true));
        for (const c of cs) await eventually(() => expect(c.election.leader?.data.http).toBe('n0:5050'));
        await pace(100, 'stray watch events of the set-up land before the counters reset');
        for (const s of stores) s.reset();

        await cs[0]!.election.resign();
        await eventually(() => expect(cs[1]!.election.isLeader).toBe(true));
        // It stopped acting before anyone took over, and no stray wake-up changes that.
        await holdsFor(300, () => expect(order).toEqual(['lost:0', 'elected:1']), 'no stray wake-up');
        expect(cs[0]!.election.state).toBe('stopped');
        expect(cs[2]!.election.isLeader).toBe(false);
        expect(stores[1]!.watchFired).toBe(1); // the successor: its predecessor watch
        expect(stores[1]!.listings).toBe(1);
        if (trackLeader) {
          // the third learns of the new leader: one wake-up, one listing
          expect(stores[2]!.watchFired).toBe(1);
          expect(stores[2]!.listings).toBe(1);
          expect(cs[2]!.election.leader?.data.http).toBe('n1:5050');
        } else {
          expect(stores[2]!.watchFired).toBe(0);
          expect(stores[2]!.listings).toBe(0);
        }
      });
    }

    it('when the leader’s session expires the next leads, and the old leader rejoins at the back', async () => {
      const p = electionPath();
      const a = await candidate(await open(), p, 'a');
      const b = await candidate(await open(), p, 'b');
      await eventually(() => expect(a.election.isLeader).toBe(true));
      const oldMember = a.election.memberPath!;
      await a.store.expireSession();
      await eventually(() => expect(b.election.isLeader).toBe(true));
      expect(a.lost).toContain(a.store.kind === 'zookeeper' ? 'suspended' : 'expired');
      expect(a.at.lost!).toBeLessThanOrEqual(b.at.elected!);
      await eventually(() => expect(a.election.memberPath).toBeDefined());
      expect(a.election.memberPath).not.toBe(oldMember);
      expect(a.election.memberPath! > b.election.memberPath!).toBe(true);
      expect(a.election.state).toBe('candidate');
      await eventually(() => expect(a.election.leader?.data.http).toBe('b:5050'));
      expect(await (await open()).getChildren(p)).toHaveLength(2);
    });

    it('readLeader and watchLeader follow the leader without joining', async () => {
      const p = electionPath();
      const follower = await open();
      expect(await readLeader(follower, p)).toBeUndefined();
      const seen: Array<LeaderInfo<Addr> | undefined> = [];
      const stop = watchLeader<Addr>(follower, p, (l) => seen.push(l));
      cleanups.push(stop);
      await eventually(() => expect(seen).toEqual([undefined]));
      const a = await candidate(await open(), p, 'a');
      await eventually(() => expect(seen.at(-1)?.data.http).toBe('a:5050'));
      expect(seen.at(-1)?.sessionId).toBe(a.store.sessionId);
      const b = await candidate(await open(), p, 'b');
      await holdsFor(200, () => expect(seen).toHaveLength(2), 'a standby joining is not a change of leader');
      await a.election.resign();
      await eventually(() => expect(seen.at(-1)?.data.http).toBe('b:5050'));
      await b.election.resign();
      await eventually(() => expect(seen.at(-1)).toBeUndefined());
    });
  });
}

// ---------------------------------------------------------------------------------------------

const embeddedServer = EmbeddedStoreServer.memory();
electionSuite({ name: 'embedded', open: (t = SESSION_TIMEOUT_MS) => EmbeddedStore.open(embeddedServer, { sessionTimeoutMs: t }) });

describe('leader election: embedded, losing contact', () => {
  const p = `/agora/embedded/master/election`;

  it('a leader that loses contact says `lost` at once; the next leads once its session times out', async () => {
    const server = EmbeddedStoreServer.memory();
    const sa = await EmbeddedStore.open(server, { sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const sb = await EmbeddedStore.open(server, { sessionTimeoutMs: SESSION_TIMEOUT_MS });
    cleanups.push(() => sa.close(), () => sb.close());
    const a = await candidate(sa, p, 'a');
    const b = await candidate(sb, p, 'b');
    await eventually(() => expect(a.election.isLeader).toBe(true));
    const t0 = Date.now();
    sa.disconnect();
    expect(a.election.state).toBe('suspended'); // synchronously
    expect(a.lost).toEqual(['suspended']);
    await eventually(() => expect(b.election.isLeader).toBe(true));
    const took = b.at.elected! - t0;
    expect(took).toBeGreaterThanOrEqual(SESSION_TIMEOUT_MS - 50);
    expect(took).toBeLessThan(SESSION_TIMEOUT_MS + 1_000);
    sa.reconnect(); // too late: expired, rejoins behind b
    await eventually(() => expect(a.election.state).toBe('candidate'));
    expect(a.log).toEqual(['elected', 'lost:suspended']);
  });

  it('back in time with the same session, the leader leads again; nobody else did meanwhile', async () => {
    // The session's expiry is the server's timer: on a FakeClock the test says exactly how long.
    const clock = new FakeClock(Date.now());
    const server = EmbeddedStoreServer.memory(clock);
    const sa = await EmbeddedStore.open(server, { sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const sb = await EmbeddedStore.open(server, { sessionTimeoutMs: SESSION_TIMEOUT_MS });
    cleanups.push(() => sa.close(), () => sb.close());
    const a = await candidate(sa, p, 'a');
    const b = await candidate(sb, p, 'b');
    await eventually(() => expect(a.election.isLeader).toBe(true));
    const session = sa.sessionId;
    sa.disconnect();
    clock.advance(SESSION_TIMEOUT_MS - 1); // out of contact for just less than the session timeout
    sa.reconnect();
    await eventually(() => expect(a.election.isLeader).toBe(true));
    expect(sa.sessionId).toBe(session);
    expect(a.log).toEqual(['elected', 'lost:suspended', 'elected']);
    expect(b.log).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

electionSuite({ name: 'ZooKeeper', open: (t = SESSION_TIMEOUT_MS) => ZooKeeperStore.open(zkStandalone(), { sessionTimeoutMs: t }) });

/** Spawn a candidate process; resolves with its event stream once it has joined. */
async function spawnCandidate(url: string, electionPath: string, name: string): Promise<{ child: ChildProcess; events: Array<Record<string, unknown>> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/election-candidate.ts', url, electionPath, name, String(SESSION_TIMEOUT_MS)], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const events: Array<Record<string, unknown>> = [];
  let buffered = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
      events.push(JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>);
      buffered = buffered.slice(nl + 1);
    }
  });
  await eventually(() => expect(events.some((e) => e.event === 'started')).toBe(true), 20_000);
  return { child, events };
}

/** A TCP proxy that can stop forwarding (a network partition) while keeping sockets open. */
async function partitionProxy(target: string): Promise<{ address: string; cut(): void; heal(): void; close(): Promise<void> }> {
  const [host, port] = target.split(':') as [string, string];
  const pairs = new Set<[net.Socket, net.Socket | undefined]>();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) {
      pairs.add([client, undefined]); // accepted, never answered
      client.on('error', () => undefined);
      return;
    }
    const upstream = net.connect(Number(port), host);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port: local } = server.address() as net.AddressInfo;
  const heal = (): void => {
    cut = false;
    for (const [c, u] of pairs) {
      c.destroy();
      u?.destroy();
    }
    pairs.clear();
  };
  return {
    address: `127.0.0.1:${local}`,
    cut() {
      cut = true;
      for (const [c, u] of pairs) {
        c.unpipe();
        u?.unpipe();
        c.pause();
        u?.pause();
      }
    },
    heal,
    async close() {
      heal();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('leader election: ZooKeeper, failures', () => {
  const electionPath = (): string => `/elections/c-${randomBytes(5).toString('hex')}/master/election`;
  const open = async (servers: string, timeout = SESSION_TIMEOUT_MS): Promise<ZooKeeperStore> => {
    const s = await ZooKeeperStore.open(servers, { sessionTimeoutMs: timeout });
    cleanups.push(() => s.close());
    return s;
  };

  it('candidates in separate processes: SIGKILL the leader, the next leads within the session timeout + 1 s', async () => {
    const p = electionPath();
    const url = `zk://${zkStandalone()}`;
    const first = await spawnCandidate(url, p, 'proc-a');
    const second = await spawnCandidate(url, p, 'proc-b');
    const local = await candidate(await open(zkStandalone()), p, 'local');
    await eventually(() => expect(first.events.some((e) => e.event === 'elected')).toBe(true));
    await eventually(() => expect(local.election.leader?.data.http).toBe('proc-a:5050'));
    const negotiated = Number(first.events.find((e) => e.event === 'started')?.sessionTimeoutMs);
    expect(negotiated).toBe(SESSION_TIMEOUT_MS);

    const t0 = Date.now();
    first.child.kill('SIGKILL');
    await eventually(() => expect(second.events.some((e) => e.event === 'elected')).toBe(true), 10_000);
    const elected = Number(second.events.find((e) => e.event === 'elected')?.at);
    const took = elected - t0;
    console.log(`[election] SIGKILLed leader replaced after ${took} ms (session timeout ${negotiated} ms)`);
    expect(took).toBeGreaterThan(negotiated / 2); // it took the session's expiry, nothing sooner
    expect(took).toBeLessThan(negotiated + 1_000);
    expect(local.election.isLeader).toBe(false);
    await eventually(() => expect(local.election.leader?.data.http).toBe('proc-b:5050'));
    second.child.kill('SIGTERM'); // resigns: the in-process candidate takes over
    await eventually(() => expect(local.election.isLeader).toBe(true));
  });

  it('a leader cut off from ZooKeeper says `lost` before anyone else can be elected', async () => {
    const p = electionPath();
    const proxy = await partitionProxy(zkStandalone());
    cleanups.push(() => proxy.close());
    const a = await candidate(await open(proxy.address), p, 'a');
    const b = await candidate(await open(zkStandalone()), p, 'b');
    await eventually(() => expect(a.election.isLeader).toBe(true));

    const t0 = Date.now();
    proxy.cut();
    await eventually(() => expect(b.election.isLeader).toBe(true), 10_000);
    const lostAfter = a.at.lost! - t0;
    const electedAfter = b.at.elected! - t0;
    console.log(`[election] partition: lost after ${lostAfter} ms, successor elected after ${electedAfter} ms`);
    expect(a.lost).toEqual(['suspended']);
    expect(a.at.lost!).toBeLessThan(b.at.elected!);
    expect(lostAfter).toBeLessThan(SESSION_TIMEOUT_MS);
    expect(electedAfter).toBeLessThan(SESSION_TIMEOUT_MS + 1_000);

    proxy.heal(); // back, but its session is gone: it rejoins behind b
    await eventually(() => expect(a.election.state).toBe('candidate'), 10_000);
    await eventually(() => expect(a.election.leader?.data.http).toBe('b:5050'));
    expect(b.election.isLeader).toBe(true);
  });

  it('back before its session expires, the leader leads again with the same session', async () => {
    const p = electionPath();
    const timeout = 3_000;
    const proxy = await partitionProxy(zkStandalone());
    cleanups.push(() => proxy.close());
    const sa = await open(proxy.address, timeout);
    const a = await candidate(sa, p, 'a');
    const b = await candidate(await open(zkStandalone(), timeout), p, 'b');
    await eventually(() => expect(a.election.isLeader).toBe(true));
    const session = sa.sessionId;
    proxy.cut();
    await eventually(() => expect(a.lost).toEqual(['suspended']), timeout);
    proxy.heal();
    await eventually(() => expect(a.election.isLeader).toBe(true), timeout);
    expect(sa.sessionId).toBe(session);
    expect(a.log).toEqual(['elected', 'lost:suspended', 'elected']);
    expect(b.log).toEqual([]);
  });

  it('a frozen server (SIGSTOP): the leader says `lost` well within the session timeout, and leads again after', async () => {
    const zk = await startZooKeeper();
    cleanups.push(() => zk.stop());
    const p = electionPath();
    const s = await open(zk.connectString);
    const a = await candidate(s, p, 'a');
    await eventually(() => expect(a.election.isLeader).toBe(true));
    const t0 = Date.now();
    process.kill(zk.pid, 'SIGSTOP');
    cleanups.push(() => process.kill(zk.pid, 'SIGCONT'));
    await eventually(() => expect(a.lost).toEqual(['suspended']), SESSION_TIMEOUT_MS);
    const lostAfter = a.at.lost! - t0;
    console.log(`[election] SIGSTOPped server: lost after ${lostAfter} ms`);
    expect(lostAfter).toBeLessThan(SESSION_TIMEOUT_MS);
    process.kill(zk.pid, 'SIGCONT');
    await eventually(() => expect(a.election.isLeader).toBe(true), 10_000);
    expect(a.log.at(-1)).toBe('elected');
  });
});
