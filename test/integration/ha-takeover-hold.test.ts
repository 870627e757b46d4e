// Agents and frameworks find the leader in ZooKeeper, often before the master elected there knows
// it leads. Such a master holds their streams (--takeover-hold) instead of refusing them, and
// looks at the election again at once: the stream is served as soon as it leads. A standby that
// finds another leader refuses at once, naming it.
//
// The standby here is deaf to its election's watches (its store drops them for the election path),
// so the agent's arrival is the only thing that can tell it that it leads: without the hold and the
// second look, these tests fail.
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type ReadOptions, type Store } from '../../core/store/index.js';
import { Master } from '../../master/master.js';
import { TEST_MASTER_OPTIONS } from '../support/master-harness.js';
import { spawnMaster } from '../support/master-process.js';
import { testServices } from '../support/services.js';
import { TestAgent } from '../support/test-agent.js';
import { TestFramework } from '../support/test-framework.js';
import { securedZkUrl, testMasterSecurity, testPki } from '../support/security.js';
import { holdsFor } from '../support/waits.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
});

let clusters = 0;
const zk = (): string => `zk://${testServices().zkEnsemble}/agora`;

/** The store, but reads of the election path set no watch. */
function deafToElection(store: Store): Store {
  const strip = (path: string, options?: ReadOptions): ReadOptions | undefined => (path.includes('/master/election') && options?.watch ? { ...options, watch: undefined } : options);
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (prop === 'get' || prop === 'exists' || prop === 'getChildren') {
        return (path: string, options?: ReadOptions) => (value as (p: string, o?: ReadOptions) => Promise<unknown>).call(target, path, strip(path, options));
      }
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function startMaster(cluster: string, store?: Store): Promise<Master> {
  const master = await Master.start({ ...TEST_MASTER_OPTIONS, zk: zk(), zkCredentialsFile: testPki().files.zkCredentials, cluster, zkSessionTimeout: '2s', agentReregisterTimeout: '5s', takeoverHold: '20s' }, { security: testMasterSecurity(), ...(store ? { store } : {}) });
  closers.push(() => master.stop());
  return master;
}

async function deafStandby(cluster: string): Promise<Master> {
  const store = await openStore(securedZkUrl(zk()), { sessionTimeoutMs: 2000 });
  closers.push(() => store.close());
  const standby = await startMaster(cluster, deafToElection(store));
  expect(standby.lifecycle).toBe('STANDBY');
  return standby;
}

describe('a master being elected holds streams instead of refusing them', () => {
  it('serves an agent and a framework that reach it before its own election watch would have', async () => {
    const cluster = `hold${process.pid}x${++clusters}`;
    const leader = await startMaster(cluster);
    expect(leader.isLeader).toBe(true);
    const standby = await deafStandby(cluster);
    const agent = await TestAgent.connect(leader.grpcAddress, { hostname: 'held-0', resources: 'cpus:2;mem:1024' });
    closers.push(() => agent.close());
    const framework = await TestFramework.subscribe(leader.grpcAddress, { name: 'held', failoverTimeoutSeconds: 60 });
    closers.push(() => framework.close());

    await leader.stop();
    // The standby never hears of it by itself: its election watches are dropped.
    expect(standby.lifecycle).toBe('STANDBY');
    const back = await TestAgent.connect(standby.grpcAddress, { hostname: 'held-0', resources: 'cpus:2;mem:1024', agentId: agent.agentId });
    closers.push(() => back.close());
    expect(back.agentId).toBe(agent.agentId);
    expect(standby.isLeader).toBe(true);
    expect(standby.state.agent(agent.agentId)?.state).toBe('connected');
    const again = await TestFramework.subscribe(standby.grpcAddress, { name: 'held', failoverTimeoutSeconds: 60, id: framework.frameworkId });
    closers.push(() => again.close());
    expect(again.frameworkId).toBe(framework.frameworkId);
  }, 60_000);

  it('refuses at once, naming the leader, when it looks again and another master leads', async () => {
    const cluster = `hold${process.pid}x${++clusters}`;
    const leader = await startMaster(cluster);
    const standby = await deafStandby(cluster);
    const err = await TestAgent.connect(standby.grpcAddress, { hostname: 'stale', resources: 'cpus:1;mem:128' }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    // Not held for the 20 s hold (the agent waits 5 s for an answer): the second look found the leader.
    expect(err?.message).toContain(leader.grpcAddress);
    expect(standby.lifecycle).toBe('STANDBY');
  }, 60_000);
});

// When an agent's stream to the leader breaks, it also says hello to the master next in line,
// marked with the leader it lost (LEADER_LOST_HEADER). That master holds the stream while the old
// leader still holds the election, and answers it the moment it leads. Here the leader is a
// separate process, SIGKILLed: its election node stays until its session expires.
describe('the master next in line holds an agent whose stream to the leader broke', () => {
  it('holds it while the dead leader’s session expires, then answers the hello it already has', async () => {
    const cluster = `succ${process.pid}x${++clusters}`;
    const leader = await spawnMaster(zk(), cluster, { '--agent-reregister-timeout': '20s' });
    closers.push(async () => leader.kill());
    const successor = await startMaster(cluster);
    const third = await startMaster(cluster);
    expect([successor.lifecycle, third.lifecycle]).toEqual(['STANDBY', 'STANDBY']);
    const agent = await TestAgent.connect(leader.grpcAddress, { hostname: 'succ-0', resources: 'cpus:2;mem:1024' });
    closers.push(async () => agent.close());

    const opts = { hostname: 'succ-0', resources: 'cpus:2;mem:1024', agentId: agent.agentId, timeoutMs: 30_000 };
    // Not next in line, or naming a master that does not lead: refused at once, naming the leader.
    for (const [address, lost] of [
      [third.grpcAddress, leader.grpcAddress],
      [successor.grpcAddress, '127.0.0.1:1'],
    ] as const) {
      const err = await TestAgent.connect(address, { ...opts, leaderLost: lost, timeoutMs: 5000 }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toContain(leader.grpcAddress);
    }

    const held = TestAgent.open(successor.grpcAddress, { ...opts, leaderLost: leader.grpcAddress });
    closers.push(async () => held.close());
    const answered = held.register();
    // The leader lives: the stream is neither answered nor refused.
    await holdsFor(500, () => {
      expect(held.messages.items).toEqual([]);
      expect(held.isClosed).toBe(false);
    }, 'the successor neither answers nor refuses while the leader lives');

    leader.kill('SIGKILL');
    expect(await answered).toBe(agent.agentId);
    expect(successor.isLeader).toBe(true);
    expect(successor.state.agent(agent.agentId)?.state).toBe('connected');
  }, 60_000);

  it('refuses it, naming the leader, once the hold is over and the leader still leads', async () => {
    const cluster = `succ${process.pid}x${++clusters}`;
    const leader = await startMaster(cluster);
    const successor = await Master.start({ ...TEST_MASTER_OPTIONS, zk: zk(), zkCredentialsFile: testPki().files.zkCredentials, cluster, zkSessionTimeout: '1s', takeoverHold: '500ms' }, { security: testMasterSecurity() });
    closers.push(() => successor.stop());
    const err = await TestAgent.connect(successor.grpcAddress, { hostname: 'succ-1', resources: 'cpus:1;mem:128', leaderLost: leader.grpcAddress, timeoutMs: 20_000 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain(leader.grpcAddress);
    expect(leader.isLeader).toBe(true);
    expect(successor.lifecycle).toBe('STANDBY');
  }, 60_000);
});
