// Who may do what through the Jobs API. `jobs.read` / `jobs.write` per kind of workload; applying a
// spec also needs `tasks.run_as` on the user its tasks run as (the spec's, else the frameworks'
// --task-user, `nobody` by default) and `tasks.privileged` for privileged containers, added
// capabilities and host-path volumes — the caller's permissions, not the frameworks': the
// built-in frameworks may run anything, so the Jobs API is where a user's limits hold. Environment
// values are masked for principals without `env.view`.
import path from 'node:path';
import { may, requirePermission, runAsObject, type Principal } from '../../core/security/principal.js';
import type { WorkloadKind } from '../workload.js';

export const HIDDEN_ENV_VALUE = '<hidden>';

export function requireRead(principal: Principal, kind: WorkloadKind): void {
  requirePermission(principal, 'jobs.read', kind);
}

export function requireWrite(principal: Principal, kind: WorkloadKind): void {
  requirePermission(principal, 'jobs.write', kind);
}

/** The kinds of `kinds` the principal may read. */
export function readable(principal: Principal, kinds: readonly WorkloadKind[]): WorkloadKind[] {
  return kinds.filter((k) => may(principal, 'jobs.read', k));
}

type Loose = Record<string, unknown>;

function asObject(value: unknown): Loose | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Loose) : undefined;
}

/**
 * Authorise what a spec's tasks would run as, read from the spec as submitted (before the
 * framework validates it, so anything that might mean "privileged" counts as privileged).
 */
export function authorizeSpec(principal: Principal, kind: WorkloadKind, spec: Loose, taskUser: string): void {
  const template = kind === 'SERVICE' ? spec : (asObject(spec['task']) ?? {});
  const user = template['user'] === undefined || template['user'] === null || template['user'] === '' ? taskUser : String(template['user']);
  requirePermission(principal, 'tasks.run_as', runAsObject(user));
  if (privileged(asObject(template['container']))) requirePermission(principal, 'tasks.privileged');
}

function privileged(container: Loose | undefined): boolean {
  if (!container) return false;
  const flag = container['privileged'];
  if (flag !== undefined && flag !== null && flag !== false && flag !== 'false') return true;
  const parameters = Array.isArray(container['parameters']) ? container['parameters'] : [];
  if (parameters.some((p) => ['cap-add', 'privileged', 'device'].includes(String(asObject(p)?.['key'] ?? '')))) return true;
  const volumes = Array.isArray(container['volumes']) ? container['volumes'] : [];
  return volumes.some((v) => {
    const hostPath = String(asObject(v)?.['hostPath'] ?? '');
    const normal = path.posix.normalize(hostPath);
    return path.isAbsolute(hostPath) || normal === '..' || normal.startsWith('../');
  });
}

/** A copy of `value` with every `env` map's values masked, unless the principal has env.view. */
export function maskEnv<T>(principal: Principal, value: T): T {
  if (may(principal, 'env.view')) return value;
  return mask(value) as T;
}

function mask(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(mask);
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return value;
  const out: Loose = {};
  for (const [key, v] of Object.entries(value as Loose)) {
    const env = key === 'env' || key === 'environment' ? asObject(v) : undefined;
    out[key] = env ? maskMap(env) : mask(v);
  }
  return out;
}

function maskMap(env: Loose): Loose {
  // An Environment message ({ variables: [{ name, value }] }) or a plain map of name → value.
  if (Array.isArray(env['variables'])) return { ...env, variables: env['variables'].map((v) => ({ ...(asObject(v) ?? {}), value: HIDDEN_ENV_VALUE })) };
  return Object.fromEntries(Object.keys(env).map((k) => [k, HIDDEN_ENV_VALUE]));
}
