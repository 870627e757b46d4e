// Agents against a real master over loopback gRPC: registration, the registry, re-registration
// with tasks (kept or adopted), a second connection with the same id, and bad registrations.
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { Resources } from '../../core/resources.js';
import { resourcesToWire } from '../../core/wire.js';
import { reportedTask, TestAgent } from '../support/test-agent.js';
import { offerResources, taskInfo } from '../support/test-framework.js';
import { holdsFor } from '../support/waits.js';

afterEach(stopHarnesses);

describe('agent registration', () => {
  it('gives the agent an id, admits it into the registry and offers its resources', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent({ resources: 'cpus:2;mem:1024', attributes: 'rack:r1' });

    const registered = agent.messages.find((m) => m.type === 'registered')?.registered;
    expect(registered?.agentId).toBe(agent.agentId);
    expect(registered?.pingIntervalSeconds).toBe(0.1);
    expect(registered?.maxMissedPings).toBe(10);
    expect(registered?.masterInfo?.grpcAddress).toBe(h.address);

    const entry = await h.store.getJson<{ id: string; hostname: string; state: string }>(`/default/registry/agents/${agent.agentId}`);
    expect(entry.value).toMatchObject({ id: agent.agentId, hostname: agent.hostname, state: 'admitted' });
    expect(h.state.agent(agent.agentId)?.state).toBe('connected');
    expect(h.state.allocator.agent(agent.agentId)?.total.format()).toBe('cpus:2;mem:1024');

    const fw = await h.framework();
    const [offer] = await fw.nextOffers();
    expect(offer?.agentId).toBe(agent.agentId);
    expect(offer?.hostname).toBe(agent.hostname);
    expect(offerResources(offer!).format()).toBe('cpus:2;mem:1024');
    expect(offer?.attributes.map((a) => [a.name, a.text])).toEqual([['rack', 'r1']]);
    h.invariant();
  });

  it('answers pings: the agent stays connected while it pongs', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent();
    await agent.waitFor((m) => m.ping !== undefined && m.ping !== null && Number(m.ping.seq) >= 6, { what: 'ping 6' });
    expect(h.state.agent(agent.agentId)?.state).toBe('connected');
  });

  it('refuses a registration without resources or hostname, and closes the stream', async () => {
    const h = await MasterHarness.start();
    const agent = h.track(TestAgent.open(h.address, { resources: '' }));
    agent.send({ register: { agentInfo: { ...agent.agentInfo(), resources: [] }, version: 'test' } });
    const error = await agent.waitFor((m) => m.type === 'error', { what: 'error' });
    expect(error.error?.fatal).toBe(true);
    expect(error.error?.message).toMatch(/resources/);
    await agent.closed;
    expect(h.state.agentCount()).toBe(0);

    const second = h.track(TestAgent.open(h.address));
    second.send({ register: { agentInfo: { ...second.agentInfo(), hostname: '' }, version: 'test' } });
    expect((await second.waitFor((m) => m.type === 'error')).error?.message).toMatch(/hostname/);
    expect(h.state.agentCount()).toBe(0);
  });

  it('refuses a second registration on the same stream (no second record of one agent)', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent();
    agent.send({ register: { agentInfo: agent.agentInfo(), version: 'test' } });
    const error = await agent.waitFor((m) => m.type === 'error', { what: 'error' });
    expect(error.error).toMatchObject({ fatal: false });
    expect(error.error?.message).toMatch(/already registered/);
    expect(h.state.agentCount()).toBe(1);
    expect(agent.isClosed).toBe(false);
    h.invariant();
  });

  it('takes a resource update: offers are rescinded and the new total offered; a total below what tasks use is refused', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent({ resources: 'cpus:4;mem:4096' });
    const fw = await h.framework({ autoAck: true });
    const offer = await fw.nextOffer();
    await fw.launch(offer, [taskInfo('t1', 'cpus:2;mem:1024')], { refuseSeconds: 0 });
    const held = await fw.nextOffer();
    expect(offerResources(held).format()).toBe('cpus:2;mem:3072');

    agent.send({ resourceUpdate: { resources: resourcesToWire(Resources.parse('cpus:3;mem:2048')) } });
    await fw.waitFor((e) => e.rescind?.offerId === held.id, { what: 'RESCIND of the offer on the changed agent' });
    expect(offerResources(await fw.nextOffer()).format()).toBe('cpus:1;mem:1024');
    expect(h.state.agent(agent.agentId)?.total.format()).toBe('cpus:3;mem:2048');
    h.invariant();

    // Less than the task holds: refused, and nothing changes.
    const mark = agent.messages.mark();
    agent.send({ resourceUpdate: { resources: resourcesToWire(Resources.parse('cpus:1;mem:512')) } });
    const error = await agent.waitFor((m) => m.type === 'error', { since: mark });
    expect(error.error?.fatal).toBe(false);
    expect(h.state.agent(agent.agentId)?.total.format()).toBe('cpus:3;mem:2048');
    expect(h.state.allocator.agent(agent.agentId)?.total.format()).toBe('cpus:3;mem:2048');
    h.invariant();
  });

  it('rejects messages before registration', async () => {
    const h = await MasterHarness.start();
    const agent = h.track(TestAgent.open(h.address));
    agent.send({ pong: { seq: 1 } });
    const error = await agent.waitFor((m) => m.type === 'error');
    expect(error.error?.message).toMatch(/register/);
  });
});

describe('agent re-registration', () => {
  it('keeps the id after a reconnect and reports its running tasks; the master keeps them', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent({ resources: 'cpus:2;mem:1024' });
    const fw = await h.framework({ autoAck: true });
    const offer = await fw.nextOffer();
    await fw.launch(offer, [taskInfo('t1', 'cpus:1;mem:256')]);
    await agent.waitForLaunch('t1');
    const running = agent.update(fw.frameworkId, 't1', 'TASK_RUNNING');
    await agent.waitForAck(running.uuid as string);

    await agent.disconnect();
    await eventually(() => expect(h.state.agent(agent.agentId)?.state).toBe('disconnected'));
    h.invariant();

    const again = await h.agent({ agentId: agent.agentId, tasks: agent.trackedTasks(), hostname: agent.hostname, resources: agent.resources });
    expect(again.agentId).toBe(agent.agentId);
    expect(again.messages.find((m) => m.type === 'reregistered')?.reregistered?.agentId).toBe(agent.agentId);
    expect(h.state.agentCount()).toBe(1);
    expect(h.state.agent(agent.agentId)?.state).toBe('connected');
    expect(h.state.liveTaskCount()).toBe(1);
    expect(h.state.task(fw.frameworkId, 't1')?.state).toBe('TASK_RUNNING');
    h.invariant();

    const since = fw.events.mark();
    await fw.reconcile();
    const status = await fw.waitForUpdate('t1', undefined, { since });
    expect(status.state).toBe('TASK_RUNNING');
    expect(status.agentId).toBe(agent.agentId);
    expect(status.reason).toBe('REASON_RECONCILIATION');
    expect(status.uuid).toBe('');
  });

  it('adopts tasks it did not know (with their resources) and reports tasks the agent lost as GONE', async () => {
    const h = await MasterHarness.start();
    const fw = await h.framework({ autoAck: true, capabilities: ['PARTITION_AWARE'] });
    const agent = await h.agent({ resources: 'cpus:4;mem:2048' });
    const offer = await fw.nextOffer();
    await fw.launch(offer, [taskInfo('known', 'cpus:1;mem:256'), taskInfo('forgotten', 'cpus:1;mem:256')], { refuseSeconds: 0 });
    await agent.waitForLaunch('known');
    agent.update(fw.frameworkId, 'known', 'TASK_RUNNING');
    agent.update(fw.frameworkId, 'forgotten', 'TASK_RUNNING');
    await fw.waitForUpdate('forgotten', 'TASK_RUNNING');
    await agent.disconnect();

    // The agent comes back without 'forgotten' and with 'stranger', which the master never launched.
    const tasks = agent.trackedTasks().filter((t) => t.task.taskId !== 'forgotten');
    tasks.push(reportedTask(fw.frameworkId, taskInfo('stranger', 'cpus:0.5;mem:128'), 'TASK_RUNNING', agent.agentId));
    const since = fw.events.mark();
    const again = await h.agent({ agentId: agent.agentId, tasks, hostname: agent.hostname, resources: agent.resources });
    expect(again.agentId).toBe(agent.agentId);

    const gone = await fw.waitForUpdate('forgotten', undefined, { since });
    expect(gone.state).toBe('TASK_GONE');
    expect(h.state.task(fw.frameworkId, 'stranger')?.state).toBe('TASK_RUNNING');
    expect(h.state.task(fw.frameworkId, 'forgotten')).toBeUndefined();
    expect(h.state.allocator.agent(agent.agentId)?.allocated.scalar('cpus')).toBeGreaterThanOrEqual(1.5);
    h.invariant();

    const mark = fw.events.mark();
    await fw.reconcile();
    await fw.waitForUpdate('stranger', 'TASK_RUNNING', { since: mark });
    await fw.waitForUpdate('known', 'TASK_RUNNING', { since: mark });
    await fw.events.expectNone((e) => e.update?.status?.taskId === 'forgotten', 200, { since: mark, what: 'reconcile answer for a completed task' });
  });

  it('tells the agent to shut down a framework the master does not know', async () => {
    const h = await MasterHarness.start();
    const first = await h.agent();
    await first.disconnect();
    const again = await h.agent({
      agentId: first.agentId,
      hostname: first.hostname,
      tasks: [reportedTask('no-such-framework', taskInfo('x'), 'TASK_RUNNING')],
      frameworks: [],
    });
    await again.waitFor((m) => m.shutdownFramework?.frameworkId === 'no-such-framework', { what: 'shutdownFramework' });
    expect(h.state.liveTaskCount()).toBe(0);
    h.invariant();
  });

  it('a second connection with the same id replaces the first', async () => {
    const h = await MasterHarness.start();
    const first = await h.agent();
    const fw = await h.framework();
    await fw.nextOffer();
    const second = await h.agent({ agentId: first.agentId, hostname: first.hostname, resources: first.resources });
    expect(second.agentId).toBe(first.agentId);
    await first.closed;
    expect(first.isClosed).toBe(true);
    expect(h.state.agentCount()).toBe(1);
    expect(h.state.agent(first.agentId)?.state).toBe('connected');

    // The master now talks to the second connection only.
    const mark = second.messages.mark();
    await second.waitFor((m) => m.type === 'ping', { since: mark, what: 'a ping on the new connection' });
    await holdsFor(350, () => expect(h.state.agent(first.agentId)?.state).toBe('connected'), "the old stream's end does not disconnect the agent");
    h.invariant();
  });

  it('a replacing connection that reports a new task: outstanding offers are rescinded and the task adopted, counted once', async () => {
    const h = await MasterHarness.start();
    const first = await h.agent({ resources: 'cpus:4;mem:4096' });
    const fw = await h.framework();
    const offer = await fw.nextOffer();
    const second = await h.agent({
      agentId: first.agentId,
      hostname: first.hostname,
      resources: first.resources,
      tasks: [reportedTask(fw.frameworkId, taskInfo('x', 'cpus:1;mem:128'), 'TASK_RUNNING', first.agentId)],
    });
    expect(second.agentId).toBe(first.agentId);
    await fw.waitFor((e) => e.rescind?.offerId === offer.id, { what: 'RESCIND' });
    expect(h.state.task(fw.frameworkId, 'x')?.state).toBe('TASK_RUNNING');
    expect(offerResources(await fw.nextOffer()).format()).toBe('cpus:3;mem:3968');
    expect(h.taskAllocation(first.agentId).format()).toBe('cpus:1;mem:128');
    h.invariant();
  });

  it('an agent that disconnects has its offers rescinded and is not offered until it returns', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent();
    const fw = await h.framework();
    const offer = await fw.nextOffer();
    agent.crash();
    await fw.waitFor((e) => e.rescind?.offerId === offer.id, { what: 'RESCIND' });
    await eventually(() => expect(h.state.agent(agent.agentId)?.state).toBe('disconnected'));
    h.invariant();
    const mark = fw.events.mark();
    await fw.events.expectNone((e) => e.type === 'offers', 250, { since: mark, what: 'offers for a disconnected agent' });

    await h.agent({ agentId: agent.agentId, hostname: agent.hostname, resources: agent.resources });
    const again = await fw.nextOffers({ since: mark });
    expect(again[0]?.agentId).toBe(agent.agentId);
    h.invariant();
  });
});
