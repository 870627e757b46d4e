// What a launched TaskInfo may ask for, beyond its resources: ids that fit a directory name on the
// agent, and durations the agent can honour (core/limits.ts says why each bound). Checked at the
// master, so a task the agent could not run as asked gets TASK_ERROR naming the field instead of a
// sandbox that cannot be made (ENAMETOOLONG, the task stuck in STAGING) or a timer that fires at
// once (a kill grace of 30 days became SIGKILL after 4 ms).
import { validateId } from '../core/ids.js';
import { MAX_CHECK_SECONDS, MAX_GRACE_SECONDS, MAX_LIFETIME_SECONDS, optionalSeconds } from '../core/limits.js';
import type { HealthCheck__Output, TaskInfo__Output } from '../proto/index.js';

/** Throws InvalidArgumentError naming `${field}.<the part at fault>`. */
export function checkTaskBounds(task: TaskInfo__Output, field: string): void {
  validateId(task.taskId, `${field}.taskId`);
  if (task.executorId) validateId(task.executorId, `${field}.executorId`);
  optionalSeconds(task.killPolicy?.gracePeriodSeconds, `${field}.killPolicy.gracePeriodSeconds`, { max: MAX_GRACE_SECONDS });
  optionalSeconds(task.maxCompletionTimeSeconds, `${field}.maxCompletionTimeSeconds`, { max: MAX_LIFETIME_SECONDS });
  if (task.healthCheck) checkCheck(task.healthCheck, `${field}.healthCheck`);
  if (task.readinessCheck) checkCheck(task.readinessCheck, `${field}.readinessCheck`);
  if (task.fake) {
    optionalSeconds(task.fake.durationSeconds, `${field}.fake.durationSeconds`, { max: MAX_LIFETIME_SECONDS });
    optionalSeconds(task.fake.startupSeconds, `${field}.fake.startupSeconds`, { max: MAX_CHECK_SECONDS });
  }
}

function checkCheck(check: HealthCheck__Output, field: string): void {
  optionalSeconds(check.delaySeconds, `${field}.delaySeconds`, { max: MAX_CHECK_SECONDS });
  // An interval or timeout of 0 would probe back to back, for ever.
  optionalSeconds(check.intervalSeconds, `${field}.intervalSeconds`, { max: MAX_CHECK_SECONDS, positive: true });
  optionalSeconds(check.timeoutSeconds, `${field}.timeoutSeconds`, { max: MAX_CHECK_SECONDS, positive: true });
  optionalSeconds(check.gracePeriodSeconds, `${field}.gracePeriodSeconds`, { max: MAX_CHECK_SECONDS });
}
