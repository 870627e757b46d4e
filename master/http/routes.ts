// Operator HTTP endpoints of the master (JSON, camelCase). See master/README.md for the list.
//
//   routes.ts   reads: health, version, metrics, state, agents, frameworks, roles, offers, leader
//   usage-history.ts  the cluster's resources over time
//   agent-proxy.ts    an agent's containers, and a task's logs and sandbox, through the master
//   tasks.ts    the task list with its filters, and one task with its status history
//   operator.ts writes: teardown, weights, quota, drain / undrain
//   sse.ts      the event stream
//   views.ts    records → JSON, used by all three
import { NotFoundError } from '../../core/errors.js';
import { registerHttpEdgeMetrics } from '../../core/edge-metrics.js';
import type { HttpServer } from '../../core/http.js';
import { VERSION } from '../../core/version.js';
import { principalOf } from '../../core/security/edge.js';
import { may, requirePermission, type Principal } from '../../core/security/principal.js';
import { ownsOr } from '../frameworks.js';
import type { FrameworkRecord } from '../model.js';
import { registerAclRoutes } from './acl.js';
import type { Registry } from 'prom-client';
import { createMasterMetrics } from '../metrics.js';
import type { OperatorContext } from './context.js';
import { registerOperatorWrites } from './operator.js';
import { registerEventStream, type EventStreamOptions } from './sse.js';
import { canViewTasks, registerTaskRoutes } from './tasks.js';
import { registerUsageHistory } from './usage-history.js';
import { registerExecProxy } from './exec-proxy.js';
import { registerAgentProxy } from './agent-proxy.js';
import {
  agentJson,
  agentsJson,
  frameworkJson,
  frameworksJson,
  masterJson,
  offersJson,
  removedFrameworksJson,
  roleJson,
  summaryJson,
} from './views.js';

export type { OperatorContext } from './context.js';
export { canViewTasks } from './tasks.js';

export interface OperatorRouteOptions {
  events?: EventStreamOptions;
  /** More registries served on /metrics after the master's (`agora up`: the frameworks host's). */
  metrics?: () => readonly Registry[];
}

/**
 * Who sees what: `cluster.view` reads agents, roles, offers, metrics, events and the frameworks'
 * list; a framework's tasks are seen by its own principal and by holders of `frameworks.view`.
 * Every route but /health (and /metrics with --open-metrics) needs credentials.
 */
export function registerOperatorRoutes(app: HttpServer, master: OperatorContext, options: OperatorRouteOptions = {}): void {
  const { state } = master;
  const metrics = createMasterMetrics(state, () => master.leader().self, options.metrics);
  registerHttpEdgeMetrics(metrics.registry, app);
  app.addHook('onClose', async () => metrics.close());
  const viewer = (req: Parameters<typeof principalOf>[0]): Principal => {
    const principal = principalOf(req);
    requirePermission(principal, 'cluster.view');
    return principal;
  };

  app.get('/health', async () => ({ status: 'ok', lifecycle: master.lifecycle }));
  app.get('/version', async () => ({ version: VERSION }));
  app.get('/metrics', async (req, reply) => {
    if (req.agoraPrincipal) requirePermission(req.agoraPrincipal, 'cluster.view');
    const text = await metrics.scrape();
    return reply.header('content-type', metrics.contentType).send(text);
  });

  app.get('/api/v1/state', async (req) => {
    const principal = viewer(req);
    return {
      master: masterJson(master),
      agents: agentsJson(state),
      frameworks: visibleFrameworks(state, principal),
      removedFrameworks: removedFrameworksJson(state),
      offers: offersJson(state),
    };
  });
  app.get('/api/v1/state-summary', async (req) => {
    viewer(req);
    return summaryJson(master);
  });
  app.get('/api/v1/leader', async (_req, reply) => {
    const view = master.leader();
    if (!view.leader) return reply.status(503).send({ code: 'AGORA_NOT_LEADER', message: 'no leading master is known', self: view.self });
    return { leader: view.leader, self: view.self };
  });

  app.get('/api/v1/agents', async (req) => {
    viewer(req);
    return { agents: agentsJson(state) };
  });
  app.get<{ Params: { id: string } }>('/api/v1/agents/:id', async (req) => {
    viewer(req);
    const agent = state.agent(req.params.id);
    if (!agent) throw new NotFoundError('agent', req.params.id);
    return { agent: agentJson(state, agent) };
  });
  app.get('/api/v1/frameworks', async (req) => {
    const principal = principalOf(req);
    return { frameworks: visibleFrameworks(state, principal), removedFrameworks: may(principal, 'cluster.view') ? removedFrameworksJson(state) : [] };
  });
  app.get<{ Params: { id: string } }>('/api/v1/frameworks/:id', async (req) => {
    const principal = principalOf(req);
    const framework = state.framework(req.params.id);
    if (!framework || !(may(principal, 'cluster.view') || ownsOr(principal, framework))) throw new NotFoundError('framework', req.params.id);
    return { framework: frameworkView(state, framework, principal) };
  });
  app.get('/api/v1/offers', async (req) => {
    viewer(req);
    return { offers: offersJson(state) };
  });
  app.get('/api/v1/roles', async (req) => {
    viewer(req);
    return { roles: state.allocator.roles().map(roleJson) };
  });

  registerTaskRoutes(app, state);
  registerUsageHistory(app, master);
  registerAgentProxy(app, master);
  registerExecProxy(app, master);
  registerOperatorWrites(app, master);
  registerAclRoutes(app, master);
  registerEventStream(app, master, options.events);
}

function frameworkView(state: OperatorContext['state'], framework: FrameworkRecord, principal: Principal): Record<string, unknown> {
  const json = frameworkJson(state, framework);
  return canViewTasks(principal, framework) ? json : { ...json, tasks: [], completedTasks: [] };
}

/** cluster.view lists every framework; anyone else their own. Tasks only where they may see them. */
function visibleFrameworks(state: OperatorContext['state'], principal: Principal): Record<string, unknown>[] {
  const all = may(principal, 'cluster.view');
  const byId = new Map([...state.allFrameworks()].map((f) => [f.id, f]));
  return frameworksJson(state)
    .filter((json) => all || ownsOr(principal, byId.get(json['id'] as string) ?? { principal: undefined }))
    .map((json) => (canViewTasks(principal, byId.get(json['id'] as string)) ? json : { ...json, tasks: [], completedTasks: [] }));
}
