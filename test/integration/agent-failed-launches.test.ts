// Every launch that fails ends its task, on a real agent: an environment too big to exec (E2BIG),
// a task id whose sandbox path is too long (ENAMETOOLONG), a sandbox that cannot be made, an
// unknown user. Each becomes TASK_FAILED with a reason and a message naming the cause, reaches the
// framework, is acknowledged and forgotten, holds no resources and leaves no cgroup behind. The
// hostile launches go to the agent directly, past whatever the master checks of a task.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/agent.js';
import { stateJson } from '../../agent/http.js';
import { AgentGatewayService, type TaskInfo, type TaskInfo__Output, type TaskStatus__Output } from '../../proto/index.js';
import { launchTask, startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { eventually, MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { taskCgroupDirs } from '../support/task-cgroups.js';
import { taskInfo, type TestFramework } from '../support/test-framework.js';

afterEach(async () => {
  await stopTestAgents();
  await stopHarnesses();
});

/** A TaskInfo as the agent receives it from the master (through the wire format). */
function asReceived(frameworkId: string, info: TaskInfo): TaskInfo__Output {
  const { responseDeserialize, responseSerialize } = AgentGatewayService.Connect;
  const message = responseDeserialize(responseSerialize({ launch: { frameworkId, tasks: [info] } }));
  const task = message.launch?.tasks[0];
  if (!task) throw new Error('no task in the launch');
  return task;
}

async function setup(): Promise<{ h: MasterHarness; agent: Agent; fw: TestFramework }> {
  const h = await MasterHarness.start();
  const agent = await startTestAgent(h.address);
  const fw = await h.framework({ autoAck: true });
  return { h, agent, fw };
}

/**
 * The task's terminal update as the framework got it; then the agent's bookkeeping of it gone and
 * its resources free, on the agent and in the master's allocator.
 */
async function failedAndForgotten(h: MasterHarness, agent: Agent, fw: TestFramework, taskId: string): Promise<TaskStatus__Output> {
  const failed = await fw.waitForUpdate(taskId, 'TASK_FAILED', { timeoutMs: 10_000 });
  await eventually(() => agent.tasks.task(fw.frameworkId, taskId) === undefined, { timeoutMs: 10_000, what: `${taskId} acknowledged and forgotten` });
  expect((stateJson(agent)['resources'] as { used: { cpus: number; mem: number } }).used).toMatchObject({ cpus: 0, mem: 0 });
  await eventually(() => h.taskAllocation(agent.agentId ?? '').isEmpty(), { timeoutMs: 10_000, what: `the master to recover ${taskId}'s resources` });
  h.invariant();
  return failed;
}

/** Every cgroup directory a task with this id would have had. */
function cgroupDirs(agent: Agent, frameworkId: string, taskId: string): string[] {
  return Object.values(taskCgroupDirs(agent, frameworkId, taskId));
}

/** The states a framework heard, a retried update (at least once, as Mesos) counted once. */
function statesOnce(updates: readonly { state?: unknown }[]): unknown[] {
  return updates.map((u) => u.state).filter((state, i, all) => i === 0 || state !== all[i - 1]);
}

describe('agent: a launch that fails ends the task', () => {
  it('fails a task whose environment is too big to exec (E2BIG), and removes its cgroup', async () => {
    const { h, agent, fw } = await setup();
    const info = taskInfo('huge-env', 'cpus:0.1;mem:32', { command: { value: 'echo never', environment: { variables: [{ name: 'BIG', value: 'x'.repeat(3 * 1024 * 1024) }] } } });
    agent.tasks.launch(fw.frameworkId, null, asReceived(fw.frameworkId, info));
    const failed = await failedAndForgotten(h, agent, fw, 'huge-env');
    expect(failed.reason).toBe('REASON_CONTAINER_LAUNCH_FAILED');
    expect(failed.message).toMatch(/E2BIG/);
    expect(failed.message).toMatch(/environment/);
    expect(statesOnce(fw.updates('huge-env'))).toEqual(['TASK_STARTING', 'TASK_FAILED']);
    for (const dir of cgroupDirs(agent, fw.frameworkId, 'huge-env')) expect(existsSync(dir), dir).toBe(false);
  });

  it('fails a task whose id makes its sandbox path too long (ENAMETOOLONG) instead of leaving it STAGING', async () => {
    const { h, agent, fw } = await setup();
    // 200 characters, each percent-encoded in the path (…%c3%a9…): a file name of over 1,200 bytes.
    const taskId = 'é'.repeat(200);
    agent.tasks.launch(fw.frameworkId, null, asReceived(fw.frameworkId, taskInfo(taskId, 'cpus:0.1;mem:32', { command: { value: 'echo never' } })));
    const failed = await failedAndForgotten(h, agent, fw, taskId);
    expect(failed.reason).toBe('REASON_CONTAINER_LAUNCH_FAILED');
    expect(failed.message).toMatch(/ENAMETOOLONG/);
    expect(failed.message).toMatch(/sandbox/);
    expect(statesOnce(fw.updates(taskId))).toEqual(['TASK_FAILED']);
    for (const dir of cgroupDirs(agent, fw.frameworkId, taskId)) expect(existsSync(dir), dir).toBe(false);
  });

  it('fails a task the agent cannot make a container spec for (resources that do not parse), and runs the next one', async () => {
    const { h, agent, fw } = await setup();
    const bad = asReceived(fw.frameworkId, taskInfo('bad-resources', 'cpus:0.1;mem:32', { command: { value: 'echo never' } }));
    const garbled = { ...bad, resources: bad.resources.map((r) => (r.name === 'cpus' ? { ...r, scalar: -1 } : r)) };
    agent.tasks.launch(fw.frameworkId, null, garbled);
    const failed = await failedAndForgotten(h, agent, fw, 'bad-resources');
    expect(failed.reason).toBe('REASON_CONTAINER_LAUNCH_FAILED');
    expect(failed.message).toMatch(/^the task cannot be run here: .*task\.resources/);
    agent.tasks.launch(fw.frameworkId, null, asReceived(fw.frameworkId, taskInfo('after', 'cpus:0.1;mem:32', { command: { value: 'echo fine' } })));
    await fw.waitForUpdate('after', 'TASK_FINISHED', { timeoutMs: 10_000 });
  });

  it('fails a task whose sandbox cannot be made, through the master, and gives its resources back', async () => {
    const { h, agent, fw } = await setup();
    // Where the framework's sandboxes go, a file: no directory can be made under it.
    const frameworkDir = path.dirname(path.dirname(agent.checkpoint.sandboxDir(fw.frameworkId, 'x')));
    await mkdir(path.dirname(frameworkDir), { recursive: true });
    await writeFile(frameworkDir, 'in the way');
    await launchTask(fw, taskInfo('no-sandbox', 'cpus:1;mem:256', { command: { value: 'echo never' } }));
    const failed = await failedAndForgotten(h, agent, fw, 'no-sandbox');
    expect(failed.reason).toBe('REASON_CONTAINER_LAUNCH_FAILED');
    expect(failed.message).toMatch(/could not create the task's sandbox.*(ENOTDIR|EEXIST)/);
  });

  it('fails a task whose user does not exist on the agent', async () => {
    const { h, agent, fw } = await setup();
    await launchTask(fw, taskInfo('stranger', 'cpus:0.1;mem:32', { command: { value: 'echo never', user: 'no-such-user-here' } }));
    const failed = await failedAndForgotten(h, agent, fw, 'stranger');
    expect(failed.reason).toBe('REASON_CONTAINER_LAUNCH_FAILED');
    expect(failed.message).toBe("user 'no-such-user-here' does not exist on this agent");
  });
});
