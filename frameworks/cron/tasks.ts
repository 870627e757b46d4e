// What a run's task asks of an offer (a PendingTask for sdk matchOffers) and the TaskInfo it is
// launched with (pure). The task sees the template's env plus AGORA_CRONJOB, AGORA_RUN_ID and
// AGORA_SCHEDULED_TIME (ISO 8601), and carries the labels agora.cronjob and agora.run.
import type { TaskInfo } from '../../proto/index.js';
import type { PendingTask, TaskPlacement } from '../../sdk/offers.js';
import { portRequests, templateCapabilities, templateResources, templateTaskInfo } from '../common/task-info.js';
import type { RunRecord } from './model.js';
import type { CronJobSpec } from './spec.js';
import type { ValueResolver } from '../common/value-refs.js';

/** One run's current attempt, waiting for an offer. */
export interface PendingRun extends PendingTask {
  readonly job: string;
  readonly runId: string;
  readonly attempt: number;
  readonly scheduledTime: number;
  readonly spec: CronJobSpec;
}

export function pendingRun(spec: CronJobSpec, run: RunRecord, defaultRole: string): PendingRun {
  const resources = templateResources(spec.task);
  const ports = portRequests(spec.task);
  return {
    job: spec.name,
    runId: run.id,
    attempt: run.attempts,
    scheduledTime: run.scheduledTime,
    spec,
    resources,
    ports,
    role: spec.task.role || defaultRole,
    group: spec.name,
    constraints: spec.task.constraints,
    ...templateCapabilities(spec.task),
  };
}

/** `<run id>.<attempt>.<random>`: readable, and new for every launch. */
export function attemptTaskId(runId: string, attempt: number, random: string): string {
  return `${runId}.${attempt}.${random}`;
}

export function taskInfo(taskId: string, agentId: string, placement: TaskPlacement<PendingRun>, values?: ValueResolver): TaskInfo {
  const { spec, runId } = placement.task;
  return templateTaskInfo(
    spec.task,
    {
      taskId,
      agentId,
      name: spec.name,
      env: { AGORA_CRONJOB: spec.name, AGORA_RUN_ID: runId, AGORA_SCHEDULED_TIME: new Date(placement.task.scheduledTime).toISOString() },
      labels: { 'agora.cronjob': spec.name, 'agora.run': runId },
      ...(values ? { values } : {}),
    },
    placement,
  );
}
