// Operator HTTP endpoints of the master (JSON, camelCase). See master/README.md for the list.
//
//   routes.ts   reads: health, version, metrics, state, agents, frameworks, tasks, roles, offers, leader
//   operator.ts writes: teardown, weights, quota, drain / undrain
//   sse.ts      the event stream
//   views.ts    records → JSON, used by all three
import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import { queryInt, type HttpServer } from '../../core/http.js';
import { parseTaskState } from '../../core/task-state.js';
import { VERSION } from '../../core/version.js';
import { createMasterMetrics } from '../metrics.js';
import type { OperatorContext } from './context.js';
import { registerOperatorWrites } from './operator.js';
import { registerEventStream, type EventStreamOptions } from './sse.js';
import {
  agentJson,
  agentsJson,
  allTasks,
  frameworkJson,
  frameworksJson,
  masterJson,
  offersJson,
  removedFrameworksJson,
  roleJson,
  summaryJson,
  taskJson,
} from './views.js';

export type { OperatorContext } from './context.js';

export interface OperatorRouteOptions {
  events?: EventStreamOptions;
}

const DEFAULT_TASK_LIMIT = 100;
const MAX_TASK_LIMIT = 10_000;

export function registerOperatorRoutes(app: HttpServer, master: OperatorContext, options: OperatorRouteOptions = {}): void {
  const { state } = master;
  const metrics = createMasterMetrics(state);
  app.addHook('onClose', async () => metrics.close());

  app.get('/health', async () => ({ status: 'ok', lifecycle: master.lifecycle }));
  app.get('/version', async () => ({ version: VERSION }));
  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.scrape();
    return reply.header('content-type', metrics.contentType).send(text);
  });

  app.get('/api/v1/state', async () => ({
    master: masterJson(master),
    agents: agentsJson(state),
    frameworks: frameworksJson(state),
    removedFrameworks: removedFrameworksJson(state),
    offers: offersJson(state),
  }));
  app.get('/api/v1/state-summary', async () => summaryJson(master));
  app.get('/api/v1/leader', async (_req, reply) => {
    const view = master.leader();
    if (!view.leader) return reply.status(503).send({ code: 'AGORA_NOT_LEADER', message: 'no leading master is known', self: view.self });
    return { leader: view.leader, self: view.self };
  });

  app.get('/api/v1/agents', async () => ({ agents: agentsJson(state) }));
  app.get<{ Params: { id: string } }>('/api/v1/agents/:id', async (req) => {
    const agent = state.agents.get(req.params.id);
    if (!agent) throw new NotFoundError('agent', req.params.id);
    return { agent: agentJson(state, agent) };
  });
  app.get('/api/v1/frameworks', async () => ({ frameworks: frameworksJson(state), removedFrameworks: removedFrameworksJson(state) }));
  app.get<{ Params: { id: string } }>('/api/v1/frameworks/:id', async (req) => {
    const framework = state.frameworks.get(req.params.id);
    if (!framework) throw new NotFoundError('framework', req.params.id);
    return { framework: frameworkJson(state, framework) };
  });
  app.get('/api/v1/offers', async () => ({ offers: offersJson(state) }));
  app.get('/api/v1/roles', async () => ({ roles: state.allocator.roles().map(roleJson) }));

  app.get('/api/v1/tasks', async (req) => {
    const query = req.query as Record<string, unknown>;
    const limit = queryInt(query, 'limit', DEFAULT_TASK_LIMIT, MAX_TASK_LIMIT);
    const offset = queryInt(query, 'offset', 0);
    const frameworkId = queryString(query, 'frameworkId');
    const agentId = queryString(query, 'agentId');
    const stateFilter = query['state'] === undefined || query['state'] === '' ? undefined : parseTaskState(queryString(query, 'state'), 'state');
    const matching = allTasks(state).filter(
      (t) => (frameworkId === undefined || t.frameworkId === frameworkId) && (agentId === undefined || t.agentId === agentId) && (stateFilter === undefined || t.state === stateFilter),
    );
    return { tasks: matching.slice(offset, offset + limit).map(taskJson), total: matching.length, offset, limit };
  });

  registerOperatorWrites(app, master);
  registerEventStream(app, master, options.events);
}

function queryString(query: Record<string, unknown>, name: string): string | undefined {
  const raw = query[name];
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string') throw new InvalidArgumentError(name, 'give it once');
  return raw;
}
