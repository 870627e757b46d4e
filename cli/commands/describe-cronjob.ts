// `agora describe cronjob/NAME`: a cron job for people — its schedule and policies, the active runs
// and the history, each run with its task ids, exit code, start and end.
import type { CronJobRun, CronJobSpec, CronJobStatus, Workload } from '../../proto/index.js';
import { age, pretty, type Cell } from '../table.js';
import { lastFailedRunLine } from './describe-failure.js';
import { fields, resourcesLine, section } from './describe-format.js';

const n = (v: unknown): number => Number(v ?? 0);
const when = (ms: unknown): string => (n(ms) ? new Date(n(ms)).toISOString() : '');

export function describeCronJob(w: Workload): string {
  const spec: CronJobSpec = w.cronjob ?? {};
  const s: CronJobStatus = w.cronjobStatus ?? {};
  const lines: [string, Cell][] = [
    ['Name', w.name],
    ['Kind', 'CronJob'],
    ['Version', w.version],
    ['Created', n(w.createdAtMs) ? `${when(w.createdAtMs)} (${age(n(w.createdAtMs))} ago)` : ''],
    ['Schedule', spec.schedule ? `${spec.schedule} (${spec.timeZone || 'UTC'})` : `after ${(spec.after ?? []).join(', ')} succeed`],
    ['Concurrency', pretty(String(spec.concurrencyPolicy ?? 'ALLOW'), '')],
    ['Suspend', Boolean(spec.suspend)],
    ['Starting deadline', spec.startingDeadlineSeconds === undefined || spec.startingDeadlineSeconds === null ? '' : `${spec.startingDeadlineSeconds}s`],
    ['Active deadline', spec.activeDeadlineSeconds === undefined || spec.activeDeadlineSeconds === null ? '' : `${spec.activeDeadlineSeconds}s`],
    ['Retries', `${n(spec.retries)} (backoff ${n(spec.backoff?.seconds)}s × ${n(spec.backoff?.factor)}, at most ${n(spec.backoff?.maxLaunchDelaySeconds)}s)`],
    ['History limits', `${n(spec.successfulJobsHistoryLimit)} successful, ${n(spec.failedJobsHistoryLimit)} failed`],
    ['Command', spec.task?.command || (spec.task?.args ?? []).join(' ')],
    ['Image', spec.task?.container?.image],
    ['Resources', resourcesLine(spec.task?.resources)],
    ['Last schedule', when(s.lastScheduleMs)],
    ['Next schedule', when(s.nextScheduleMs)],
    ['Last successful', when(s.lastSuccessfulMs)],
  ];
  const failure = lastFailedRunLine([...(s.active ?? []), ...(s.history ?? [])]);
  if (failure) lines.push(['Last failure', failure]);
  return fields(lines) + runs('Active runs', s.active ?? []) + runs('History', s.history ?? []);
}

function runs(title: string, list: readonly CronJobRun[]): string {
  const headers = ['run', 'phase', 'attempts', 'exit', 'started', 'finished', 'tasks', 'message'];
  const rows = list.map((r): Cell[] => [
    `${r.id ?? ''}${r.manual ? ' (manual)' : ''}`,
    pretty(r.phase, 'JOB_'),
    n(r.attempts),
    r.exitCode ?? '',
    when(r.startedAtMs),
    when(r.finishedAtMs),
    (r.taskIds ?? []).join(','),
    r.message,
  ]);
  return section(title, headers, rows);
}
