// Input checks for the allocator's entry points. Every check runs before any state changes, and
// every failure is an InvalidArgumentError naming the field, so bad input never corrupts state.
import { InvalidArgumentError } from '../../core/errors.js';
import { Resources } from '../../core/resources.js';
import { isValidRole } from '../../core/resources-values.js';
import type { AgentFacts, FrameworkFacts, RefuseFilter, UsedResources } from './types.js';

export function checkId(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidArgumentError(field, 'must be a non-empty string');
  return value;
}

export function checkRole(field: string, value: unknown): string {
  if (typeof value !== 'string' || !isValidRole(value)) throw new InvalidArgumentError(field, `invalid role '${String(value)}'`);
  return value;
}

export function checkResources(field: string, value: unknown): Resources {
  if (!(value instanceof Resources)) throw new InvalidArgumentError(field, 'must be a Resources value');
  return value;
}

export function checkBoolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidArgumentError(field, 'must be true or false');
  return value;
}

export function checkTime(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidArgumentError(field, 'must be a finite number (ms)');
  return value;
}

export function checkWeight(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError('weight', `must be a positive finite number, got ${String(value)}`);
  }
  return value;
}

export function checkAgentFacts(agent: AgentFacts): void {
  if (agent === null || typeof agent !== 'object') throw new InvalidArgumentError('agent', 'must be an object');
  checkId('agent.id', agent.id);
  if (typeof agent.hostname !== 'string') throw new InvalidArgumentError('agent.hostname', 'must be a string');
  checkResources('agent.total', agent.total);
}

export function checkFrameworkFacts(fw: FrameworkFacts): void {
  if (fw === null || typeof fw !== 'object') throw new InvalidArgumentError('framework', 'must be an object');
  checkId('framework.id', fw.id);
  if (!Array.isArray(fw.roles) || fw.roles.length === 0) throw new InvalidArgumentError('framework.roles', 'must name at least one role');
  fw.roles.forEach((r, i) => checkRole(`framework.roles[${i}]`, r));
  if (new Set(fw.roles).size !== fw.roles.length) throw new InvalidArgumentError('framework.roles', 'must not repeat a role');
  const suppressed = fw.suppressedRoles ?? [];
  if (!Array.isArray(suppressed)) throw new InvalidArgumentError('framework.suppressedRoles', 'must be an array');
  suppressed.forEach((r, i) => {
    if (!fw.roles.includes(r)) throw new InvalidArgumentError(`framework.suppressedRoles[${i}]`, `'${String(r)}' is not one of the framework's roles`);
  });
}

/** Roles named in suppress/revive must be the framework's own; omitted = all of them. */
export function checkOwnRoles(own: ReadonlySet<string>, roles: readonly string[] | undefined): string[] {
  if (roles === undefined) return [...own];
  if (!Array.isArray(roles)) throw new InvalidArgumentError('roles', 'must be an array');
  roles.forEach((r, i) => {
    if (!own.has(r)) throw new InvalidArgumentError(`roles[${i}]`, `'${String(r)}' is not one of the framework's roles`);
  });
  return [...roles];
}

export function checkUsed(field: string, u: UsedResources): void {
  if (u === null || typeof u !== 'object') throw new InvalidArgumentError(field, 'must be an object');
  checkId(`${field}.frameworkId`, u.frameworkId);
  checkId(`${field}.agentId`, u.agentId);
  checkRole(`${field}.role`, u.role);
  checkResources(`${field}.resources`, u.resources);
}

export function checkUsedList(field: string, used: readonly UsedResources[] | undefined): readonly UsedResources[] {
  if (used === undefined) return [];
  if (!Array.isArray(used)) throw new InvalidArgumentError(field, 'must be an array');
  used.forEach((u, i) => checkUsed(`${field}[${i}]`, u));
  return used;
}

export function checkFilter(filter: RefuseFilter | undefined): RefuseFilter | undefined {
  if (filter === undefined) return undefined;
  if (filter === null || typeof filter !== 'object') throw new InvalidArgumentError('filter', 'must be an object');
  if (typeof filter.refuseMs !== 'number' || !Number.isFinite(filter.refuseMs) || filter.refuseMs < 0) {
    throw new InvalidArgumentError('filter.refuseMs', `must be a finite number >= 0, got ${String(filter.refuseMs)}`);
  }
  checkTime('filter.now', filter.now);
  return filter;
}
