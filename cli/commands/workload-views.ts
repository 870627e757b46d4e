// Tables of workloads (`agora get services|cronjobs|jobs`), from the Jobs API's Workload objects.
import type { Deployment, Workload } from '../../proto/index.js';
import { age, pretty, table, type Cell } from '../table.js';

const n = (v: unknown): number => Number(v ?? 0);

export function latestDeployment(w: Workload): Deployment | undefined {
  return w.serviceStatus?.deployments?.[0];
}

export function deploymentSummary(d: Deployment | undefined): string {
  if (!d) return '';
  const phase = pretty(d.phase, 'DEPLOYMENT_');
  return d.phase === 'DEPLOYMENT_IN_PROGRESS' || d.phase === 'DEPLOYMENT_PENDING' ? `${phase} ${Math.round(n(d.progress) * 100)}%` : phase;
}

export function servicesTable(items: readonly Workload[], wide: boolean): string {
  const headers = ['name', 'ready', 'running', 'healthy', 'version', 'deployment', 'age', ...(wide ? ['ports', 'endpoints', 'command'] : [])];
  return table(
    headers,
    items.map((w) => {
      const s = w.serviceStatus ?? {};
      const row: Cell[] = [w.name, `${n(s.ready)}/${n(s.instances)}`, n(s.running), n(s.healthy), w.version, deploymentSummary(latestDeployment(w)), age(n(w.createdAtMs))];
      if (!wide) return row;
      const ports = (w.service?.ports ?? []).map((p) => p.name || String(p.number ?? '')).join(',');
      const endpoints = (s.endpoints ?? []).map((e) => `${e.ip || e.host || ''}:${(e.ports ?? []).map((p) => p.number).join('/')}`).join(',');
      return [...row, ports, endpoints, w.service?.command || (w.service?.args ?? []).join(' ')];
    }),
  );
}

export function cronJobsTable(items: readonly Workload[], wide: boolean): string {
  const headers = ['name', 'schedule', 'suspend', 'active', 'last schedule', 'next', 'age', ...(wide ? ['time zone', 'command'] : [])];
  return table(
    headers,
    items.map((w) => {
      const spec = w.cronjob ?? {};
      const s = w.cronjobStatus ?? {};
      const next = n(s.nextScheduleMs);
      const row: Cell[] = [w.name, spec.schedule || `after ${(spec.after ?? []).join(',')}`, Boolean(spec.suspend), (s.active ?? []).length, n(s.lastScheduleMs) ? `${age(n(s.lastScheduleMs))} ago` : '', next ? new Date(next).toISOString() : '', age(n(w.createdAtMs))];
      return wide ? [...row, spec.timeZone || 'UTC', spec.task?.command] : row;
    }),
  );
}

/** Jobs as a queue: pending ones show their priority and why they wait (JobStatus.pending_reason). */
export function jobsTable(items: readonly Workload[], wide: boolean): string {
  const headers = ['name', 'completions', 'phase', 'active', 'failed', 'priority', 'age', ...(wide ? ['parallelism', 'mode', 'runs', 'message'] : []), 'waiting for'];
  return table(
    headers,
    items.map((w) => {
      const spec = w.job ?? {};
      const s = w.jobStatus ?? {};
      const row: Cell[] = [w.name, `${n(s.succeeded)}/${spec.completions ?? 1}`, pretty(s.phase, 'JOB_'), n(s.active), n(s.failed), n(spec.priority), age(n(w.createdAtMs))];
      const mode = String(spec.completionMode ?? '') === 'INDEXED' ? 'Indexed' : 'NonIndexed';
      return [...row, ...(wide ? [spec.parallelism ?? 1, spec.gang ? `${mode},gang` : mode, n(s.runs), s.message] : []), s.pendingReason || '-'];
    }),
  );
}
