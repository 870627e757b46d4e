// The master's operator HTTP API on a real master (gRPC + HTTP on loopback), driven by real gRPC
// test agents and frameworks: read endpoints' shapes, task filters, weights, quota, drain, teardown,
// /metrics and the SSE event stream.
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '../../master/registry.js';
import { MasterHarness, eventually, stopHarnesses } from '../support/master-harness.js';
import { Recorder, type TestAgent } from '../support/test-agent.js';
import { taskInfo, type TestFramework } from '../support/test-framework.js';
import { secureFetch } from '../support/security.js';

afterEach(stopHarnesses);

// JSON read back from the endpoints
type Json = Record<string, any>;

const AGENT_RESOURCES = 'cpus:4;mem:4096;ports:[31000-31010]';

async function http(h: MasterHarness, method: string, path: string, body?: unknown): Promise<{ status: number; json: Json; text: string; type: string }> {
  const res = await secureFetch(`https://127.0.0.1:${h.master.httpPort}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await res.text();
  let json: Json = {};
  try {
    json = JSON.parse(text) as Json;
  } catch {
    // not JSON (metrics)
  }
  return { status: res.status, json, text, type: res.headers.get('content-type') ?? '' };
}

const get = async (h: MasterHarness, path: string): Promise<Json> => {
  const r = await http(h, 'GET', path);
  expect(r.status, `${path}: ${r.text}`).toBe(200);
  return r.json;
};

/** A master with one agent, one framework and task t1 RUNNING; leftovers are offered again at once. */
async function cluster(options: { autoRun?: boolean; master?: Record<string, unknown> } = {}): Promise<{ h: MasterHarness; agent: TestAgent; fw: TestFramework }> {
  const h = await MasterHarness.start({ master: options.master ?? {} });
  const agent = await h.agent({ hostname: 'a1.test', resources: AGENT_RESOURCES, attributes: 'rack:r1', autoRun: options.autoRun ?? true });
  const fw = await h.framework({ name: 'fw1' });
  const offer = await fw.nextOffer();
  await fw.launch(offer, [taskInfo('t1', 'cpus:1;mem:128', { labels: { app: 'web' } })], { refuseSeconds: 0 });
  await agent.waitForLaunch('t1');
  if (!(options.autoRun ?? true)) agent.update(fw.frameworkId, 't1', 'TASK_RUNNING');
  await fw.waitForUpdate('t1', 'TASK_RUNNING');
  return { h, agent, fw };
}

describe('master operator HTTP: reads', () => {
  it('serves state, summary, agents, frameworks, offers, roles, leader and tasks', async () => {
    const { h, agent, fw } = await cluster();
    await fw.nextOffer(); // the leftovers, offered again (refuseSeconds 0)
    const state = await get(h, '/api/v1/state');
    expect(state.master).toMatchObject({ id: h.state.masterInfo.id, grpcAddress: h.master.grpcAddress, httpAddress: h.master.httpAddress, lifecycle: 'LEADING' });
    expect(state.agents).toHaveLength(1);
    const a = state.agents[0];
    expect(a).toMatchObject({ id: agent.agentId, hostname: 'a1.test', httpAddress: 'a1.test:5052', state: 'connected', drain: null, active: true, attributes: { rack: 'r1' }, activeTasks: 1 });
    expect(a.resources.total).toEqual({ cpus: 4, mem: 4096, disk: 0, gpus: 0, ports: '31000-31010', text: 'cpus:4;mem:4096;ports:[31000-31010]' });
    // t1 uses cpus:1;mem:128; everything else is in the outstanding offer: allocated = total.
    expect(a.resources.used).toMatchObject({ cpus: 1, mem: 128, text: 'cpus:1;mem:128' });
    expect(a.resources.offered).toMatchObject({ cpus: 3, mem: 3968, ports: '31000-31010' });
    expect(a.resources.allocated.text).toBe(a.resources.total.text);
    expect(a.resources.available.text).toBe('');
    expect(state.frameworks).toHaveLength(1);
    const f = state.frameworks[0];
    expect(f).toMatchObject({ id: fw.frameworkId, name: 'fw1', roles: ['*'], state: 'connected', active: true, completedTasks: [] });
    expect(f.tasks).toHaveLength(1);
    expect(f.tasks[0]).toMatchObject({ id: 't1', name: 't1', frameworkId: fw.frameworkId, agentId: agent.agentId, state: 'TASK_RUNNING', role: '*', labels: { app: 'web' } });
    expect(f.tasks[0].resources).toMatchObject({ cpus: 1, mem: 128 });
    expect(f.tasks[0].status).toMatchObject({ state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR' });
    expect(state.offers).toHaveLength(1);
    expect(state.offers[0]).toMatchObject({ frameworkId: fw.frameworkId, agentId: agent.agentId, hostname: 'a1.test', role: '*' });
    expect(state.offers[0].resources.text).toBe('cpus:3;mem:3968;ports:[31000-31010]');
    expect(state.removedFrameworks).toEqual([]);

    const summary = await get(h, '/api/v1/state-summary');
    expect(summary.agents).toEqual({ total: 1, connected: 1, disconnected: 0, unreachable: 0, recovering: 0, draining: 0, drained: 0 });
    expect(summary.frameworks).toEqual({ total: 1, connected: 1, disconnected: 0, removed: 0 });
    expect(summary.tasks).toMatchObject({ live: 1, completed: 0, byState: { TASK_RUNNING: 1, TASK_FINISHED: 0 } });
    expect(summary.offers).toBe(1);
    expect(summary.resources.total.cpus).toBe(4);
    expect(summary.resources.allocated.cpus).toBe(4);
    expect(summary.resources.available.cpus).toBe(0);

    expect((await get(h, '/api/v1/agents')).agents).toEqual(state.agents);
    expect((await get(h, `/api/v1/agents/${agent.agentId}`)).agent).toEqual(state.agents[0]);
    expect((await get(h, '/api/v1/frameworks')).frameworks).toEqual(state.frameworks);
    expect((await get(h, `/api/v1/frameworks/${fw.frameworkId}`)).framework.id).toBe(fw.frameworkId);
    expect((await get(h, '/api/v1/offers')).offers).toEqual(state.offers);
    const roles = (await get(h, '/api/v1/roles')).roles;
    // shares: '*' holds cpus 4/4 and mem 4096/4096 (offers count as allocated) → 1
    expect(roles).toEqual([
      { role: '*', weight: 1, quota: null, allocated: expect.objectContaining({ cpus: 4, mem: 4096 }), dominantShare: 1, frameworks: [fw.frameworkId] },
    ]);
    expect(await get(h, '/api/v1/leader')).toEqual({ self: true, leader: { id: state.master.id, hostname: '127.0.0.1', grpcAddress: h.address, httpAddress: h.master.httpAddress, version: state.master.version } });
    const tasks = await get(h, '/api/v1/tasks');
    expect(tasks).toMatchObject({ total: 1, offset: 0, limit: 100 });
    expect(tasks.tasks).toEqual(f.tasks);
    expect((await get(h, '/health')).status).toBe('ok');
    expect((await get(h, '/version')).version).toEqual(expect.any(String));

    for (const path of ['/api/v1/agents/nope', '/api/v1/frameworks/nope']) {
      const r = await http(h, 'GET', path);
      expect(r.status).toBe(404);
      expect(r.json.code).toBe('AGORA_NOT_FOUND');
    }
  });

  it('filters and pages tasks, live and completed, in a stable order', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent({ resources: AGENT_RESOURCES });
    const fw = await h.framework({ name: 'fw1' });
    const offer = await fw.nextOffer();
    await fw.launch(offer, ['t1', 't2', 't3'].map((id) => taskInfo(id, 'cpus:1;mem:64')));
    await agent.waitForLaunch('t3');
    for (const id of ['t1', 't2', 't3']) agent.update(fw.frameworkId, id, 'TASK_RUNNING');
    agent.update(fw.frameworkId, 't2', 'TASK_FINISHED');
    await fw.waitForUpdate('t2', 'TASK_FINISHED');
    await fw.waitForUpdate('t3', 'TASK_RUNNING');

    const ids = async (query: string): Promise<string[]> => (await get(h, `/api/v1/tasks${query}`)).tasks.map((t: Json) => t.id);
    expect(await ids('')).toEqual(['t1', 't2', 't3']);
    expect(await ids(`?frameworkId=${fw.frameworkId}`)).toEqual(['t1', 't2', 't3']);
    expect(await ids(`?agentId=${agent.agentId}&state=running`)).toEqual(['t1', 't3']);
    expect(await ids('?state=TASK_FINISHED')).toEqual(['t2']);
    expect(await ids('?frameworkId=other')).toEqual([]);
    const page = await get(h, '/api/v1/tasks?limit=1&offset=1');
    expect(page).toMatchObject({ total: 3, offset: 1, limit: 1 });
    expect(page.tasks.map((t: Json) => [t.id, t.state])).toEqual([['t2', 'TASK_FINISHED']]);
    expect(await ids('?offset=5')).toEqual([]);
    expect((await get(h, `/api/v1/frameworks/${fw.frameworkId}`)).framework.completedTasks.map((t: Json) => t.id)).toEqual(['t2']);

    for (const [query, field] of [
      ['limit=-1', 'limit'],
      ['limit=10001', 'limit'],
      ['offset=x', 'offset'],
      ['state=BOGUS', 'state'],
    ] as const) {
      const r = await http(h, 'GET', `/api/v1/tasks?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.json).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field });
    }
  });
});

describe('master operator HTTP: writes', () => {
  it('sets weights: valid ones apply and persist, a bad list changes nothing', async () => {
    const h = await MasterHarness.start();
    const ok = await http(h, 'PUT', '/api/v1/weights', [{ role: 'dev', weight: 2 }]);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json.weights).toEqual({ dev: 2 });
    const wrapped = await http(h, 'PUT', '/api/v1/weights', { weights: [{ role: 'prod/web', weight: 0.5 }] });
    expect(wrapped.status, wrapped.text).toBe(200);

    for (const [body, field] of [
      [[{ role: 'dev', weight: -1 }], 'body[0].weight'],
      [[{ role: 'ok', weight: 3 }, { role: 'bad role!', weight: 1 }], 'body[1].role'],
      [{ weights: [{ role: 'ok', weight: 3 }, { role: 'x', weight: Number.POSITIVE_INFINITY }] }, 'weights[1].weight'],
      [[{ role: 'ok', weight: 3 }, { role: 'ok', weight: 4 }], 'body[1].role'],
      [{ role: 'ok' }, 'weights'],
      [[], 'body'],
    ] as const) {
      const r = await http(h, 'PUT', '/api/v1/weights', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field });
    }
    expect(h.state.weights).toEqual({ dev: 2, 'prod/web': 0.5 });
    const roles = (await get(h, '/api/v1/roles')).roles as Json[];
    expect(roles.map((r) => [r.role, r.weight])).toEqual([
      ['dev', 2],
      ['prod/web', 0.5],
    ]);
    const { snapshot } = await Registry.open(h.store, 'default');
    expect(snapshot.weights).toEqual({ dev: 2, 'prod/web': 0.5 });
  });

  it('sets and removes quota: checked before anything changes, persisted, shown in roles', async () => {
    const h = await MasterHarness.start();
    const ok = await http(h, 'PUT', '/api/v1/quota', { role: 'dev', guarantee: 'cpus:2;mem:1024', limit: 'cpus:4' });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json).toMatchObject({ role: 'dev', guarantee: { cpus: 2, mem: 1024 }, limit: { cpus: 4 } });
    const asList = await http(h, 'PUT', '/api/v1/quota', { role: 'ops', guarantee: [{ name: 'cpus', type: 'SCALAR', scalar: 1 }], limit: { cpus: 1, mem: 512 } });
    expect(asList.status, asList.text).toBe(200);

    for (const [body, field] of [
      [{ role: 'dev', guarantee: 'cpus:8', limit: 'cpus:4' }, 'limit.cpus'],
      [{ role: 'dev', guarantee: 'cpus:1;ports:[1-2]' }, 'guarantee.ports'],
      [{ role: 'dev', guarantee: 'cpus(dev):1' }, 'guarantee.cpus'],
      [{ role: 'dev', guarantee: 'cpus:-1' }, 'guarantee'],
      [{ role: 'dev', guarantee: 42 }, 'guarantee'],
      [{ role: '*', guarantee: 'cpus:1' }, 'role'],
      [{ role: 'a b', guarantee: 'cpus:1' }, 'role'],
      [{ guarantee: 'cpus:1' }, 'role'],
      [{ role: 'dev' }, 'guarantee'],
    ] as const) {
      const r = await http(h, 'PUT', '/api/v1/quota', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field });
    }
    expect(h.state.quota).toEqual({ dev: { guarantee: 'cpus:2;mem:1024', limit: 'cpus:4' }, ops: { guarantee: 'cpus:1', limit: 'cpus:1;mem:512' } });
    const dev = ((await get(h, '/api/v1/roles')).roles as Json[]).find((r) => r.role === 'dev');
    expect(dev?.quota).toEqual({
      guarantee: { cpus: 2, mem: 1024, disk: 0, gpus: 0, ports: '', text: 'cpus:2;mem:1024' },
      limit: { cpus: 4, mem: 0, disk: 0, gpus: 0, ports: '', text: 'cpus:4' },
    });
    expect((await Registry.open(h.store, 'default')).snapshot.quota).toEqual(h.state.quota);

    expect((await http(h, 'DELETE', '/api/v1/quota/dev')).status).toBe(200);
    expect((await http(h, 'DELETE', '/api/v1/quota/dev')).status).toBe(404);
    expect(((await get(h, '/api/v1/roles')).roles as Json[]).find((r) => r.role === 'dev')?.quota ?? null).toBeNull();
    expect((await Registry.open(h.store, 'default')).snapshot.quota).toEqual({ ops: { guarantee: 'cpus:1', limit: 'cpus:1;mem:512' } });
    expect((await get(h, '/api/v1/quota')).quota.map((q: Json) => q.role)).toEqual(['ops']);
  });

  it('drains an agent (its task is killed, then it is drained) and undrains it', async () => {
    const { h, agent, fw } = await cluster({ autoRun: false, master: { drainGracePeriod: '7s' } });
    const path = `/api/v1/agents/${agent.agentId}`;
    const bad = await http(h, 'POST', `${path}/drain`, { gracePeriodSeconds: 'soon' });
    expect(bad.status).toBe(400);
    expect(bad.json.field).toBe('gracePeriodSeconds');
    expect((await http(h, 'POST', `${path}/drain`, { gracePeriodSeconds: -1 })).status).toBe(400);
    expect(h.state.agent(agent.agentId)?.drain).toBeUndefined();
    expect((await http(h, 'POST', '/api/v1/agents/nope/drain', {})).status).toBe(404);
    expect((await http(h, 'POST', '/api/v1/agents/nope/undrain')).status).toBe(404);

    const since = agent.messages.mark();
    const drained = await http(h, 'POST', `${path}/drain`, { gracePeriodSeconds: 2 });
    expect(drained.status, drained.text).toBe(200);
    expect(drained.json.agent.drain).toMatchObject({ state: 'draining', gracePeriodSeconds: 2 });
    expect(drained.json.agent.active).toBe(false);
    const kill = await agent.waitFor((m) => m.kill?.taskId === 't1', { since, what: 'kill t1' });
    expect(kill.kill?.killPolicy?.gracePeriodSeconds).toBe(2);
    agent.update(fw.frameworkId, 't1', 'TASK_KILLED');
    await eventually(async () => expect((await get(h, path)).agent.drain.state).toBe('drained'));
    const t1 = (await get(h, '/api/v1/tasks?state=killed')).tasks;
    expect(t1.map((t: Json) => t.id)).toEqual(['t1']);

    const undrained = await http(h, 'POST', `${path}/undrain`);
    expect(undrained.status, undrained.text).toBe(200);
    expect(undrained.json.agent).toMatchObject({ drain: null, active: true });
    await fw.nextOffer({ agentId: agent.agentId }); // offered again
  });

  it('uses --drain-grace-period when the body gives none', async () => {
    const { h, agent } = await cluster({ autoRun: false, master: { drainGracePeriod: '7s' } });
    const since = agent.messages.mark();
    expect((await http(h, 'POST', `/api/v1/agents/${agent.agentId}/drain`)).status).toBe(200);
    const kill = await agent.waitFor((m) => m.kill?.taskId === 't1', { since });
    expect(kill.kill?.killPolicy?.gracePeriodSeconds).toBe(7);
  });

  it('tears a framework down', async () => {
    const { h, agent, fw } = await cluster();
    expect((await http(h, 'POST', '/api/v1/teardown', {})).json).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'frameworkId' });
    expect((await http(h, 'POST', '/api/v1/teardown', { frameworkId: 'nope' })).status).toBe(404);
    const since = agent.messages.mark();
    const r = await http(h, 'POST', '/api/v1/teardown', { frameworkId: fw.frameworkId });
    expect(r.status, r.text).toBe(200);
    await agent.waitFor((m) => m.shutdownFramework?.frameworkId === fw.frameworkId, { since });
    await fw.events.waitFor((e) => e.type === 'error');
    const frameworks = await get(h, '/api/v1/frameworks');
    expect(frameworks.frameworks).toEqual([]);
    expect(frameworks.removedFrameworks).toEqual([expect.objectContaining({ id: fw.frameworkId, name: 'fw1', reason: 'teardown requested by an operator (admin)' })]);
    expect((await get(h, '/api/v1/tasks')).total).toBe(0);
    expect((await get(h, '/api/v1/state-summary')).frameworks).toMatchObject({ total: 0, removed: 1 });
    expect((await http(h, 'POST', '/api/v1/teardown', { frameworkId: fw.frameworkId })).status).toBe(404);
  });
});

describe('master operator HTTP: metrics', () => {
  it('exposes gauges, counters and the allocation histogram per master', async () => {
    const { h, fw } = await cluster();
    await fw.nextOffer();
    const other = await MasterHarness.start(); // a second master in this process: its own registry
    const r = await http(h, 'GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.type).toContain('text/plain');
    const lines = r.text.split('\n');
    const value = (series: string): number => {
      const line = lines.find((l) => l.startsWith(`${series} `));
      if (line === undefined) throw new Error(`no ${series} in /metrics:\n${r.text}`);
      return Number(line.slice(series.length + 1));
    };
    const stats = h.state.stats;
    expect(value('agora_agents{state="connected"}')).toBe(1);
    expect(value('agora_agents{state="unreachable"}')).toBe(0);
    expect(value('agora_agents_drain{state="draining"}')).toBe(0);
    expect(value('agora_frameworks{state="connected"}')).toBe(1);
    expect(value('agora_tasks{state="running"}')).toBe(1);
    expect(value('agora_tasks{state="staging"}')).toBe(0);
    expect(value('agora_offers_outstanding')).toBe(1);
    expect(value('agora_master_leader')).toBe(1);
    expect(value('agora_resources_capacity{resource="cpus"}')).toBe(4);
    expect(value('agora_resources_capacity_bytes{resource="mem"}')).toBe(4096 * 1024 * 1024);
    expect(value('agora_resources_capacity{resource="ports"}')).toBe(11);
    expect(value('agora_resources_allocated{resource="cpus"}')).toBe(4);
    expect(value('agora_role_allocated{role="*",resource="cpus"}')).toBe(4);
    expect(value('agora_role_weight{role="*"}')).toBe(1);
    expect(value('agora_agent_streams')).toBe(1);
    expect(value('agora_framework_streams')).toBe(1);
    expect(value('agora_tasks_launched_total')).toBe(1);
    expect(value('agora_status_updates_total')).toBe(1);
    expect(value('agora_offers_sent_total')).toBe(stats.offersSent);
    expect(value('agora_offers_sent_total')).toBeGreaterThanOrEqual(2);
    expect(value('agora_offers_rescinded_total')).toBe(stats.offersRescinded);
    expect(value('agora_allocation_runs_total')).toBeGreaterThan(0);
    expect(value('agora_allocation_run_seconds_count')).toBeGreaterThan(0);
    expect(value('agora_tasks_terminal_total{state="killed"}')).toBe(0);

    const o = await http(other, 'GET', '/metrics');
    expect(o.status).toBe(200);
    expect(o.text).toContain('agora_agents{state="connected"} 0');
  });
});

interface SseFrame {
  event: string;
  data: Json;
}

/** Read an SSE response into a Recorder: one item per event; comments become `{event: ':'}`. */
function readEvents(h: MasterHarness, query = ''): { frames: Recorder<SseFrame>; close: () => void; opened: Promise<Response> } {
  const frames = new Recorder<SseFrame>('sse', (f) => f.event);
  const abort = new AbortController();
  const opened = secureFetch(`https://127.0.0.1:${h.master.httpPort}/api/v1/events${query}`, { signal: abort.signal });
  void opened
    .then(async (res) => {
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith(':')) frames.push({ event: ':', data: {} });
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined) frames.push({ event, data: JSON.parse(data ?? '{}') as Json });
        }
      }
      frames.end('server closed the stream');
    })
    .catch((err: unknown) => frames.end(String(err)));
  return { frames, close: () => abort.abort(), opened };
}

describe('master operator HTTP: event stream', () => {
  it('streams subscribed, agent and task events and heartbeats, and unsubscribes when the client goes', async () => {
    const h = await MasterHarness.start();
    const sseClients = async (): Promise<number> => {
      const line = (await http(h, 'GET', '/metrics')).text.split('\n').find((l) => l.startsWith('agora_http_sse_clients '));
      return Number(line?.split(' ')[1]);
    };
    expect(await sseClients()).toBe(0);
    const { frames, close, opened } = readEvents(h, '?heartbeatMs=50');
    const res = await opened;
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const first = await frames.waitFor(() => true);
    expect(first).toEqual({ event: 'subscribed', data: { master: expect.objectContaining({ id: h.state.masterInfo.id }), heartbeatMs: 50, resumed: false, lastEventId: null } });
    expect(await sseClients()).toBe(1);

    const agent = await h.agent({ resources: AGENT_RESOURCES, autoRun: true });
    const added = await frames.waitFor((f) => f.event === 'agent_added');
    expect(added.data).toMatchObject({ type: 'AGENT_ADDED', agentId: agent.agentId, hostname: agent.hostname, timestampMs: expect.any(Number) });
    const fw = await h.framework({ name: 'fw1' });
    await frames.waitFor((f) => f.event === 'framework_added' && f.data.frameworkId === fw.frameworkId);
    await fw.launch(await fw.nextOffer(), [taskInfo('t1')]);
    await frames.waitFor((f) => f.event === 'task_added' && f.data.taskId === 't1');
    const running = await frames.waitFor((f) => f.event === 'task_updated');
    expect(running.data).toMatchObject({ type: 'TASK_UPDATED', frameworkId: fw.frameworkId, taskId: 't1', agentId: agent.agentId, state: 'TASK_RUNNING', previous: 'TASK_STAGING' });
    await frames.waitFor((f) => f.event === ':', { what: 'a heartbeat' });

    close();
    await eventually(async () => expect(await sseClients()).toBe(0), { what: 'the SSE subscription to go' });
  });

  it('rejects a bad heartbeat and ends open streams when the master stops', async () => {
    const h = await MasterHarness.start();
    const bad = await http(h, 'GET', '/api/v1/events?heartbeatMs=1');
    expect(bad.status).toBe(400);
    expect(bad.json.field).toBe('heartbeatMs');
    const { frames } = readEvents(h);
    await frames.waitFor((f) => f.event === 'subscribed');
    await h.master.stop();
    await eventually(() => expect(frames.ended).toBeDefined());
  });
});
