// What a run's task asks of an offer (a PendingTask for sdk matchOffers) and the TaskInfo it is
// launched with (pure). The task sees the template's env plus AGORA_CRONJOB, AGORA_RUN_ID and
// AGORA_SCHEDULED_TIME (ISO 8601), and carries the labels agora.cronjob and agora.run.
import { Resources } from '../../core/resources.js';
import { resourcesToWire } from '../../core/wire.js';
import type { CommandInfo, TaskInfo } from '../../proto/index.js';
import type { PendingTask, PortRequest, TaskPlacement } from '../../sdk/offers.js';
import { checkToWire } from '../services/spec-checks.js';
import { compact } from '../services/spec-fields.js';
import { container } from '../services/tasks.js';
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
  const ports = placement.ports.map((number, i) => {
    const p = task.ports[i]!;
    return { number, name: p.name, protocol: p.protocol, labels: { ...p.labels } };
  });
  return {
    name: spec.name,
    taskId,
    agentId,
    resources: resourcesToWire(placement.resources),
    command: command(placement.task),
    ...(task.container ? { container: container(task, placement.ports) } : {}),
    ...(task.healthCheck ? { healthCheck: checkToWire(task.healthCheck) } : {}),
    killPolicy: { gracePeriodSeconds: task.killGracePeriodSeconds },
    labels: { ...task.labels, 'agora.cronjob': spec.name, 'agora.run': runId },
    ...(ports.length > 0 ? { discovery: { name: spec.name, ports, labels: {} } } : {}),
  };
}

function command(p: PendingRun): CommandInfo {
  const task = p.spec.task;
  const env = { ...task.env, AGORA_CRONJOB: p.spec.name, AGORA_RUN_ID: p.runId, AGORA_SCHEDULED_TIME: new Date(p.scheduledTime).toISOString() };
  const base = {
    environment: { variables: Object.entries(env).map(([name, value]) => ({ name, value })) },
    user: task.user,
    uris: task.fetch.map((f) => ({ ...f })),
  };
  if (task.command !== '') return { ...base, shell: true, value: task.command };
  return { ...base, shell: false, value: '', arguments: [...task.args] };
}
