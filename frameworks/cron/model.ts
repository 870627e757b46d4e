// What the cron framework persists about one cron job (one JSON value per job in its
// FrameworkState, written with compare-and-set): the spec and its version, the planner's
// CronState (lastScheduleTime and the runs), each run's task per attempt, and recent skips.
// Runs extend the planner's CronRun, so the record's runs feed plan() as they are.
import type { CronRun } from './planner.js';
import type { CronJobSpec } from './spec.js';

/** One launch of a run's task. Written before the launch, so a new leader reconciles it instead of launching again. */
export interface AttemptTask {
  /** The run's attempt this task is (1 = first). */
  readonly attempt: number;
  readonly taskId: string;
  readonly agentId: string;
  readonly launchedAt: number;
  /** When the task was seen RUNNING (absent: never seen running). */
  readonly runningAt?: number;
  /** When it ended (absent: live, or not heard of since). */
  readonly finishedAt?: number;
  /** Its terminal state once it ended. */
  readonly state?: string;
  readonly exitCode?: number;
  readonly message?: string;
  /** Its end is the master's inference (sdk/task-ends.ts): the agent's own end replaces it. */
  readonly inferred?: boolean;
  /** It never ran (sdk/task-outcome.ts): no attempt; its attempt was launched again with a new task. */
  readonly voided?: boolean;
  /**
   * Its agent stopped answering then (TASK_UNREACHABLE: the framework is partition-aware). The task
   * may still run, so its run stays active; after UNREACHABLE_TIMEOUT_MS it is given up (runs.ts).
   */
  readonly unreachableSince?: number;
}

export interface RunRecord extends CronRun {
  /** Started by `agora run` (Trigger), not by the schedule or the parents. */
  readonly manual?: boolean;
  /** The tasks launched for this run, in launch order. */
  readonly tasks: readonly AttemptTask[];
  readonly message: string;
  /** The latest attempt's exit code, once it ended. */
  readonly exitCode?: number;
}

/** Scheduled times that did not run (planner skip decisions), newest last; only a few are kept. */
export interface SkipRecord {
  readonly reason: string;
  readonly first: number;
  readonly last: number;
  readonly count: number;
  readonly message: string;
  readonly at: number;
}

export interface CronJobRecord {
  readonly name: string;
  readonly spec: CronJobSpec;
  /** 'v1', 'v2', … — a new one for every change of the spec (suspend included). */
  readonly version: string;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  readonly lastScheduleTime: number;
  /** When a run last succeeded (kept when history trims the run away). */
  readonly lastSuccessfulMs: number;
  /** When a run last failed for good, no retry to come (absent in records written before it was kept; cron/book.ts stamps it). */
  readonly lastFailedMs?: number;
  readonly runs: readonly RunRecord[];
  readonly skipped: readonly SkipRecord[];
}

export const MAX_SKIPS_KEPT = 5;

/** The task of the run's current attempt, if one was launched (a voided one never ran: it is not). */
export function currentTask(run: RunRecord): AttemptTask | undefined {
  return run.tasks.findLast((t) => t.attempt === run.attempts && t.voided !== true);
}

/** A run waiting for an offer: pending, and no task launched for its current attempt. */
export function needsLaunch(run: RunRecord): boolean {
  return run.state === 'pending' && currentTask(run) === undefined;
}

/** Tasks that may still be running (launched, no end heard of). */
export function liveTasks(run: RunRecord): AttemptTask[] {
  return run.tasks.filter((t) => t.finishedAt === undefined);
}

export function nextVersion(version: string | undefined): string {
  const n = Number(/^v(\d+)$/.exec(version ?? '')?.[1] ?? 0);
  return `v${n + 1}`;
}
