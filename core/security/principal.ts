// Who is calling, and what they may do. A principal is authenticated once per call (or per
// stream) and carries its grants — the union of its policies' rules — so authorising an action is
// a pure, synchronous check anywhere in the process: `requirePermission(principal, action, object)`.
//
// Object patterns: `*` matches anything, `prefix*` any value starting with prefix, else the exact
// value. Linear in the length of the pattern; no regular expressions from users.
import { PermissionDeniedError } from '../errors.js';
import { ACTION_NAMES, objectKindOf, type Action } from './actions.js';

export interface Grant {
  readonly action: Action;
  /** Patterns of the objects covered; undefined = every object (and actions without objects). */
  readonly objects?: readonly string[];
}

export type AuthenticatedVia = 'token' | 'certificate' | 'insecure';

export interface Principal {
  readonly name: string;
  readonly via: AuthenticatedVia;
  readonly grants: readonly Grant[];
  /** The token's accessor (its public half), for logs and revocation. */
  readonly accessor?: string;
}

/** Every action on every object. */
export const ALL_GRANTS: readonly Grant[] = Object.freeze(ACTION_NAMES.map((action) => Object.freeze({ action })));

/** Who everyone is when security is turned off (`--insecure`): allowed everything. */
export const INSECURE_PRINCIPAL: Principal = Object.freeze({ name: 'anonymous', via: 'insecure', grants: ALL_GRANTS });

export function matchesPattern(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  return pattern === value;
}

/** May `principal` do `action` (on `object`, for actions that have objects)? */
export function may(principal: Principal, action: Action, object?: string): boolean {
  const ranged = objectKindOf(action) !== 'none' && object !== undefined;
  for (const grant of principal.grants) {
    if (grant.action !== action) continue;
    if (!ranged || grant.objects === undefined) return true;
    if (grant.objects.some((p) => matchesPattern(p, object))) return true;
  }
  return false;
}

/** Throws PERMISSION_DENIED naming the permission (and object) unless the principal may. */
export function requirePermission(principal: Principal, action: Action, object?: string): void {
  if (!may(principal, action, object)) throw new PermissionDeniedError(principal.name, action, objectKindOf(action) === 'none' ? undefined : object);
}

/** Grants merged per action: any-object grants absorb the rest, object lists are unioned. */
export function mergeGrants(grants: Iterable<Grant>): Grant[] {
  const byAction = new Map<Action, Set<string> | 'any'>();
  for (const g of grants) {
    const had = byAction.get(g.action);
    if (had === 'any') continue;
    if (g.objects === undefined) {
      byAction.set(g.action, 'any');
      continue;
    }
    const set = had ?? new Set<string>();
    for (const o of g.objects) set.add(o);
    byAction.set(g.action, set);
  }
  return [...byAction].map(([action, objects]) => (objects === 'any' ? { action } : { action, objects: [...objects].sort() }));
}

/** The user name authorised for a task user: numeric uid 0 is root, whatever it is called. */
export function runAsObject(user: string): string {
  return /^0+(:\d+)?$/.test(user) ? 'root' : user;
}
