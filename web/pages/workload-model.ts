// The Jobs API's workloads as the pages read them (JSON camelCase, enums as their names, int64 as
// numbers or strings), and the pure decisions the pages make from them: a deployment's percent and
// whether it can be promoted or aborted, a cron job's next run in words, a job's per-index rows.
// No DOM here (nor imports of browser modules, whose types would bring the DOM into the Node
// typecheck), so the unit tests run it as it is.

export interface Port {
  readonly name?: string;
  readonly number?: number;
}

export interface Instance {
  readonly taskId?: string;
  readonly agentId?: string;
  readonly hostname?: string;
  readonly version?: string;
  readonly state?: string;
  readonly healthy?: boolean;
  readonly ready?: boolean;
  readonly ports?: readonly Port[];
  readonly stagedAtMs?: number | string;
  readonly startedAtMs?: number | string;
  readonly message?: string;
  readonly exitCode?: number;
  readonly index?: number;
  readonly attempt?: number;
  readonly canary?: boolean;
}

export interface Endpoint {
  readonly taskId?: string;
  readonly host?: string;
  readonly ip?: string;
  readonly ports?: readonly Port[];
  readonly ready?: boolean;
  readonly healthy?: boolean;
}

export interface DeploymentStep {
  readonly action?: string;
  readonly description?: string;
  readonly done?: boolean;
}

export interface Deployment {
  readonly id?: string;
  readonly version?: string;
  readonly fromVersion?: string;
  readonly phase?: string;
  readonly progress?: number;
  readonly steps?: readonly DeploymentStep[];
  readonly currentStep?: number;
  readonly startedAtMs?: number | string;
  readonly finishedAtMs?: number | string;
  readonly message?: string;
  readonly canaryInstances?: number;
}

export interface ServiceStatus {
  readonly instances?: number;
  readonly staged?: number;
  readonly running?: number;
  readonly healthy?: number;
  readonly unhealthy?: number;
  readonly ready?: number;
  readonly version?: string;
  readonly versions?: readonly { readonly version?: string; readonly createdAtMs?: number | string; readonly change?: string }[];
  readonly deployments?: readonly Deployment[];
  readonly tasks?: readonly Instance[];
  readonly endpoints?: readonly Endpoint[];
  readonly pendingReason?: string;
  readonly backoffUntilMs?: number | string;
}

export interface CronJobRun {
  readonly id?: string;
  readonly scheduledForMs?: number | string;
  readonly startedAtMs?: number | string;
  readonly finishedAtMs?: number | string;
  readonly phase?: string;
  readonly attempts?: number;
  readonly taskIds?: readonly string[];
  readonly message?: string;
  readonly manual?: boolean;
  readonly exitCode?: number;
}

export interface CronJobStatus {
  readonly lastScheduleMs?: number | string;
  readonly nextScheduleMs?: number | string;
  readonly lastSuccessfulMs?: number | string;
  readonly active?: readonly CronJobRun[];
  readonly history?: readonly CronJobRun[];
}

export interface JobStatus {
  readonly phase?: string;
  readonly active?: number;
  readonly succeeded?: number;
  readonly failed?: number;
  readonly completedIndexes?: readonly number[];
  readonly failedIndexes?: readonly number[];
  readonly pendingReason?: string;
  readonly startedAtMs?: number | string;
  readonly completedAtMs?: number | string;
  readonly tasks?: readonly Instance[];
  readonly message?: string;
  readonly runs?: number;
}

interface TaskTemplate {
  readonly command?: string;
  readonly args?: readonly string[];
  readonly resources?: Readonly<Record<string, unknown>>;
}

export interface Workload {
  readonly kind?: string;
  readonly name?: string;
  readonly version?: string;
  readonly createdAtMs?: number | string;
  readonly updatedAtMs?: number | string;
  readonly service?: { readonly command?: string; readonly args?: readonly string[]; readonly instances?: number; readonly labels?: Readonly<Record<string, string>> };
  readonly cronjob?: { readonly schedule?: string; readonly timeZone?: string; readonly concurrencyPolicy?: string; readonly suspend?: boolean; readonly after?: readonly string[]; readonly task?: TaskTemplate };
  readonly job?: { readonly completions?: number; readonly parallelism?: number; readonly backoffLimit?: number; readonly completionMode?: string; readonly gang?: boolean; readonly priority?: number; readonly suspend?: boolean; readonly task?: TaskTemplate };
  readonly serviceStatus?: ServiceStatus;
  readonly cronjobStatus?: CronJobStatus;
  readonly jobStatus?: JobStatus;
}

/** A number the API may send as a string (int64), or nothing. */
export const num = (v: unknown): number => {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
};

/** DEPLOYMENT_IN_PROGRESS → "in progress". */
export function phaseText(phase: string | undefined, prefix: string): string {
  return String(phase ?? '').replace(prefix, '').replace(/_/g, ' ').toLowerCase() || 'unknown';
}

const FINISHED = new Set(['DEPLOYMENT_SUCCEEDED', 'DEPLOYMENT_FAILED', 'DEPLOYMENT_ABORTED', 'DEPLOYMENT_SUPERSEDED']);

/** The deployment still running (or paused for a canary), if any — as `agora rollout status` finds it. */
export function activeDeployment(s: ServiceStatus | undefined): Deployment | undefined {
  return (s?.deployments ?? []).find((d) => !FINISHED.has(String(d.phase ?? '')));
}

/** A deployment's progress as a whole percent, 0..100 (the API says 0..1). */
export function progressPercent(d: Deployment | undefined): number {
  const p = num(d?.progress);
  return Math.round(Math.min(1, Math.max(0, p)) * 100);
}

/** The step the deployment is at, for people ("start 2 instances of version v3"). */
export function currentStepText(d: Deployment): string {
  const steps = d.steps ?? [];
  return steps[num(d.currentStep)]?.description ?? steps.at(-1)?.description ?? '';
}

/** Promote and abort make sense only for a deployment that has not ended; promote only once paused. */
export function canaryActions(d: Deployment | undefined): { promote: boolean; abort: boolean } {
  if (!d || FINISHED.has(String(d.phase ?? ''))) return { promote: false, abort: false };
  return { promote: d.phase === 'DEPLOYMENT_PAUSED' || num(d.canaryInstances) > 0, abort: true };
}

/** The versions a rollback can go to: every version but the current one, newest first. */
export function rollbackTargets(w: Workload): string[] {
  const versions = (w.serviceStatus?.versions ?? []).map((v) => String(v.version ?? '')).filter((v) => v !== '');
  return [...new Set(versions)].filter((v) => v !== w.version).reverse();
}

/** "3 running / 2 healthy / 1 ready of 3" as the list shows it. */
export function instanceCounts(s: ServiceStatus | undefined): { wanted: number; running: number; healthy: number; ready: number } {
  return { wanted: num(s?.instances), running: num(s?.running), healthy: num(s?.healthy), ready: num(s?.ready) };
}

/**
 * The next run in words: when a cron job is suspended or runs after others, it has no next time;
 * otherwise the time in the cron job's zone and in the viewer's (the page adds "in 5m" beside it).
 */
export function nextRunText(w: Workload, viewerZone: string): string {
  const spec = w.cronjob ?? {};
  if (spec.suspend) return 'suspended: no run until resumed';
  const next = num(w.cronjobStatus?.nextScheduleMs);
  if (!next) return (spec.after ?? []).length > 0 ? `after ${(spec.after ?? []).join(', ')} succeed` : 'not scheduled';
  const zone = spec.timeZone || 'UTC';
  const there = zonedTime(next, zone);
  const here = zonedTime(next, viewerZone);
  return zone === viewerZone ? `${there} (${zone})` : `${there} ${zone} = ${here} your time (${viewerZone})`;
}

/** "2026-12-06 17:05" in an IANA zone (falls back to UTC for a zone the browser does not know). */
export function zonedTime(ms: number, zone: string): string {
  let f: Intl.DateTimeFormat;
  try {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  } catch {
    return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p['year'] ?? ''}-${p['month'] ?? ''}-${p['day'] ?? ''} ${p['hour'] ?? ''}:${p['minute'] ?? ''}`;
}

/** 90 000 → "1m 30s"; 7 200 000 → "2h". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m ${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

export interface RunRow {
  readonly id: string;
  readonly active: boolean;
  readonly manual: boolean;
  readonly outcome: string;
  readonly outcomeKind: 'ok' | 'bad' | 'wait' | 'done' | 'warn';
  readonly startedAtMs: number;
  readonly finishedAtMs: number;
  readonly took: string;
  readonly taskIds: readonly string[];
  readonly detail: string;
}

const OUTCOME: Record<string, RunRow['outcomeKind']> = { JOB_SUCCEEDED: 'ok', JOB_FAILED: 'bad', JOB_SKIPPED: 'warn', JOB_RUNNING: 'wait', JOB_PENDING: 'wait', JOB_SUSPENDED: 'done' };

/** Active runs first, then the history (newest first, as the API keeps it), each with its outcome. */
export function runRows(s: CronJobStatus | undefined): RunRow[] {
  const row = (r: CronJobRun, active: boolean): RunRow => {
    const started = num(r.startedAtMs);
    const finished = num(r.finishedAtMs);
    const exit = r.exitCode === undefined || r.exitCode === null ? '' : `exit ${r.exitCode}`;
    const attempts = num(r.attempts) > 1 ? `${num(r.attempts)} attempts` : '';
    return {
      id: String(r.id ?? ''),
      active,
      manual: Boolean(r.manual),
      outcome: phaseText(r.phase, 'JOB_'),
      outcomeKind: OUTCOME[String(r.phase ?? '')] ?? 'done',
      startedAtMs: started,
      finishedAtMs: finished,
      took: started && finished ? duration(finished - started) : '',
      taskIds: r.taskIds ?? [],
      detail: [exit, attempts, r.message ?? ''].filter(Boolean).join(' · '),
    };
  };
  return [...(s?.active ?? []).map((r) => row(r, true)), ...(s?.history ?? []).map((r) => row(r, false))];
}

export interface IndexRow {
  readonly index: number;
  readonly state: 'succeeded' | 'failed' | 'retrying' | 'running' | 'pending';
  readonly attempts: number;
  readonly task: Instance | undefined;
}

/**
 * An Indexed job's indexes 0..completions-1: succeeded; running (a live task); failed once the job
 * has failed, retrying while a failed index still gets another attempt; else pending.
 */
export function indexRows(w: Workload): IndexRow[] {
  const completions = num(w.job?.completions ?? 1);
  const s = w.jobStatus ?? {};
  const done = new Set((s.completedIndexes ?? []).map(num));
  const failed = new Set((s.failedIndexes ?? []).map(num));
  const rows: IndexRow[] = [];
  for (let i = 0; i < completions; i++) {
    const tasks = (s.tasks ?? []).filter((t) => num(t.index) === i);
    const latest = tasks.reduce<Instance | undefined>((a, t) => (!a || num(t.attempt) >= num(a.attempt) ? t : a), undefined);
    const live = latest && !TERMINAL.has(String(latest.state ?? ''));
    const state = done.has(i) ? 'succeeded' : live ? 'running' : failed.has(i) ? (s.phase === 'JOB_FAILED' ? 'failed' : 'retrying') : 'pending';
    rows.push({ index: i, state, attempts: tasks.length, task: latest });
  }
  return rows;
}

const TERMINAL = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_GONE', 'TASK_DROPPED']);

/** The frameworks' ids by name (agora-services, agora-cron, agora-batch), for task links. */
export function frameworkIds(list: readonly { readonly id?: string; readonly name?: string; readonly state?: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of list) if (f.name && f.id && !out[f.name]) out[f.name] = f.id;
  return out;
}

const QUEUE_RANK: Record<string, number> = { JOB_RUNNING: 0, JOB_PENDING: 1, JOB_SUSPENDED: 2, JOB_FAILED: 3, JOB_SUCCEEDED: 4 };

/** The queue as people read it: running, then waiting (higher priority, then older, first), then the rest, newest first. */
export function queueOrder(items: readonly Workload[]): Workload[] {
  const rank = (w: Workload): number => QUEUE_RANK[String(w.jobStatus?.phase ?? '')] ?? 5;
  return [...items].sort((a, b) => {
    const r = rank(a) - rank(b);
    if (r !== 0) return r;
    if (rank(a) <= 1) return num(b.job?.priority) - num(a.job?.priority) || num(a.createdAtMs) - num(b.createdAtMs) || String(a.name).localeCompare(String(b.name));
    return num(b.createdAtMs) - num(a.createdAtMs) || String(a.name).localeCompare(String(b.name));
  });
}

/**
 * Which events concern one workload's page: the Jobs API's about this name, a resync (no data), and
 * the master's task events of the framework that runs it (all of them until its id is known).
 */
export function workloadEvents(name: string, frameworkId: string | undefined): (topic: string, data: unknown) => boolean {
  return (topic, data) => {
    if (data === undefined || data === null) return true;
    if (topic === 'tasks') return !frameworkId || (data as { frameworkId?: string }).frameworkId === frameworkId;
    return (data as { name?: string }).name === name;
  };
}
