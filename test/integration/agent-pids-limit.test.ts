// A task's processes and threads are capped (cgroup pids.max, --task-pids-limit, 1024 unless told),
// on a real agent: a fork bomb stops at the cap and stays inside it, while the agent and another
// task keep working; killing the bomb takes every one of its processes and its cgroup with it.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/agent.js';
import { DEFAULT_TASK_PIDS_LIMIT } from '../../agent/options.js';
import { getJson, launchTask, startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { eventually, MasterHarness, rejection, stopHarnesses } from '../support/master-harness.js';
import { readCgroupFile, taskPidsDir } from '../support/task-cgroups.js';
import { taskInfo, type TestFramework } from '../support/test-framework.js';

afterEach(async () => {
  await stopTestAgents();
  await stopHarnesses();
});

async function setup(flags: Record<string, string> = {}): Promise<{ h: MasterHarness; agent: Agent; fw: TestFramework }> {
  const h = await MasterHarness.start();
  const agent = await startTestAgent(h.address, flags);
  const fw = await h.framework({ autoAck: true });
  return { h, agent, fw };
}

function sandboxFile(agent: Agent, fw: TestFramework, taskId: string, file: string): string {
  const p = path.join(agent.checkpoint.sandboxDir(fw.frameworkId, taskId), file);
  return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : '';
}

/** A running task's pids.max, once it is RUNNING. */
async function pidsMaxOf(agent: Agent, fw: TestFramework, taskId: string): Promise<string | undefined> {
  await launchTask(fw, taskInfo(taskId, 'cpus:0.1;mem:32', { command: { value: 'exec sleep 30' } }));
  await fw.waitForUpdate(taskId, 'TASK_RUNNING', { timeoutMs: 10_000 });
  return readCgroupFile(taskPidsDir(agent, fw.frameworkId, taskId), 'pids.max');
}

// Bounded whatever happens: at most 200 sleeps of 30 s. dash ends the subshell when a fork fails;
// the task then waits in `exec sleep` (an exec needs no new process) with the bomb's sleeps around.
const BOMB = '( i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); done; echo "forked all $i" ); echo "bomb stopped: $?"; exec sleep 30';
const LIMIT = 24;

describe('agent: the pids limit of a task', () => {
  it('contains a fork bomb at --task-pids-limit while the agent and another task keep working', async () => {
    const { h, agent, fw } = await setup({ taskPidsLimit: String(LIMIT) });
    await launchTask(fw, taskInfo('bomb', 'cpus:0.5;mem:64', { command: { value: BOMB } }));
    await fw.waitForUpdate('bomb', 'TASK_RUNNING', { timeoutMs: 10_000 });
    const dir = taskPidsDir(agent, fw.frameworkId, 'bomb');
    expect(readCgroupFile(dir, 'pids.max')).toBe(String(LIMIT));

    // Watch the count while the bomb goes off, until it has run into the limit.
    const samples: number[] = [];
    await eventually(
      () => {
        samples.push(Number(readCgroupFile(dir, 'pids.current') ?? 0));
        return sandboxFile(agent, fw, 'bomb', 'stdout').includes('bomb stopped');
      },
      { timeoutMs: 10_000, intervalMs: 5, what: 'the fork bomb to run into its limit' },
    );
    expect(sandboxFile(agent, fw, 'bomb', 'stdout')).not.toContain('forked all');
    expect(sandboxFile(agent, fw, 'bomb', 'stderr')).toMatch(/fork/i);
    // The kernel counted the forks it refused at the limit.
    expect(Number(/^max (\d+)$/m.exec(readCgroupFile(dir, 'pids.events') ?? '')?.[1] ?? 0)).toBeGreaterThan(0);
    samples.push(Number(readCgroupFile(dir, 'pids.current')));
    expect(Math.max(...samples)).toBeLessThanOrEqual(LIMIT);
    expect(Math.max(...samples)).toBeGreaterThanOrEqual(LIMIT - 2); // it did fill its share
    expect(agent.tasks.task(fw.frameworkId, 'bomb')?.state).toBe('TASK_RUNNING');

    // The agent answers, and a neighbour forks, runs and finishes as usual.
    expect((await getJson(`https://${agent.httpAddress}/api/v1/state`)).status).toBe(200);
    const neighbour = 'for i in 1 2 3 4 5 6 7 8; do sleep 0.1 & done; wait; echo fine';
    await launchTask(fw, taskInfo('neighbour', 'cpus:0.1;mem:32', { command: { value: neighbour } }));
    await fw.waitForUpdate('neighbour', 'TASK_FINISHED', { timeoutMs: 10_000 });
    expect(sandboxFile(agent, fw, 'neighbour', 'stdout')).toBe('fine\n');
    expect(Number(readCgroupFile(dir, 'pids.current'))).toBeLessThanOrEqual(LIMIT);

    // A kill takes the whole bomb, and its cgroup, with it.
    await fw.kill('bomb', agent.agentId);
    await fw.waitForUpdate('bomb', 'TASK_KILLED', { timeoutMs: 10_000 });
    await eventually(() => !fs.existsSync(dir), { timeoutMs: 5_000, what: "the bomb's cgroup to be removed" });
    h.invariant();
  });

  it(`limits every task to ${DEFAULT_TASK_PIDS_LIMIT} by default, and refuses a bad --task-pids-limit naming it`, async () => {
    const { h, agent, fw } = await setup();
    expect(await pidsMaxOf(agent, fw, 'default')).toBe(String(DEFAULT_TASK_PIDS_LIMIT));
    const bad = await rejection(startTestAgent(h.address, { taskPidsLimit: '-1' }));
    expect(bad.field).toBe('--task-pids-limit');
    expect(bad.code).toBe('AGORA_INVALID_ARGUMENT');
  });

  it('sets no limit with --task-pids-limit 0', async () => {
    const { agent, fw } = await setup({ taskPidsLimit: '0' });
    expect(await pidsMaxOf(agent, fw, 'unlimited')).toBe('max');
  });
});
