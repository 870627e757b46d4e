// Restart backoff and failure accounting (pure). A failed launch of a service delays its next
// launch by seconds × factor^(failures − 1), capped at maxLaunchDelaySeconds (Marathon's rule and
// defaults: 1 s, 1.15, 300 s). A new version resets it, and so does a task of the target version
// that was started after the last failure and has stayed healthy for a while.
import type { TaskState } from '../../core/task-state.js';
import { activeDeployment, specOf, type BackoffState, type DeploymentRecord, type ServiceRecord, type TaskView } from './model.js';
import type { ServiceSpecDoc } from './spec.js';

/** The delay after the `failures`-th consecutive failure. */
export function backoffDelayMs(policy: ServiceSpecDoc['backoff'], failures: number): number {
  if (failures <= 0) return 0;
  const seconds = Math.min(policy.maxLaunchDelaySeconds, policy.seconds * policy.factor ** (failures - 1));
  return Math.round(seconds * 1000);
}

/**
 * Whether an ending counts as a failed launch. Exits (even with 0: a service should not end),
 * errors and health-check kills do; kills we asked for do not; tasks lost with their agent do not
 * either — the agent failed, not the task — and are replaced at once.
 */
export function isFailure(state: TaskState, reason: string, killRequested: boolean): boolean {
  switch (state) {
    case 'TASK_FINISHED':
    case 'TASK_FAILED':
    case 'TASK_ERROR':
      return true;
    case 'TASK_KILLED':
      return !killRequested && reason !== 'REASON_KILLED_BY_FRAMEWORK';
    default:
      return false;
  }
}

/** Account for a task that ended: the service's backoff, and its deployment's failure count. */
export function taskEnded(
  record: ServiceRecord,
  task: TaskView,
  ending: { readonly state: TaskState; readonly reason: string },
  now: number,
): { backoff: BackoffState; deployment: DeploymentRecord | undefined; failure: boolean } {
  const dep = activeDeployment(record);
  if (!isFailure(ending.state, ending.reason, task.killRequestedAtMs !== undefined)) return { backoff: record.backoff, deployment: dep, failure: false };
  const policy = (specOf(record, record.version) ?? specOf(record, task.version))!.backoff;
  const failures = record.backoff.failures + 1;
  const backoff = { failures, untilMs: now + backoffDelayMs(policy, failures), lastFailureAtMs: now };
  const deployment = dep !== undefined && dep.version === task.version ? { ...dep, failures: dep.failures + 1 } : dep;
  return { backoff, deployment, failure: true };
}

export function maybeResetBackoff(backoff: BackoffState, live: readonly TaskView[], record: ServiceRecord, now: number, resetMs: number): BackoffState {
  if (backoff.failures === 0) return backoff;
  const steady = live.some(
    (t) => t.version === record.version && t.healthySinceMs !== undefined && t.stagedAtMs >= backoff.lastFailureAtMs && now - t.healthySinceMs >= resetMs,
  );
  return steady ? { failures: 0, untilMs: 0, lastFailureAtMs: backoff.lastFailureAtMs } : backoff;
}
