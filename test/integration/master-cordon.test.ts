// Cordon on a real master (gRPC + HTTPS on loopback) with a test agent and framework: a cordoned
// agent's offers are rescinded and no new ones are made, its running task is left alone; the
// cordon is in the registry, so a master restarted on the same store keeps it; uncordon offers it
// again; a principal without agents.drain is refused and nothing changes.
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../core/store/index.js';
import { Master } from '../../master/master.js';
import { Registry, type AgentEntry } from '../../master/registry.js';
import { withWriteFaults } from '../support/faulty-store.js';
import { issueToken } from '../support/acl.js';
import { MasterHarness, TEST_MASTER_OPTIONS, eventually, stopHarnesses } from '../support/master-harness.js';
import { secureFetch, testMasterSecurity } from '../support/security.js';
import { TestAgent } from '../support/test-agent.js';
import { taskInfo } from '../support/test-framework.js';
import { readSse } from '../support/sse-client.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  await stopHarnesses();
});

const AGENTS = '/default/registry/agents/';

/** A store whose agent-entry writes (the registry's multi) wait, in order, while held — to line up a race. */
function gatedStore(store: Store): Store & { hold(): void; release(): void; readonly waiting: number } {
  let held = false;
  const queue: (() => void)[] = [];
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'hold') return () => void (held = true);
      if (prop === 'release') return () => {
        held = false;
        for (const go of queue.splice(0)) go();
      };
      if (prop === 'waiting') return queue.length;
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      if (prop !== 'multi') return method;
      return (ops: readonly { path: string }[]) => {
        if (!held || !ops.some((op) => op.path.startsWith(AGENTS))) return method(ops);
        return new Promise<void>((resolve) => queue.push(resolve)).then(() => method(ops));
      };
    },
  }) as Store & { hold(): void; release(): void; readonly waiting: number };
}

async function masterOn<S extends Store>(store: S): Promise<Master> {
  const m = await Master.start({ ...TEST_MASTER_OPTIONS }, { store, security: testMasterSecurity() });
  cleanups.push(async () => {
    await m.stop();
    await store.close();
  });
  return m;
}

async function post(m: Master, path: string): Promise<{ status: number; json: Json }> {
  const res = await secureFetch(`https://127.0.0.1:${m.httpPort}${path}`, { method: 'POST' });
  return { status: res.status, json: (await res.json()) as Json };
}

type Json = Record<string, any>;

async function http(h: MasterHarness, method: string, path: string, token?: string): Promise<{ status: number; json: Json }> {
  const res = await secureFetch(`https://127.0.0.1:${h.master.httpPort}${path}`, { method, ...(token === undefined ? {} : { token }) });
  const text = await res.text();
  return { status: res.status, json: (text === '' ? {} : JSON.parse(text)) as Json };
}

/** A master on a file store, one agent running t1 for one framework that is offered leftovers at once. */
async function cluster() {
  const h = await MasterHarness.start({ store: 'file' });
  const agent = await h.agent({ hostname: 'a1.test', resources: 'cpus:4;mem:4096', autoRun: true });
  const fw = await h.framework({ name: 'fw1', failoverTimeoutSeconds: 30, autoAck: true });
  const offer = await fw.nextOffer();
  await fw.launch(offer, [taskInfo('t1', 'cpus:1;mem:128')], { refuseSeconds: 0 });
  await agent.waitForLaunch('t1');
  await fw.waitForUpdate('t1', 'TASK_RUNNING');
  await fw.nextOffer({ agentId: agent.agentId }); // the leftovers, outstanding
  return { h, agent, fw };
}

describe('cordon', () => {
  it('rescinds the agent’s offers, makes no new ones, leaves its task running, and uncordon offers it again', async () => {
    const { h, agent, fw } = await cluster();
    const path = `/api/v1/agents/${agent.agentId}`;
    expect((await http(h, 'POST', '/api/v1/agents/nope/cordon')).status).toBe(404);
    expect((await http(h, 'POST', '/api/v1/agents/nope/uncordon')).status).toBe(404);
    const sse = await readSse(`https://127.0.0.1:${h.master.httpPort}/api/v1/events`);

    const since = fw.events.mark();
    const agentSince = agent.messages.mark();
    const cordoned = await http(h, 'POST', `${path}/cordon`);
    expect(cordoned.status).toBe(200);
    expect(cordoned.json.agent).toMatchObject({ cordon: { principal: 'admin' }, active: false, drain: null, activeTasks: 1 });
    await fw.events.waitFor((e) => e.type === 'rescind', { since, what: 'the outstanding offer rescinded' });
    expect((await http(h, 'GET', path)).json.agent.resources.offered.text).toBe('');
    expect((await http(h, 'GET', '/api/v1/agents')).json.agents[0].cordon.principal).toBe('admin');
    const frame = await sse.waitFor((f) => f.event === 'agent_cordoned');
    expect(frame.data).toMatchObject({ agentId: agent.agentId, principal: 'admin' });
    // Freed resources are not offered either: a revive would bring offers from any active agent.
    await fw.revive();
    await fw.events.expectNone((e) => e.type === 'offers', 300, { since, what: 'offers from a cordoned agent' });
    await agent.messages.expectNone((m) => m.kill !== undefined && m.kill !== null, 100, { since: agentSince, what: 'a kill' });
    expect(h.state.task(fw.frameworkId, 't1')?.state).toBe('TASK_RUNNING');
    // Cordoning twice changes nothing.
    expect((await http(h, 'POST', `${path}/cordon`)).json.agent.cordon.cordonedAtMs).toBe(cordoned.json.agent.cordon.cordonedAtMs);

    const uncordoned = await http(h, 'POST', `${path}/uncordon`);
    expect(uncordoned.json.agent).toMatchObject({ cordon: null, active: true });
    await fw.nextOffer({ agentId: agent.agentId, since: fw.events.mark() });
    await sse.waitFor((f) => f.event === 'agent_uncordoned');
    sse.close();
  });

  it('survives a master restart: the agent comes back cordoned and is not offered until uncordoned', async () => {
    const { h, agent, fw } = await cluster();
    expect((await http(h, 'POST', `/api/v1/agents/${agent.agentId}/cordon`)).status).toBe(200);
    expect((await Registry.open(h.store, 'default')).snapshot.agents.get(agent.agentId)?.cordon?.principal).toBe('admin');
    await h.restart();
    await agent.closed;
    await fw.closed;
    expect(h.state.agent(agent.agentId)?.cordon?.principal).toBe('admin');
    const back = await h.agent({ agentId: agent.agentId, hostname: agent.hostname, resources: agent.resources, tasks: agent.trackedTasks() });
    await eventually(() => expect(h.master.lifecycle).toBe('LEADING'));
    const again = await h.framework({ name: 'fw1', id: fw.frameworkId, failoverTimeoutSeconds: 30, autoAck: true });
    await again.events.expectNone((e) => e.type === 'offers', 400, { what: 'offers from a cordoned agent after failover' });
    expect((await http(h, 'GET', `/api/v1/agents/${back.agentId}`)).json.agent).toMatchObject({ cordon: { principal: 'admin' }, active: false, state: 'connected' });
    expect((await http(h, 'POST', `/api/v1/agents/${back.agentId}/uncordon`)).status).toBe(200);
    await again.nextOffer({ agentId: back.agentId });
    expect((await Registry.open(h.store, 'default')).snapshot.agents.get(agent.agentId)?.cordon).toBeUndefined();
  });

  it('refuses a principal without agents.drain, and changes nothing', async () => {
    const { h, agent } = await cluster();
    const viewer = await issueToken(h.master.httpAddress, 'vera', ['viewer']);
    for (const verb of ['cordon', 'uncordon']) {
      const r = await http(h, 'POST', `/api/v1/agents/${agent.agentId}/${verb}`, viewer);
      expect(r.status).toBe(403);
      expect(r.json.message).toBe("principal 'vera' lacks permission 'agents.drain'");
    }
    expect(h.state.agent(agent.agentId)?.cordon).toBeUndefined();
    expect((await http(h, 'GET', `/api/v1/agents/${agent.agentId}`)).json.agent.active).toBe(true);
  });

  it('changes nothing when the registry does not take it', async () => {
    const store = withWriteFaults(await openStore('memory:', { chroot: '/agora' }));
    const m = await masterOn(store);
    const agent = await TestAgent.connect(m.grpcAddress, { resources: 'cpus:2;mem:1024' });
    cleanups.push(() => agent.close());
    store.faults.failUnder(AGENTS);
    const refused = await post(m, `/api/v1/agents/${agent.agentId}/cordon`);
    expect(refused.status).toBe(503);
    expect(store.faults.refused).toBeGreaterThan(0);
    expect(m.state.agent(agent.agentId)?.cordon).toBeUndefined();
    expect(m.state.allocator.agent(agent.agentId)?.active).toBe(true);
    store.faults.heal();
    expect((await post(m, `/api/v1/agents/${agent.agentId}/cordon`)).status).toBe(200);
  });

  it('is kept in the registry when the agent re-registers while the cordon is being written', async () => {
    const store = gatedStore(await openStore('memory:', { chroot: '/agora' }));
    const m = await masterOn(store);
    const agent = await TestAgent.connect(m.grpcAddress, { resources: 'cpus:2;mem:1024' });
    cleanups.push(() => agent.close());
    // The registry writes one entry at a time: count the entries it is given, not the store's writes.
    const registry = m.state.registry;
    const given: AgentEntry[] = [];
    const put = registry.putAgent.bind(registry);
    registry.putAgent = (entry) => {
      given.push(entry);
      return put(entry);
    };
    store.hold();
    const cordon = post(m, `/api/v1/agents/${agent.agentId}/cordon`);
    await eventually(() => expect(store.waiting).toBe(1));
    // The agent comes back reporting more resources: its entry is written again, without the
    // cordon, which is not applied yet.
    const back = TestAgent.connect(m.grpcAddress, { agentId: agent.agentId, hostname: agent.hostname, resources: 'cpus:3;mem:1024' });
    await eventually(() => expect(given).toHaveLength(2));
    expect(given[1]?.cordon).toBeUndefined();
    store.release();
    expect((await cordon).status).toBe(200);
    const again = await back;
    cleanups.push(() => again.close());
    await eventually(async () => expect((await Registry.open(store, 'default')).snapshot.agents.get(agent.agentId)?.cordon?.principal).toBe('admin'));
    expect(m.state.allocator.agent(agent.agentId)?.active).toBe(false);
  });
});
