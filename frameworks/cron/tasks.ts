// What a run's task asks of an offer (a PendingTask for sdk matchOffers) and the TaskInfo it is
// launched with (pure). The task sees the template's env plus AGORA_CRONJOB, AGORA_RUN_ID and
// AGORA_SCHEDULED_TIME (ISO 8601), and carries the labels agora.cronjob and agora.run.
import { Resources } from '../../core/resources.js';
import { resourcesToWire } from '../../core/wire.js';
import type { TaskInfo } from '../../proto/index.js';
import type { PendingTask, PortRequest, TaskPlacement } from '../../sdk/offers.js';
import { checkToWire } from '../services/spec-checks.js';
import { compact } from '../services/spec-fields.js';
import { commandInfo, container, discoveryPorts } from '../services/tasks.js';
import type { RunRecord } from './model.js';
import type { CronJobSpec } from './spec.js';

/** One run's current attempt, waiting for an offer. */
export interface PendingRun extends PendingTask {
  readonly job: string;
  readonly runId: string;
  readonly attempt: number;
  readonly scheduledTime: number;
  readonly spec: CronJobSpec;
}

export function pendingRun(spec: CronJobSpec, run: RunRecord, defaultRole: string): PendingRun {
  const r = spec.task.resources;
  const resources = Resources.fromScalars(compact({ cpus: r.cpus, mem: r.mem, disk: r.disk || undefined, gpus: r.gpus || undefined }) as Record<string, number>);
  const ports: PortRequest[] = spec.task.ports.map((p) => compact({ name: p.name === '' ? undefined : p.name, number: p.number }));
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
  };
}

/** `<run id>.<attempt>.<random>`: readable, and new for every launch. */
export function attemptTaskId(runId: string, attempt: number, random: string): string {
  return `${runId}.${attempt}.${random}`;
}

export function taskInfo(taskId: string, agentId: string, placement: TaskPlacement<PendingRun>): TaskInfo {
  const { spec, runId } = placement.task;
  const task = spec.task;
  const ports = discoveryPorts(task, placement.ports);
  return {
    name: spec.name,
    taskId,
    agentId,
    resources: resourcesToWire(placement.resources),
    command: commandInfo(task, { ...task.env, AGORA_CRONJOB: spec.name, AGORA_RUN_ID: runId, AGORA_SCHEDULED_TIME: new Date(placement.task.scheduledTime).toISOString() }),
    ...(task.container ? { container: container(task, placement.ports) } : {}),
    ...(task.healthCheck ? { healthCheck: checkToWire(task.healthCheck) } : {}),
    killPolicy: { gracePeriodSeconds: task.killGracePeriodSeconds },
    labels: { ...task.labels, 'agora.cronjob': spec.name, 'agora.run': runId },
    ...(ports.length > 0 ? { discovery: { name: spec.name, ports, labels: {} } } : {}),
  };
}
