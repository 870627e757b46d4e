// Wire views (workload.proto) of a cron job: its Workload with the spec in proto3 JSON form
// (camelCase, as CronJobSpec) and CronJobStatus — last and next schedule, the last success, the
// active runs and the history (finished runs and recent skips, newest first).
import type { CronJobRun, CronJobSpec as WireSpec, CronJobStatus, JobPhase, TaskTemplate as WireTask, Workload } from '../../proto/index.js';
import { checkToWire } from '../common/checks.js';
import { needsLaunch, type CronJobRecord, type RunRecord, type SkipRecord } from './model.js';
import { activeRuns } from './planner.js';
import { scheduleOf, type CronJobSpec, type TaskTemplate } from './spec.js';
import type { CronFigures } from '../workload-figures.js';

export function workloadView(record: CronJobRecord, now: number, unplaced?: string): Workload {
  return {
    kind: 'CRONJOB',
    name: record.name,
    version: record.version,
    createdAtMs: record.createdAtMs,
    updatedAtMs: record.updatedAtMs,
    cronjob: specToWire(record.spec),
    cronjobStatus: statusView(record, now, unplaced),
  };
}

export function statusView(record: CronJobRecord, now: number, unplaced?: string): CronJobStatus {
  const { spec } = record;
  const active = new Set(activeRuns(spec, record.runs).map((r) => r.id));
  const schedule = spec.suspend ? undefined : scheduleOf(spec);
  const byNewest = (a: { at: number }, b: { at: number }): number => b.at - a.at;
  const history = [
    ...record.runs.filter((r) => !active.has(r.id)).map((r) => ({ at: r.startedAt, run: runView(r, false) })),
    ...record.skipped.map((s) => ({ at: s.last, run: skipView(record.name, s) })),
  ].sort(byNewest);
  return {
    lastScheduleMs: record.lastScheduleTime,
    nextScheduleMs: schedule?.nextAfter(Math.max(now, record.lastScheduleTime)) ?? 0,
    lastSuccessfulMs: record.lastSuccessfulMs,
    active: record.runs
      .filter((r) => active.has(r.id))
      .sort((a, b) => b.startedAt - a.startedAt)
      .map((r) => runView(r, true, unplaced)),
    history: history.map((h) => h.run),
  };
}

/** A cron job's figures for the frameworks host's /metrics. */
export function cronFigures(record: CronJobRecord, now: number, tally: CronFigures['runs'] | undefined): CronFigures {
  const { spec } = record;
  const schedule = spec.suspend ? undefined : scheduleOf(spec);
  const next = schedule?.nextAfter(Math.max(now, record.lastScheduleTime));
  const after = next === undefined ? undefined : schedule?.nextAfter(next);
  return {
    name: record.name,
    createdMs: record.createdAtMs,
    lastScheduleMs: record.lastScheduleTime,
    lastSuccessMs: record.lastSuccessfulMs,
    lastFailureMs: record.lastFailedMs ?? 0,
    nextScheduleMs: next,
    intervalMs: next === undefined || after === undefined ? undefined : after - next,
    activeRuns: activeRuns(spec, record.runs).length,
    runs: { succeeded: tally?.succeeded ?? 0, failed: tally?.failed ?? 0, skipped: tally?.skipped ?? 0 },
  };
}

const PHASES: Record<RunRecord['state'], JobPhase> = { pending: 'JOB_PENDING', running: 'JOB_RUNNING', succeeded: 'JOB_SUCCEEDED', failed: 'JOB_FAILED' };

export function runView(run: RunRecord, active: boolean, unplaced?: string): CronJobRun {
  // A failed run with a retry to come is still active: pending its next attempt.
  const phase = active && run.state === 'failed' ? 'JOB_PENDING' : PHASES[run.state];
  const waiting = needsLaunch(run) && unplaced;
  return {
    id: run.id,
    scheduledForMs: run.scheduledTime,
    startedAtMs: run.startedAt,
    finishedAtMs: active ? 0 : (run.finishedAt ?? 0),
    phase,
    attempts: run.attempts,
    // A task that never ran (voided) was no attempt: the run's tasks are those that may have run.
    taskIds: run.tasks.filter((t) => t.voided !== true).map((t) => t.taskId),
    message: waiting ? `waiting for an offer: ${unplaced}` : run.message,
    manual: run.manual === true,
    ...(run.exitCode === undefined ? {} : { exitCode: run.exitCode }),
  };
}

function skipView(name: string, s: SkipRecord): CronJobRun {
  const times = s.count > 1 ? `${s.count} scheduled times from ${new Date(s.first).toISOString()} to ${new Date(s.last).toISOString()}` : `scheduled time ${new Date(s.first).toISOString()}`;
  return {
    id: `${name}-skipped-${Math.floor(s.last / 1000)}`,
    scheduledForMs: s.last,
    startedAtMs: 0,
    finishedAtMs: 0,
    phase: 'JOB_SKIPPED',
    attempts: 0,
    taskIds: [],
    message: `${times} skipped (${s.reason}): ${s.message}`,
    manual: false,
  };
}

export function specToWire(spec: CronJobSpec): WireSpec {
  return {
    name: spec.name,
    schedule: spec.schedule,
    timeZone: spec.timeZone,
    concurrencyPolicy: spec.concurrencyPolicy,
    ...(spec.startingDeadlineSeconds === undefined ? {} : { startingDeadlineSeconds: spec.startingDeadlineSeconds }),
    retries: spec.retries,
    backoff: { ...spec.backoff },
    ...(spec.activeDeadlineSeconds === undefined ? {} : { activeDeadlineSeconds: spec.activeDeadlineSeconds }),
    successfulJobsHistoryLimit: spec.successfulJobsHistoryLimit,
    failedJobsHistoryLimit: spec.failedJobsHistoryLimit,
    suspend: spec.suspend,
    after: [...spec.after],
    task: taskToWire(spec.task),
    labels: { ...spec.labels },
  };
}

function taskToWire(task: TaskTemplate): WireTask {
  return {
    command: task.command,
    args: [...task.args],
    container: task.container ? { ...task.container, parameters: [...task.container.parameters], volumes: [...task.container.volumes] } : null,
    resources: { ...task.resources },
    ports: task.ports.map((p) => ({ ...p, labels: { ...p.labels } })),
    env: { ...task.env },
    labels: { ...task.labels },
    constraints: task.constraints.map((c) => ({ field: c.field, operator: c.operator, value: c.value ?? '' })),
    role: task.role,
    killGracePeriodSeconds: task.killGracePeriodSeconds,
    fetch: task.fetch.map((f) => ({ ...f })),
    user: task.user,
    healthCheck: task.healthCheck ? checkToWire(task.healthCheck) : null,
    ...(task.envFrom ? { envFrom: { ...task.envFrom } } : {}),
    ...(task.files ? { files: task.files.map((f) => ({ ...f })) } : {}),
  };
}
