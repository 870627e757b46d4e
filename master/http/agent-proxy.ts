// The dashboard reads agents through the master, its one origin: a browser cannot present the
// caller's token to every agent, nor trust the cluster CA.
//
//   GET /api/v1/agents/:agentId/containers                         → agent /api/v1/containers
//   GET /api/v1/agents/:agentId/tasks/:taskId/logs?frameworkId=&stream=&offset=&length=&follow=1
//   GET /api/v1/agents/:agentId/tasks/:taskId/files?frameworkId=&path=
//   GET /api/v1/agents/:agentId/tasks/:taskId/files/download?frameworkId=&path=
//
// The master checks first (the agent must be one it knows; for a task, the task must have run
// there and the caller may see its framework's tasks, else NOT_FOUND as on /api/v1/tasks), then
// forwards to the agent's advertised HTTP address over TLS trusting the cluster CA, with the
// caller's own token — the agent authorises the caller again, and the master lends no authority
// of its own (it presents no certificate). A caller known only by its client certificate has no
// token to forward: FAILED_PRECONDITION. Answers stream through (forward.ts).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Agent as UndiciAgent, type Dispatcher } from 'undici';
import { NotFoundError, UnavailableError } from '../../core/errors.js';
import type { HttpServer } from '../../core/http.js';
import { principalOf } from '../../core/security/edge.js';
import { requirePermission } from '../../core/security/principal.js';
import type { AgentRecord, TaskRecord } from '../model.js';
import type { OperatorContext } from './context.js';
import { callerToken, followsLog, forward } from './forward.js';
import { canViewTasks } from './tasks.js';
import { allTasks } from './views.js';

type Query = Record<string, unknown>;
type TaskParams = { Params: { agentId: string; taskId: string } };

/** Query parameters passed on to the agent (it checks them). */
const PASSED_QUERY = ['stream', 'offset', 'length', 'follow', 'path'] as const;

export function registerAgentProxy(app: HttpServer, ctx: OperatorContext): void {
  const tls = ctx.security.tls;
  // Trust the cluster CA; present nothing (the caller's token is the only credential sent).
  const dispatcher: Dispatcher | undefined = tls ? new UndiciAgent({ connect: { ca: tls.ca } }) : undefined;
  app.addHook('onClose', async () => dispatcher?.close());
  const scheme = tls ? 'https' : 'http';

  const pass = (reply: FastifyReply, agent: AgentRecord, path: string, follow = false): ReturnType<typeof forward> => {
    const token = callerToken(reply.request, ctx.security.insecure, 'reading an agent');
    return forward(reply, {
      url: `${scheme}://${agent.httpAddress}${path}`,
      peer: `agent ${agent.id} at ${agent.httpAddress}`,
      dispatcher,
      token,
      ...(follow ? { bodyTimeoutMs: 0 } : {}),
    });
  };

  app.get<{ Params: { agentId: string } }>('/api/v1/agents/:agentId/containers', async (req, reply) => {
    requirePermission(principalOf(req), 'cluster.view');
    const agent = knownAgent(ctx, req.params.agentId);
    return pass(reply, agent, '/api/v1/containers');
  });
  for (const suffix of ['logs', 'files', 'files/download'] as const) {
    app.get<TaskParams>(`/api/v1/agents/:agentId/tasks/:taskId/${suffix}`, async (req, reply) => {
      const query = req.query as Query;
      const task = taskOnAgent(ctx, req, query);
      const agent = knownAgent(ctx, task.agentId);
      const params = new URLSearchParams({ frameworkId: task.frameworkId });
      for (const name of PASSED_QUERY) if (typeof query[name] === 'string') params.set(name, query[name]);
      const follow = suffix === 'logs' && followsLog(query);
      return pass(reply, agent, `/api/v1/tasks/${encodeURIComponent(task.taskId)}/${suffix}?${params.toString()}`, follow);
    });
  }
}

function knownAgent(ctx: OperatorContext, agentId: string): AgentRecord {
  const agent = ctx.state.agent(agentId);
  if (!agent) throw new NotFoundError('agent', agentId);
  if (agent.state === 'unreachable') throw new UnavailableError(`agent ${agentId} (${agent.hostname}) is unreachable: its sandboxes cannot be read now`);
  return agent;
}

/** The newest task with this id on this agent (live or completed) that the caller may see. */
function taskOnAgent(ctx: OperatorContext, req: FastifyRequest<TaskParams>, query: Query): TaskRecord {
  const principal = principalOf(req);
  const { agentId, taskId } = req.params;
  const frameworkId = typeof query['frameworkId'] === 'string' && query['frameworkId'] !== '' ? query['frameworkId'] : undefined;
  // Every run of that id, live or completed: a live run elsewhere does not hide an ended one here.
  const task = allTasks(ctx.state).findLast(
    (t) => t.taskId === taskId && t.agentId === agentId && (frameworkId === undefined || t.frameworkId === frameworkId) && canViewTasks(principal, ctx.state.framework(t.frameworkId)),
  );
  if (!task) throw new NotFoundError('task', `${taskId} on agent ${agentId}`);
  return task;
}
