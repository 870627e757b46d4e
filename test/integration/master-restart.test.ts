// A master restarted on the same file store: it reads the registry, waits for the agents it knew to
// re-register (up to agentReregisterTimeout) before offering, adopts their tasks, and frameworks
// re-subscribe with their ids and reconcile. Tasks are not persisted by the master.
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, MasterHarness, rejection, stopHarnesses } from '../support/master-harness.js';
import { TestAgent } from '../support/test-agent.js';
import { offerResources, taskInfo, TestFramework } from '../support/test-framework.js';
import { holdsFor } from '../support/waits.js';

afterEach(stopHarnesses);

/** A master on a file store with one agent running `t1` for one framework. */
async function running(master: Record<string, unknown> = {}) {
  const h = await MasterHarness.start({ store: 'file', master });
  const agent = await h.agent({ resources: 'cpus:4;mem:4096' });
  const fw = await h.framework({ name: 'svc', failoverTimeoutSeconds: 30, autoAck: true, capabilities: ['PARTITION_AWARE'] });
  const offer = await fw.nextOffer();
  await fw.launch(offer, [taskInfo('t1', 'cpus:1;mem:1024')]);
  await agent.waitForLaunch('t1');
  const status = agent.update(fw.frameworkId, 't1', 'TASK_RUNNING');
  await agent.waitForAck(status.uuid as string);
  return { h, agent, fw };
}

describe('master restart on a file store', () => {
  it('waits for the agent to re-register, adopts its tasks, and the framework re-subscribes and reconciles', async () => {
    const { h, agent, fw } = await running();
    const oldAddress = h.address;
    await h.restart();
    expect(h.address).not.toBe(oldAddress);
    await agent.closed;
    await fw.closed;

    // Recovered from the registry: the agent is expected back, the framework is known but away.
    expect(h.master.lifecycle).toBe('RECOVERING');
    expect(h.state.agent(agent.agentId)?.state).toBe('recovering');
    expect(h.state.framework(fw.frameworkId)?.state).toBe('disconnected');
    expect(h.state.liveTaskCount()).toBe(0);

    // The framework comes back first: it is confirmed, but nothing is offered while recovering.
    const again = await h.framework({ name: 'svc', id: fw.frameworkId, failoverTimeoutSeconds: 30, autoAck: true, capabilities: ['PARTITION_AWARE'] });
    expect(again.frameworkId).toBe(fw.frameworkId);
    // Reconciliation cannot be answered for sure yet (the agent may still bring the task back): the
    // master either stays silent (as Mesos does) or says TASK_UNKNOWN, never LOST or GONE.
    const mark = again.events.mark();
    await again.reconcile([{ taskId: 't1', agentId: agent.agentId }]);
    await again.reconcile([{ taskId: 't1' }]);
    await again.events.expectNone((e) => e.type === 'offers' || (e.type === 'update' && e.update?.status?.state !== 'TASK_UNKNOWN'), 200, {
      since: mark,
      what: 'offers, or a definite answer, while the master recovers',
    });

    // The agent re-registers with its task: adopted, the master leads, offers resume.
    const back = await h.agent({ agentId: agent.agentId, hostname: agent.hostname, resources: agent.resources, tasks: agent.trackedTasks() });
    expect(back.messages.find((m) => m.type === 'reregistered')?.reregistered?.agentId).toBe(agent.agentId);
    await eventually(() => expect(h.master.lifecycle).toBe('LEADING'));
    expect(h.state.agentCount()).toBe(1);
    expect(h.state.task(fw.frameworkId, 't1')).toMatchObject({ state: 'TASK_RUNNING', agentId: agent.agentId, holdsResources: true });
    const reconciled = again.events.mark();
    await again.reconcile();
    expect((await again.waitForUpdate('t1', undefined, { since: reconciled })).state).toBe('TASK_RUNNING');
    const [offer] = await again.nextOffers();
    expect(offerResources(offer!).format()).toBe('cpus:3;mem:3072');
    h.invariant();

    // And the task goes on as before: updates reach the framework and acknowledgements the agent.
    const finished = back.update(fw.frameworkId, 't1', 'TASK_FINISHED');
    await again.waitForUpdate('t1', 'TASK_FINISHED');
    await back.waitForAck(finished.uuid as string);
    expect(h.taskAllocation(agent.agentId).isEmpty()).toBe(true);
    h.invariant();
  });

  it('marks agents that do not return within agentReregisterTimeout unreachable and starts offering', async () => {
    const { h, agent, fw } = await running({ agentReregisterTimeout: '400ms' });
    const other = await h.agent({ resources: 'cpus:1;mem:512' });
    await h.restart();
    const restartedAt = Date.now();
    expect(h.master.lifecycle).toBe('RECOVERING');
    const again = await h.framework({ name: 'svc', id: fw.frameworkId, failoverTimeoutSeconds: 30, autoAck: true, capabilities: ['PARTITION_AWARE'] });
    // Only the second agent comes back.
    await h.agent({ agentId: other.agentId, hostname: other.hostname, resources: other.resources });
    await eventually(() => expect(h.master.lifecycle).toBe('LEADING'), { timeoutMs: 3000 });
    expect(Date.now() - restartedAt).toBeGreaterThanOrEqual(300);
    expect(h.state.agent(agent.agentId)?.state).toBe('unreachable');
    expect(h.state.agent(other.agentId)?.state).toBe('connected');
    const [offer] = await again.nextOffers();
    expect(offer?.agentId).toBe(other.agentId);
    const mark = again.events.mark();
    await again.reconcile([{ taskId: 't1', agentId: agent.agentId }]);
    expect((await again.waitForUpdate('t1', undefined, { since: mark })).state).toBe('TASK_UNREACHABLE');
    h.invariant();

    // Late, but welcome: the agent re-registers and its task is adopted.
    await h.agent({ agentId: agent.agentId, hostname: agent.hostname, resources: agent.resources, tasks: agent.trackedTasks() });
    expect(h.state.task(fw.frameworkId, 't1')?.state).toBe('TASK_RUNNING');
    expect(h.state.agent(agent.agentId)?.state).toBe('connected');
    h.invariant();
  });

  it('stopping the master starts no timers and writes nothing as its streams close', async () => {
    const { h, fw } = await running();
    const old = h.master;
    await old.stop();
    await holdsFor(100, async () => {
      expect(old.state.framework(fw.frameworkId)?.failoverTimer).toBeUndefined();
      const entry = await h.store.getJson<{ disconnectedAtMs?: number }>(`/default/registry/frameworks/${fw.frameworkId}`);
      expect(entry.value.disconnectedAtMs).toBeUndefined();
    }, 'the closing streams start no failover timer and write no disconnection');
    expect(old.lifecycle).toBe('STOPPED');
  });

  it('remembers removed frameworks and agents\' ids across the restart', async () => {
    const { h, agent, fw } = await running();
    const doomed = await h.framework({ name: 'doomed' });
    await doomed.teardown();
    await h.restart();
    const err = await rejection(TestFramework.subscribe(h.address, { name: 'doomed', id: doomed.frameworkId }));
    expect(err).toMatchObject({ code: 'AGORA_FAILED_PRECONDITION', field: 'frameworkInfo.id' });
    // A new agent gets a new id, distinct from the recovered one.
    const fresh = h.track(await TestAgent.connect(h.address, { resources: 'cpus:1;mem:128' }));
    expect(fresh.agentId).not.toBe(agent.agentId);
    expect(h.state.agentCount()).toBe(2);
    expect(h.state.knowsFramework(fw.frameworkId)).toBe(true);
  });
});
