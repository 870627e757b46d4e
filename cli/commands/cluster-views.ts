// The master's operator API as the CLI reads it (the JSON of master/http/views.ts), and the tables
// `agora get agents|frameworks|tasks` and `agora top` print from it.
import type { ResourcesJson } from '../../master/http/views.js';
import { age, mebibytes, percent, pretty, table, trim, type Cell } from '../table.js';

export type { ResourcesJson };

const MIB = 1024 * 1024;

export interface AgentJson {
  id: string;
  hostname: string;
  httpAddress: string;
  state: string;
  drain: { state: string; gracePeriodSeconds?: number; startedAtMs?: number } | null;
  /** Cordoned: not offered, its tasks untouched (absent from a master older than cordon). */
  cordon?: { cordonedAtMs: number; principal: string } | null;
  /** Offered by the allocator: connected, neither drained nor cordoned. */
  active?: boolean;
  ip?: string;
  attributes?: Record<string, string | number>;
  reregisteredAtMs?: number | null;
  unreachableSinceMs?: number | null;
  version: string;
  resources: { total: ResourcesJson; allocated: ResourcesJson; used: ResourcesJson; offered: ResourcesJson; available: ResourcesJson };
  /** Measured use of its tasks (cores, working-set bytes, sandbox bytes), as the agent last reported it; null before. */
  used?: { cpus: number; memBytes: number; diskBytes?: number } | null;
  activeTasks: number;
  registeredAtMs: number;
  /** What it runs beyond commands (DOCKER); absent from a master older than the field. */
  capabilities?: string[];
}

export interface FrameworkJson {
  id: string;
  name: string;
  state: string;
  roles: string[];
  principal: string;
  apiUrl?: string;
  webuiUrl?: string;
  resources: { allocated: ResourcesJson; used: ResourcesJson; offered: ResourcesJson };
  dominantShare: number;
  tasks: unknown[];
  registeredAtMs: number;
}

export interface TaskJson {
  id: string;
  name: string;
  frameworkId: string;
  agentId: string;
  state: string;
  role: string;
  resources: ResourcesJson;
  status: { message: string; healthy?: boolean; reason: string };
  labels?: Record<string, string>;
  launchedAtMs: number;
}

export interface RoleJson {
  role: string;
  weight: number;
  allocated: ResourcesJson;
  dominantShare: number;
  frameworks: string[];
  quota: { guarantee: ResourcesJson } | null;
}

export function agentsTable(agents: readonly AgentJson[], wide: boolean): string {
  const headers = ['id', 'hostname', 'state', 'cpus', 'mem', 'tasks', 'age', ...(wide ? ['address', 'disk', 'ports', 'version', 'capabilities'] : [])];
  return table(
    headers,
    agents.map((a) => {
      const r = a.resources;
      const state = [a.state, a.drain?.state, a.cordon ? 'cordoned' : undefined].filter(Boolean).join(',');
      const row: Cell[] = [a.id, a.hostname, state, `${trim(r.used.cpus)}/${trim(r.total.cpus)}`, `${mebibytes(r.used.mem)}/${mebibytes(r.total.mem)}`, a.activeTasks, age(a.registeredAtMs)];
      return wide ? [...row, a.httpAddress, `${mebibytes(r.used.disk)}/${mebibytes(r.total.disk)}`, r.total.ports, a.version, (a.capabilities ?? []).join(',') || '-'] : row;
    }),
  );
}

export function frameworksTable(frameworks: readonly FrameworkJson[], wide: boolean): string {
  const headers = ['id', 'name', 'state', 'roles', 'tasks', 'cpus', 'mem', 'age', ...(wide ? ['share', 'api', 'principal'] : [])];
  return table(
    headers,
    frameworks.map((f) => {
      const used = f.resources.used;
      const row: Cell[] = [f.id, f.name, f.state, f.roles.join(','), f.tasks.length, trim(used.cpus), mebibytes(used.mem), age(f.registeredAtMs)];
      return wide ? [...row, trim(f.dominantShare, 3), f.apiUrl, f.principal] : row;
    }),
  );
}

export function tasksTable(tasks: readonly TaskJson[], frameworkNames: ReadonlyMap<string, string>, wide: boolean): string {
  const headers = ['id', 'name', 'state', 'framework', 'agent', 'age', ...(wide ? ['cpus', 'mem', 'healthy', 'message'] : [])];
  return table(
    headers,
    tasks.map((t) => {
      const row: Cell[] = [t.id, t.name, pretty(t.state, 'TASK_'), frameworkNames.get(t.frameworkId) ?? t.frameworkId, t.agentId, age(t.launchedAtMs)];
      return wide ? [...row, trim(t.resources.cpus), mebibytes(t.resources.mem), t.status.healthy, t.status.message] : row;
    }),
  );
}

/**
 * `agora top`: per agent, measured use / allocation to tasks / total (cpu% and mem%: measured use of the total;
 * `-` for use an agent has not reported); per role, allocation.
 */
export function topTables(agents: readonly AgentJson[], roles: readonly RoleJson[]): string {
  const agentRows = agents.map((a) => {
    const { used: held, total } = a.resources;
    const cpus = a.used ? trim(a.used.cpus) : '-';
    const mem = a.used ? mebibytes(a.used.memBytes / MIB) : '-';
    const disk = a.used?.diskBytes == null ? '-' : mebibytes(a.used.diskBytes / MIB); // none from a master older than the figure
    return [
      a.hostname,
      a.id,
      `${cpus}/${trim(held.cpus)}/${trim(total.cpus)}`,
      a.used ? percent(a.used.cpus, total.cpus) : '-',
      `${mem}/${mebibytes(held.mem)}/${mebibytes(total.mem)}`,
      a.used ? percent(a.used.memBytes / MIB, total.mem) : '-',
      `${disk}/${mebibytes(held.disk)}/${mebibytes(total.disk)}`,
      a.activeTasks,
    ];
  });
  const roleRows = roles.map((r) => [r.role, trim(r.weight), trim(r.allocated.cpus), mebibytes(r.allocated.mem), mebibytes(r.allocated.disk), trim(r.dominantShare, 3), r.quota?.guarantee.text, r.frameworks.length]);
  return (
    table(['agent', 'id', 'cpus (used/alloc/total)', 'cpu%', 'mem (used/alloc/total)', 'mem%', 'disk (used/alloc/total)', 'tasks'], agentRows) +
    '\n' +
    table(['role', 'weight', 'cpus', 'mem', 'disk', 'share', 'quota', 'frameworks'], roleRows)
  );
}
