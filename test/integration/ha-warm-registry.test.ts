// A standby master keeps a warm copy of the registry and takes over from it: what it recovers
// equals what the store holds after everything the leader changed — agents admitted, frameworks
// subscribed and torn down, weights and quota — read afresh by a third session.
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../core/store/index.js';
import { Master } from '../../master/master.js';
import { Registry } from '../../master/registry.js';
import { eventually, TEST_MASTER_OPTIONS } from '../support/master-harness.js';
import { testServices } from '../support/services.js';
import { TestAgent } from '../support/test-agent.js';
import { TestFramework } from '../support/test-framework.js';
import { secureFetch, securedZkUrl, testMasterSecurity, testPki } from '../support/security.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
});

let clusters = 0;

async function startMaster(cluster: string): Promise<Master> {
  const master = await Master.start({ ...TEST_MASTER_OPTIONS, zk: `zk://${testServices().zkEnsemble}/agora`, zkCredentialsFile: testPki().files.zkCredentials, cluster, zkSessionTimeout: '2s', agentReregisterTimeout: '5s' }, { security: testMasterSecurity() });
  closers.push(() => master.stop());
  return master;
}

async function put(master: Master, path: string, body: unknown): Promise<void> {
  const res = await secureFetch(`https://${master.httpAddress}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}

describe('a standby master with a warm registry', () => {
  it('takes over from its warm copy, which holds every change the leader made', async () => {
    const cluster = `warm${process.pid}x${++clusters}`;
    const leader = await startMaster(cluster);
    expect(leader.isLeader).toBe(true);
    const standby = await startMaster(cluster);
    expect(standby.lifecycle).toBe('STANDBY');
    await eventually(() => expect(standby.state.registry.warm).toBe(true), { what: 'the standby primed its copy' });

    // Changes made after the standby started following, as fast as the leader takes them.
    const agents = await Promise.all([0, 1, 2].map((i) => TestAgent.connect(leader.grpcAddress, { hostname: `warm-${i}`, resources: 'cpus:2;mem:1024' })));
    for (const a of agents) closers.push(() => a.close());
    const kept = await TestFramework.subscribe(leader.grpcAddress, { name: 'kept', failoverTimeoutSeconds: 60 });
    closers.push(() => kept.close());
    const removed = await TestFramework.subscribe(leader.grpcAddress, { name: 'removed', failoverTimeoutSeconds: 60 });
    closers.push(() => removed.close());
    await removed.teardown();
    await put(leader, '/api/v1/weights', [{ role: 'dev', weight: 3 }]);
    await put(leader, '/api/v1/quota', { role: 'dev', guarantee: 'cpus:1;mem:128' });

    // What the store holds, read by a session of its own.
    const store = await openStore(securedZkUrl(`zk://${testServices().zkEnsemble}/agora`));
    closers.push(() => store.close());
    const { snapshot } = await Registry.open(store, cluster);
    expect(snapshot.agents.size).toBe(3);
    expect(snapshot.removedFrameworks.has(removed.frameworkId)).toBe(true);

    await leader.stop();
    await eventually(() => expect(standby.lifecycle).toMatch(/RECOVERING|LEADING/), { timeoutMs: 10_000, what: 'the standby took over' });
    expect(standby.recoveredFrom).toBe('warm');
    const state = standby.state;
    expect(new Set([...state.allAgents()].map((a) => a.id))).toEqual(new Set(snapshot.agents.keys()));
    for (const [id, entry] of snapshot.agents) expect(state.agent(id)?.hostname).toBe(entry.hostname);
    expect([...state.allAgents()].every((a) => a.state === 'recovering' || a.state === 'connected')).toBe(true);
    expect(new Set([...state.allFrameworks()].map((f) => f.id))).toEqual(new Set([kept.frameworkId]));
    expect(new Set([...state.allRemovals()].map((r) => r.id))).toEqual(new Set(snapshot.removedFrameworks.keys()));
    expect(state.weights).toEqual({ dev: 3 });
    expect(state.weights).toEqual(snapshot.weights);
    expect(state.quota).toEqual(snapshot.quota);
    expect(state.quota['dev']?.guarantee).toBeDefined();
  }, 60_000);
});
