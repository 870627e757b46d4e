// What a task's end says about the work (pure): one classification for every framework, so "did
// the task run?" has one answer.
//
//   state                         reached RUNNING?   outcome
//   FINISHED                      any                succeeded
//   FAILED, ERROR                 any                failed
//   KILLED, asked for             any                killed      (the framework stopped it)
//   KILLED, not asked for         any                failed      (the agent killed it: a health
//                                                                 check, a limit, a deadline)
//   LOST, GONE, DROPPED, UNKNOWN  no                 never-ran
//   LOST, GONE, DROPPED, UNKNOWN  yes                lost
//
// The rule for a task that never ran is Mesos's and Marathon's: a launch the master dropped, or a
// task lost before it was seen running, is not the task's fault — nothing of it ran, or nothing of
// it is known to have — so it is launched again and counted as no attempt. Kubernetes agrees in
// spirit: a pod that was never scheduled, or a disruption before it started, does not count
// towards a Job's backoffLimit. A task that was seen running and is then lost did run: what that
// means is the workload's call (a run-to-completion attempt that was lost counts against its
// retries, as a Kubernetes Job's pod failure does; a service instance lost with its agent is
// replaced without a restart backoff, as Marathon does).
//
// A `lost` or `never-ran` end from the master may be its inference (sdk/task-ends.ts): the agent's
// own end, when it comes, replaces it and the task is classified again.
import type { TaskState } from '../core/task-state.js';

export type TaskOutcome = 'succeeded' | 'failed' | 'killed' | 'lost' | 'never-ran';

export interface TaskEnd {
  readonly state: TaskState | string;
  /** The status's reason (REASON_KILLED_BY_FRAMEWORK says a kill was asked for). */
  readonly reason?: string | null | undefined;
  /** The task was seen TASK_RUNNING before this end. */
  readonly ran: boolean;
  /** The framework asked for this task to be killed. */
  readonly killRequested?: boolean;
}

const GONE_WITHOUT_A_WORD: ReadonlySet<string> = new Set(['TASK_LOST', 'TASK_GONE', 'TASK_DROPPED', 'TASK_UNKNOWN']);

/** The outcome of a task's end; undefined while the task is not over (UNREACHABLE included: it may come back). */
export function classifyEnd(end: TaskEnd): TaskOutcome | undefined {
  const state = String(end.state);
  if (state === 'TASK_FINISHED') return 'succeeded';
  if (state === 'TASK_FAILED' || state === 'TASK_ERROR') return 'failed';
  if (state === 'TASK_KILLED') return end.killRequested === true || end.reason === 'REASON_KILLED_BY_FRAMEWORK' ? 'killed' : 'failed';
  if (GONE_WITHOUT_A_WORD.has(state)) return end.ran ? 'lost' : 'never-ran';
  return undefined;
}

/** Nothing of the task ran (as far as anyone knows): launch it again, count no attempt. */
export function neverRan(end: TaskEnd): boolean {
  return classifyEnd(end) === 'never-ran';
}
