// A cron job's runs through their lives (frameworks/cron/runs.ts, pure): manual runs outside the
// concurrency policy, plans carried out on the record, and what status updates do to a run —
// including an attempt whose task the master never ran, which goes again as the same attempt.
import { describe, expect, it } from 'vitest';
import type { CronJobRecord, RunRecord } from '../../frameworks/cron/model.js';
import { needsLaunch } from '../../frameworks/cron/model.js';
import { runId } from '../../frameworks/cron/planner.js';
import { UNREACHABLE_TIMEOUT_MS } from '../../frameworks/common/durations.js';
import { applyPlan, giveUpUnreachable, latestOutcome, manualRun, planJob, taskUpdate } from '../../frameworks/cron/runs.js';
import { validateCronJobSpec } from '../../frameworks/cron/spec.js';
import type { TaskState } from '../../core/task-state.js';
import type { TaskStatus } from '../../sdk/types.js';
import { status as statusFixture } from '../../sdk/testing/index.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;

function record(doc: Record<string, unknown> = {}, runs: RunRecord[] = []): CronJobRecord {
  const spec = validateCronJobSpec({ name: 'job', schedule: '*/5 * * * *', task: { command: 'true', resources: { cpus: 0.1, mem: 16 } }, ...doc });
  return { name: 'job', spec, version: 'v1', createdAtMs: T0, updatedAtMs: T0, lastScheduleTime: T0, lastSuccessfulMs: 0, runs, skipped: [] };
}

function launched(id: string, state: RunRecord['state'], extra: Partial<RunRecord> = {}): RunRecord {
  return { id, scheduledTime: T0, state, attempts: 1, startedAt: T0, tasks: [{ attempt: 1, taskId: `${id}.1.abc`, agentId: 'a1', launchedAt: T0 }], message: '', ...extra };
}

/** A status of agent a1's (agora/sdk/testing's builder fills in the rest). */
function status(taskId: string, state: TaskState, extra: Partial<TaskStatus> = {}): TaskStatus {
  return statusFixture({ taskId, state, agentId: 'a1', ...extra });
}

describe('planJob and applyPlan', () => {
  it('persists a new scheduled run as pending with no task yet, and moves lastScheduleTime', () => {
    const r = record();
    const p = planJob(r, {}, T0 + 5 * MIN);
    const { record: next, kill } = applyPlan(r, p, T0 + 5 * MIN);
    expect(kill).toEqual([]);
    expect(next.lastScheduleTime).toBe(T0 + 5 * MIN);
    expect(next.runs).toEqual([expect.objectContaining({ id: runId('job', T0 + 5 * MIN), state: 'pending', attempts: 1, tasks: [] })]);
    expect(needsLaunch(next.runs[0]!)).toBe(true);
    // Planned again on the persisted record: nothing new.
    expect(planJob(next, {}, T0 + 5 * MIN).start).toEqual([]);
  });

  it('a manual run is outside Forbid: the scheduled time still starts beside it', () => {
    const manual = { ...manualRun(record(), T0 + MIN), state: 'running' as const };
    expect(manual.id).toBe(`job-manual-${T0 + MIN}`);
    const r = record({ concurrencyPolicy: 'Forbid' }, [manual]);
    expect(planJob(r, {}, T0 + 5 * MIN).start).toHaveLength(1);
    // A scheduled run that is active does forbid it.
    const busy = record({ concurrencyPolicy: 'Forbid' }, [launched('job-1', 'running')]);
    expect(planJob(busy, {}, T0 + 5 * MIN)).toMatchObject({ start: [], skip: [expect.objectContaining({ reason: 'forbid' })] });
  });

  it('Replace kills the active scheduled run (its live task) but not a manual one', () => {
    const manual = { ...launched('job-manual-1', 'running'), manual: true };
    const r = record({ concurrencyPolicy: 'Replace' }, [launched('job-1', 'running'), manual]);
    const p = planJob(r, {}, T0 + 5 * MIN);
    const { record: next, kill } = applyPlan(r, p, T0 + 5 * MIN);
    expect(kill).toEqual([expect.objectContaining({ runId: 'job-1', taskId: 'job-1.1.abc', agentId: 'a1' })]);
    expect(next.runs.find((x) => x.id === 'job-1')).toMatchObject({ state: 'failed', gaveUp: true, finishedAt: T0 + 5 * MIN });
    expect(next.runs.find((x) => x.id === 'job-manual-1')?.state).toBe('running');
    expect(next.runs.at(-1)?.state).toBe('pending');
  });

  it('retries a failed manual run and trims history over manual and scheduled runs alike', () => {
    const failed = { ...launched('job-manual-1', 'failed', { finishedAt: T0 + MIN }), manual: true };
    const r = record({ retries: 1, backoff: { seconds: 1 }, failedJobsHistoryLimit: 0 }, [failed]);
    const p = planJob(r, {}, T0 + MIN + 1000);
    expect(p.retry).toEqual([{ runId: 'job-manual-1', attempt: 2, at: T0 + MIN + 1000 }]);
    const next = applyPlan(r, p, T0 + MIN + 1000).record.runs[0]!;
    expect(next).toMatchObject({ state: 'pending', attempts: 2 });
    expect(next.finishedAt).toBeUndefined();
    expect(needsLaunch(next)).toBe(true);
    const over = record({ failedJobsHistoryLimit: 0 }, [failed, launched('job-2', 'failed', { finishedAt: T0 })]);
    expect(planJob(over, {}, T0 + 2 * MIN).delete.map((d) => d.runId).sort()).toEqual(['job-2', 'job-manual-1']);
  });

  it("a parent's latest run is the one started last", () => {
    const r = record({}, [launched('job-1', 'succeeded', { finishedAt: T0 + MIN }), launched('job-2', 'failed', { startedAt: T0 + MIN, finishedAt: T0 + 2 * MIN })]);
    expect(latestOutcome(r)).toEqual({ runId: 'job-2', state: 'failed', finishedAt: T0 + 2 * MIN });
    expect(latestOutcome(undefined)).toBeUndefined();
  });
});

describe('taskUpdate', () => {
  it('RUNNING marks the run running once; FINISHED succeeds it with the exit code', () => {
    const r = record({}, [launched('job-1', 'pending')]);
    const running = taskUpdate(r, status('job-1.1.abc', 'TASK_RUNNING'), T0 + 1000);
    expect(running.effect).toBe('changed');
    expect(running.record.runs[0]).toMatchObject({ state: 'running', tasks: [expect.objectContaining({ runningAt: T0 + 1000 })] });
    expect(taskUpdate(running.record, status('job-1.1.abc', 'TASK_RUNNING'), T0 + 2000).effect).toBe('none');
    const done = taskUpdate(running.record, status('job-1.1.abc', 'TASK_FINISHED', { exitCode: 0 }), T0 + 3000);
    expect(done.effect).toBe('ended');
    expect(done.record.runs[0]).toMatchObject({ state: 'succeeded', exitCode: 0, finishedAt: T0 + 3000 });
    expect(done.record.lastSuccessfulMs).toBe(T0 + 3000);
    // The same end again (a reconciliation answer): nothing.
    expect(taskUpdate(done.record, status('job-1.1.abc', 'TASK_FINISHED', { exitCode: 0 }), T0 + 4000).effect).toBe('none');
  });

  it('FAILED fails the attempt with its exit code and message', () => {
    const r = record({}, [launched('job-1', 'running')]);
    const out = taskUpdate(r, status('job-1.1.abc', 'TASK_FAILED', { exitCode: 3, message: 'exited' }), T0 + 1000);
    expect(out.effect).toBe('ended');
    expect(out.record.runs[0]).toMatchObject({ state: 'failed', exitCode: 3, message: 'attempt 1 failed with exit code 3: exited' });
  });

  it('a task the master never ran goes again as the same attempt, not a new run', () => {
    const r = record({}, [launched('job-1', 'pending')]);
    const answers: [TaskState, TaskStatus['reason']][] = [
      ['TASK_LOST', 'REASON_RECONCILIATION'],
      ['TASK_GONE', 'REASON_RECONCILIATION'],
      ['TASK_UNKNOWN', 'REASON_RECONCILIATION'],
      ['TASK_DROPPED', 'REASON_TASK_UNKNOWN'],
      // Settled with batch (sdk/task-outcome.ts): lost with its agent before it was seen running is
      // no failed attempt either — it was a failed attempt here before.
      ['TASK_LOST', 'REASON_AGENT_REMOVED'],
    ];
    for (const [state, reason] of answers) {
      const out = taskUpdate(r, status('job-1.1.abc', state, { reason }), T0 + 1000);
      expect(out.effect).toBe('relaunch');
      expect(out.record.runs).toHaveLength(1);
      // The task is kept, voided: no attempt, and the attempt waits for a new task.
      expect(out.record.runs[0]).toMatchObject({ id: 'job-1', state: 'pending', attempts: 1, tasks: [expect.objectContaining({ taskId: 'job-1.1.abc', state, voided: true })] });
      expect(needsLaunch(out.record.runs[0]!)).toBe(true);
    }
    // Once seen running, losing it is a failure of the attempt (retries apply).
    const ran = taskUpdate(r, status('job-1.1.abc', 'TASK_RUNNING'), T0 + 500).record;
    expect(taskUpdate(ran, status('job-1.1.abc', 'TASK_LOST', { reason: 'REASON_RECONCILIATION' }), T0 + 1000).record.runs[0]?.state).toBe('failed');
  });

  it("a task taken for never run that turns out alive is killed; if it reports success, the run succeeded once", () => {
    const lost = taskUpdate(record({}, [launched('job-1', 'pending')]), status('job-1.1.abc', 'TASK_LOST', { reason: 'REASON_AGENT_UNREACHABLE', source: 'SOURCE_MASTER' }), T0 + 1000);
    expect(lost.effect).toBe('relaunch');
    // Alive after all (its agent came back): its attempt went again, so it goes.
    expect(taskUpdate(lost.record, status('job-1.1.abc', 'TASK_RUNNING'), T0 + 2000).effect).toBe('kill');
    // Its own end is a success: the run succeeded, by that task, counted once.
    const won = taskUpdate(lost.record, status('job-1.1.abc', 'TASK_FINISHED', { exitCode: 0, source: 'SOURCE_EXECUTOR' }), T0 + 3000);
    expect(won.effect).toBe('ended');
    expect(won.record.runs[0]).toMatchObject({ state: 'succeeded', tasks: [expect.objectContaining({ state: 'TASK_FINISHED' })] });
    expect(won.record.runs[0]!.tasks[0]!.voided).toBeUndefined();
    expect(won.record.lastSuccessfulMs).toBe(T0 + 3000);
  });

  it('a live task of a run that is over is killed again; its end is recorded without changing the run', () => {
    const over = record({}, [launched('job-1', 'failed', { gaveUp: true, finishedAt: T0, message: 'replaced' })]);
    expect(taskUpdate(over, status('job-1.1.abc', 'TASK_RUNNING'), T0 + 1000).effect).toBe('kill');
    const end = taskUpdate(over, status('job-1.1.abc', 'TASK_KILLED', { exitCode: 143 }), T0 + 1000);
    expect(end.effect).toBe('changed');
    expect(end.record.runs[0]).toMatchObject({ state: 'failed', message: 'replaced', tasks: [expect.objectContaining({ state: 'TASK_KILLED', exitCode: 143 })] });
  });

  it('counts a run once whatever order its updates come in: the agent\'s end overrides the master\'s LOST', () => {
    const lostBy = (source: TaskStatus['source']) => status('job-1.1.abc', 'TASK_LOST', { reason: 'REASON_AGENT_UNREACHABLE', source });
    const finishedByAgent = status('job-1.1.abc', 'TASK_FINISHED', { exitCode: 0, source: 'SOURCE_EXECUTOR' });
    const running = taskUpdate(record({}, [launched('job-1', 'pending')]), status('job-1.1.abc', 'TASK_RUNNING'), T0 + 500).record;
    // LOST (the master's inference), then FINISHED from the agent: a success after all, counted once.
    const lost = taskUpdate(running, lostBy('SOURCE_MASTER'), T0 + 1000);
    expect(lost.record.runs[0]).toMatchObject({ state: 'failed', tasks: [expect.objectContaining({ state: 'TASK_LOST', inferred: true })] });
    const won = taskUpdate(lost.record, finishedByAgent, T0 + 2000);
    expect(won.effect).toBe('ended');
    expect(won.record.runs).toHaveLength(1);
    expect(won.record.runs[0]).toMatchObject({ state: 'succeeded', exitCode: 0, finishedAt: T0 + 2000, tasks: [expect.objectContaining({ state: 'TASK_FINISHED' })] });
    expect(won.record.runs[0]!.tasks[0]!.inferred).toBeUndefined();
    expect(won.record.lastSuccessfulMs).toBe(T0 + 2000);
    // Repeats and late guesses change nothing now.
    expect(taskUpdate(won.record, finishedByAgent, T0 + 3000).effect).toBe('none');
    expect(taskUpdate(won.record, lostBy('SOURCE_MASTER'), T0 + 3000).effect).toBe('none');
    // FINISHED first, then a LOST: the LOST changes nothing.
    const first = taskUpdate(running, finishedByAgent, T0 + 1000);
    expect(first.record.runs[0]?.state).toBe('succeeded');
    expect(taskUpdate(first.record, lostBy('SOURCE_MASTER'), T0 + 2000).effect).toBe('none');
    // A LOST the agent itself reported is its word: a later FINISHED does not undo it.
    const agentLost = taskUpdate(running, lostBy('SOURCE_AGENT'), T0 + 1000);
    expect(taskUpdate(agentLost.record, finishedByAgent, T0 + 2000).effect).toBe('none');
    // Taken for lost, retried, then the first attempt's FINISHED: the run succeeds; the retry's task is killed when it reports.
    const retrying = { ...lost.record, runs: [{ ...lost.record.runs[0]!, state: 'running' as const, attempts: 2, tasks: [...lost.record.runs[0]!.tasks, { attempt: 2, taskId: 'job-1.2.def', agentId: 'a1', launchedAt: T0 + 1500, runningAt: T0 + 1600 }] }] };
    const late = taskUpdate(retrying, finishedByAgent, T0 + 2000);
    expect(late.record.runs[0]).toMatchObject({ state: 'succeeded', message: 'attempt 1 succeeded (it had been reported lost)' });
    expect(taskUpdate(late.record, status('job-1.2.def', 'TASK_RUNNING'), T0 + 2100).effect).toBe('kill');
    // The agent's FAILED after the master's LOST: recorded; the run stays failed.
    const failed = taskUpdate(lost.record, status('job-1.1.abc', 'TASK_FAILED', { exitCode: 2, source: 'SOURCE_EXECUTOR' }), T0 + 2000);
    expect(failed.effect).toBe('changed');
    expect(failed.record.runs[0]).toMatchObject({ state: 'failed', tasks: [expect.objectContaining({ state: 'TASK_FAILED', exitCode: 2 })] });
  });

  it('ignores tasks of other jobs', () => {
    expect(taskUpdate(record(), status('other.1.x', 'TASK_RUNNING'), T0).effect).toBe('none');
  });
});

describe('a task whose agent stopped answering (partition-aware)', () => {
  const running = (): CronJobRecord => {
    const r = record({ concurrencyPolicy: 'Forbid' }, [launched('job-1', 'pending')]);
    return taskUpdate(r, status('job-1.1.abc', 'TASK_RUNNING'), T0 + 1000).record;
  };

  it('keeps its run active (Forbid still forbids the next time) and records since when', () => {
    const out = taskUpdate(running(), status('job-1.1.abc', 'TASK_UNREACHABLE', { source: 'SOURCE_MASTER' }), T0 + 2000);
    expect(out.effect).toBe('changed');
    expect(out.record.runs[0]).toMatchObject({ state: 'running', tasks: [expect.objectContaining({ unreachableSince: T0 + 2000 })] });
    expect(out.record.runs[0]!.tasks[0]!.finishedAt).toBeUndefined();
    expect(planJob(out.record, {}, T0 + 5 * MIN)).toMatchObject({ start: [], skip: [expect.objectContaining({ reason: 'forbid' })] });
    // Repeats change nothing; the agent answering again clears it, and FINISHED then succeeds once.
    expect(taskUpdate(out.record, status('job-1.1.abc', 'TASK_UNREACHABLE', { source: 'SOURCE_MASTER' }), T0 + 3000).effect).toBe('none');
    const back = taskUpdate(out.record, status('job-1.1.abc', 'TASK_RUNNING'), T0 + 4000);
    expect(back.record.runs[0]!.tasks[0]!.unreachableSince).toBeUndefined();
    expect(taskUpdate(back.record, status('job-1.1.abc', 'TASK_FINISHED', { exitCode: 0 }), T0 + 5000)).toMatchObject({ effect: 'ended', run: { state: 'succeeded' } });
  });

  it('is given up after the timeout (5 min): the attempt fails as LOST, the task is killed, and a late FINISHED still counts once', () => {
    const away = taskUpdate(running(), status('job-1.1.abc', 'TASK_UNREACHABLE', { source: 'SOURCE_MASTER' }), T0 + 2000).record;
    const early = giveUpUnreachable(away, T0 + 2000 + UNREACHABLE_TIMEOUT_MS - 1, UNREACHABLE_TIMEOUT_MS);
    expect(early).toMatchObject({ record: away, ended: [], kill: [], nextAt: T0 + 2000 + UNREACHABLE_TIMEOUT_MS });
    const given = giveUpUnreachable(away, T0 + 2000 + UNREACHABLE_TIMEOUT_MS, UNREACHABLE_TIMEOUT_MS);
    expect(given.kill).toEqual([expect.objectContaining({ runId: 'job-1', taskId: 'job-1.1.abc', agentId: 'a1' })]);
    expect(given.ended).toEqual([expect.objectContaining({ id: 'job-1', state: 'failed' })]);
    expect(given.record.runs[0]!.tasks[0]).toMatchObject({ state: 'TASK_LOST', inferred: true });
    const late = taskUpdate(given.record, status('job-1.1.abc', 'TASK_FINISHED', { exitCode: 0 }), T0 + 2000 + UNREACHABLE_TIMEOUT_MS + 1000);
    expect(late).toMatchObject({ effect: 'ended', run: { state: 'succeeded' } });
  });
});
