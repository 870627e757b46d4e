// Wire views (workload.proto) of a service: its Workload (spec of the current version with the
// current count, and ServiceStatus), its deployments with steps, its instances and its endpoints.
import type { Deployment, DeploymentStep, Endpoint, Instance, ServiceStatus, TaskFailure, Workload } from '../../proto/index.js';
import { activeDeployment, specOf, type DeploymentRecord, type ServiceRecord, type TaskFailureRecord, type TaskView } from './model.js';
import { backoffUntilMs } from './backoff.js';
import { isAvailable, isLive, rolloutCounts } from './planner.js';
import { specToWire } from './spec.js';
import type { ServiceFigures } from '../workload-figures.js';

/** Why instances wait: the planner's reason, or why offers did not fit them. */
export interface Notes {
  readonly waiting: string;
  readonly unplaced: string;
}

export function workloadView(record: ServiceRecord, tasks: readonly TaskView[], notes: Notes | undefined): Workload {
  const spec = specOf(record, record.version)!;
  return {
    kind: 'SERVICE',
    name: record.name,
    version: record.version,
    createdAtMs: record.createdAtMs,
    updatedAtMs: record.updatedAtMs,
    service: specToWire({ ...spec, instances: record.instances }),
    serviceStatus: statusView(record, tasks, notes),
  };
}

/** Running tasks; of them healthy (or unchecked), unhealthy, ready (available): the status and /metrics agree. */
function runningCounts(record: ServiceRecord, tasks: readonly TaskView[]): { running: number; healthy: number; unhealthy: number; ready: number } {
  const running = tasks.filter((t) => isLive(t) && t.state === 'TASK_RUNNING');
  const healthOk = (t: TaskView): boolean => !specOf(record, t.version)?.healthCheck || t.healthy === true;
  return {
    running: running.length,
    healthy: running.filter(healthOk).length,
    unhealthy: running.filter((t) => t.healthy === false).length,
    ready: running.filter((t) => isAvailable(t, specOf(record, t.version))).length,
  };
}

/** A service's figures for the frameworks host's /metrics. */
export function serviceFigures(record: ServiceRecord, tasks: readonly TaskView[], restarts: number): ServiceFigures {
  const { running, healthy, ready } = runningCounts(record, tasks);
  return { name: record.name, desired: record.instances, running, healthy, ready, phase: record.deployments.at(-1)?.phase ?? '', restarts };
}

function statusView(record: ServiceRecord, tasks: readonly TaskView[], notes: Notes | undefined): ServiceStatus {
  const live = tasks.filter(isLive);
  const active = activeDeployment(record);
  const finished = record.deployments.filter((d) => d !== active).reverse();
  return {
    instances: record.instances,
    staged: live.filter((t) => t.state === 'TASK_STAGING' || t.state === 'TASK_STARTING').length,
    ...runningCounts(record, tasks),
    version: record.version,
    versions: record.versions.map((v) => ({ version: v.version, createdAtMs: v.createdAtMs, change: v.change })),
    deployments: [...(active ? [active] : []), ...finished].map((d) => deploymentView(d, record, tasks)),
    tasks: [...tasks].sort((a, b) => a.stagedAtMs - b.stagedAtMs || (a.taskId < b.taskId ? -1 : 1)).map(cachedInstanceView),
    endpoints: endpointsOf(record, tasks),
    pendingReason: notes?.waiting || notes?.unplaced || '',
    backoffUntilMs: backoffUntilMs(record),
    autoscaleDecisions: (record.autoscaleDecisions ?? []).map((d) => ({ atMs: d.at, from: d.from, to: d.to, reason: d.reason })),
    lastFailure: lastFailureView(record.lastFailure),
  };
}

function lastFailureView(f: TaskFailureRecord | undefined): TaskFailure | null {
  if (f === undefined) return null;
  return { taskId: f.taskId, atMs: f.atMs, state: f.state, reason: f.reason as TaskFailure['reason'], message: f.message, agentId: f.agentId, hostname: f.hostname };
}

// A task's view is immutable and kept by the book until its record or runtime changes
// (book.ts): a service's view of a thousand tasks, read by every poll, reuses the instances of the
// tasks that did not change (as batch/views.ts does).
const instances = new WeakMap<TaskView, Instance>();

function cachedInstanceView(t: TaskView): Instance {
  let view = instances.get(t);
  if (view === undefined) instances.set(t, (view = instanceView(t)));
  return view;
}

export function instanceView(t: TaskView): Instance {
  return {
    taskId: t.taskId,
    agentId: t.agentId,
    hostname: t.hostname,
    agentIp: t.ip ?? '',
    version: t.version,
    state: t.state,
    ...(t.healthy === undefined ? {} : { healthy: t.healthy }),
    ...(t.ready === undefined ? {} : { ready: t.ready }),
    ports: t.ports.map((p) => ({ number: p.number, name: p.name })),
    stagedAtMs: t.stagedAtMs,
    startedAtMs: t.startedAtMs,
    message: t.message,
    ...(t.exitCode === undefined ? {} : { exitCode: t.exitCode }),
    canary: t.canary,
  };
}

/** One per available instance (running, healthy and ready where checked, not being stopped), by task id. */
export function endpointsOf(record: ServiceRecord, tasks: readonly TaskView[]): Endpoint[] {
  return tasks
    .filter((t) => isLive(t) && t.killRequestedAtMs === undefined && isAvailable(t, specOf(record, t.version)))
    .sort((a, b) => (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0))
    .map((t) => ({
      taskId: t.taskId,
      host: t.hostname,
      ip: t.ip ?? '',
      ports: t.ports.map((p) => ({ number: p.number, name: p.name })),
      ready: true,
      ...(t.healthy === undefined ? {} : { healthy: t.healthy }),
    }));
}

export function deploymentView(d: DeploymentRecord, record: ServiceRecord, tasks: readonly TaskView[]): Deployment {
  const steps = stepsOf(d, record, tasks);
  const current = steps.findIndex((s) => !s.done);
  return {
    id: d.id,
    version: d.version,
    fromVersion: d.fromVersion,
    phase: d.phase,
    progress: d.progress,
    steps,
    currentStep: current < 0 ? Math.max(0, steps.length - 1) : current,
    startedAtMs: d.startedAtMs,
    finishedAtMs: d.finishedAtMs,
    message: d.message,
    canaryInstances: d.canary,
  };
}

function stepsOf(d: DeploymentRecord, record: ServiceRecord, tasks: readonly TaskView[]): DeploymentStep[] {
  const succeeded = d.phase === 'DEPLOYMENT_SUCCEEDED';
  const live = d === activeDeployment(record);
  const c = rolloutCounts(record, tasks);
  const n = record.instances;
  const done = (now: boolean): boolean => succeeded || (live && now);
  const steps: DeploymentStep[] = [];
  if (d.canary > 0) {
    steps.push({ action: 'canary', description: `start ${d.canary} canary instance(s) of version ${d.version}`, done: d.promoted || done(c.availableNew >= d.canary) });
    steps.push({ action: 'canary', description: 'wait for promote (or abort)', done: d.promoted || succeeded });
  }
  if (d.change === 'scale' || d.change === 'kill') {
    steps.push({ action: 'scale', description: `scale from ${d.fromInstances} to ${n} instance(s)`, done: done(c.liveNew === n) });
  } else {
    steps.push({ action: 'start', description: `start ${n} instance(s) of version ${d.version}`, done: done(c.liveNew >= n) });
  }
  if (d.initialOld > 0) steps.push({ action: 'stop', description: `stop ${d.initialOld} instance(s) of other versions`, done: done(c.oldLive === 0) });
  steps.push({ action: 'wait-healthy', description: `wait until ${n} instance(s) of version ${d.version} are available`, done: done(c.availableNew >= n) });
  return steps;
}
