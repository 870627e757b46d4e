// What the operator's write endpoints accept, checked whole before anything changes: every
// malformed part — a wrong type, null, a number out of range, an unknown role — is an
// InvalidArgumentError (400) naming it, never a 500. Pure: no state, no I/O.
//
//   PUT /api/v1/weights   [{role, weight}] or {weights: [...]}       parseWeights
//   PUT /api/v1/quota     {role, guarantee?, limit?}                 parseQuota
//     guarantee / limit:  "cpus:2;mem:1024" | [{name, scalar, ...}] | {cpus: 2, mem: 1024}
//   POST …/drain          {gracePeriodSeconds?}                      parseDrainGrace
import { InvalidArgumentError } from '../../core/errors.js';
import { validateRole } from '../../core/ids.js';
import { checkSeconds, MAX_GRACE_SECONDS } from '../../core/limits.js';
import { Resources } from '../../core/resources.js';
import { unitsToMilli } from '../../core/resources-values.js';
import { resourcesFromWire } from '../../core/wire.js';
import type { Resource } from '../../proto/index.js';

type Json = Record<string, unknown>;

/** Weights are between these (DRF divides shares by them; the default is 1). */
export const MIN_WEIGHT = 0.001;
export const MAX_WEIGHT = 1_000_000;
/** At most this many roles have a weight, and as many a quota (each is a node in the registry). */
export const MAX_WEIGHTED_ROLES = 1000;
export const MAX_QUOTA_ROLES = 1000;

/** A JSON object body; an absent body is `{}`. */
export function objectBody(body: unknown, field = 'body'): Json {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidArgumentError(field, 'must be a JSON object');
  return body as Json;
}

export function checkRole(role: unknown, field: string): string {
  if (typeof role !== 'string' || role === '') throw new InvalidArgumentError(field, 'is required (a role name)');
  return validateRole(role, field);
}

/** `[{role, weight}]` or `{weights: [{role, weight}]}` → [role, weight] pairs, each role once. */
export function parseWeights(body: unknown): Array<[string, number]> {
  let list: unknown = body;
  let field = 'weights';
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) list = (body as Json)['weights'];
  else if (Array.isArray(body)) field = 'body';
  if (!Array.isArray(list)) throw new InvalidArgumentError('weights', 'expected a list of {role, weight} (or {weights: [...]})');
  if (list.length === 0) throw new InvalidArgumentError(field, 'give at least one {role, weight}');
  if (list.length > MAX_WEIGHTED_ROLES) throw new InvalidArgumentError(field, `${list.length} weights given; at most ${MAX_WEIGHTED_ROLES} roles have a weight`);
  const out: Array<[string, number]> = [];
  const seen = new Set<string>();
  for (const [i, item] of list.entries()) {
    const at = `${field}[${i}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new InvalidArgumentError(at, 'must be an object {role, weight}');
    const role = checkRole((item as Json)['role'], `${at}.role`);
    const weight = (item as Json)['weight'];
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < MIN_WEIGHT || weight > MAX_WEIGHT) {
      throw new InvalidArgumentError(`${at}.weight`, `must be a number from ${MIN_WEIGHT} to ${MAX_WEIGHT}, got ${describe(weight)}`);
    }
    if (seen.has(role)) throw new InvalidArgumentError(`${at}.role`, `role '${role}' is given twice`);
    seen.add(role);
    out.push([role, weight]);
  }
  return out;
}

/** Refuses updates that would give more than MAX_WEIGHTED_ROLES roles a weight. */
export function checkWeightCount(current: Readonly<Record<string, number>>, updates: ReadonlyArray<readonly [string, number]>, field: string): void {
  const added = updates.filter(([role]) => !Object.hasOwn(current, role)).length;
  const total = Object.keys(current).length + added;
  if (total > MAX_WEIGHTED_ROLES) {
    throw new InvalidArgumentError(field, `${total} roles would have a weight; at most ${MAX_WEIGHTED_ROLES} (DELETE /api/v1/weights/{role} forgets one)`);
  }
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

/** `{gracePeriodSeconds?}` → milliseconds, or undefined for the master's default. */
export function parseDrainGrace(body: unknown): number | undefined {
  const grace = objectBody(body)['gracePeriodSeconds'];
  if (grace === undefined || grace === null) return undefined;
  return Math.round(checkSeconds(grace, 'gracePeriodSeconds', { max: MAX_GRACE_SECONDS }) * 1000);
}

function quotaResources(value: unknown, field: string): Resources {
  let r: Resources;
  if (typeof value === 'string') r = Resources.parse(value, field);
  else if (Array.isArray(value)) r = resourcesFromWire(wireList(value, field), field);
  else if (value !== null && typeof value === 'object') {
    const scalars: Record<string, number> = {};
    for (const [name, n] of Object.entries(value as Json)) {
      if (typeof n !== 'number') throw new InvalidArgumentError(`${field}.${name}`, `must be a number, got ${describe(n)}`);
      const problem = unitsToMilli(n);
      if (typeof problem === 'string') throw new InvalidArgumentError(`${field}.${name}`, problem);
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

/**
 * A JSON list in the wire form of resources, its shape checked item by item (resourcesFromWire
 * trusts the shapes a protobuf decoder makes; JSON gives no such promise).
 */
function wireList(list: readonly unknown[], field: string): Resource[] {
  return list.map((item, i) => {
    const at = `${field}[${i}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new InvalidArgumentError(at, `must be a resource {name, type?, scalar | ranges | set, role?}, got ${describe(item)}`);
    const r = item as Json;
    for (const key of ['name', 'type', 'role'] as const) {
      if (r[key] !== undefined && r[key] !== null && typeof r[key] !== 'string') throw new InvalidArgumentError(`${at}.${key}`, `must be a string, got ${describe(r[key])}`);
    }
    if (r['scalar'] !== undefined && r['scalar'] !== null && typeof r['scalar'] !== 'number') throw new InvalidArgumentError(`${at}.scalar`, `must be a number, got ${describe(r['scalar'])}`);
    const ranges = listOf(r['ranges'], `${at}.ranges`, (x, f) => {
      if (x === null || typeof x !== 'object' || Array.isArray(x)) throw new InvalidArgumentError(f, `must be a range {begin, end}, got ${describe(x)}`);
      const { begin, end } = x as Json;
      if (typeof begin !== 'number' || typeof end !== 'number') throw new InvalidArgumentError(f, `begin and end must be numbers, got ${describe(begin)} and ${describe(end)}`);
      return { begin, end };
    });
    const set = listOf(r['set'], `${at}.set`, (x, f) => {
      if (typeof x !== 'string') throw new InvalidArgumentError(f, `must be a string, got ${describe(x)}`);
      return x;
    });
    return { ...(r as Resource), ...(ranges ? { ranges } : {}), ...(set ? { set } : {}) };
  });
}

function listOf<T>(value: unknown, field: string, item: (x: unknown, field: string) => T): T[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new InvalidArgumentError(field, `must be a list, got ${describe(value)}`);
  return value.map((x, i) => item(x, `${field}[${i}]`));
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}
