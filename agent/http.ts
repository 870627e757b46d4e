// The agent's HTTP endpoints (JSON, camelCase), on the shared fastify edge of core/http.ts:
//
//   GET /health                                  lifecycle and whether the agent is registered
//   GET /metrics                                 Prometheus text
//   GET /api/v1/state                            id, master, resources total/used/free, tasks
//   GET /api/v1/containers                       each live task's usage beside its allocation (containers.ts)
//   GET /api/v1/tasks/:id/logs?stream=stdout|stderr&offset=&length=&follow=1
//   GET /api/v1/tasks/:id/files?path=            a sandbox directory (at most 5,000 entries: `truncated`)
//   GET /api/v1/tasks/:id/files/download?path=  a sandbox file
//   GET /api/v1/tasks/:id/exec?command=…         `agora exec`, an HTTP/1.1 Upgrade (exec.ts)
//
// Logs are rotated by the agent (log-rotation.ts): an offset is a position in the current file,
// which starts again at 0 after a rotation; `x-agora-log-rotations` counts the rotations so far,
// and a follow goes on across one (sandbox-files.ts).
//
// Sandbox reads follow no link and open nothing that could block (sandbox-path.ts): a path
// outside the sandbox, or a name that is a symlink, FIFO, socket, device, or a directory where a
// file is wanted (and the reverse), is a 400 saying what it is; a log not written yet is empty.
//
// Tasks are named by task id alone (every framework is searched; live tasks first, then the
// completed ones, newest first; `frameworkId=` picks one when ids collide).
//
// Who may read: /health is open (and /metrics with --open-metrics); the state, containers and
// metrics need `cluster.view`; a task's logs and files (and its entries in the state and the
// containers) belong to its framework's principal, and to holders of `frameworks.view` (callers
// are authenticated by the master's Access service: security.ts).
import { InvalidArgumentError, NotFoundError } from '../core/errors.js';
import { queryInt, type HttpServer } from '../core/http.js';
import { formatRanges } from '../core/ranges.js';
import type { Resources } from '../core/resources.js';
import { isTerminal } from '../core/task-state.js';
import { VERSION } from '../core/version.js';
import { taskResources, usedResources, type AgentContext } from './context.js';
import { containersJson } from './containers.js';
import { createAgentMetrics } from './metrics.js';
import { checkLog, followFile, listDirectory, openDownload, readRange, type RotationState } from './sandbox-files.js';
import type { TaskEntry } from './task-manager.js';
import { principalOf } from '../core/security/edge.js';
import { may, requirePermission, type Principal } from '../core/security/principal.js';
import type { FastifyRequest } from 'fastify';

/** Largest log slice one request returns without `follow`. */
export const MAX_LOG_LENGTH = 16 * 1024 * 1024;
const FOLLOW_POLL_MS = 100;

interface TaskRef {
  frameworkId: string;
  taskId: string;
  sandbox: string;
  /** True once nothing more will be written to its sandbox by the task. */
  ended: () => boolean;
}

type Query = Record<string, unknown>;

export function registerAgentRoutes(app: HttpServer, agent: AgentContext): void {
  const metrics = createAgentMetrics(agent);
  app.get('/health', async () => ({ status: 'ok', lifecycle: agent.lifecycle, agentId: agent.agentId ?? null, registered: agent.master !== undefined }));
  app.get('/metrics', async (req, reply) => {
    if (req.agoraPrincipal) requirePermission(req.agoraPrincipal, 'cluster.view');
    return reply.header('content-type', metrics.contentType).send(await metrics.scrape());
  });
  app.get('/api/v1/state', async (req) => {
    const principal = principalOf(req);
    requirePermission(principal, 'cluster.view');
    return stateJson(agent, (frameworkId) => canView(agent, principal, frameworkId));
  });
  app.get('/api/v1/containers', async (req) => {
    const principal = principalOf(req);
    requirePermission(principal, 'cluster.view');
    return { containers: containersJson(agent, (frameworkId) => canView(agent, principal, frameworkId)) };
  });

  app.get<{ Params: { id: string } }>('/api/v1/tasks/:id/logs', async (req, reply) => {
    const query = req.query as Query;
    const task = findTask(agent, req.params.id, query, req);
    const stream = query['stream'] === undefined || query['stream'] === '' ? 'stdout' : String(query['stream']);
    if (stream !== 'stdout' && stream !== 'stderr') throw new InvalidArgumentError('stream', `expected stdout or stderr, got '${stream}'`);
    const offset = queryInt(query, 'offset', 0);
    if (flag(query, 'follow')) {
      const length = queryInt(query, 'length', Number.MAX_SAFE_INTEGER);
      checkLog(task.sandbox, stream);
      const abort = new AbortController();
      reply.raw.on('close', () => abort.abort());
      const limits = agent.sandboxLimits;
      const rotations = limits ? (): RotationState => limits.rotation(task.sandbox, stream) : undefined;
      const body = followFile(task.sandbox, stream, { offset, length, ended: task.ended, pollMs: FOLLOW_POLL_MS, signal: abort.signal, ...(rotations ? { rotations } : {}) });
      return reply.header('content-type', 'text/plain; charset=utf-8').header('x-agora-log-offset', String(offset)).send(body);
    }
    const length = queryInt(query, 'length', MAX_LOG_LENGTH, MAX_LOG_LENGTH);
    const { data, size } = await readRange(task.sandbox, stream, offset, length);
    return reply
      .header('content-type', 'text/plain; charset=utf-8')
      .header('x-agora-log-rotations', String(agent.sandboxLimits?.rotation(task.sandbox, stream).count ?? 0))
      .header('x-agora-log-offset', String(offset))
      .header('x-agora-log-size', String(size))
      .header('x-agora-log-next-offset', String(offset + data.length))
      .send(data);
  });

  app.get<{ Params: { id: string } }>('/api/v1/tasks/:id/files', async (req) => {
    const query = req.query as Query;
    const task = findTask(agent, req.params.id, query, req);
    const relative = typeof query['path'] === 'string' ? query['path'] : '';
    const { files, truncated } = await listDirectory(task.sandbox, relative);
    return { frameworkId: task.frameworkId, taskId: task.taskId, sandbox: task.sandbox, path: relative, files, ...(truncated ? { truncated } : {}) };
  });

  app.get<{ Params: { id: string } }>('/api/v1/tasks/:id/files/download', async (req, reply) => {
    const query = req.query as Query;
    const task = findTask(agent, req.params.id, query, req);
    const relative = typeof query['path'] === 'string' ? query['path'] : '';
    const { stream, size, name } = openDownload(task.sandbox, relative);
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-length', String(size))
      .header('content-disposition', `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"`)
      .send(stream);
  });
}

function flag(query: Query, name: string): boolean {
  const v = query[name];
  return v === '1' || v === 'true' || v === '';
}

/** A framework's tasks are its principal's to read, and anyone's with frameworks.view. */
function canView(agent: AgentContext, principal: Principal, frameworkId: string): boolean {
  if (principal.via === 'insecure' || may(principal, 'frameworks.view')) return true;
  const owner = agent.tasks.frameworks.get(frameworkId)?.principal;
  return owner !== undefined && owner !== '' && owner === principal.name;
}

/** The task the caller names, among those it may read (others are not found, as if not there). */
function findTask(agent: AgentContext, taskId: string, query: Query, req: FastifyRequest): TaskRef {
  const principal = principalOf(req);
  const frameworkId = typeof query['frameworkId'] === 'string' && query['frameworkId'] !== '' ? query['frameworkId'] : undefined;
  const matches = (t: { frameworkId: string; taskId: string }): boolean =>
    t.taskId === taskId && (frameworkId === undefined || t.frameworkId === frameworkId) && canView(agent, principal, t.frameworkId);
  const live = [...agent.tasks.tasks.values()].find(matches);
  if (live) {
    const key = { frameworkId: live.frameworkId, taskId: live.taskId };
    const ended = (): boolean => {
      const now = agent.tasks.task(key.frameworkId, key.taskId);
      return now === undefined || isTerminal(now.state);
    };
    return { ...key, sandbox: live.sandbox, ended };
  }
  const done = agent.tasks.completed.findLast(matches);
  if (done) return { frameworkId: done.frameworkId, taskId: done.taskId, sandbox: done.sandbox, ended: () => true };
  throw new NotFoundError('task', taskId);
}

function resourcesJson(r: Resources): Record<string, unknown> {
  return { cpus: r.scalar('cpus'), mem: r.scalar('mem'), disk: r.scalar('disk'), gpus: r.scalar('gpus'), ports: formatRanges(r.ranges('ports')).slice(1, -1), text: r.format() };
}

function taskJson(t: TaskEntry, agent: AgentContext): Record<string, unknown> {
  const disk = agent.sandboxLimits?.diskUsage(t.frameworkId, t.taskId);
  return {
    frameworkId: t.frameworkId,
    taskId: t.taskId,
    name: t.info.name,
    state: t.state,
    healthy: t.healthy ?? null,
    executor: t.executorKind,
    sandbox: t.sandbox,
    launchedAtMs: t.launchedAtMs,
    pid: typeof t.container?.checkpoint['pid'] === 'number' ? t.container.checkpoint['pid'] : null,
    resources: resourcesJson(taskResources(t.info)),
    // The sandbox's latest measurement, for a task with a disk limit (disk-watch.ts).
    diskUsage: disk ? { usedBytes: disk.usedBytes, limitMb: disk.limitMb, measuredAtMs: disk.measuredAtMs } : null,
    latest: t.latest ? { state: t.latest.state, reason: t.latest.reason, message: t.latest.message, uuid: t.latest.uuid, timestampMs: Number(t.latest.timestampMs ?? 0) } : null,
  };
}

export function stateJson(agent: AgentContext, visible: (frameworkId: string) => boolean = () => true): Record<string, unknown> {
  const used = usedResources(agent.tasks);
  const free = agent.total.subtractOrUndefined(used) ?? agent.total;
  return {
    agent: { id: agent.agentId ?? null, hostname: agent.hostname, httpAddress: agent.httpAddress, master: agent.master ?? null, lifecycle: agent.lifecycle, version: VERSION },
    resources: { total: resourcesJson(agent.total), used: resourcesJson(used), free: resourcesJson(free) },
    tasks: [...agent.tasks.tasks.values()].filter((t) => visible(t.frameworkId)).map((t) => taskJson(t, agent)),
    completedTasks: agent.tasks.completed.filter((t) => visible(t.frameworkId)).map((t) => ({ frameworkId: t.frameworkId, taskId: t.taskId, name: t.name, state: t.state, sandbox: t.sandbox })),
    statusUpdates: { pending: agent.updates.pendingCount(), ...agent.updates.stats },
  };
}
