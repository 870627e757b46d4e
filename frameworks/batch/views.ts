// Wire views (workload.proto) of a job: its Workload — the JobSpec in proto3 JSON form (camelCase)
// and JobStatus (phase, counts, indexes, why it waits, its tasks as Instances with index/attempt).
import type { Instance, JobSpec, JobStatus, Workload } from '../../proto/index.js';
import type { JobRecord, JobTaskEntry } from './book.js';
import type { JobPlan } from './planner.js';
import type { JobSpecDoc } from './spec.js';

export function workloadView(record: JobRecord, plan: JobPlan, waitReason: string | undefined): Workload {
  return {
    kind: 'JOB',
    name: record.name,
    version: `v${record.version}`,
    createdAtMs: record.createdAtMs,
    updatedAtMs: record.updatedAtMs,
    job: jobSpecToWire(record.spec),
    jobStatus: statusView(record, plan, waitReason),
  };
}

export function jobSpecToWire(spec: JobSpecDoc): JobSpec {
  const t = spec.task;
  return {
    name: spec.name,
    completions: spec.completions,
    parallelism: spec.parallelism,
    backoffLimit: spec.backoffLimit,
    ...(spec.activeDeadlineSeconds === undefined ? {} : { activeDeadlineSeconds: spec.activeDeadlineSeconds }),
    ...(spec.ttlSecondsAfterFinished === undefined ? {} : { ttlSecondsAfterFinished: spec.ttlSecondsAfterFinished }),
    completionMode: spec.completionMode,
    gang: spec.gang,
    priority: spec.priority,
    suspend: spec.suspend,
    labels: { ...spec.labels },
    task: {
      command: t.command,
      args: [...t.args],
      container: t.container ? { image: t.container.image, forcePull: t.container.forcePull } : null,
      resources: { ...t.resources },
      env: { ...t.env },
      labels: { ...t.labels },
      constraints: t.constraints.map((c) => ({ field: c.field, operator: c.operator, value: c.value ?? '' })),
      role: t.role,
      killGracePeriodSeconds: t.killGracePeriodSeconds,
      user: t.user,
      ...(t.envFrom ? { envFrom: { ...t.envFrom } } : {}),
      ...(t.files ? { files: t.files.map((f) => ({ ...f })) } : {}),
    },
  };
}

/** Why the job is not running (more) tasks now; '' when nothing waits. */
export function pendingReason(plan: JobPlan, waitReason: string | undefined): string {
  if (plan.phase === 'JOB_SUCCEEDED' || plan.phase === 'JOB_FAILED') return '';
  if (plan.phase === 'JOB_SUSPENDED') return 'suspended';
  if (plan.backoffUntilMs !== undefined) return plan.message;
  if (plan.launch.length === 0) return '';
  return waitReason || 'waiting for offers';
}

function statusView(record: JobRecord, plan: JobPlan, waitReason: string | undefined): JobStatus {
  const run = record.run;
  const failure = plan.phase === 'JOB_FAILED' && plan.reason !== undefined ? `${plan.reason}: ` : '';
  return {
    phase: plan.phase,
    active: plan.active,
    succeeded: plan.succeeded,
    failed: plan.failed,
    completedIndexes: [...plan.completedIndexes],
    failedIndexes: [...plan.failedIndexes],
    pendingReason: pendingReason(plan, waitReason),
    startedAtMs: run.startedAtMs ?? 0,
    completedAtMs: run.finishedAtMs ?? 0,
    tasks: inLaunchOrder(run.tasks).map(cachedInstanceView),
    message: `${failure}${plan.message}`,
    runs: record.runs,
  };
}

function byLaunch(a: JobTaskEntry, b: JobTaskEntry): number {
  return a.launchedAtMs - b.launchedAtMs || (a.index ?? 0) - (b.index ?? 0) || (a.taskId < b.taskId ? -1 : 1);
}

/** The tasks by launch time, then index, then id (as stored they mostly are already: no sort then). */
function inLaunchOrder(tasks: readonly JobTaskEntry[]): readonly JobTaskEntry[] {
  for (let i = 1; i < tasks.length; i++) if (byLaunch(tasks[i - 1]!, tasks[i]!) > 0) return [...tasks].sort(byLaunch);
  return tasks;
}

// Task entries are immutable: a job's view of thousands of tasks reuses the instances of the
// tasks that did not change.
const instances = new WeakMap<JobTaskEntry, Instance>();

function cachedInstanceView(t: JobTaskEntry): Instance {
  let view = instances.get(t);
  if (view === undefined) instances.set(t, (view = instanceView(t)));
  return view;
}

export function instanceView(t: JobTaskEntry): Instance {
  return {
    taskId: t.taskId,
    agentId: t.agentId,
    hostname: t.hostname,
    state: t.state,
    stagedAtMs: t.launchedAtMs,
    startedAtMs: t.runningAtMs ?? 0,
    message: t.message ?? '',
    ...(t.exitCode === undefined ? {} : { exitCode: t.exitCode }),
    index: t.index ?? 0,
    attempt: t.attempt,
  };
}
