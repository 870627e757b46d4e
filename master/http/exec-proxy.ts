// `agora exec` through the master: GET /api/v1/tasks/:taskId/exec?frameworkId=&command=…&stdin=&tty=&rows=&cols=&term=
// with `Connection: Upgrade, Upgrade: agora-exec.v1` (core/http-upgrade.ts: the request passes the
// same authentication and leader guard as every route).
//
//   caller ─► may exec (core/security/exec-access.ts)? ─ no ─► 403 (whether the task exists or not)
//          ─► the newest run of the task it may reach ─ none ─► 404
//          ─► RUNNING? ─ no ─► FAILED_PRECONDITION naming the state
//          ─► Upgrade to the task's agent over TLS (trusting the cluster CA), with the caller's own
//             token: the agent authorises the caller again ─► 101 to the caller, then bytes both ways
//
// The master does not read the stream (core/exec-protocol.ts frames it between CLI and agent); an
// agent's refusal (its 4xx/5xx) is passed back as it is. Either side closing closes the other.
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { FailedPreconditionError, NotFoundError, TimeoutError, UnavailableError } from '../../core/errors.js';
import { EXEC_PROTOCOL, execQueryString, parseExecQuery } from '../../core/exec-protocol.js';
import type { HttpServer } from '../../core/http.js';
import { acceptUpgrade, routeUpgrades, upgradeOf, type Upgrade } from '../../core/http-upgrade.js';
import { principalOf } from '../../core/security/edge.js';
import { execDenied, execScope } from '../../core/security/exec-access.js';
import { ownsOr } from '../frameworks.js';
import type { AgentRecord, TaskRecord } from '../model.js';
import type { OperatorContext } from './context.js';
import { callerToken, checkPathKept } from './forward.js';
import { canViewTasks } from './tasks.js';
import { allTasks } from './views.js';

const AGENT_ANSWER_TIMEOUT_MS = 10_000;

export function registerExecProxy(app: HttpServer, ctx: OperatorContext): void {
  routeUpgrades(app, [EXEC_PROTOCOL]);
  app.get<{ Params: { taskId: string } }>('/api/v1/tasks/:taskId/exec', async (req, reply) => {
    const principal = principalOf(req);
    const scope = execScope(principal);
    const query = req.query as Record<string, unknown>;
    const frameworkId = typeof query['frameworkId'] === 'string' && query['frameworkId'] !== '' ? query['frameworkId'] : undefined;
    const { taskId } = req.params;
    const reaches = (t: TaskRecord): boolean => {
      const framework = ctx.state.framework(t.frameworkId);
      return (framework !== undefined && ownsOr(principal, framework)) || (scope === 'visible' && canViewTasks(principal, framework));
    };
    const task = allTasks(ctx.state).findLast((t) => t.taskId === taskId && (frameworkId === undefined || t.frameworkId === frameworkId) && reaches(t));
    if (!task) throw scope === 'own' ? execDenied(principal) : new NotFoundError('task', taskId);
    if (task.state !== 'TASK_RUNNING') throw new FailedPreconditionError(`task ${taskId} is not running (${task.state}): exec needs a running task`, { details: { state: task.state } });
    const request = parseExecQuery(query);
    const upgrade = upgradeOf(req, EXEC_PROTOCOL);
    const agent = ctx.state.agent(task.agentId);
    if (!agent || agent.state === 'unreachable') throw new UnavailableError(`agent ${task.agentId} of task ${taskId} cannot be reached now`);
    const token = callerToken(req, ctx.security.insecure, 'exec through the master');
    const path = `/api/v1/tasks/${encodeURIComponent(task.taskId)}/exec?${new URLSearchParams({ frameworkId: task.frameworkId }).toString()}&${execQueryString(request)}`;
    return relay(reply, upgrade, agent, path, ctx.security.tls?.ca, token);
  });
}

/** Upgrade to the agent and join the two sockets; or pass the agent's refusal back. */
function relay(reply: FastifyReply, upgrade: Upgrade, agent: AgentRecord, path: string, ca: Buffer | string | undefined, token: string | undefined): Promise<FastifyReply> {
  const secure = ca !== undefined;
  const url = `${secure ? 'https' : 'http'}://${agent.httpAddress}${path}`;
  checkPathKept(url);
  const peer = `agent ${agent.id} at ${agent.httpAddress}`;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { connection: 'Upgrade', upgrade: EXEC_PROTOCOL };
    if (secure && token !== undefined) headers['authorization'] = `Bearer ${token}`;
    const out = (secure ? https : http).request(url, { method: 'GET', headers, timeout: AGENT_ANSWER_TIMEOUT_MS, ...(secure ? { ca } : {}) });
    const callerGone = (): void => {
      out.destroy();
    };
    upgrade.socket.once('close', callerGone);
    out.once('timeout', () => {
      out.destroy();
      reject(new TimeoutError(`${peer} did not answer the exec request within ${AGENT_ANSWER_TIMEOUT_MS} ms`));
    });
    out.once('error', (err) => reject(new UnavailableError(`${peer} cannot be reached: ${err.message}`)));
    out.once('response', (res) => {
      upgrade.socket.off('close', callerGone);
      void reply.status(res.statusCode ?? 502);
      const type = res.headers['content-type'];
      if (type) void reply.header('content-type', type);
      resolve(reply.send(res));
    });
    out.once('upgrade', (_res, agentSocket: Duplex, head: Buffer) => {
      upgrade.socket.off('close', callerGone);
      // The answer came: the session may be quiet as long as the agent lets it (--exec-idle-timeout).
      out.removeAllListeners('timeout');
      for (const socket of [agentSocket, upgrade.socket]) (socket as Partial<Socket>).setTimeout?.(0);
      const caller = acceptUpgrade(reply, upgrade, EXEC_PROTOCOL);
      join(caller, agentSocket, head);
      resolve(reply);
    });
    out.end();
  });
}

function join(caller: Duplex, agent: Duplex, head: Buffer): void {
  if (head.length > 0) caller.write(head);
  caller.pipe(agent);
  agent.pipe(caller);
  const close = (): void => {
    caller.destroy();
    agent.destroy();
  };
  for (const socket of [caller, agent]) {
    socket.once('close', close);
    socket.once('error', close);
    socket.once('end', () => (socket === caller ? agent : caller).end());
  }
}
