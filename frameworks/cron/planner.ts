// The cron planner (pure): spec + persisted state + parents' outcomes + `now` → decisions. No I/O,
// no timers; the caller persists what it plans *before* acting (a new run record, the new
// lastScheduleTime), launches, and sets one timer for `wakeAt`. Run ids are deterministic, so a
// planner restarted on the persisted state never plans the same scheduled time twice.
//
//   state ─┐
//   spec  ─┼─► plan() ─► { start, skip, retry, kill, delete, lastScheduleTime, wakeAt }
//   now   ─┤                 │ caller: persist, then launch / kill / delete, then setTimeout(wakeAt)
//   parents┘                 └─ rules: README.md
import type { CronJobSpec, RetryBackoff } from './spec.js';
import type { CronSchedule } from './schedule.js';

export type RunState = 'pending' | 'running' | 'succeeded' | 'failed';

/** One run as persisted: a scheduled time (or a dependency trigger) and its task's attempts. */
export interface CronRun {
  readonly id: string;
  /** The time the run is for: a scheduled time, or when the last parent finished. */
  readonly scheduledTime: number;
  readonly state: RunState;
  /** Launches so far (1 after the first); a failed run is retried while attempts ≤ retries. */
  readonly attempts: number;
  /** When the run was first planned; the active deadline counts from here, over all attempts. */
  readonly startedAt: number;
  /** When the latest attempt ended (failed or succeeded runs). */
  readonly finishedAt?: number;
  /** No more retries: the run was killed (Replace, active deadline) or given up. */
  readonly gaveUp?: boolean;
  /** For a dependent run: the parents' run ids that triggered it. */
  readonly parents?: readonly string[];
}

export interface CronState {
  /** The latest scheduled time (or dependency trigger) already considered; start at creation time. */
  readonly lastScheduleTime: number;
  readonly runs: readonly CronRun[];
}

/** A parent's latest run (for `after`); absent when the parent has never run. */
export interface ParentOutcome {
  readonly runId: string;
  readonly state: RunState;
  readonly finishedAt?: number;
}

export type SkipReason = 'deadline' | 'superseded' | 'forbid';
export type KillReason = 'replace' | 'active-deadline';

export interface StartDecision {
  readonly runId: string;
  readonly scheduledTime: number;
  readonly trigger: 'schedule' | 'after';
  readonly parents?: readonly string[];
}
/** Scheduled times that will never run: `count` of them, from `first` to `last`. */
export interface SkipDecision {
  readonly reason: SkipReason;
  readonly first: number;
  readonly last: number;
  readonly count: number;
  /** True when there were more than MAX_COUNTED_MISSES (`count` and `last` cover the first ones). */
  readonly truncated: boolean;
  readonly message: string;
}
export interface RetryDecision {
  readonly runId: string;
  readonly attempt: number;
  readonly at: number;
}
export interface KillDecision {
  readonly runId: string;
  readonly reason: KillReason;
  readonly message: string;
}
export interface DeleteDecision {
  readonly runId: string;
}

export interface CronPlan {
  readonly start: readonly StartDecision[];
  readonly skip: readonly SkipDecision[];
  readonly retry: readonly RetryDecision[];
  readonly kill: readonly KillDecision[];
  readonly delete: readonly DeleteDecision[];
  /** Persist this with the new runs (it only moves forward). */
  readonly lastScheduleTime: number;
  /** When to call plan() again (undefined: only on an event — a run ending, a parent, a spec change). */
  readonly wakeAt: number | undefined;
}

export interface PlanInput {
  readonly spec: CronJobSpec;
  /** The compiled schedule (scheduleOf(spec)); undefined for a dependency-driven job. */
  readonly schedule: CronSchedule | undefined;
  readonly state: CronState;
  /** Parent name → its latest run (only for a spec with `after`). */
  readonly parents?: Readonly<Record<string, ParentOutcome | undefined>>;
  readonly now: number;
}

/** Missed times are counted up to this many (Kubernetes' figure); past it a skip says `truncated`. */
export const MAX_COUNTED_MISSES = 100;

/** The id of the run for a scheduled time: `<name>-<epoch seconds>`. */
export function runId(name: string, scheduledTime: number): string {
  return `${name}-${Math.floor(scheduledTime / 1000)}`;
}

/** The id of a dependent run, from the parents' run ids: `<name>-after-<hash>`. */
export function dependentRunId(name: string, parentRunIds: readonly string[]): string {
  let hash = 0x811c9dc5;
  for (const ch of [...parentRunIds].sort().join('\n')) {
    hash ^= ch.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${name}-after-${hash.toString(16).padStart(8, '0')}`;
}

/** The first state of a new cron job: nothing before its creation is due. */
export function initialState(now: number): CronState {
  return { lastScheduleTime: now, runs: [] };
}

/** The delay before retry `attempt` (2 = the first retry): seconds × factor^(attempt − 2), capped. */
export function retryDelayMs(backoff: RetryBackoff, attempt: number): number {
  const seconds = Math.min(backoff.maxLaunchDelaySeconds, backoff.seconds * backoff.factor ** Math.max(0, attempt - 2));
  return Math.round(seconds * 1000);
}

/** Plan what to do now. The same input always gives the same plan. */
export function plan(input: PlanInput): CronPlan {
  const { spec, state, now } = input;
  const retries = planRetries(spec, state.runs, now);
  const kills = planActiveDeadline(spec, state.runs, now);
  const due = spec.suspend ? undefined : dueTime(input);
  const start: StartDecision[] = [];
  const skip = [...(due?.skip ?? [])];
  if (due?.candidate !== undefined) {
    const c = due.candidate;
    const active = activeRuns(spec, state.runs).filter((r) => !kills.some((k) => k.runId === r.id));
    if (state.runs.some((r) => r.id === c.runId)) {
      // Planned before (the persisted record is the source of truth): never twice.
    } else if (active.length > 0 && spec.concurrencyPolicy === 'FORBID') {
      skip.push(one('forbid', c.scheduledTime, `run ${active[0]!.id} is still active (concurrencyPolicy Forbid)`));
    } else {
      if (spec.concurrencyPolicy === 'REPLACE') {
        for (const r of active) kills.push({ runId: r.id, reason: 'replace', message: `replaced by run ${c.runId} (concurrencyPolicy Replace)` });
      }
      start.push(c);
    }
  }
  const killed = new Set(kills.map((k) => k.runId));
  const retry = retries.due.filter((r) => !killed.has(r.runId));
  const lastScheduleTime = Math.max(state.lastScheduleTime, due?.considered ?? state.lastScheduleTime);
  return {
    start,
    skip,
    retry: spec.suspend ? [] : retry,
    kill: kills,
    delete: planHistory(spec, state.runs),
    lastScheduleTime,
    wakeAt: wakeAt(input, lastScheduleTime, spec.suspend ? [] : retries.later),
  };
}

interface Due {
  readonly candidate?: StartDecision;
  readonly skip: SkipDecision[];
  readonly considered?: number;
}

function dueTime(input: PlanInput): Due | undefined {
  if (input.spec.after.length > 0) return dueAfterParents(input);
  if (input.schedule === undefined) return undefined;
  return dueOnSchedule(input.spec, input.schedule, input.state.lastScheduleTime, input.now);
}

/** The latest scheduled time since the last one considered starts (within the deadline); the rest are skipped. */
function dueOnSchedule(spec: CronJobSpec, schedule: CronSchedule, last: number, now: number): Due | undefined {
  const latest = schedule.latestIn(last, now);
  if (latest === undefined) return undefined;
  const deadline = spec.startingDeadlineSeconds === undefined ? undefined : now - spec.startingDeadlineSeconds * 1000;
  const lateMessage = `missed by more than startingDeadlineSeconds (${spec.startingDeadlineSeconds} s)`;
  if (deadline !== undefined && latest < deadline) {
    return { skip: [many('deadline', schedule.between(last, latest, MAX_COUNTED_MISSES), lateMessage)], considered: latest };
  }
  const skip: SkipDecision[] = [];
  const lateEnd = deadline === undefined ? last : Math.max(last, deadline - 1);
  const late = schedule.between(last, lateEnd, MAX_COUNTED_MISSES);
  if (late.length > 0) skip.push(many('deadline', late, lateMessage));
  const earlier = schedule.between(lateEnd, latest - 1, MAX_COUNTED_MISSES);
  if (earlier.length > 0) skip.push(many('superseded', earlier, `a later scheduled time (${new Date(latest).toISOString()}) is due; only the latest missed time runs`));
  return { skip, considered: latest, candidate: { runId: runId(spec.name, latest), scheduledTime: latest, trigger: 'schedule' } };
}

/** A dependent job runs once all its parents' latest runs succeeded, each after its last trigger. */
function dueAfterParents(input: PlanInput): Due | undefined {
  const { spec, state, now } = input;
  const outcomes = spec.after.map((name) => input.parents?.[name]);
  const ready = outcomes.every((o) => o !== undefined && o.state === 'succeeded' && (o.finishedAt ?? 0) > state.lastScheduleTime);
  if (!ready) return undefined;
  const parentIds = outcomes.map((o) => o!.runId);
  const time = Math.max(...outcomes.map((o) => o!.finishedAt ?? 0));
  const deadline = spec.startingDeadlineSeconds;
  if (deadline !== undefined && time < now - deadline * 1000) {
    return { skip: [one('deadline', time, `parents finished more than startingDeadlineSeconds (${deadline} s) ago`)], considered: time };
  }
  const candidate: StartDecision = { runId: dependentRunId(spec.name, parentIds), scheduledTime: time, trigger: 'after', parents: parentIds };
  return { skip: [], considered: time, candidate };
}

/** Whether a failed run will be retried (retries left, not given up, within its active deadline). */
function retryAt(spec: CronJobSpec, run: CronRun): number | undefined {
  if (run.state !== 'failed' || run.gaveUp === true || run.attempts > spec.retries) return undefined;
  const at = (run.finishedAt ?? run.startedAt) + retryDelayMs(spec.backoff, run.attempts + 1);
  if (spec.activeDeadlineSeconds !== undefined && at >= run.startedAt + spec.activeDeadlineSeconds * 1000) return undefined;
  return at;
}

function planRetries(spec: CronJobSpec, runs: readonly CronRun[], now: number): { due: RetryDecision[]; later: number[] } {
  const due: RetryDecision[] = [];
  const later: number[] = [];
  for (const run of runs) {
    const at = retryAt(spec, run);
    if (at === undefined) continue;
    if (at <= now) due.push({ runId: run.id, attempt: run.attempts + 1, at });
    else later.push(at);
  }
  return { due, later };
}

/** Runs not finished for good: pending, running, or failed with a retry to come. */
export function activeRuns(spec: CronJobSpec, runs: readonly CronRun[]): CronRun[] {
  return runs.filter((r) => r.state === 'pending' || r.state === 'running' || retryAt(spec, r) !== undefined);
}

function planActiveDeadline(spec: CronJobSpec, runs: readonly CronRun[], now: number): KillDecision[] {
  const limit = spec.activeDeadlineSeconds;
  if (limit === undefined) return [];
  return runs
    .filter((r) => (r.state === 'pending' || r.state === 'running') && now >= r.startedAt + limit * 1000)
    .map((r) => ({ runId: r.id, reason: 'active-deadline' as const, message: `active for longer than activeDeadlineSeconds (${limit} s)` }));
}

/** Finished runs beyond the history limits, oldest first; active runs are never deleted. */
function planHistory(spec: CronJobSpec, runs: readonly CronRun[]): DeleteDecision[] {
  const active = new Set(activeRuns(spec, runs).map((r) => r.id));
  const finished = runs.filter((r) => !active.has(r.id)).sort((a, b) => b.scheduledTime - a.scheduledTime || (a.id < b.id ? -1 : 1));
  const succeeded = finished.filter((r) => r.state === 'succeeded').slice(spec.successfulJobsHistoryLimit);
  const failed = finished.filter((r) => r.state === 'failed').slice(spec.failedJobsHistoryLimit);
  return [...succeeded, ...failed].sort((a, b) => a.scheduledTime - b.scheduledTime).map((r) => ({ runId: r.id }));
}

function wakeAt(input: PlanInput, lastScheduleTime: number, retryTimes: readonly number[]): number | undefined {
  const { spec, state, now, schedule } = input;
  const times = [...retryTimes];
  if (!spec.suspend && schedule !== undefined) {
    const next = schedule.nextAfter(Math.max(now, lastScheduleTime));
    if (next !== undefined) times.push(next);
  }
  if (spec.activeDeadlineSeconds !== undefined) {
    for (const r of state.runs) {
      const end = r.startedAt + spec.activeDeadlineSeconds * 1000;
      if ((r.state === 'pending' || r.state === 'running') && end > now) times.push(end);
    }
  }
  return times.length === 0 ? undefined : Math.min(...times);
}

function one(reason: SkipReason, time: number, message: string): SkipDecision {
  return { reason, first: time, last: time, count: 1, truncated: false, message };
}

function many(reason: SkipReason, times: readonly number[], message: string): SkipDecision {
  const truncated = times.length >= MAX_COUNTED_MISSES;
  const more = truncated ? ` (at least ${times.length} times)` : '';
  return { reason, first: times[0]!, last: times[times.length - 1]!, count: times.length, truncated, message: message + more };
}
