// `agora describe agent/ID`: one agent for people — hostname, IP, address, connection, drain and
// cordon, attributes, resources (total, allocated to tasks, measured use, offered), and its tasks.
// Reads the master's /api/v1/agents/:id and its task list filtered by agent (cluster.view; the tasks
// listed are those these credentials may see).
import type { AgoraClient } from '../client.js';
import { age, mebibytes, pretty, trim, type Cell } from '../table.js';
import type { AgentJson, ResourcesJson, TaskJson } from './cluster-views.js';
import { fields, section } from './describe-format.js';

const MIB = 1024 * 1024;
const TASK_LIMIT = 10_000;

export async function describeAgentCommand(client: AgoraClient, id: string): Promise<string> {
  const [{ agent }, { tasks }] = await Promise.all([
    client.master<{ agent: AgentJson }>(`/api/v1/agents/${encodeURIComponent(id)}`),
    client.master<{ tasks: TaskJson[] }>(`/api/v1/tasks?agentId=${encodeURIComponent(id)}&active=1&limit=${TASK_LIMIT}`),
  ]);
  return describeAgent(agent, tasks);
}

export function describeAgent(a: AgentJson, tasks: readonly TaskJson[]): string {
  const r = a.resources;
  const scheduling = a.drain ? `${a.drain.state}${a.drain.gracePeriodSeconds === undefined ? '' : ` (grace ${trim(a.drain.gracePeriodSeconds)}s)`}` : a.cordon ? 'cordoned' : 'schedulable';
  const lines: [string, Cell][] = [
    ['Agent', a.id],
    ['Hostname', a.hostname],
    ['IP', a.ip],
    ['Address', a.httpAddress],
    ['State', a.state],
    ['Scheduling', scheduling],
    ['Cordoned', a.cordon ? `by ${a.cordon.principal}, ${age(a.cordon.cordonedAtMs)} ago` : 'no'],
    ['Drain', a.drain ? `${a.drain.state}${a.drain.startedAtMs ? `, started ${age(a.drain.startedAtMs)} ago` : ''}` : 'no'],
    ['Offered', a.active === undefined ? '' : a.active ? 'yes' : 'no'],
    ['Version', a.version],
    ['Registered', a.registeredAtMs ? `${new Date(a.registeredAtMs).toISOString()} (${age(a.registeredAtMs)} ago)` : ''],
    ['Attributes', Object.entries(a.attributes ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(', ')],
  ];
  if (a.unreachableSinceMs) lines.push(['Unreachable', `since ${age(a.unreachableSinceMs)} ago`]);
  let out = fields(lines);
  const measured: Partial<ResourcesJson> | undefined = a.used ? { cpus: a.used.cpus, mem: a.used.memBytes / MIB, ...(a.used.diskBytes == null ? {} : { disk: a.used.diskBytes / MIB }) } : undefined;
  out += section(
    'Resources',
    ['resource', 'total', 'allocated', 'used (measured)', 'offered', 'available'],
    [
      ['cpus', trim(r.total.cpus), trim(r.used.cpus), measured?.cpus === undefined ? '-' : trim(measured.cpus), trim(r.offered.cpus), trim(r.available.cpus)],
      ['mem', mebibytes(r.total.mem), mebibytes(r.used.mem), measured?.mem === undefined ? '-' : mebibytes(measured.mem), mebibytes(r.offered.mem), mebibytes(r.available.mem)],
      ['disk', mebibytes(r.total.disk), mebibytes(r.used.disk), measured?.disk === undefined ? '-' : mebibytes(measured.disk), mebibytes(r.offered.disk), mebibytes(r.available.disk)],
      ...(r.total.gpus ? [['gpus', r.total.gpus, r.used.gpus, '-', r.offered.gpus, r.available.gpus] as Cell[]] : []),
      ['ports', r.total.ports, r.used.ports, '-', r.offered.ports, r.available.ports],
    ],
  );
  out += section(
    `Tasks (${a.activeTasks} active)`,
    ['id', 'name', 'state', 'framework', 'cpus', 'mem', 'ports', 'age'],
    tasks.map((t) => [t.id, t.name, pretty(t.state, 'TASK_'), t.frameworkId, trim(t.resources.cpus), mebibytes(t.resources.mem), t.resources.ports, age(t.launchedAtMs)]),
  );
  return out;
}
