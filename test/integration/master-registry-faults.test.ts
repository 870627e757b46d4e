// Validate → persist → apply in the master's framework calls, on a real master over loopback whose
// real (embedded) store refuses chosen writes as a lost connection would: a subscribe, an update
// or a removal the registry did not take is refused with a clear error, and nothing changes —
// neither what the operator API shows, nor the allocator, nor the framework's stream.
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../core/store/index.js';
import { Master } from '../../master/master.js';
import { withWriteFaults } from '../support/faulty-store.js';
import { eventually, rejection, TEST_MASTER_OPTIONS } from '../support/master-harness.js';
import { secureFetch, testMasterSecurity } from '../support/security.js';
import { TestAgent } from '../support/test-agent.js';
import { TestFramework, taskInfo } from '../support/test-framework.js';

const FRAMEWORKS = '/default/registry/frameworks/';
const REMOVED = '/default/registry/removed-frameworks/';
const AGENTS = '/default/registry/agents/';

type Cluster = Awaited<ReturnType<typeof startMaster>>;
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function startMaster(master: Record<string, unknown> = {}) {
  const store = withWriteFaults(await openStore('memory:', { chroot: '/agora' }));
  const m = await Master.start({ ...TEST_MASTER_OPTIONS, ...master }, { store, security: testMasterSecurity() });
  cleanups.push(async () => {
    await m.stop();
    await store.close();
  });
  const framework = async (options: Parameters<typeof TestFramework.subscribe>[1] = {}): Promise<TestFramework> => {
    const fw = await TestFramework.subscribe(m.grpcAddress, options);
    cleanups.push(() => fw.dispose());
    return fw;
  };
  const agent = async (resources: string): Promise<TestAgent> => {
    const a = await TestAgent.connect(m.grpcAddress, { resources });
    cleanups.push(() => a.close());
    return a;
  };
  return { master: m, store, faults: store.faults, framework, agent };
}

/** What the operator API shows of the frameworks (live and removed). */
async function operatorView(c: Cluster): Promise<unknown> {
  const res = await secureFetch(`https://127.0.0.1:${c.master.httpPort}/api/v1/frameworks`);
  expect(res.status).toBe(200);
  return res.json();
}

/** What the allocator knows of the frameworks. */
function allocatorView(c: Cluster): unknown {
  return c.master.state.allocator
    .frameworks()
    .map((f) => ({ id: f.id, roles: [...f.roles], suppressedRoles: [...f.suppressedRoles], active: f.active, allocated: f.allocated.format() }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

async function post(c: Cluster, path: string, body: unknown): Promise<{ status: number; json: { code?: string; message?: string } }> {
  const res = await secureFetch(`https://127.0.0.1:${c.master.httpPort}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, json: (await res.json()) as { code?: string; message?: string } };
}

async function snapshot(c: Cluster): Promise<{ operator: unknown; allocator: unknown }> {
  return { operator: await operatorView(c), allocator: allocatorView(c) };
}

describe('a framework call whose registry write fails changes nothing', () => {
  it('subscribe: refused with UNAVAILABLE naming the store; no framework in the operator API or the allocator', async () => {
    const c = await startMaster();
    const before = await snapshot(c);
    c.faults.failUnder(FRAMEWORKS);
    const err = await rejection(c.framework({ name: 'refused' }));
    expect(err.code).toBe('AGORA_UNAVAILABLE');
    expect(err.message).toMatch(/store/);
    expect(c.faults.refused).toBeGreaterThan(0);
    expect(await snapshot(c)).toEqual(before);
    expect(c.master.state.frameworkCount()).toBe(0);
    // Once the store takes writes again, the same subscription goes through.
    c.faults.heal();
    const fw = await c.framework({ name: 'accepted' });
    expect(c.master.state.allocator.frameworks().map((f) => f.id)).toEqual([fw.frameworkId]);
  });

  it('re-subscribe with new roles: refused; the old subscription, its roles and its stream stay', async () => {
    const c = await startMaster();
    const fw = await c.framework({ name: 'svc', roles: ['a'] });
    const before = await snapshot(c);
    c.faults.failUnder(FRAMEWORKS);
    const err = await rejection(c.framework({ name: 'svc', id: fw.frameworkId, roles: ['a', 'b'] }));
    expect(err.code).toBe('AGORA_UNAVAILABLE');
    expect(await snapshot(c)).toEqual(before);
    // The first stream was not replaced: it still gets heartbeats, and its calls still count.
    const mark = fw.events.mark();
    await fw.events.waitFor((e) => e.type === 'heartbeat', { since: mark });
    expect(fw.isClosed).toBe(false);
    await fw.suppress();
  });

  it('updateFramework: refused; roles, suppression and failover timeout unchanged everywhere', async () => {
    const c = await startMaster();
    const fw = await c.framework({ name: 'svc', roles: ['a', 'b'], failoverTimeoutSeconds: 30 });
    const before = await snapshot(c);
    c.faults.failUnder(FRAMEWORKS);
    const err = await rejection(fw.updateFramework({ roles: ['c'], failoverTimeoutSeconds: 60 }, ['c']));
    expect(err.code).toBe('AGORA_UNAVAILABLE');
    expect(await snapshot(c)).toEqual(before);
    const record = c.master.state.framework(fw.frameworkId);
    expect(record?.roles).toEqual(['a', 'b']);
    expect(record?.failoverTimeoutMs).toBe(30_000);
    expect([...(record?.suppressedRoles ?? [])]).toEqual([]);
    const stored = await c.store.getJson<{ failoverTimeoutMs: number; info: { roles: string[] } }>(`${FRAMEWORKS}${fw.frameworkId}`);
    expect(stored.value).toMatchObject({ failoverTimeoutMs: 30_000, info: { roles: ['a', 'b'] } });
    c.faults.heal();
    await fw.updateFramework({ roles: ['c'], failoverTimeoutSeconds: 60 }, ['c']);
    expect(c.master.state.allocator.frameworks().find((f) => f.id === fw.frameworkId)).toMatchObject({ roles: ['c'], suppressedRoles: ['c'] });
  });

  it('updateFramework with a suppressed role it does not have: INVALID_ARGUMENT naming the field, nothing written', async () => {
    const c = await startMaster();
    const fw = await c.framework({ name: 'svc', roles: ['a'] });
    const before = await snapshot(c);
    const err = await rejection(fw.updateFramework({ roles: ['b'] }, ['a']));
    expect(err.code).toBe('AGORA_INVALID_ARGUMENT');
    expect(err.message).toMatch(/suppressedRoles\[0\]/);
    expect(await snapshot(c)).toEqual(before);
    expect(c.master.state.framework(fw.frameworkId)?.roles).toEqual(['a']);
  });

  it('teardown: refused; the framework stays subscribed with its running task and what it holds', async () => {
    const c = await startMaster();
    const agent = await c.agent('cpus:1;mem:256');
    const fw = await c.framework({ name: 'svc', autoAck: true });
    await fw.launch(await fw.nextOffer(), [taskInfo('t1', 'cpus:1;mem:256')]);
    await agent.waitForLaunch('t1');
    agent.update(fw.frameworkId, 't1', 'TASK_RUNNING');
    await fw.waitForUpdate('t1', 'TASK_RUNNING');
    const before = await snapshot(c);
    c.faults.failUnder(REMOVED);
    const err = await rejection(fw.teardown());
    expect(err.code).toBe('AGORA_UNAVAILABLE');
    expect(await snapshot(c)).toEqual(before);
    expect(c.master.state.task(fw.frameworkId, 't1')?.state).toBe('TASK_RUNNING');
    expect(c.master.state.wasRemoved(fw.frameworkId)).toBe(false);
    expect(agent.messages.items.some((m) => m.shutdownFramework)).toBe(false);
    expect(fw.updates('t1').map((s) => s.state)).not.toContain('TASK_KILLED');
    c.faults.heal();
    await fw.teardown();
    await agent.messages.waitFor((m) => m.shutdownFramework?.frameworkId === fw.frameworkId);
    expect(c.master.state.task(fw.frameworkId, 't1')).toBeUndefined();
    expect(c.master.state.allocator.frameworks()).toEqual([]);
  });

  it('removal at the failover timeout: while the write fails the framework stays; it is removed once the store takes it', async () => {
    const c = await startMaster({ heartbeatInterval: '100ms' });
    const fw = await c.framework({ name: 'gone', failoverTimeoutSeconds: 0.1 });
    const id = fw.frameworkId;
    c.faults.failUnder(REMOVED);
    await fw.close();
    // Several attempts (one per heartbeat interval) are refused; the framework is kept, disconnected.
    await eventually(() => expect(c.faults.refused).toBeGreaterThanOrEqual(2));
    expect(c.master.state.framework(id)?.state).toBe('disconnected');
    expect(c.master.state.allocator.frameworks().map((f) => f.id)).toEqual([id]);
    c.faults.heal();
    await eventually(() => expect(c.master.state.wasRemoved(id)).toBe(true));
    expect(c.master.state.knowsFramework(id)).toBe(false);
    expect(c.master.state.allocator.frameworks()).toEqual([]);
  });

  it('drain (operator HTTP): refused with 503; the agent is still offered and its task not killed', async () => {
    const c = await startMaster();
    const agent = await c.agent('cpus:2;mem:512');
    const fw = await c.framework({ name: 'svc', autoAck: true });
    await fw.launch(await fw.nextOffer(), [taskInfo('t1', 'cpus:1;mem:256')]);
    await agent.waitForLaunch('t1');
    agent.update(fw.frameworkId, 't1', 'TASK_RUNNING');
    await fw.waitForUpdate('t1', 'TASK_RUNNING');
    const agentId = agent.agentId;
    c.faults.failUnder(AGENTS);
    const refused = await post(c, `/api/v1/agents/${agentId}/drain`, {});
    expect(refused.status).toBe(503);
    expect(refused.json.code).toBe('AGORA_UNAVAILABLE');
    expect(c.master.state.agent(agentId)?.drain).toBeUndefined();
    expect(c.master.state.allocator.agent(agentId)?.active).toBe(true);
    expect(agent.messages.items.some((m) => m.kill)).toBe(false);
    const view = (await (await secureFetch(`https://127.0.0.1:${c.master.httpPort}/api/v1/agents/${agentId}`)).json()) as { agent: { drain: unknown } };
    expect(view.agent.drain ?? null).toBeNull();
    c.faults.heal();
    expect((await post(c, `/api/v1/agents/${agentId}/drain`, {})).status).toBe(200);
    await agent.messages.waitFor((m) => m.kill?.taskId === 't1');
    expect(c.master.state.agent(agentId)?.drain?.state).toBe('draining');
  });
});
