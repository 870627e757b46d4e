// The operator's write endpoints: teardown, weights, quota, drain / undrain. Each one validates its
// whole input first (bad input → 400 naming the field, and nothing changes), then persists to the
// registry, then applies to the master's memory and the allocator — so a failed registry write
// leaves memory as it was too.
import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import type { HttpServer } from '../../core/http.js';
import { Resources } from '../../core/resources.js';
import { resourcesFromWire } from '../../core/wire.js';
import type { Resource } from '../../proto/index.js';
import { principalOf } from '../../core/security/edge.js';
import { may, requirePermission, type Principal } from '../../core/security/principal.js';
import { drainAgent, undrainAgent } from '../agents.js';
import { kill, ownsOr, removeFramework, validateRoles } from '../frameworks.js';
import type { FrameworkRecord } from '../model.js';
import type { QuotaEntry } from '../registry.js';
import type { MasterState } from '../state.js';
import type { OperatorContext } from './context.js';
import { agentJson, resourcesJson } from './views.js';

type Json = Record<string, unknown>;

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
    const framework = state.frameworks.get(frameworkId);
    if (!framework || !(ownsOr(principal, framework) || may(principal, 'cluster.view'))) throw new NotFoundError('framework', frameworkId);
    requireOwnerOr(principal, framework, 'frameworks.teardown');
    await removeFramework(state, frameworkId, `teardown requested by an operator (${principal.name})`);
    return { frameworkId, removed: true };
  });

  // Kill one task of any framework (as `kubectl delete pod`): its framework hears TASK_KILLED.
  app.post<{ Params: { id: string; taskId: string } }>('/api/v1/frameworks/:id/tasks/:taskId/kill', async (req) => {
    const principal = principalOf(req);
    const framework = state.frameworks.get(req.params.id);
    if (!framework || !(ownsOr(principal, framework) || may(principal, 'cluster.view'))) throw new NotFoundError('framework', req.params.id);
    requireOwnerOr(principal, framework, 'tasks.kill');
    if (framework.state !== 'connected' && !state.task(framework.id, req.params.taskId)) throw new NotFoundError('task', req.params.taskId);
    kill(state, { frameworkId: framework.id, taskId: req.params.taskId, agentId: '', killPolicy: null }, { subscribed: false });
    return { frameworkId: framework.id, taskId: req.params.taskId, killing: true };
  });

  app.put('/api/v1/weights', async (req) => {
    requirePermission(principalOf(req), 'weights.update');
    const updates = parseWeights(req.body);
    const next = { ...state.weights, ...Object.fromEntries(updates) };
    await state.registry.putWeights(next);
    state.weights = next;
    for (const [role, weight] of updates) state.allocator.setWeight(role, weight);
    state.requestAllocation();
    return { weights: next };
  });

  app.put('/api/v1/quota', async (req) => {
    requirePermission(principalOf(req), 'quota.update');
    const { role, guarantee, limit } = parseQuota(req.body);
    const entry: QuotaEntry = { guarantee: guarantee.format(), ...(limit ? { limit: limit.format() } : {}) };
    const next = { ...state.quota, [role]: entry };
    await state.registry.putQuota(next);
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
    await state.registry.putQuota(next);
    state.quota = next;
    state.allocator.setQuota(role, undefined);
    state.requestAllocation();
    return { role, removed: true };
  });

  app.post<{ Params: { id: string } }>('/api/v1/agents/:id/drain', async (req) => {
    requirePermission(principalOf(req), 'agents.drain');
    const agent = knownAgent(state, req.params.id);
    const body = objectBody(req.body);
    const grace = body['gracePeriodSeconds'];
    let graceMs = state.options.drainGracePeriod;
    if (grace !== undefined && grace !== null) {
      if (typeof grace !== 'number' || !Number.isFinite(grace) || grace < 0) {
        throw new InvalidArgumentError('gracePeriodSeconds', `must be a finite number of seconds ≥ 0, got ${JSON.stringify(grace)}`);
      }
      graceMs = Math.round(grace * 1000);
    }
    await drainAgent(state, agent, graceMs);
    return { agent: agentJson(state, state.agents.get(agent)!) };
  });

  app.post<{ Params: { id: string } }>('/api/v1/agents/:id/undrain', async (req) => {
    requirePermission(principalOf(req), 'agents.drain');
    const agent = knownAgent(state, req.params.id);
    await undrainAgent(state, agent);
    return { agent: agentJson(state, state.agents.get(agent)!) };
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
  if (!state.agents.has(id)) throw new NotFoundError('agent', id);
  return id;
}

/** A JSON object body; an absent body is `{}`. */
function objectBody(body: unknown, field = 'body'): Json {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidArgumentError(field, 'must be a JSON object');
  return body as Json;
}

function checkRole(role: unknown, field: string): string {
  if (typeof role !== 'string' || role === '') throw new InvalidArgumentError(field, 'is required (a role name)');
  try {
    validateRoles([role], field);
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw new InvalidArgumentError(field, `'${role}' is not a valid role`);
    throw err;
  }
  return role;
}

/** `[{role, weight}]` or `{weights: [{role, weight}]}` → [role, weight] pairs, each role once. */
export function parseWeights(body: unknown): Array<[string, number]> {
  let list: unknown = body;
  let field = 'weights';
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) list = (body as Json)['weights'];
  else if (Array.isArray(body)) field = 'body';
  if (!Array.isArray(list)) throw new InvalidArgumentError('weights', 'expected a list of {role, weight} (or {weights: [...]})');
  if (list.length === 0) throw new InvalidArgumentError(field, 'give at least one {role, weight}');
  const out: Array<[string, number]> = [];
  const seen = new Set<string>();
  for (const [i, item] of list.entries()) {
    const at = `${field}[${i}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new InvalidArgumentError(at, 'must be an object {role, weight}');
    const role = checkRole((item as Json)['role'], `${at}.role`);
    const weight = (item as Json)['weight'];
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) {
      throw new InvalidArgumentError(`${at}.weight`, `must be a positive finite number, got ${JSON.stringify(weight)}`);
    }
    if (seen.has(role)) throw new InvalidArgumentError(`${at}.role`, `role '${role}' is given twice`);
    seen.add(role);
    out.push([role, weight]);
  }
  return out;
}

/** `{role, guarantee, limit?}`; each of guarantee and limit is text, a list of resources or `{cpus: 2, ...}`. */
export function parseQuota(body: unknown): { role: string; guarantee: Resources; limit: Resources | undefined } {
  const b = objectBody(body);
  const role = checkRole(b['role'], 'role');
  if (role === '*') throw new InvalidArgumentError('role', "quota cannot be set on the '*' role");
  if (b['guarantee'] === undefined && b['limit'] === undefined) throw new InvalidArgumentError('guarantee', 'give a guarantee, a limit or both');
  const guarantee = b['guarantee'] === undefined || b['guarantee'] === null ? Resources.EMPTY : quotaResources(b['guarantee'], 'guarantee');
  const limit = b['limit'] === undefined || b['limit'] === null ? undefined : quotaResources(b['limit'], 'limit');
  if (limit) {
    for (const [name, g] of guarantee.scalars()) {
      if (!limit.scalars().has(name)) continue;
      const l = limit.scalar(name);
      if (l < g) throw new InvalidArgumentError(`limit.${name}`, `limit ${l} is below the guarantee ${g}`);
    }
  }
  return { role, guarantee, limit };
}

function quotaResources(value: unknown, field: string): Resources {
  let r: Resources;
  if (typeof value === 'string') r = Resources.parse(value, field);
  else if (Array.isArray(value)) r = resourcesFromWire(value as Resource[], field);
  else if (value !== null && typeof value === 'object') {
    const scalars: Record<string, number> = {};
    for (const [name, n] of Object.entries(value as Json)) {
      if (typeof n !== 'number') throw new InvalidArgumentError(`${field}.${name}`, `must be a number, got ${JSON.stringify(n)}`);
      scalars[name] = n;
    }
    r = Resources.fromScalars(scalars, undefined, field);
  } else throw new InvalidArgumentError(field, 'expected resources as text ("cpus:2;mem:1024"), a list of resources or {cpus: 2, mem: 1024}');
  for (const e of r.toList()) {
    if (e.type !== 'scalar') throw new InvalidArgumentError(`${field}.${e.name}`, 'quota takes scalar resources only');
    if (e.role !== undefined && e.role !== '*') throw new InvalidArgumentError(`${field}.${e.name}`, 'quota takes unreserved resources only');
    if (!Number.isFinite(e.scalar ?? 0)) throw new InvalidArgumentError(`${field}.${e.name}`, 'must be finite');
  }
  return r;
}
