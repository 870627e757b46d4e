// The agent as a real child process, SIGKILLed while its tasks run and started again on the same
// work dir: running tasks are re-adopted (same pid, not relaunched), a task that ended meanwhile is
// reported with its real exit code, every update reaches an acking framework exactly once, and
// updates that were never acknowledged are resent after the restart.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskStatus__Output } from '../../proto/index.js';
import { AgentProcess, getJson, launchTask, processAlive, startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { eventually, MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { taskInfo, type TestFramework } from '../support/test-framework.js';
import { tempDir } from '../support/tmp.js';

// Pings slow enough that the master does not declare the agent unreachable while it is down
// (it would then tell the agent to kill the tasks it comes back with).
const MASTER = { agentPingInterval: '1s', maxAgentPingTimeouts: 20 };

const children: AgentProcess[] = [];
const taskPids: number[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL');
    await child.exited;
  }
  for (const pid of taskPids.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await stopTestAgents();
  await stopHarnesses();
});

async function startAgent(master: string, workDir: string, flags: Record<string, string> = {}): Promise<AgentProcess> {
  const child = await AgentProcess.start(master, { workDir, flags });
  children.push(child);
  return child;
}

interface StateJson {
  agent: { id: string | null };
  tasks: { taskId: string; state: string; pid: number | null }[];
  statusUpdates: { pending: number };
}

async function agentState(child: AgentProcess): Promise<StateJson> {
  return (await getJson<StateJson>(`https://${child.httpAddress}/api/v1/state`)).body;
}

function countByUuid(fw: TestFramework): Map<string, number> {
  const counts = new Map<string, number>();
  for (const u of fw.updates()) counts.set(u.uuid, (counts.get(u.uuid) ?? 0) + 1);
  return counts;
}

function statesOf(fw: TestFramework, taskId: string): string[] {
  return fw.updates(taskId).map((u: TaskStatus__Output) => u.state);
}

describe('agent: restart and recovery', () => {
  it('re-adopts running tasks after a SIGKILL, reports those that ended meanwhile, and delivers every update exactly once', async () => {
    const h = await MasterHarness.start({ master: MASTER });
    const workDir = await tempDir('agent-recovery');
    const first = await startAgent(h.address, workDir);
    const fw = await h.framework({ autoAck: true, failoverTimeoutSeconds: 60 });
    await launchTask(
      fw,
      taskInfo('survivor', 'cpus:0.1;mem:32', { command: { value: 'sleep 60' }, killPolicy: { gracePeriodSeconds: 0.3 } }),
      // Ends with 3 once the test, with no agent running, creates `go` in its sandbox.
      taskInfo('finisher', 'cpus:0.1;mem:32', { command: { value: 'while [ ! -f go ]; do sleep 0.05; done; exit 3' } }),
    );
    await fw.waitForUpdate('survivor', 'TASK_RUNNING', { timeoutMs: 15_000 });
    await fw.waitForUpdate('finisher', 'TASK_RUNNING', { timeoutMs: 15_000 });
    // Every update so far acknowledged and recorded, so the crash leaves nothing in flight.
    const before = await eventually(async () => {
      const s = await agentState(first);
      if (s.statusUpdates.pending !== 0) throw new Error(`${s.statusUpdates.pending} updates pending`);
      return s;
    }, { what: 'no update pending' });
    const pidOf = (s: StateJson, id: string): number => s.tasks.find((t) => t.taskId === id)?.pid ?? -1;
    const survivorPid = pidOf(before, 'survivor');
    taskPids.push(survivorPid, pidOf(before, 'finisher'));
    expect(await processAlive(survivorPid)).toBe(true);

    first.kill('SIGKILL');
    await first.exited;
    await eventually(() => h.state.agent(before.agent.id ?? '')?.state === 'disconnected', { what: 'master saw the agent go' });
    // The finisher ends while no agent watches.
    const finisherPid = pidOf(before, 'finisher');
    await writeFile(path.join(workDir, 'frameworks', fw.frameworkId, 'tasks', 'finisher', 'go'), '');
    await eventually(async () => !(await processAlive(finisherPid)), { what: 'finisher ended' });
    expect(await processAlive(survivorPid)).toBe(true);

    const second = await startAgent(h.address, workDir);
    const failed = await fw.waitForUpdate('finisher', 'TASK_FAILED', { timeoutMs: 15_000 });
    expect(failed.exitCode).toBe(3);
    const after = await agentState(second);
    expect(after.agent.id).toBe(before.agent.id);
    expect(pidOf(after, 'survivor')).toBe(survivorPid);
    expect(h.state.agent(before.agent.id ?? '')?.state).toBe('connected');
    expect(h.state.task(fw.frameworkId, 'survivor')?.state).toBe('TASK_RUNNING');

    // The re-adopted task is still under control: a kill ends it.
    await fw.kill('survivor');
    await fw.waitForUpdate('survivor', 'TASK_KILLED', { timeoutMs: 10_000 });
    await eventually(async () => !(await processAlive(survivorPid)), { what: 'survivor gone' });
    await eventually(async () => (await agentState(second)).statusUpdates.pending === 0, { what: 'all acknowledged' });

    expect(statesOf(fw, 'survivor')).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLED']);
    expect(statesOf(fw, 'finisher')).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
    const counts = countByUuid(fw);
    expect(counts.size).toBe(6);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);

    second.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });

  it('stops without waiting for its tasks, leaving them running for the next agent on the work dir', async () => {
    const h = await MasterHarness.start({ master: MASTER });
    const workDir = await tempDir('agent-stop');
    const first = await startTestAgent(h.address, { workDir });
    const fw = await h.framework({ autoAck: true, failoverTimeoutSeconds: 60 });
    await launchTask(fw, taskInfo('lasting', 'cpus:0.1;mem:32', { command: { value: 'sleep 60' }, killPolicy: { gracePeriodSeconds: 0.2 } }));
    await fw.waitForUpdate('lasting', 'TASK_RUNNING', { timeoutMs: 10_000 });
    const pid = first.tasks.task(fw.frameworkId, 'lasting')?.container?.checkpoint['pid'] as number;
    taskPids.push(pid);
    await eventually(() => first.updates.pendingCount() === 0, { what: 'updates acknowledged' });
    const started = Date.now();
    await first.stop();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(first.lifecycle).toBe('STOPPED');
    expect(await processAlive(pid)).toBe(true);

    const second = await startTestAgent(h.address, { workDir });
    expect(second.agentId).toBe(first.agentId);
    expect(second.tasks.task(fw.frameworkId, 'lasting')?.container?.checkpoint['pid']).toBe(pid);
    await eventually(() => second.lifecycle === 'RUNNING', { what: 'second agent registered' });
    process.kill(-pid, 'SIGTERM');
    const failed = await fw.waitForUpdate('lasting', 'TASK_FAILED', { timeoutMs: 10_000 });
    expect(failed.termSignal).toBe(15);
    expect(fw.updates('lasting').map((u) => u.state)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
  });

  it('resends updates that were never acknowledged after the agent restarts', async () => {
    const h = await MasterHarness.start({ master: MASTER });
    const workDir = await tempDir('agent-unacked');
    const flags = { statusUpdateRetry: '30s', statusUpdateRetryMax: '30s' };
    const first = await startAgent(h.address, workDir, flags);
    const fw = await h.framework({ autoAck: false, failoverTimeoutSeconds: 60 });
    await launchTask(fw, taskInfo('patient', 'cpus:0.1;mem:32', { command: { value: 'sleep 60' }, killPolicy: { gracePeriodSeconds: 0.2 } }));
    const starting = await fw.waitForUpdate('patient', 'TASK_STARTING', { timeoutMs: 15_000 });
    const s = await eventually(async () => {
      const state = await agentState(first);
      if (!state.tasks.some((t) => t.state === 'TASK_RUNNING' && t.pid !== null)) throw new Error('not running yet');
      return state;
    }, { what: 'task running on the agent' });
    taskPids.push(s.tasks[0]?.pid ?? -1);

    first.kill('SIGKILL');
    await first.exited;
    const mark = fw.events.mark();
    await startAgent(h.address, workDir, flags);
    // Long before the 30 s retry: the resend comes from the re-registration.
    const again = await fw.waitForUpdate('patient', 'TASK_STARTING', { since: mark, timeoutMs: 15_000 });
    expect(again.uuid).toBe(starting.uuid);
    await fw.acknowledge(again);
    const running = await fw.waitForUpdate('patient', 'TASK_RUNNING', { timeoutMs: 5000 });
    expect(running.uuid).not.toBe(starting.uuid);
  });
});
