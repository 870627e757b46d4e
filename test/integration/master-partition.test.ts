// Unreachable agents against a real master over loopback gRPC: missed pings make an agent
// unreachable (TASK_LOST for frameworks that are not partition-aware, TASK_UNREACHABLE for those
// that are, and a FAILURE event); it comes back by re-registering, without duplicates.
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, MasterHarness, rejection, stopHarnesses } from '../support/master-harness.js';
import type { TestAgent } from '../support/test-agent.js';
import { taskInfo, type TestFramework } from '../support/test-framework.js';

afterEach(stopHarnesses);

async function launchRunning(fw: TestFramework, agent: TestAgent, taskId: string, resources: string, refuseSeconds = 0): Promise<void> {
  const offer = await fw.nextOffer({ agentId: agent.agentId });
  await fw.launch(offer, [taskInfo(taskId, resources)], { refuseSeconds });
  await agent.waitForLaunch(taskId);
  agent.update(fw.frameworkId, taskId, 'TASK_RUNNING');
  await fw.waitForUpdate(taskId, 'TASK_RUNNING');
}

describe('unreachable agents', () => {
  it('an agent that stops answering pings: LOST / UNREACHABLE, FAILURE, offers rescinded; on return PA tasks run again, LOST ones are killed', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent({ resources: 'cpus:4;mem:4096' });
    const plain = await h.framework({ name: 'plain', autoAck: true });
    await launchRunning(plain, agent, 'p1', 'cpus:1;mem:512', 60);
    const aware = await h.framework({ name: 'aware', autoAck: true, capabilities: ['PARTITION_AWARE'] });
    await launchRunning(aware, agent, 'a1', 'cpus:1;mem:512');
    // Someone holds an offer for the rest of the agent.
    await eventually(() => expect([...h.state.outstandingOffers()].some((o) => o.agentId === agent.agentId)).toBe(true));
    const heldOffers = [...h.state.outstandingOffers()].filter((o) => o.agentId === agent.agentId).map((o) => o.id);
    h.invariant();

    const plainMark = plain.events.mark();
    const awareMark = aware.events.mark();
    const stoppedAt = Date.now();
    agent.setAnswerPings(false);

    const lost = await plain.waitForUpdate('p1', undefined, { since: plainMark, timeoutMs: 3000 });
    expect(lost).toMatchObject({ state: 'TASK_LOST', reason: 'REASON_AGENT_UNREACHABLE', source: 'SOURCE_MASTER', agentId: agent.agentId });
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(250);
    const unreachable = await aware.waitForUpdate('a1', undefined, { since: awareMark });
    expect(unreachable).toMatchObject({ state: 'TASK_UNREACHABLE', reason: 'REASON_AGENT_UNREACHABLE' });
    for (const fw of [plain, aware]) {
      const failure = await fw.waitFor((e) => e.type === 'failure', { since: fw === plain ? plainMark : awareMark });
      expect(failure.failure).toMatchObject({ agentId: agent.agentId, executorId: '' });
    }
    const rescinded = [...plain.events.filter((e) => e.type === 'rescind', plainMark), ...aware.events.filter((e) => e.type === 'rescind', awareMark)].map((e) => e.rescind?.offerId);
    expect(rescinded.sort()).toEqual([...heldOffers].sort());
    expect(h.state.offerCount()).toBe(0);
    expect(h.state.agent(agent.agentId)?.state).toBe('unreachable');
    expect(h.state.allocator.agent(agent.agentId)).toBeUndefined();
    await agent.closed;
    await eventually(async () => expect((await h.store.getJson<{ state: string }>(`/default/registry/agents/${agent.agentId}`)).value.state).toBe('unreachable'));
    // Kill of a task on an unreachable agent answers with what the master knows.
    const killMark = aware.events.mark();
    await aware.kill('a1');
    expect((await aware.waitForUpdate('a1', undefined, { since: killMark })).state).toBe('TASK_UNREACHABLE');
    h.invariant();

    // The agent comes back with both tasks still running.
    const back = await h.agent({ agentId: agent.agentId, hostname: agent.hostname, resources: agent.resources, tasks: agent.trackedTasks() });
    expect(back.agentId).toBe(agent.agentId);
    const again = await aware.waitForUpdate('a1', 'TASK_RUNNING', { since: awareMark });
    expect(again.reason).toBe('REASON_AGENT_REREGISTERED');
    const kill = await back.waitFor((m) => m.kill?.taskId === 'p1', { what: 'kill of the LOST task' });
    expect(kill.kill?.frameworkId).toBe(plain.frameworkId);
    expect(back.messages.find((m) => m.kill?.taskId === 'a1')).toBeUndefined();

    expect(h.state.agentCount()).toBe(1);
    expect(h.state.agent(agent.agentId)?.state).toBe('connected');
    expect([...h.state.liveTasks()].map((t) => `${t.frameworkId}/${t.taskId}`)).toEqual([`${aware.frameworkId}/a1`]);
    expect(h.state.tasksOnAgent(agent.agentId)).toHaveLength(1);
    expect(h.state.framework(plain.frameworkId)?.completed.map((t) => [t.taskId, t.state])).toEqual([['p1', 'TASK_LOST']]);
    expect(h.taskAllocation(agent.agentId).format()).toBe('cpus:1;mem:512');
    h.invariant();

    const mark = aware.events.mark();
    await aware.reconcile();
    expect((await aware.waitForUpdate('a1', undefined, { since: mark })).state).toBe('TASK_RUNNING');
    // The killed LOST task ends; the master forwards what the agent says and counts nothing twice.
    back.update(plain.frameworkId, 'p1', 'TASK_KILLED');
    await plain.waitForUpdate('p1', 'TASK_KILLED', { since: plainMark });
    h.invariant();
  });

  it('an agent whose stream breaks and that does not come back becomes unreachable after the ping timeouts', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent();
    const fw = await h.framework({ autoAck: true });
    await launchRunning(fw, agent, 't1', 'cpus:1;mem:128');
    const mark = fw.events.mark();
    agent.crash();
    await eventually(() => expect(h.state.agent(agent.agentId)?.state).toBe('disconnected'));
    expect((await fw.waitForUpdate('t1', undefined, { since: mark, timeoutMs: 3000 })).state).toBe('TASK_LOST');
    expect(h.state.agent(agent.agentId)?.state).toBe('unreachable');
    h.invariant();
  });

  it('reconciles tasks on an unreachable agent as UNREACHABLE (partition-aware) and answers acknowledgements for it', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent();
    const fw = await h.framework({ capabilities: ['PARTITION_AWARE'] });
    const offer = await fw.nextOffer();
    await fw.launch(offer, [taskInfo('t1')]);
    await agent.waitForLaunch('t1');
    const running = agent.update(fw.frameworkId, 't1', 'TASK_RUNNING');
    const update = await fw.waitForUpdate('t1', 'TASK_RUNNING');
    agent.setAnswerPings(false);
    await fw.waitForUpdate('t1', 'TASK_UNREACHABLE', { timeoutMs: 3000 });
    const mark = fw.events.mark();
    await fw.reconcile([{ taskId: 't1', agentId: agent.agentId }, { taskId: 'other', agentId: agent.agentId }]);
    await eventually(() => expect(fw.updates(undefined, mark).map((s) => [s.taskId, s.state])).toEqual([
      ['t1', 'TASK_UNREACHABLE'],
      ['other', 'TASK_UNREACHABLE'],
    ]));
    // Acknowledging while the agent is away is accepted (the agent resends after it returns).
    await fw.acknowledge(update);
    expect(running.uuid).toBe(update.uuid);
    const err = await rejection(fw.acknowledge({ ...update, agentId: 'no-such-agent' }));
    expect(err.code).toBe('AGORA_NOT_FOUND');
    h.invariant();
  });
});
