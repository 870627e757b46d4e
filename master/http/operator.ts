// The operator's write endpoints: teardown, weights, quota, drain / undrain, cordon / uncordon. Each one validates its
// whole input first (bad input → 400 naming the field, and nothing changes), then persists to the
// registry, then applies to the master's memory and the allocator — so a failed registry write
// leaves memory as it was too.
import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import type { HttpServer } from '../../core/http.js';
import { Resources } from '../../core/resources.js';
import { principalOf } from '../../core/security/edge.js';
import { may, requirePermission, type Principal } from '../../core/security/principal.js';
import { cordonAgent, uncordonAgent } from '../agent-cordon.js';
import { drainAgent, undrainAgent } from '../agent-drain.js';
import { kill, ownsOr, removeFramework } from '../frameworks.js';
import type { FrameworkRecord } from '../model.js';
import type { QuotaEntry } from '../registry.js';
import type { MasterState } from '../state.js';
import type { OperatorContext } from './context.js';
import { checkRole, checkWeightCount, MAX_QUOTA_ROLES, objectBody, parseDrainGrace, parseQuota, parseWeights } from './operator-input.js';
import { agentJson, resourcesJson } from './views.js';

/** Its own principal may act on a framework; anyone else needs `action`. */
function requireOwnerOr(principal: Principal, framework: FrameworkRecord, action: 'frameworks.teardown' | 'tasks.kill'): void {
  if (!ownsOr(principal, framework)) requirePermission(principal, action);
}

export function registerOperatorWrites(app: HttpServer, ctx: OperatorContext): void {
  const { state } = ctx;

  app.post('/api/v1/teardown', async (req) => {
    const principal = principalOf(req);
    const body = objectBody(req.body);
    const frameworkId = body['frameworkId'];
    if (typeof frameworkId !== 'string' || frameworkId === '') throw new InvalidArgumentError('frameworkId', 'is required (a framework id)');
    const framework = state.framework(frameworkId);
    if (!framework || !(ownsOr(principal, framework) || may(principal, 'cluster.view'))) throw new NotFoundError('framework', frameworkId);
    requireOwnerOr(principal, framework, 'frameworks.teardown');
    await removeFramework(state, frameworkId, `teardown requested by an operator (${principal.name})`);
    return { frameworkId, removed: true };
  });

  // Kill one task of any framework (as `kubectl delete pod`): its framework hears TASK_KILLED.
  app.post<{ Params: { id: string; taskId: string } }>('/api/v1/frameworks/:id/tasks/:taskId/kill', async (req) => {
    const principal = principalOf(req);
    const framework = state.framework(req.params.id);
    if (!framework || !(ownsOr(principal, framework) || may(principal, 'cluster.view'))) throw new NotFoundError('framework', req.params.id);
    requireOwnerOr(principal, framework, 'tasks.kill');
    if (framework.state !== 'connected' && !state.task(framework.id, req.params.taskId)) throw new NotFoundError('task', req.params.taskId);
    kill(state, { frameworkId: framework.id, taskId: req.params.taskId, agentId: '', killPolicy: null }, { subscribed: false });
    return { frameworkId: framework.id, taskId: req.params.taskId, killing: true };
  });

  // Only the roles the call names are written to the registry (one node per role).
  app.put('/api/v1/weights', async (req) => {
    requirePermission(principalOf(req), 'weights.update');
    const updates = parseWeights(req.body);
    checkWeightCount(state.weights, updates, Array.isArray(req.body) ? 'body' : 'weights');
    await state.registry.putWeights(updates);
    const next = { ...state.weights, ...Object.fromEntries(updates) };
    state.weights = next;
    for (const [role, weight] of updates) state.allocator.setWeight(role, weight);
    state.requestAllocation();
    return { weights: next };
  });

  app.delete<{ Params: { role: string } }>('/api/v1/weights/:role', async (req) => {
    requirePermission(principalOf(req), 'weights.update');
    const role = checkRole(req.params.role, 'role');
    if (!Object.hasOwn(state.weights, role)) throw new NotFoundError('weight for role', role);
    await state.registry.removeWeight(role);
    const next = { ...state.weights };
    delete next[role];
    state.weights = next;
    state.allocator.setWeight(role, 1);
    state.requestAllocation();
    return { role, removed: true };
  });

  app.put('/api/v1/quota', async (req) => {
    requirePermission(principalOf(req), 'quota.update');
    const { role, guarantee, limit } = parseQuota(req.body);
    if (!Object.hasOwn(state.quota, role) && Object.keys(state.quota).length >= MAX_QUOTA_ROLES) {
      throw new InvalidArgumentError('role', `${MAX_QUOTA_ROLES} roles already have a quota, the most there may be (DELETE /api/v1/quota/{role} removes one)`);
    }
    const entry: QuotaEntry = { guarantee: guarantee.format(), ...(limit ? { limit: limit.format() } : {}) };
    const next = { ...state.quota, [role]: entry };
    await state.registry.putQuota(role, entry);
    state.quota = next;
    state.allocator.setQuota(role, { guarantee, ...(limit ? { limit } : {}) });
    state.requestAllocation();
    return { role, guarantee: resourcesJson(guarantee), limit: limit ? resourcesJson(limit) : null };
  });

  app.delete<{ Params: { role: string } }>('/api/v1/quota/:role', async (req) => {
    requirePermission(principalOf(req), 'quota.update');
    const role = checkRole(req.params.role, 'role');
    if (!Object.hasOwn(state.quota, role)) throw new NotFoundError('quota for role', role);
    const next = { ...state.quota };
    delete next[role];
    await state.registry.removeQuota(role);
    state.quota = next;
    state.allocator.setQuota(role, undefined);
    state.requestAllocation();
    return { role, removed: true };
  });

  app.post<{ Params: { id: string } }>('/api/v1/agents/:id/drain', async (req) => {
    requirePermission(principalOf(req), 'agents.drain');
    const agent = knownAgent(state, req.params.id);
    const graceMs = parseDrainGrace(req.body) ?? state.options.drainGracePeriod;
    await drainAgent(state, agent, graceMs);
    return { agent: agentJson(state, state.agent(agent)!) };
  });

  app.post<{ Params: { id: string } }>('/api/v1/agents/:id/undrain', async (req) => {
    requirePermission(principalOf(req), 'agents.drain');
    const agent = knownAgent(state, req.params.id);
    await undrainAgent(state, agent);
    return { agent: agentJson(state, state.agent(agent)!) };
  });

  // Cordon: no new offers from the agent, its tasks untouched (the same permission as a drain).
  app.post<{ Params: { id: string } }>('/api/v1/agents/:id/cordon', async (req) => {
    const principal = principalOf(req);
    requirePermission(principal, 'agents.drain');
    const agent = knownAgent(state, req.params.id);
    await cordonAgent(state, agent, principal.name);
    return { agent: agentJson(state, state.agent(agent)!) };
  });

  app.post<{ Params: { id: string } }>('/api/v1/agents/:id/uncordon', async (req) => {
    const principal = principalOf(req);
    requirePermission(principal, 'agents.drain');
    const agent = knownAgent(state, req.params.id);
    await uncordonAgent(state, agent, principal.name);
    return { agent: agentJson(state, state.agent(agent)!) };
  });

  // What the write endpoints changed, read back (also served by GET /api/v1/roles).
  app.get('/api/v1/weights', async (req) => {
    requirePermission(principalOf(req), 'cluster.view');
    return { weights: { ...state.weights } };
  });
  app.get('/api/v1/quota', async (req) => {
    requirePermission(principalOf(req), 'cluster.view');
    return {
    quota: Object.entries(state.quota)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([role, q]) => ({ role, guarantee: resourcesJson(Resources.parse(q.guarantee)), limit: q.limit ? resourcesJson(Resources.parse(q.limit)) : null })),
    };
  });
}

function knownAgent(state: MasterState, id: string): string {
  if (!state.knowsAgent(id)) throw new NotFoundError('agent', id);
  return id;
}
