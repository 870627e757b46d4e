// `agora describe job/NAME`: one job for people — its spec, where the run stands (phase, counts,
// completed and failed indexes), why it waits, and every task with its index and attempt.
import type { Instance, JobSpec, JobStatus, Workload } from '../../proto/index.js';
import { age, pretty, type Cell } from '../table.js';
import { lastFailedTaskLine } from './describe-failure.js';
import { fields, resourcesLine, section } from './describe-format.js';

const n = (v: unknown): number => Number(v ?? 0);

export function describeJob(w: Workload): string {
  const spec: JobSpec = w.job ?? {};
  const s: JobStatus = w.jobStatus ?? {};
  const indexed = String(spec.completionMode ?? '') === 'INDEXED';
  const lines: [string, Cell][] = [
    ['Name', w.name],
    ['Kind', 'Job'],
    ['Version', w.version],
    ['Created', when(n(w.createdAtMs))],
    ['Phase', pretty(s.phase, 'JOB_')],
    ['Message', s.message],
    ['Completions', `${n(s.succeeded)}/${n(spec.completions ?? 1)} succeeded | ${n(s.active)} active | ${n(s.failed)} failed (${indexed ? 'Indexed' : 'NonIndexed'}, parallelism ${n(spec.parallelism ?? 1)})`],
    ['Runs', n(s.runs)],
    ['Priority', n(spec.priority)],
    ['Gang', Boolean(spec.gang)],
    ['Suspend', Boolean(spec.suspend)],
    ['Backoff limit', n(spec.backoffLimit)],
    ['Deadline', spec.activeDeadlineSeconds === undefined ? '' : `${String(spec.activeDeadlineSeconds)}s`],
    ['TTL after finished', spec.ttlSecondsAfterFinished === undefined ? '' : `${String(spec.ttlSecondsAfterFinished)}s`],
    ['Command', spec.task?.command || (spec.task?.args ?? []).join(' ')],
    ['Image', spec.task?.container?.image],
    ['Resources', resourcesLine(spec.task?.resources)],
    ['Constraints', (spec.task?.constraints ?? []).map((c) => [c.field, c.operator, c.value].filter(Boolean).join(':')).join(', ')],
    ['Started', when(n(s.startedAtMs))],
    ['Completed', when(n(s.completedAtMs))],
  ];
  if (indexed) {
    lines.push(['Completed indexes', ranges(s.completedIndexes ?? [])]);
    lines.push(['Failed indexes', ranges(s.failedIndexes ?? [])]);
  }
  if (s.pendingReason) lines.push(['Pending', s.pendingReason]);
  const failure = lastFailedTaskLine(s.tasks);
  if (failure) lines.push(['Last failure', failure]);
  const rows = (s.tasks ?? []).map((t: Instance): Cell[] => [t.taskId, indexed ? n(t.index) : '-', n(t.attempt), pretty(t.state, 'TASK_'), t.exitCode ?? '', t.hostname, n(t.stagedAtMs) ? age(n(t.stagedAtMs)) : '', t.message]);
  return fields(lines) + section('Tasks', ['id', 'index', 'attempt', 'state', 'exit', 'host', 'age', 'message'], rows);
}

function when(ms: number): string {
  return ms ? `${new Date(ms).toISOString()} (${age(ms)} ago)` : '';
}

/** [0,1,2,4,6,7] → "0-2,4,6-7" (as Kubernetes shows completedIndexes). */
export function ranges(indexes: readonly number[]): string {
  const sorted = [...indexes].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const start = sorted[i]!;
    while (i + 1 < sorted.length && sorted[i + 1] === sorted[i]! + 1) i++;
    parts.push(start === sorted[i] ? String(start) : `${start}-${sorted[i]}`);
  }
  return parts.join(',');
}
