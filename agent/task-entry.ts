// What the task manager keeps of each task it runs (TaskEntry) and of each it has forgotten
// (CompletedTask), and how a health or readiness check is started for it.
import type { TimerHandle } from '../core/clock.js';
import type { TaskState } from '../core/task-state.js';
import type { HealthCheck__Output, TaskInfo__Output, TaskStatus } from '../proto/index.js';
import type { Container, ContainerSpec, ExecutorKind } from './executor.js';
import type { KillCause } from './task-spec.js';
import type { UserIdentity } from './user-db.js';

/** Starts one check of a task (its health check or its readiness check); stopped when the task ends. */
export type CheckStarter = (check: HealthCheck__Output, spec: ContainerSpec, events: CheckEvents) => { stop(): void };

export interface CheckEvents {
  /** The first result, and every change. */
  onResult(ok: boolean, message: string): void;
  /** Consecutive failures reached the limit (health checks only): the task is to be killed. */
  onFailed?(message: string): void;
  /** Every check's outcome; `ignored`: a failure inside the grace period, before the first success. */
  onCheck?(healthy: boolean, ignored: boolean): void;
}

export interface TaskEntry {
  readonly frameworkId: string;
  readonly taskId: string;
  readonly info: TaskInfo__Output;
  readonly sandbox: string;
  readonly launchedAtMs: number;
  readonly executorKind: ExecutorKind;
  /** Who the task runs as; undefined when it may not run here (`refusal` says why). */
  readonly user: UserIdentity | undefined;
  /** Why the task may not run here: its user, or a TaskInfo no container spec can be made from. */
  readonly refusal: string | undefined;
  /** What the executor is given; undefined for a refused task, which never reaches one. */
  readonly spec: ContainerSpec | undefined;
  /** The task has a journal (its updates are durable); false until the launch has made one. */
  journaled: boolean;
  /** The latest state generated (set at once, so nothing reports twice). */
  state: TaskState;
  /** The latest update made durable. */
  latest: TaskStatus | undefined;
  container: Container | undefined;
  /** Why the agent is ending the task; decides the terminal state. */
  cause: KillCause | undefined;
  killing: boolean;
  healthy: boolean | undefined;
  ready: boolean | undefined;
  /** Health checks failed (counted ones: not those the grace period ignores), for /metrics. */
  healthCheckFailures: number;
  checks: { stop(): void }[];
  completionTimer: TimerHandle | undefined;
}

export interface CompletedTask {
  readonly frameworkId: string;
  readonly taskId: string;
  readonly name: string;
  readonly sandbox: string;
  readonly state: TaskState;
  readonly latest: TaskStatus | undefined;
}

export function taskKey(frameworkId: string, taskId: string): string {
  return `${frameworkId}/${taskId}`;
}
