// "Why did the last launches fail?" for `agora describe`: the last failed task of a workload, with
// its state, reason and message, on one line — e.g.
//   Last failure:  Failed (REASON_CONTAINER_LAUNCH_FAILED) 12s ago on 10.0.0.7, task web.v1.1a2b3c4d:
//                  the Docker engine is unreachable at unix:///var/run/docker.sock: connect ENOENT …
import type { CronJobRun, Instance, TaskFailure } from '../../proto/index.js';
import { age, pretty } from '../table.js';

const n = (v: unknown): number => Number(v ?? 0);

/** A service's ServiceStatus.last_failure as one line; '' when there is none. */
export function lastFailureLine(f: TaskFailure | null | undefined): string {
  if (!f?.taskId) return '';
  const reason = f.reason && String(f.reason) !== 'REASON_UNSPECIFIED' ? ` (${String(f.reason)})` : '';
  const where = f.hostname ? ` on ${f.hostname}` : '';
  const when = n(f.atMs) ? ` ${age(n(f.atMs))} ago` : '';
  return `${pretty(f.state, 'TASK_')}${reason}${when}${where}, task ${f.taskId}${f.message ? `: ${f.message}` : ''}`;
}

const FAILED = new Set(['TASK_FAILED', 'TASK_ERROR']);

/** The latest failed task among a workload's tasks (jobs keep theirs) as one line; '' when none failed. */
export function lastFailedTaskLine(tasks: readonly Instance[] | null | undefined): string {
  const failed = (tasks ?? []).filter((t) => FAILED.has(String(t.state ?? '')));
  const last = failed.sort((a, b) => n(b.stagedAtMs) - n(a.stagedAtMs))[0];
  if (last === undefined) return '';
  const where = last.hostname ? ` on ${last.hostname}` : '';
  return `${pretty(last.state, 'TASK_')}${where}, task ${last.taskId ?? ''}${last.message ? `: ${last.message}` : ''}`;
}

/** A cron job's latest failed run (active or in the history) as one line; '' when none failed. */
export function lastFailedRunLine(runs: readonly CronJobRun[]): string {
  const failed = runs.filter((r) => String(r.phase ?? '') === 'JOB_FAILED');
  const last = failed.sort((a, b) => n(b.finishedAtMs || b.startedAtMs) - n(a.finishedAtMs || a.startedAtMs))[0];
  if (last === undefined) return '';
  const tasks = (last.taskIds ?? []).length > 0 ? `, task ${String(last.taskIds!.at(-1))}` : '';
  return `run ${last.id ?? ''}${tasks}${last.message ? `: ${last.message}` : ''}`;
}
