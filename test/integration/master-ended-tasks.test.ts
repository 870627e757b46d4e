// Tasks that end while the master is away (issue 17, part 1). The master never answers "lost" or
// "unknown" for a task whose agent may still come back: a task an agent reports ended when it
// re-registers is kept, and answered with its real end, until the framework acknowledges that end;
// for an agent not back yet the master answers nothing until it is back (then the real state) or the
// re-registration timeout passes (then UNREACHABLE, or LOST for frameworks that are not
// partition-aware).
import { afterEach, describe, expect, it } from 'vitest';
import type { Offer__Output, TaskStatus } from '../../proto/index.js';
import { eventually, MasterHarness, stopHarnesses } from '../support/master-harness.js';
import type { TestAgent, TrackedTask } from '../support/test-agent.js';
import { taskInfo, type TestFramework } from '../support/test-framework.js';

afterEach(stopHarnesses);

const NOT_AN_END_OF_ITS_OWN = ['TASK_LOST', 'TASK_GONE', 'TASK_UNKNOWN', 'TASK_UNREACHABLE'];

/** Launch the tasks on the agent and have them RUNNING and acknowledged. */
async function launch(fw: TestFramework, agent: TestAgent, taskIds: string[]): Promise<void> {
  const offer = await eventually(() => {
    const o = fw.offersSeen().findLast((x) => x.agentId === agent.agentId);
    if (!o) throw new Error('no offer yet');
    return o as Offer__Output;
  });
  await fw.launch(offer, taskIds.map((id) => taskInfo(id, 'cpus:0.5;mem:128')));
  for (const id of taskIds) {
    await agent.waitForLaunch(id);
    await agent.waitForAck(agent.update(fw.frameworkId, id, 'TASK_RUNNING').uuid as string);
  }
}

/** What the agent will report: the task ended while the master was away, its end not acknowledged. */
function endedMeanwhile(tasks: TrackedTask[], taskId: string, uuid: string): TaskStatus {
  const t = tasks.find((x) => x.task.taskId === taskId)!;
  t.latest = { ...t.latest, state: 'TASK_FINISHED', uuid, source: 'SOURCE_EXECUTOR', message: 'exited 0', timestampMs: Date.now() };
  t.unacknowledged = [t.latest];
  return t.latest;
}

describe('master: tasks that ended while it was away', () => {
  it('answers a reconciliation with the end an agent reported on re-registering, and keeps it until acknowledged', async () => {
    const h = await MasterHarness.start({ store: 'file', master: { agentReregisterTimeout: '20s' } });
    const a = await h.agent({ resources: 'cpus:4;mem:4096' });
    const fw = await h.framework({ name: 'batch', failoverTimeoutSeconds: 30, autoAck: true });
    await launch(fw, a, ['t1', 't2']);
    const tasks = a.trackedTasks();
    const end = endedMeanwhile(tasks, 't1', 'u-finished');

    // The new master keeps no completed tasks at all: only "until acknowledged" keeps t1.
    await h.restart({ maxCompletedTasksPerFramework: 0 });
    // The agent is back before the framework: the order.
    const back = await h.agent({ agentId: a.agentId, hostname: a.hostname, resources: a.resources, tasks });
    await eventually(() => expect(h.master.lifecycle).toBe('LEADING'));
    const again = await h.framework({ name: 'batch', id: fw.frameworkId, failoverTimeoutSeconds: 30, autoAck: false });
    const mark = again.events.mark();

    await again.reconcile([{ taskId: 't1', agentId: a.agentId }, { taskId: 't2', agentId: a.agentId }]);
    expect(await again.waitForUpdate('t1', undefined, { since: mark })).toMatchObject({ state: 'TASK_FINISHED', reason: 'REASON_RECONCILIATION', uuid: '', agentId: a.agentId });
    expect(await again.waitForUpdate('t2', undefined, { since: mark })).toMatchObject({ state: 'TASK_RUNNING' });
    // Implicit reconciliation counts it among the framework's tasks too, as Mesos does.
    const implicit = again.events.mark();
    await again.reconcile([]);
    await eventually(() => expect(again.updates(undefined, implicit).map((s) => `${s.taskId}:${s.state}`).sort()).toEqual(['t1:TASK_FINISHED', 't2:TASK_RUNNING']));

    // The agent's own resend carries the uuid; once acknowledged, the master lets the task go.
    await eventually(() => expect(again.updates(undefined, implicit)).toHaveLength(2));
    const resend = again.events.mark();
    expect(back.resendUnacknowledged()).toBe(1);
    const resent = await again.waitForUpdate('t1', 'TASK_FINISHED', { since: resend, timeoutMs: 5000 });
    expect(resent.uuid).toBe(end.uuid);
    expect(h.state.completedTask(fw.frameworkId, 't1')?.state).toBe('TASK_FINISHED');
    // A wrong uuid settles nothing.
    await again.acknowledge({ agentId: a.agentId, taskId: 't1', uuid: 'not-this-one' });
    expect(h.state.completedTask(fw.frameworkId, 't1')?.state).toBe('TASK_FINISHED');
    await again.acknowledge(resent);
    await back.waitForAck(end.uuid as string);
    expect(h.state.completedTask(fw.frameworkId, 't1')).toBeUndefined();
    expect(again.updates(undefined, mark).filter((s) => NOT_AN_END_OF_ITS_OWN.includes(String(s.state)))).toEqual([]);
    h.invariant();
  }, 30_000);

  it('answers nothing for a task whose agent is not back yet, then its real end when the agent is', async () => {
    const h = await MasterHarness.start({ store: 'file', master: { agentReregisterTimeout: '20s' } });
    const a = await h.agent({ resources: 'cpus:4;mem:4096' });
    const fw = await h.framework({ name: 'batch', failoverTimeoutSeconds: 30, autoAck: true });
    await launch(fw, a, ['t1']);
    const tasks = a.trackedTasks();
    const end = endedMeanwhile(tasks, 't1', 'u-end');
    // The agent's ended task is acknowledged (by the old master's framework) — so it will not resend.
    tasks[0]!.unacknowledged = [];

    await h.restart();
    const again = await h.framework({ name: 'batch', id: fw.frameworkId, failoverTimeoutSeconds: 30, autoAck: true });
    const mark = again.events.mark();
    await again.reconcile([{ taskId: 't1', agentId: a.agentId }]);
    await again.reconcile([{ taskId: 't1' }]);
    await again.events.expectNone((e) => e.type === 'update', 400, { since: mark, what: 'an answer before the agent is back' });

    await h.agent({ agentId: a.agentId, hostname: a.hostname, resources: a.resources, tasks });
    const answer = await again.waitForUpdate('t1', undefined, { since: mark });
    expect(answer).toMatchObject({ state: 'TASK_FINISHED', message: end.message, agentId: a.agentId });
    // Asked again later: still its end, never a guess.
    const later = again.events.mark();
    await again.reconcile([{ taskId: 't1', agentId: a.agentId }]);
    expect(await again.waitForUpdate('t1', undefined, { since: later })).toMatchObject({ state: 'TASK_FINISHED' });
    expect(again.updates(undefined, mark).filter((s) => NOT_AN_END_OF_ITS_OWN.includes(String(s.state)))).toEqual([]);
  }, 30_000);

  it('once the re-registration timeout passes: UNREACHABLE for a partition-aware framework, LOST for the others', async () => {
    const h = await MasterHarness.start({ store: 'file', master: { agentReregisterTimeout: '20s' } });
    const a = await h.agent({ resources: 'cpus:4;mem:4096' });
    const b = await h.agent({ resources: 'cpus:4;mem:4096' });
    const aware = await h.framework({ name: 'aware', failoverTimeoutSeconds: 30, autoAck: true, capabilities: ['PARTITION_AWARE'] });
    await launch(aware, a, ['p1']);
    await aware.close();
    const plain = await h.framework({ name: 'plain', failoverTimeoutSeconds: 30, autoAck: true });
    await launch(plain, b, ['l1']);

    await h.restart({ agentReregisterTimeout: '1s' });
    const aware2 = await h.framework({ name: 'aware', id: aware.frameworkId, failoverTimeoutSeconds: 30, autoAck: true, capabilities: ['PARTITION_AWARE'] });
    const plain2 = await h.framework({ name: 'plain', id: plain.frameworkId, failoverTimeoutSeconds: 30, autoAck: true });
    const [m1, m2] = [aware2.events.mark(), plain2.events.mark()];
    await aware2.reconcile([{ taskId: 'p1', agentId: a.agentId }]);
    await plain2.reconcile([{ taskId: 'l1', agentId: b.agentId }]);
    expect(h.master.lifecycle).toBe('RECOVERING');
    await aware2.events.expectNone((e) => e.type === 'update', 300, { since: m1, what: 'an answer while the agent may come back' });
    expect(plain2.updates(undefined, m2)).toEqual([]);

    await eventually(() => expect(h.master.lifecycle).toBe('LEADING'), { timeoutMs: 5000 });
    expect(await aware2.waitForUpdate('p1', undefined, { since: m1 })).toMatchObject({ state: 'TASK_UNREACHABLE', agentId: a.agentId });
    expect(await plain2.waitForUpdate('l1', undefined, { since: m2 })).toMatchObject({ state: 'TASK_LOST', agentId: b.agentId });
    expect(aware2.updates('p1', m1)).toHaveLength(1);
    expect(plain2.updates('l1', m2)).toHaveLength(1);
  }, 30_000);

  it('an agent back after its tasks were reported LOST: the end it reports replaces the LOST, in reconciliation too', async () => {
    const h = await MasterHarness.start();
    const a = await h.agent({ resources: 'cpus:4;mem:4096' });
    const fw = await h.framework({ name: 'batch', autoAck: true });
    await launch(fw, a, ['t1', 't2']);
    const mark = fw.events.mark();
    a.setAnswerPings(false);
    await fw.waitForUpdate('t1', 'TASK_LOST', { since: mark, timeoutMs: 5000 });
    await fw.waitForUpdate('t2', 'TASK_LOST', { since: mark, timeoutMs: 5000 });
    await a.closed;
    const tasks = a.trackedTasks();
    // t1 ended meanwhile; its end was acknowledged before (so the agent will not resend it), and t2 runs on.
    endedMeanwhile(tasks, 't1', 'u-acked');
    tasks.find((t) => t.task.taskId === 't1')!.unacknowledged = [];

    const back = fw.events.mark();
    const again = await h.agent({ agentId: a.agentId, hostname: a.hostname, resources: a.resources, tasks });
    await again.waitFor((m) => m.kill?.taskId === 't2');
    // Told at once (the agent was not expected back): t1's real end; t2, still running, is killed.
    expect(await fw.waitForUpdate('t1', undefined, { since: back })).toMatchObject({ state: 'TASK_FINISHED', agentId: a.agentId });
    expect(h.state.framework(fw.frameworkId)?.completed.filter((t) => t.taskId === 't1').map((t) => t.state)).toEqual(['TASK_FINISHED']);
    const asked = fw.events.mark();
    await fw.reconcile([{ taskId: 't1', agentId: a.agentId }]);
    expect(await fw.waitForUpdate('t1', undefined, { since: asked })).toMatchObject({ state: 'TASK_FINISHED', reason: 'REASON_RECONCILIATION' });
    h.invariant();
  }, 30_000);

  it('an agent cannot report the end of a task that ran on another agent: not as an update, not re-registering', async () => {
    const h = await MasterHarness.start();
    const a = await h.agent({ resources: 'cpus:4;mem:4096' });
    const fw = await h.framework({ name: 'batch', autoAck: true });
    await launch(fw, a, ['t1']);
    const failed = a.update(fw.frameworkId, 't1', 'TASK_FAILED', { exitCode: 1 });
    await a.waitForAck(failed.uuid as string);
    const b = await h.agent({ resources: 'cpus:4;mem:4096' });
    const mark = fw.events.mark();

    // As an update: dropped, and acknowledged so B stops resending.
    const claim = b.update(fw.frameworkId, 't1', 'TASK_FINISHED');
    await b.waitForAck(claim.uuid as string);
    // Re-registering with it: ignored.
    const forged = a.trackedTasks().map((t) => ({ ...t, latest: { ...claim, agentId: b.agentId }, unacknowledged: [] }));
    await b.disconnect();
    await h.agent({ agentId: b.agentId, hostname: b.hostname, resources: b.resources, tasks: forged });
    await fw.events.expectNone((e) => e.type === 'update', 300, { since: mark, what: 'B’s claim reaching the framework' });
    expect(h.state.completedTask(fw.frameworkId, 't1')).toMatchObject({ agentId: a.agentId, state: 'TASK_FAILED' });
    const asked = fw.events.mark();
    await fw.reconcile([{ taskId: 't1' }]);
    expect(await fw.waitForUpdate('t1', undefined, { since: asked })).toMatchObject({ state: 'TASK_FAILED', agentId: a.agentId });
  }, 30_000);
});
