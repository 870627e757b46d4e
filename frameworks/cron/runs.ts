// A cron job's runs through their lives (pure; no I/O): the plan for one job (scheduled runs,
// with manual runs outside the concurrency policy), carrying a plan out on the record, and what a
// task's status update does to its run. The framework persists each new record before acting.
//
//   record + parents + now ─► planJob ─► applyPlan ─► { record to persist, tasks to kill }
//   record + TaskStatus    ─► taskUpdate ─► { record to persist, effect: none | ended | relaunch | kill }
//   record + now           ─► giveUpUnreachable ─► { record, runs ended, tasks to kill, next time }
import type { TaskStatus__Output } from '../../proto/index.js';
import { isAuthoritativeEnd, isInferredEnd } from '../../sdk/task-ends.js';
import { neverRan } from '../../sdk/task-outcome.js';
import { currentTask, liveTasks, MAX_SKIPS_KEPT, type AttemptTask, type CronJobRecord, type RunRecord } from './model.js';
import { plan, type CronPlan, type ParentOutcome, type RunState } from './planner.js';
import { scheduleOf } from './spec.js';

/**
 * The plan for one job. Manual runs (`agora run`) are outside the concurrency policy, as jobs
 * made with `kubectl create job --from=cronjob/…` are: the scheduled plan sees only scheduled and
 * dependency runs. A second plan over every run, with no schedule, gives the manual runs' retries
 * and active deadlines and the history limits (which count manual runs too).
 */
export function planJob(record: CronJobRecord, parents: Readonly<Record<string, ParentOutcome | undefined>>, now: number): CronPlan {
  const { spec } = record;
  const scheduled = plan({
    spec,
    schedule: scheduleOf(spec),
    state: { lastScheduleTime: record.lastScheduleTime, runs: record.runs.filter((r) => !r.manual) },
    parents,
    now,
  });
  const manual = new Set(record.runs.filter((r) => r.manual).map((r) => r.id));
  const all = plan({ spec: { ...spec, after: [] }, schedule: undefined, state: { lastScheduleTime: record.lastScheduleTime, runs: record.runs }, now });
  const wakes = [scheduled.wakeAt, all.wakeAt].filter((t): t is number => t !== undefined);
  return {
    ...scheduled,
    retry: [...scheduled.retry, ...all.retry.filter((r) => manual.has(r.runId))],
    kill: [...scheduled.kill, ...all.kill.filter((k) => manual.has(k.runId))],
    delete: all.delete,
    wakeAt: wakes.length === 0 ? undefined : Math.min(...wakes),
  };
}

export interface TaskToKill {
  readonly runId: string;
  readonly taskId: string;
  readonly agentId: string;
  readonly reason: string;
}

/** Carry a plan out on the record: new runs, retries, killed runs, trimmed history, skips. */
export function applyPlan(record: CronJobRecord, p: CronPlan, now: number): { record: CronJobRecord; kill: TaskToKill[] } {
  const kill: TaskToKill[] = [];
  const killed = new Map(p.kill.map((k) => [k.runId, k]));
  const retried = new Map(p.retry.map((r) => [r.runId, r]));
  const deleted = new Set(p.delete.map((d) => d.runId));
  const runs: RunRecord[] = [];
  for (const run of record.runs) {
    if (deleted.has(run.id)) continue;
    const k = killed.get(run.id);
    const r = retried.get(run.id);
    if (k !== undefined) {
      for (const t of liveTasks(run)) kill.push({ runId: run.id, taskId: t.taskId, agentId: t.agentId, reason: k.message });
      runs.push(finish(run, 'failed', now, k.message, { gaveUp: true }));
    } else if (r !== undefined) {
      const { finishedAt: _f, exitCode: _e, ...rest } = run;
      runs.push({ ...rest, state: 'pending', attempts: r.attempt, message: `retry ${r.attempt - 1} of ${record.spec.retries}: waiting for an offer` });
    } else {
      runs.push(run);
    }
  }
  for (const s of p.start) {
    runs.push({
      id: s.runId,
      scheduledTime: s.scheduledTime,
      state: 'pending',
      attempts: 1,
      startedAt: now,
      ...(s.parents ? { parents: s.parents } : {}),
      tasks: [],
      message: s.trigger === 'after' ? `after ${record.spec.after.join(', ')}: waiting for an offer` : 'waiting for an offer',
    });
  }
  const skips = p.skip.map((s) => ({ reason: s.reason, first: s.first, last: s.last, count: s.count, message: s.message, at: now }));
  const skipped = skips.length === 0 ? record.skipped : [...record.skipped, ...skips].slice(-MAX_SKIPS_KEPT);
  return { record: { ...record, runs, skipped, lastScheduleTime: p.lastScheduleTime }, kill };
}

/** A manual run (`agora run cronjob/NAME`), with its own id. */
export function manualRun(record: CronJobRecord, now: number): RunRecord {
  let at = now;
  while (record.runs.some((r) => r.id === manualRunId(record.name, at))) at += 1;
  return { id: manualRunId(record.name, at), scheduledTime: now, state: 'pending', attempts: 1, startedAt: now, manual: true, tasks: [], message: 'started by hand: waiting for an offer' };
}

export function manualRunId(name: string, at: number): string {
  return `${name}-manual-${at}`;
}

/** A parent's latest run (the one started last), as the planner's `after` rule reads it. */
export function latestOutcome(record: CronJobRecord | undefined): ParentOutcome | undefined {
  if (record === undefined || record.runs.length === 0) return undefined;
  const latest = record.runs.reduce((a, b) => (b.startedAt > a.startedAt || (b.startedAt === a.startedAt && b.id > a.id) ? b : a));
  return { runId: latest.id, state: latest.state, ...(latest.finishedAt === undefined ? {} : { finishedAt: latest.finishedAt }) };
}

/**
 * - `none`: nothing to do (a duplicate, or a non-final state).
 * - `changed`: persist the record (the run started running, or a dead task's end was recorded).
 * - `ended`: the run's attempt ended (succeeded or failed): persist, and plan (retries, dependents).
 * - `relaunch`: the master never ran the attempt's task: persist; the same attempt waits for an offer.
 * - `kill`: the task is live but its run is over (killed, replaced, given up): kill it again.
 */
export type UpdateEffect = 'none' | 'changed' | 'ended' | 'relaunch' | 'kill';

const TERMINAL = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED', 'TASK_GONE', 'TASK_UNKNOWN']);

/** What a status update of one of the record's tasks does to its run. */
/** What of a status update a run's bookkeeping reads. */
export type StatusUpdate = Pick<TaskStatus__Output, 'taskId' | 'state' | 'source' | 'reason' | 'message' | 'exitCode'>;


export function taskUpdate(record: CronJobRecord, status: StatusUpdate, now: number): { record: CronJobRecord; effect: UpdateEffect; run?: RunRecord } {
  const index = record.runs.findIndex((r) => r.tasks.some((t) => t.taskId === status.taskId));
  if (index < 0) return { record, effect: 'none' };
  const run = record.runs[index]!;
  const task = run.tasks.find((t) => t.taskId === status.taskId)!;
  const state = String(status.state);
  const put = (next: RunRecord, effect: UpdateEffect): { record: CronJobRecord; effect: UpdateEffect; run: RunRecord } => {
    const runs = [...record.runs];
    runs[index] = next;
    const ok = next.state === 'succeeded' && effect === 'ended' ? Math.max(record.lastSuccessfulMs, next.finishedAt ?? now) : record.lastSuccessfulMs;
    return { record: { ...record, runs, lastSuccessfulMs: ok }, effect, run: next };
  };
  if (task.finishedAt !== undefined) {
    // Taken for never run, yet alive after all (the master's inference): its attempt was launched
    // again, so this one goes.
    if (task.voided === true && !TERMINAL.has(state)) return { record, effect: 'kill', run };
    // Its end is known already — unless that was the master's inference and this is the agent's own.
    if (task.inferred !== true || !isAuthoritativeEnd(status)) return { record, effect: 'none' };
    return overridden(run, task, status, now, put);
  }
  const current = currentTask(run)?.taskId === task.taskId && (run.state === 'pending' || run.state === 'running');
  if (!TERMINAL.has(state)) {
    if (!current) return { record, effect: 'kill', run };
    if (state === 'TASK_UNREACHABLE') {
      // Its agent stopped answering: the task may still run, so the run stays active.
      if (task.unreachableSince !== undefined) return { record, effect: 'none' };
      return put(withTask(run, { ...task, unreachableSince: now }), 'changed');
    }
    if (task.unreachableSince !== undefined) {
      // Its agent answers again.
      const { unreachableSince: _since, ...back } = task;
      const running = state === 'TASK_RUNNING' && back.runningAt === undefined ? { runningAt: now } : {};
      const next = withTask(run, { ...back, ...running });
      return put(state === 'TASK_RUNNING' && run.state !== 'running' ? { ...next, state: 'running', message: `running on ${task.agentId}` } : next, 'changed');
    }
    if (state !== 'TASK_RUNNING' || run.state === 'running') return { record, effect: 'none' };
    return put({ ...withTask(run, { ...task, runningAt: now }), state: 'running', message: `running on ${task.agentId}` }, 'changed');
  }
  const exitCode = status.exitCode ?? undefined;
  const ended: AttemptTask = {
    ...task,
    finishedAt: now,
    state,
    message: status.message,
    ...(exitCode === undefined || exitCode === null ? {} : { exitCode }),
    ...(isInferredEnd(status) ? { inferred: true } : {}),
  };
  if (!current) return put(withTask(run, ended), 'changed');
  if (neverRan({ state, reason: status.reason, ran: task.runningAt !== undefined })) {
    // Nothing of it ran (sdk/task-outcome.ts): the same attempt goes again (a new task id), never a
    // failure and never a second run. The task is kept, voided, so that the agent's own end — if
    // this was the master's inference and it ran after all — still counts (overridden below).
    return put({ ...withTask(run, { ...ended, voided: true }), state: 'pending', message: `task ${task.taskId} never ran (${state}); relaunching attempt ${run.attempts}` }, 'relaunch');
  }
  const succeeded = state === 'TASK_FINISHED';
  const why = succeeded ? 'succeeded' : `${state.replace(/^TASK_/, '').toLowerCase()}${exitCode === undefined || exitCode === null ? '' : ` with exit code ${exitCode}`}${status.message ? `: ${status.message}` : ''}`;
  const done = finish(withTask(run, ended), succeeded ? 'succeeded' : 'failed', now, `attempt ${run.attempts} ${why}`);
  return put({ ...done, ...(ended.exitCode === undefined ? {} : { exitCode: ended.exitCode }) }, 'ended');
}

/**
 * The agent's own end of a task the run took for lost (the master's inference). A success makes
 * the run a success after all — counted once: an attempt started since is over (its task is killed
 * when it next reports). Any other end is recorded, and the run stays as it is (failed, or retrying).
 */
function overridden(
  run: RunRecord,
  task: AttemptTask,
  status: StatusUpdate,
  now: number,
  put: (next: RunRecord, effect: UpdateEffect) => { record: CronJobRecord; effect: UpdateEffect; run: RunRecord },
): { record: CronJobRecord; effect: UpdateEffect; run: RunRecord } {
  const state = String(status.state);
  const exitCode = status.exitCode ?? undefined;
  const { inferred: _inferred, voided: _voided, ...was } = task;
  const ended: AttemptTask = { ...was, finishedAt: now, state, message: status.message, ...(exitCode === undefined || exitCode === null ? {} : { exitCode }) };
  if (state !== 'TASK_FINISHED' || run.state === 'succeeded') return put(withTask(run, ended), 'changed');
  const { gaveUp: _gaveUp, ...rest } = withTask(run, ended);
  const done = finish(rest, 'succeeded', now, `attempt ${task.attempt} succeeded (it had been reported ${String(task.state).replace(/^TASK_/, '').toLowerCase()})`);
  return put({ ...done, ...(ended.exitCode === undefined ? {} : { exitCode: ended.exitCode }) }, 'ended');
}

/** The run with its task after a launch (the launcher persists this before launching). */
export function withTask(run: RunRecord, task: AttemptTask): RunRecord {
  const tasks = run.tasks.some((t) => t.taskId === task.taskId) ? run.tasks.map((t) => (t.taskId === task.taskId ? task : t)) : [...run.tasks, task];
  return { ...run, tasks };
}

function finish(run: RunRecord, state: RunState, now: number, message: string, extra: { gaveUp?: boolean } = {}): RunRecord {
  return { ...run, state, finishedAt: now, message, ...extra };
}

/**
 * Tasks unreachable for `timeoutMs` are given up, as the master's inference TASK_LOST would end
 * them: the attempt fails (or, never seen running, goes again), retries follow the spec, and the
 * task is killed should its agent return. If the agent then reports it FINISHED, that end replaces
 * the inference (`overridden`) and the run is counted once.
 */
export function giveUpUnreachable(record: CronJobRecord, now: number, timeoutMs: number): { record: CronJobRecord; ended: RunRecord[]; kill: TaskToKill[]; nextAt: number | undefined } {
  let next = record;
  const ended: RunRecord[] = [];
  const kill: TaskToKill[] = [];
  let nextAt: number | undefined;
  for (const run of record.runs) {
    for (const task of run.tasks) {
      if (task.unreachableSince === undefined || task.finishedAt !== undefined) continue;
      const due = task.unreachableSince + timeoutMs;
      if (now < due) {
        nextAt = Math.min(nextAt ?? due, due);
        continue;
      }
      const status: StatusUpdate = {
        taskId: task.taskId,
        state: 'TASK_LOST',
        source: 'SOURCE_MASTER',
        reason: 'REASON_AGENT_DISCONNECTED',
        message: `its agent has not answered for ${Math.round(timeoutMs / 1000)} s: given up`,
        exitCode: undefined,
      };
      const out = taskUpdate(next, status, now);
      next = out.record;
      kill.push({ runId: run.id, taskId: task.taskId, agentId: task.agentId, reason: 'its agent has not answered for too long' });
      if (out.effect === 'ended' && out.run !== undefined) ended.push(out.run);
    }
  }
  return { record: next, ended, kill, nextAt };
}
