// Cordon on a real master (gRPC + HTTPS on loopback) with a test agent and framework: a cordoned
// agent's offers are rescinded and no new ones are made, its running task is left alone; the
// cordon is in the registry, so a master restarted on the same store keeps it; uncordon offers it
// again; a principal without agents.drain is refused and nothing changes.
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '../../master/registry.js';
import { issueToken } from '../support/acl.js';
import { MasterHarness, eventually, stopHarnesses } from '../support/master-harness.js';
import { secureFetch } from '../support/security.js';
import { taskInfo } from '../support/test-framework.js';
import { readSse } from '../support/sse-client.js';

afterEach(stopHarnesses);

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
});
