// `agora describe task/ID`: one task for people — its framework, agent, resources and ports, health,
// the latest status's reason and message, its status history (the master keeps the last 32) and
// its sandbox (path and top-level files, read through the master from the agent that ran it).
// Found through the master's task list (the tasks these credentials may see), then read whole from
// /api/v1/frameworks/:id/tasks/:id; an agent or sandbox the caller may not read is said, not fatal.
import { NotFoundError } from '../../core/errors.js';
import type { AgoraClient } from '../client.js';
import { age, mebibytes, pretty, type Cell } from '../table.js';
import type { AgentJson, FrameworkJson, ResourcesJson, TaskJson } from './cluster-views.js';
import { fields, resourcesLine, section } from './describe-format.js';

const TASK_LIMIT = 10_000;
const SANDBOX_FILES_SHOWN = 20;

interface StatusEntry {
  state: string;
  reason: string;
  message: string;
  source: string;
  healthy?: boolean;
  ready?: boolean;
  timestampMs: number;
}

export interface TaskDetail extends TaskJson {
  status: TaskJson['status'] & { state?: string; source?: string; ready?: boolean; exitCode?: number; timestampMs?: number };
  labels: Record<string, string>;
  updatedAtMs: number;
  statuses: StatusEntry[];
  statusesDropped: number;
}

interface FileEntry {
  name: string;
  type: string;
  size: number;
}

export interface SandboxView {
  sandbox?: string;
  files?: FileEntry[];
  truncated?: boolean;
  /** Why the sandbox could not be read (another agent's credentials, an agent gone). */
  error?: string;
}

/** The task `id` these credentials may see (the newest, when two frameworks used the id), whole. */
export async function findTask(client: AgoraClient, id: string): Promise<TaskDetail> {
  const { tasks } = await client.master<{ tasks: TaskJson[] }>(`/api/v1/tasks?q=${encodeURIComponent(id)}&limit=${TASK_LIMIT}`);
  const match = tasks.filter((t) => t.id === id).sort((a, b) => b.launchedAtMs - a.launchedAtMs)[0];
  if (!match) throw new NotFoundError('task', id);
  const { task } = await client.master<{ task: TaskDetail }>(`/api/v1/frameworks/${encodeURIComponent(match.frameworkId)}/tasks/${encodeURIComponent(id)}`);
  return task;
}

export async function describeTaskCommand(client: AgoraClient, id: string): Promise<string> {
  const task = await findTask(client, id);
  const [framework, agent, sandbox] = await Promise.all([
    client.master<{ framework: FrameworkJson }>(`/api/v1/frameworks/${encodeURIComponent(task.frameworkId)}`).then((r) => r.framework, () => undefined),
    client.master<{ agent: AgentJson }>(`/api/v1/agents/${encodeURIComponent(task.agentId)}`).then((r) => r.agent, () => undefined),
    readSandbox(client, task),
  ]);
  return describeTask(task, { framework, agent, sandbox });
}

async function readSandbox(client: AgoraClient, task: TaskDetail): Promise<SandboxView> {
  if (!task.agentId) return { error: 'not placed on an agent' };
  const path = `/api/v1/agents/${encodeURIComponent(task.agentId)}/tasks/${encodeURIComponent(task.id)}/files?frameworkId=${encodeURIComponent(task.frameworkId)}`;
  try {
    return await client.master<SandboxView>(path);
  } catch (err) {
    return { error: (err as Error).message.split('\n')[0] ?? 'unreadable' };
  }
}

export function describeTask(t: TaskDetail, context: { framework?: FrameworkJson | undefined; agent?: AgentJson | undefined; sandbox: SandboxView }): string {
  const { framework, agent, sandbox } = context;
  const s = t.status;
  const lines: [string, Cell][] = [
    ['Task', t.id],
    ['Name', t.name],
    ['State', pretty(t.state, 'TASK_')],
    ['Framework', framework ? `${framework.name} (${t.frameworkId})` : t.frameworkId],
    ['Agent', agent ? `${t.agentId} (${agent.hostname}, ${agentIp(agent)})` : t.agentId],
    ['Role', t.role],
    ['Resources', resourcesLine(t.resources)],
    ['Ports', portsOf(t.resources)],
    ['Healthy', s.healthy === undefined ? '' : String(s.healthy)],
    ['Ready', s.ready === undefined ? '' : String(s.ready)],
    ['Reason', s.reason === 'REASON_UNSPECIFIED' ? '' : pretty(s.reason, 'REASON_')],
    ['Message', s.message],
    ['Exit code', s.exitCode],
    ['Launched', t.launchedAtMs ? `${new Date(t.launchedAtMs).toISOString()} (${age(t.launchedAtMs)} ago)` : ''],
    ['Labels', Object.entries(t.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')],
    ['Sandbox', sandbox.sandbox ?? (sandbox.error ? `<unavailable: ${sandbox.error}>` : '')],
  ];
  let out = fields(lines);
  const history = t.statuses ?? [];
  const title = t.statusesDropped ? `Status history (the last ${history.length}; ${t.statusesDropped} older dropped)` : 'Status history';
  out += section(
    title,
    ['when', 'state', 'reason', 'source', 'healthy', 'message'],
    history.map((h) => [h.timestampMs ? `${age(h.timestampMs)} ago` : '', pretty(h.state, 'TASK_'), h.reason === 'REASON_UNSPECIFIED' ? '' : pretty(h.reason, 'REASON_'), pretty(h.source, 'SOURCE_'), h.healthy, h.message]),
  );
  if (sandbox.files) {
    const shown = sandbox.files.slice(0, SANDBOX_FILES_SHOWN);
    const more = sandbox.files.length - shown.length;
    out += section(more > 0 || sandbox.truncated ? `Sandbox files (the first ${shown.length})` : 'Sandbox files', ['name', 'type', 'size'], shown.map((f) => [f.name, f.type, f.type === 'file' ? bytes(f.size) : '']));
  }
  return out;
}

function agentIp(agent: AgentJson): string {
  return agent.ip || agent.httpAddress;
}

function portsOf(r: ResourcesJson): string {
  return r.ports ?? '';
}

function bytes(n: number): string {
  return n < 1024 ? `${n}B` : n < 1024 * 1024 ? `${Math.round(n / 1024)}Ki` : mebibytes(n / (1024 * 1024));
}
