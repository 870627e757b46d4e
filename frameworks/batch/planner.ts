// The batch planner: a job's spec, what has been persisted about it (its tasks and timestamps) and
// `now` go in; what to do comes out — tasks to launch (with their index and environment), tasks to
// kill, whether the job finished or may be deleted, its phase and when to look again. Pure: no
// clock, no I/O; the supervisor persists `startedAtMs` / `finishedAtMs` / `phase` from the plan.
//
//   finished already? ──► kill leftovers, delete after ttlSecondsAfterFinished
//   suspended?        ──► JOB_SUSPENDED, kill active (Kubernetes: suspend deletes the pods)
//   failures > backoffLimit ──► JOB_FAILED BackoffLimitExceeded, kill active
//   past activeDeadlineSeconds ──► JOB_FAILED DeadlineExceeded, kill active
//   enough successes  ──► JOB_SUCCEEDED, kill what still runs
//   else launch up to parallelism (after the retry backoff; gang: whole waves only)
import { isTerminal, type TaskState } from '../../core/task-state.js';
import type { JobSpecDoc } from './spec.js';
import { UNREACHABLE_TIMEOUT_MS } from '../common/durations.js';

/** One task of the job, as the supervisor persisted it. */
export interface JobTaskRecord {
  readonly taskId: string;
  /** Indexed jobs: the completion index. */
  readonly index?: number;
  /** 0 for the first try of this index (or, NonIndexed, of the job). */
  readonly attempt: number;
  readonly state: TaskState;
  readonly launchedAtMs: number;
  /** When it reached a terminal state. */
  readonly finishedAtMs?: number;
  /** The framework killed it (suspend, deadline, job done): a KILLED end is then no failure. */
  readonly killRequested?: boolean;
  /**
   * It never ran: the launch was refused, or it ended LOST/GONE/DROPPED/UNKNOWN before it was ever
   * RUNNING (e.g. persisted by a leader that died before launching it). Not a failure; its index
   * (or its place) is launched again, as the next attempt.
   */
  readonly voided?: boolean;
  /**
   * Its agent stopped answering then (TASK_UNREACHABLE: the framework is partition-aware). The task
   * may still be running, so it keeps its index for PlanOptions.unreachableTimeoutMs; only then is
   * it given up — killed, and its index launched again — as Kubernetes evicts a pod whose node has
   * been unreachable for five minutes.
   */
  readonly unreachableSinceMs?: number;
}

export type JobPhaseName = 'JOB_PENDING' | 'JOB_RUNNING' | 'JOB_SUCCEEDED' | 'JOB_FAILED' | 'JOB_SUSPENDED';
export type JobFailureReason = 'BackoffLimitExceeded' | 'DeadlineExceeded';

export interface JobState {
  readonly submittedAtMs: number;
  /** First planned while not suspended (activeDeadlineSeconds counts from here). */
  readonly startedAtMs?: number;
  /** Set once the job succeeded or failed; its phase and reason are then final. */
  readonly finishedAtMs?: number;
  readonly phase?: JobPhaseName;
  readonly reason?: JobFailureReason;
  readonly tasks: readonly JobTaskRecord[];
}

/** One task to start. The supervisor mints its id and adds `env` to the template's. */
export interface LaunchDecision {
  readonly index?: number;
  readonly attempt: number;
  readonly env: Readonly<Record<string, string>>;
}

export interface JobPlan {
  readonly phase: JobPhaseName;
  readonly reason?: JobFailureReason;
  /** For people: "3 of 5 succeeded", "backoff limit 6 exceeded: 7 failed tasks". */
  readonly message: string;
  readonly launch: readonly LaunchDecision[];
  /** The launches are one gang: place all of them on held offers or none (see gang.ts). */
  readonly gang: boolean;
  readonly kill: readonly string[];
  /** ttlSecondsAfterFinished has passed: delete the job and its history. */
  readonly delete: boolean;
  readonly startedAtMs?: number;
  readonly finishedAtMs?: number;
  /** Retries are held back until then (Kubernetes' backoff). */
  readonly backoffUntilMs?: number;
  /** Plan again at this time at the latest (backoff end, deadline, ttl); undefined = on events only. */
  readonly wakeAtMs?: number;
  readonly active: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly completedIndexes: readonly number[];
  readonly failedIndexes: readonly number[];
}

/** Kubernetes Job: 10 s after the first failure, doubling, at most 6 min. */
export const RETRY_BACKOFF = Object.freeze({ initialMs: 10_000, maxMs: 360_000 });

/** The env var an Indexed task gets; AGORA_JOB_INDEX (the proto's name) carries the same value. */
export const INDEX_ENV = 'AGORA_TASK_INDEX';

/** The retry backoff (options of the framework; tests shorten it). */
export interface RetryBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

export interface PlanOptions {
  /** Default RETRY_BACKOFF (Kubernetes' 10 s doubling to 6 min). */
  readonly backoff?: RetryBackoff;
  /** How long an unreachable task keeps its index (default UNREACHABLE_TIMEOUT_MS). */
  readonly unreachableTimeoutMs?: number;
}


/** An unreachable task past the timeout: no longer counted as running; it is killed and replaced. */
function givenUp(task: JobTaskRecord, now: number, timeoutMs: number): boolean {
  return task.state === 'TASK_UNREACHABLE' && now - (task.unreachableSinceMs ?? now) >= timeoutMs;
}

export function retryDelayMs(consecutiveFailures: number, backoff: RetryBackoff = RETRY_BACKOFF): number {
  if (consecutiveFailures <= 0) return 0;
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(consecutiveFailures - 1, 30));
}

/** Did this task fail (count against backoffLimit)? Kills the framework asked for do not. */
export function isTaskFailure(task: JobTaskRecord): boolean {
  if (!isTerminal(task.state) || task.state === 'TASK_FINISHED' || task.voided === true) return false;
  return !(task.state === 'TASK_KILLED' && task.killRequested === true);
}

interface Tally {
  readonly active: readonly JobTaskRecord[];
  /** Unreachable for longer than the timeout: to kill; their places are launched again. */
  readonly givenUp: readonly JobTaskRecord[];
  /** When the next unreachable task is given up. */
  readonly nextGiveUpMs: number | undefined;
  readonly succeeded: number;
  readonly failures: readonly JobTaskRecord[];
  /** Indexed: indexes with a success (each counted once). */
  readonly doneIndexes: ReadonlySet<number>;
  readonly activeIndexes: ReadonlySet<number>;
  readonly failedIndexes: ReadonlySet<number>;
  /** Failures after the last success (or since the start): drives the retry backoff. */
  readonly consecutiveFailures: number;
  readonly lastFailureMs: number;
}

function tally(spec: JobSpecDoc, tasks: readonly JobTaskRecord[], now: number, unreachableTimeoutMs: number): Tally {
  const live = tasks.filter((t) => !isTerminal(t.state));
  const active = live.filter((t) => !givenUp(t, now, unreachableTimeoutMs));
  const gone = live.filter((t) => givenUp(t, now, unreachableTimeoutMs));
  let nextGiveUpMs: number | undefined;
  for (const t of active) {
    if (t.state !== 'TASK_UNREACHABLE') continue;
    const at = (t.unreachableSinceMs ?? now) + unreachableTimeoutMs;
    nextGiveUpMs = Math.min(nextGiveUpMs ?? at, at);
  }
  const failures = tasks.filter(isTaskFailure);
  const doneIndexes = new Set<number>();
  const activeIndexes = new Set<number>();
  const failedIndexes = new Set<number>();
  let succeeded = 0;
  for (const t of tasks) {
    if (t.state === 'TASK_FINISHED') {
      if (spec.completionMode === 'INDEXED') {
        // A late duplicate success of an index that already succeeded counts once.
        if (t.index !== undefined && t.index < spec.completions) doneIndexes.add(t.index);
      } else succeeded++;
    }
  }
  for (const t of active) if (t.index !== undefined) activeIndexes.add(t.index);
  for (const t of failures) if (t.index !== undefined && !doneIndexes.has(t.index)) failedIndexes.add(t.index);
  if (spec.completionMode === 'INDEXED') succeeded = doneIndexes.size;
  const lastSuccessMs = latest(tasks.filter((t) => t.state === 'TASK_FINISHED'));
  const recent = failures.filter((t) => endOf(t) >= lastSuccessMs);
  return {
    active,
    givenUp: gone,
    nextGiveUpMs,
    succeeded,
    failures,
    doneIndexes,
    activeIndexes,
    failedIndexes,
    consecutiveFailures: recent.length,
    lastFailureMs: latest(recent),
  };
}

function endOf(t: JobTaskRecord): number {
  return t.finishedAtMs ?? t.launchedAtMs;
}

function latest(tasks: readonly JobTaskRecord[]): number {
  let out = -Infinity;
  for (const t of tasks) out = Math.max(out, endOf(t));
  return out;
}

/** Decide what to do for one job now. */
export function planJob(spec: JobSpecDoc, state: JobState, now: number, options: PlanOptions = {}): JobPlan {
  const t = tally(spec, state.tasks, now, options.unreachableTimeoutMs ?? UNREACHABLE_TIMEOUT_MS);
  const counts = {
    active: t.active.length,
    succeeded: t.succeeded,
    failed: t.failures.length,
    completedIndexes: [...t.doneIndexes].sort((a, b) => a - b),
    failedIndexes: [...t.failedIndexes].sort((a, b) => a - b),
  };
  const activeIds = [...t.active, ...t.givenUp].map((x) => x.taskId);
  if (state.finishedAtMs !== undefined && (state.phase === 'JOB_SUCCEEDED' || state.phase === 'JOB_FAILED')) {
    return finished(spec, state.phase, state.reason, state.finishedAtMs, state.startedAtMs, activeIds, now, counts);
  }
  if (spec.suspend) {
    return { ...counts, phase: 'JOB_SUSPENDED', message: 'suspended', launch: [], gang: spec.gang, kill: activeIds, delete: false };
  }
  const startedAtMs = state.startedAtMs ?? now;
  if (t.failures.length > spec.backoffLimit) {
    return finished(spec, 'JOB_FAILED', 'BackoffLimitExceeded', now, startedAtMs, activeIds, now, counts);
  }
  const deadlineMs = spec.activeDeadlineSeconds === undefined ? undefined : startedAtMs + spec.activeDeadlineSeconds * 1000;
  if (deadlineMs !== undefined && now >= deadlineMs) {
    return finished(spec, 'JOB_FAILED', 'DeadlineExceeded', now, startedAtMs, activeIds, now, counts);
  }
  if (t.succeeded >= spec.completions) {
    return finished(spec, 'JOB_SUCCEEDED', undefined, now, startedAtMs, activeIds, now, counts);
  }
  const backoffUntil = t.consecutiveFailures > 0 ? t.lastFailureMs + retryDelayMs(t.consecutiveFailures, options.backoff) : undefined;
  const waiting = backoffUntil !== undefined && now < backoffUntil;
  const launch = waiting ? [] : launches(spec, t, state.tasks);
  const wakeAtMs = minOf(waiting ? backoffUntil : undefined, deadlineMs, t.nextGiveUpMs);
  const phase: JobPhaseName = t.active.length > 0 ? 'JOB_RUNNING' : 'JOB_PENDING';
  const message = waiting
    ? `retrying after ${t.consecutiveFailures} failure${t.consecutiveFailures === 1 ? '' : 's'}: backoff until ${new Date(backoffUntil).toISOString()}`
    : `${t.succeeded} of ${spec.completions} succeeded`;
  return {
    ...counts,
    phase,
    message,
    launch,
    gang: spec.gang,
    kill: [...surplus(spec, t), ...t.givenUp.map((x) => x.taskId)],
    delete: false,
    startedAtMs,
    ...(waiting ? { backoffUntilMs: backoffUntil } : {}),
    ...(wakeAtMs === undefined ? {} : { wakeAtMs }),
  };
}

function launches(spec: JobSpecDoc, t: Tally, tasks: readonly JobTaskRecord[]): LaunchDecision[] {
  // A gang launches whole waves: only when none of the previous wave still runs.
  if (spec.gang && t.active.length > 0) return [];
  if (spec.completionMode === 'NON_INDEXED') {
    // Kubernetes: at most min(parallelism, completions left) at once, so no more than needed run.
    const n = Math.max(0, Math.min(spec.parallelism, spec.completions - t.succeeded) - t.active.length);
    return Array.from({ length: n }, () => ({ attempt: t.failures.length, env: {} }));
  }
  const room = Math.max(0, spec.parallelism - t.active.length);
  const out: LaunchDecision[] = [];
  if (room === 0) return out;
  const attempts = new Map<number, number>();
  for (const x of tasks) if (x.index !== undefined) attempts.set(x.index, (attempts.get(x.index) ?? 0) + 1);
  for (let i = 0; i < spec.completions && out.length < room; i++) {
    if (t.doneIndexes.has(i) || t.activeIndexes.has(i)) continue;
    const attempt = attempts.get(i) ?? 0;
    out.push({ index: i, attempt, env: { [INDEX_ENV]: String(i), AGORA_JOB_INDEX: String(i) } });
  }
  return out;
}

/**
 * Tasks no longer needed: a replacement still running for an index that has succeeded, or (not
 * indexed) more running than completions are left. It happens when a task taken for lost (the
 * master's inference) turns out, from its agent, to have finished after its replacement started:
 * the work is done once, so the replacement goes (the newest first).
 */
function surplus(spec: JobSpecDoc, t: Tally): string[] {
  if (spec.completionMode === 'INDEXED') return t.active.filter((x) => x.index !== undefined && t.doneIndexes.has(x.index)).map((x) => x.taskId);
  const extra = t.active.length - Math.max(0, spec.completions - t.succeeded);
  if (extra <= 0) return [];
  return [...t.active].sort((a, b) => b.launchedAtMs - a.launchedAtMs).slice(0, extra).map((x) => x.taskId);
}

function finished(
  spec: JobSpecDoc,
  phase: 'JOB_SUCCEEDED' | 'JOB_FAILED',
  reason: JobFailureReason | undefined,
  finishedAtMs: number,
  startedAtMs: number | undefined,
  activeIds: readonly string[],
  now: number,
  counts: Pick<JobPlan, 'active' | 'succeeded' | 'failed' | 'completedIndexes' | 'failedIndexes'>,
): JobPlan {
  const deleteAtMs = spec.ttlSecondsAfterFinished === undefined ? undefined : finishedAtMs + spec.ttlSecondsAfterFinished * 1000;
  const expired = deleteAtMs !== undefined && now >= deleteAtMs;
  return {
    ...counts,
    phase,
    ...(reason === undefined ? {} : { reason }),
    message: finishMessage(spec, phase, reason, counts.failed),
    launch: [],
    gang: spec.gang,
    kill: activeIds,
    delete: expired,
    ...(startedAtMs === undefined ? {} : { startedAtMs }),
    finishedAtMs,
    ...(deleteAtMs !== undefined && !expired ? { wakeAtMs: deleteAtMs } : {}),
  };
}

function finishMessage(spec: JobSpecDoc, phase: JobPhaseName, reason: JobFailureReason | undefined, failed: number): string {
  if (phase === 'JOB_SUCCEEDED') return `${spec.completions} of ${spec.completions} succeeded`;
  if (reason === 'DeadlineExceeded') return `deadline exceeded: still active after ${spec.activeDeadlineSeconds} s`;
  return `backoff limit ${spec.backoffLimit} exceeded: ${failed} failed task${failed === 1 ? '' : 's'}`;
}

function minOf(...values: (number | undefined)[]): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length === 0 ? undefined : Math.min(...defined);
}
