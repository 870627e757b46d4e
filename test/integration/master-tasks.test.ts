// Tasks against a real master over loopback gRPC: launch, status updates and their
// acknowledgements, terminal states and recovered resources, completed tasks, kill, task groups,
// messages, reconciliation.
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, MasterHarness, rejection, stopHarnesses } from '../support/master-harness.js';
import type { TestAgent } from '../support/test-agent.js';
import { offerResources, taskInfo, type TestFramework } from '../support/test-framework.js';

afterEach(stopHarnesses);

/** A master, one agent and one framework holding its first offer. */
async function setup(options: { master?: Record<string, unknown>; resources?: string; autoAck?: boolean; partitionAware?: boolean } = {}) {
  const h = await MasterHarness.start(options.master ? { master: options.master } : {});
  const agent = await h.agent({ resources: options.resources ?? 'cpus:4;mem:4096' });
  const fw = await h.framework({ autoAck: options.autoAck ?? false, ...(options.partitionAware ? { capabilities: ['PARTITION_AWARE' as const] } : {}) });
  return { h, agent, fw };
}

/** Launch `taskId` from the next offer and have the agent report RUNNING (acknowledged). */
async function runTask(fw: TestFramework, agent: TestAgent, taskId: string, resources = 'cpus:1;mem:512'): Promise<void> {
  const offer = await fw.nextOffer();
  await fw.launch(offer, [taskInfo(taskId, resources)], { refuseSeconds: 0 });
  await agent.waitForLaunch(taskId);
  const status = agent.update(fw.frameworkId, taskId, 'TASK_RUNNING');
  const update = await fw.waitForUpdate(taskId, 'TASK_RUNNING');
  if (!fw.autoAck) await fw.acknowledge(update);
  await agent.waitForAck(status.uuid as string);
}

describe('launching a task', () => {
  it('goes offer → launch on the agent → RUNNING → UPDATE with the uuid → acknowledgement to the agent', async () => {
    const { h, agent, fw } = await setup();
    const offer = await fw.nextOffer();
    await fw.launch(offer, [taskInfo('web-1', 'cpus:1;mem:512', { labels: { app: 'web' } })]);

    const launch = await agent.waitForLaunch('web-1');
    expect(launch.launch?.frameworkId).toBe(fw.frameworkId);
    expect(launch.launch?.frameworkInfo?.name).toBe('test-framework');
    const task = launch.launch?.tasks[0];
    expect(task?.agentId).toBe(agent.agentId);
    expect(task?.command?.value).toBe('sleep 1000');
    expect(task?.labels).toEqual({ app: 'web' });
    expect(h.state.task(fw.frameworkId, 'web-1')?.state).toBe('TASK_STAGING');
    // The task holds what it asked for; the rest of the offer went back to the allocator.
    expect(h.state.allocator.agent(agent.agentId)?.allocated.format()).toBe('cpus:1;mem:512');
    expect(h.state.offerCount()).toBe(0);
    h.invariant();

    const sent = agent.update(fw.frameworkId, 'web-1', 'TASK_RUNNING', { healthy: true });
    const update = await fw.waitForUpdate('web-1', 'TASK_RUNNING');
    expect(update.uuid).toBe(sent.uuid);
    expect(update.agentId).toBe(agent.agentId);
    expect(update.healthy).toBe(true);
    expect(update.source).toBe('SOURCE_EXECUTOR');
    expect(h.state.task(fw.frameworkId, 'web-1')?.state).toBe('TASK_RUNNING');

    await fw.acknowledge(update);
    const ack = await agent.waitForAck(update.uuid);
    expect(ack.acknowledgement).toEqual({ frameworkId: fw.frameworkId, taskId: 'web-1', uuid: sent.uuid });
    expect(agent.task(fw.frameworkId, 'web-1')?.unacknowledged).toEqual([]);
    h.invariant();
  });

  it('recovers the resources on a terminal state and offers them again; the task is kept as completed', async () => {
    const { h, agent, fw } = await setup({ resources: 'cpus:2;mem:1024', autoAck: true });
    await runTask(fw, agent, 't1', 'cpus:2;mem:1024');
    expect(h.state.allocator.agent(agent.agentId)?.available.isEmpty()).toBe(true);
    h.invariant();

    const mark = fw.events.mark();
    agent.update(fw.frameworkId, 't1', 'TASK_FINISHED', { exitCode: 0 });
    const finished = await fw.waitForUpdate('t1', 'TASK_FINISHED', { since: mark });
    expect(finished.exitCode).toBe(0);
    expect(h.state.task(fw.frameworkId, 't1')).toBeUndefined();
    expect(h.state.framework(fw.frameworkId)?.completed.map((t) => [t.taskId, t.state])).toEqual([['t1', 'TASK_FINISHED']]);
    h.invariant();

    const [offer] = await fw.nextOffers({ since: mark });
    expect(offerResources(offer!).format()).toBe('cpus:2;mem:1024');
    h.invariant();
  });

  it('reports a failed task with its exit code and reason', async () => {
    const { h, agent, fw } = await setup({ autoAck: true });
    await runTask(fw, agent, 't1');
    agent.update(fw.frameworkId, 't1', 'TASK_FAILED', { exitCode: 3, reason: 'REASON_COMMAND_EXECUTOR_FAILED', message: 'exit 3' });
    const failed = await fw.waitForUpdate('t1', 'TASK_FAILED');
    expect(failed).toMatchObject({ exitCode: 3, reason: 'REASON_COMMAND_EXECUTOR_FAILED', message: 'exit 3' });
    expect(h.taskAllocation(agent.agentId).isEmpty()).toBe(true);
    h.invariant();
  });

  it('keeps at most maxCompletedTasksPerFramework finished tasks, the newest', async () => {
    const { h, agent, fw } = await setup({ master: { maxCompletedTasksPerFramework: 3 }, autoAck: true });
    const offer = await fw.nextOffer();
    const ids = ['a', 'b', 'c', 'd', 'e'];
    await fw.launch(offer, ids.map((id) => taskInfo(id, 'cpus:0.5;mem:128')));
    await agent.waitForLaunch('e');
    for (const id of ids) agent.update(fw.frameworkId, id, 'TASK_FINISHED', { exitCode: 0 });
    await fw.waitForUpdate('e', 'TASK_FINISHED');
    const completed = h.state.framework(fw.frameworkId)?.completed ?? [];
    expect(completed.map((t) => t.taskId)).toEqual(['c', 'd', 'e']);
    expect(h.state.liveTaskCount()).toBe(0);
    h.invariant();
  });

  it('resends unacknowledged updates with the same uuid until they are acknowledged (at least once)', async () => {
    const { h, agent, fw } = await setup();
    const offer = await fw.nextOffer();
    await fw.launch(offer, [taskInfo('t1')]);
    await agent.waitForLaunch('t1');
    const sent = agent.update(fw.frameworkId, 't1', 'TASK_RUNNING');
    await fw.waitForUpdate('t1', 'TASK_RUNNING');
    const mark = fw.events.mark();
    expect(agent.resendUnacknowledged()).toBe(1);
    const again = await fw.waitForUpdate('t1', 'TASK_RUNNING', { since: mark });
    expect(again.uuid).toBe(sent.uuid);
    expect(h.state.liveTaskCount()).toBe(1);
    await fw.acknowledge(again);
    await agent.waitForAck(sent.uuid as string);
    expect(agent.resendUnacknowledged()).toBe(0);
    h.invariant();
  });

  it('launches several tasks from one offer and gives back the rest', async () => {
    const { h, agent, fw } = await setup({ resources: 'cpus:4;mem:4096;ports:[31000-31009]' });
    const offer = await fw.nextOffer();
    await fw.launch(offer, [taskInfo('a', 'cpus:1;mem:1024;ports:[31000-31001]'), taskInfo('b', 'cpus:2;mem:512')], { refuseSeconds: 0 });
    const launch = await agent.waitForLaunch('a');
    expect(launch.launch?.tasks.map((t) => t.taskId)).toEqual(['a', 'b']);
    expect(h.taskAllocation(agent.agentId).format()).toBe('cpus:3;mem:1536;ports:[31000-31001]');
    const [rest] = await fw.nextOffers();
    expect(offerResources(rest!).format()).toBe('cpus:1;mem:2560;ports:[31002-31009]');
    h.invariant();
  });

  it('launches a task group in one message to the agent', async () => {
    const { h, agent, fw } = await setup();
    const offer = await fw.nextOffer();
    await fw.launchGroup(offer, [taskInfo('g1', 'cpus:1;mem:256'), taskInfo('g2', 'cpus:1;mem:256')], 'exec-1');
    const launch = await agent.waitForLaunch('g1');
    expect(launch.type).toBe('launchGroup');
    expect(launch.launchGroup?.executorId).toBe('exec-1');
    expect(launch.launchGroup?.taskGroup?.tasks.map((t) => t.taskId)).toEqual(['g1', 'g2']);
    expect(h.state.liveTaskCount()).toBe(2);
    h.invariant();
  });
});

describe('killing a task', () => {
  it('sends the kill to the agent; KILLED frees the resources', async () => {
    const { h, agent, fw } = await setup({ autoAck: true });
    await runTask(fw, agent, 't1');
    await fw.kill('t1', '', { killPolicy: { gracePeriodSeconds: 2 } });
    const kill = await agent.waitFor((m) => m.kill?.taskId === 't1', { what: 'kill t1' });
    expect(kill.kill).toMatchObject({ frameworkId: fw.frameworkId, taskId: 't1', killPolicy: { gracePeriodSeconds: 2 } });
    agent.update(fw.frameworkId, 't1', 'TASK_KILLED', { reason: 'REASON_KILLED_BY_FRAMEWORK' });
    await fw.waitForUpdate('t1', 'TASK_KILLED');
    expect(h.taskAllocation(agent.agentId).isEmpty()).toBe(true);
    h.invariant();
  });

  it('with an agent that runs what it is given (autoRun): RUNNING on launch, KILLED on kill', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent({ autoRun: true });
    const fw = await h.framework({ autoAck: true });
    await fw.launch(await fw.nextOffer(), [taskInfo('auto', 'cpus:1;mem:128')]);
    const running = await fw.waitForUpdate('auto', 'TASK_RUNNING');
    await agent.waitForAck(running.uuid);
    await fw.kill('auto');
    expect((await fw.waitForUpdate('auto', 'TASK_KILLED')).reason).toBe('REASON_KILLED_BY_FRAMEWORK');
    await eventually(() => expect(agent.tasks.size).toBe(0));
    expect(h.state.liveTaskCount()).toBe(0);
    h.invariant();
  });

  it('answers a kill of a finished task with its terminal state, and of an unknown task with NOT_FOUND', async () => {
    const { h, agent, fw } = await setup({ autoAck: true });
    await runTask(fw, agent, 't1');
    agent.update(fw.frameworkId, 't1', 'TASK_FINISHED');
    await fw.waitForUpdate('t1', 'TASK_FINISHED');
    const mark = fw.events.mark();
    await fw.kill('t1');
    const status = await fw.waitForUpdate('t1', undefined, { since: mark });
    expect(status.state).toBe('TASK_FINISHED');
    expect(status.uuid).toBe('');
    expect((await rejection(fw.kill('nope'))).code).toBe('AGORA_NOT_FOUND');
    const wrongAgent = await rejection(fw.kill('t1x'));
    expect(wrongAgent.code).toBe('AGORA_NOT_FOUND');
    h.invariant();
  });

  it('rejects a kill naming the wrong agent', async () => {
    const { h, agent, fw } = await setup({ autoAck: true });
    await runTask(fw, agent, 't1');
    const err = await rejection(fw.kill('t1', 'some-other-agent'));
    expect(err).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'agentId' });
    h.invariant();
  });
});

describe('messages', () => {
  it('relays framework → executor and executor → framework messages, and executor exits as FAILURE', async () => {
    const { h, agent, fw } = await setup({ autoAck: true });
    await runTask(fw, agent, 't1');
    await fw.message(agent.agentId, 't1', Buffer.from('hello'));
    const m = await agent.waitFor((x) => x.type === 'frameworkMessage');
    expect(m.frameworkMessage?.executorId).toBe('t1');
    expect(Buffer.from(m.frameworkMessage?.data ?? []).toString()).toBe('hello');

    agent.send({ frameworkMessage: { frameworkId: fw.frameworkId, executorId: 't1', data: Buffer.from('hi back') } });
    const event = await fw.waitFor((e) => e.type === 'message');
    expect(event.message?.agentId).toBe(agent.agentId);
    expect(event.message?.data.toString()).toBe('hi back');

    agent.send({ executorExited: { frameworkId: fw.frameworkId, executorId: 't1', status: 137 } });
    const failure = await fw.waitFor((e) => e.type === 'failure');
    expect(failure.failure).toMatchObject({ agentId: agent.agentId, executorId: 't1', status: 137 });

    expect((await rejection(fw.message('', 't1', Buffer.from('x')))).field).toBe('agentId');
    expect((await rejection(fw.message('no-such-agent', 't1', Buffer.from('x')))).code).toBe('AGORA_NOT_FOUND');
    h.invariant();
  });
});

describe('reconciliation', () => {
  it('explicit: known tasks get their state; unknown ones LOST (not partition-aware) or UNKNOWN for an unknown agent', async () => {
    const { h, agent, fw } = await setup({ autoAck: true });
    await runTask(fw, agent, 'live');
    const mark = fw.events.mark();
    await fw.reconcile([{ taskId: 'live', agentId: agent.agentId }, { taskId: 'ghost', agentId: agent.agentId }, { taskId: 'nowhere', agentId: 'no-such-agent' }, { taskId: 'anywhere' }]);
    await eventually(() => expect(fw.updates(undefined, mark)).toHaveLength(4));
    const byTask = new Map(fw.updates(undefined, mark).map((s) => [s.taskId, s]));
    expect(byTask.get('live')).toMatchObject({ state: 'TASK_RUNNING', reason: 'REASON_RECONCILIATION', uuid: '', agentId: agent.agentId });
    // The master answers TASK_GONE for a task it does not know on a known agent, which a framework
    // that is not partition-aware sees as TASK_LOST; an agent it never heard of gives TASK_UNKNOWN.
    expect(byTask.get('ghost')?.state).toBe('TASK_LOST');
    expect(byTask.get('anywhere')?.state).toBe('TASK_LOST');
    expect(byTask.get('nowhere')?.state).toBe('TASK_UNKNOWN');
    for (const s of byTask.values()) expect(s.uuid).toBe('');
    h.invariant();
  });

  it('explicit, partition-aware: unknown tasks are TASK_GONE; finished tasks report their terminal state', async () => {
    const { agent, fw } = await setup({ autoAck: true, partitionAware: true });
    await runTask(fw, agent, 'done');
    agent.update(fw.frameworkId, 'done', 'TASK_FINISHED');
    await fw.waitForUpdate('done', 'TASK_FINISHED');
    const mark = fw.events.mark();
    await fw.reconcile([{ taskId: 'done' }, { taskId: 'ghost', agentId: agent.agentId }]);
    expect((await fw.waitForUpdate('done', undefined, { since: mark })).state).toBe('TASK_FINISHED');
    expect((await fw.waitForUpdate('ghost', undefined, { since: mark })).state).toBe('TASK_GONE');
  });

  it('implicit: every live task of the framework, and nothing else', async () => {
    const { h, agent, fw } = await setup({ autoAck: true });
    const offer = await fw.nextOffer();
    await fw.launch(offer, [taskInfo('a'), taskInfo('b'), taskInfo('c')]);
    await agent.waitForLaunch('a');
    agent.update(fw.frameworkId, 'a', 'TASK_RUNNING');
    agent.update(fw.frameworkId, 'c', 'TASK_FINISHED');
    await fw.waitForUpdate('c', 'TASK_FINISHED');
    await fw.waitForUpdate('a', 'TASK_RUNNING');
    const other = await h.framework({ name: 'other' });
    const mark = fw.events.mark();
    await fw.reconcile();
    await eventually(() => expect(fw.updates(undefined, mark)).toHaveLength(2));
    expect(new Map(fw.updates(undefined, mark).map((s) => [s.taskId, s.state]))).toEqual(
      new Map([
        ['a', 'TASK_RUNNING'],
        ['b', 'TASK_STAGING'],
      ]),
    );
    await fw.events.expectNone((e) => e.type === 'update', 150, { since: fw.events.mark(), what: 'more reconcile answers' });
    const otherMark = other.events.mark();
    await other.reconcile();
    await other.events.expectNone((e) => e.type === 'update', 150, { since: otherMark, what: 'answers for another framework' });
  });

  it('rejects an explicit reconcile without a task id', async () => {
    const { fw } = await setup();
    const err = await rejection(fw.reconcile([{ taskId: 'ok' }, { taskId: '' }]));
    expect(err).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'tasks[1].taskId' });
  });
});
