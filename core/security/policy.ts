// Policies: named lists of rules granting actions (actions.ts), in the spirit of Mesos ACLs and
// Nomad policies. A token names the policies its principal holds; a client certificate names them
// in its OU. Written as YAML or JSON:
//
//   kind: Policy
//   name: team-a
//   description: the team-a services
//   rules:
//     - allow: [frameworks.register]
//       roles: [team-a, team-a/*]
//     - allow: [tasks.run_as]
//       users: [app]
//     - allow: [jobs.read, jobs.write]
//       kinds: [Service, Job]
//     - allow: [secrets.read]
//       secrets: [team-a-*]
//
// A rule without its object field covers every object. The built-in policies below cannot be
// replaced or deleted.
import { InvalidArgumentError } from '../errors.js';
import { ACTION_NAMES, ACTIONS, isAction, normaliseKind, objectKindOf, type Action, type ObjectKind } from './actions.js';
import { ALL_GRANTS, mergeGrants, type Grant } from './principal.js';

export interface PolicyRule {
  readonly allow: readonly Action[];
  readonly roles?: readonly string[];
  readonly users?: readonly string[];
  readonly kinds?: readonly string[];
  readonly secrets?: readonly string[];
}

export interface Policy {
  readonly name: string;
  readonly description: string;
  readonly rules: readonly PolicyRule[];
}

const NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const OBJECT_FIELDS = ['roles', 'users', 'kinds', 'secrets'] as const;
const RULE_KEYS = new Set(['allow', ...OBJECT_FIELDS]);
const POLICY_KEYS = new Set(['kind', 'name', 'description', 'rules']);

export function validatePolicyName(value: unknown, field = 'name'): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new InvalidArgumentError(field, `${JSON.stringify(value)} is not a valid policy name: lower-case letters, digits, '.', '_' or '-', up to 63 characters`);
  }
  return value;
}

/** A policy document (already parsed from YAML or JSON) → a Policy, or an error naming the field. */
export function parsePolicy(value: unknown, field = 'policy'): Policy {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidArgumentError(field, 'expected a policy object (kind, name, rules)');
  const doc = value as Record<string, unknown>;
  for (const key of Object.keys(doc)) if (!POLICY_KEYS.has(key)) throw new InvalidArgumentError(`${field}.${key}`, `unknown field (expected ${[...POLICY_KEYS].join(', ')})`);
  if (doc['kind'] !== undefined && doc['kind'] !== 'Policy') throw new InvalidArgumentError(`${field}.kind`, `expected 'Policy', got ${JSON.stringify(doc['kind'])}`);
  const name = validatePolicyName(doc['name'], `${field}.name`);
  const description = doc['description'] ?? '';
  if (typeof description !== 'string') throw new InvalidArgumentError(`${field}.description`, 'must be a string');
  const rules = doc['rules'];
  if (!Array.isArray(rules) || rules.length === 0) throw new InvalidArgumentError(`${field}.rules`, 'at least one rule is required');
  return Object.freeze({ name, description, rules: Object.freeze(rules.map((r, i) => parseRule(r, `${field}.rules[${i}]`))) });
}

function parseRule(value: unknown, field: string): PolicyRule {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidArgumentError(field, 'expected a rule object with `allow`');
  const raw = value as Record<string, unknown>;
  for (const key of Object.keys(raw)) if (!RULE_KEYS.has(key)) throw new InvalidArgumentError(`${field}.${key}`, `unknown field (expected allow, roles, users, kinds or secrets)`);
  const allowRaw = typeof raw['allow'] === 'string' ? [raw['allow']] : raw['allow'];
  if (!Array.isArray(allowRaw) || allowRaw.length === 0) throw new InvalidArgumentError(`${field}.allow`, 'name at least one action');
  const allow = allowRaw.map((a, i) => {
    if (!isAction(a)) throw new InvalidArgumentError(`${field}.allow[${i}]`, `unknown action ${JSON.stringify(a)} (known: ${ACTION_NAMES.join(', ')})`);
    return a;
  });
  const rule: { allow: Action[]; roles?: string[]; users?: string[]; kinds?: string[]; secrets?: string[] } = { allow };
  for (const key of OBJECT_FIELDS) {
    if (raw[key] === undefined) continue;
    const wrong = allow.find((a) => objectKindOf(a) !== key);
    if (wrong !== undefined) throw new InvalidArgumentError(`${field}.${key}`, `'${wrong}' does not range over ${key} (${describeObjects(objectKindOf(wrong))}); put it in a rule of its own`);
    rule[key] = patterns(raw[key], `${field}.${key}`, key);
  }
  return Object.freeze(rule);
}

function describeObjects(kind: ObjectKind): string {
  return kind === 'none' ? 'it has no objects' : `it ranges over ${kind}`;
}

function patterns(value: unknown, field: string, kind: (typeof OBJECT_FIELDS)[number]): string[] {
  if (!Array.isArray(value) || value.length === 0) throw new InvalidArgumentError(field, 'expected a non-empty list (leave the field out to cover everything)');
  return value.map((v, i) => {
    const f = `${field}[${i}]`;
    if (typeof v !== 'string' || v === '' || /\s/.test(v)) throw new InvalidArgumentError(f, `${JSON.stringify(v)} is not a valid pattern`);
    if (v.indexOf('*') !== -1 && v.indexOf('*') !== v.length - 1) throw new InvalidArgumentError(f, `'${v}': '*' may only end a pattern`);
    return kind === 'kinds' && v !== '*' ? normaliseKind(v, f) : v;
  });
}

/** Everything a policy allows, one grant per action and object list. */
export function grantsOf(policy: Policy): Grant[] {
  const grants: Grant[] = [];
  for (const rule of policy.rules) {
    for (const action of rule.allow) {
      const kind = objectKindOf(action);
      const objects = kind === 'none' ? undefined : rule[kind];
      grants.push(objects === undefined ? { action } : { action, objects: [...objects] });
    }
  }
  return mergeGrants(grants);
}

function builtIn(name: string, description: string, allow: readonly Action[]): Policy {
  return Object.freeze({ name, description, rules: Object.freeze([Object.freeze({ allow: Object.freeze([...allow]) })]) });
}

/** Reserved names, always present, not replaceable. */
export const BUILT_IN_POLICIES: ReadonlyMap<string, Policy> = new Map(
  [
    builtIn('admin', 'every action on every object', ALL_GRANTS.map((g) => g.action)),
    builtIn('agent', 'what an agent needs: register, and check the credentials of callers to its HTTP endpoints', ['agents.register', 'acl.review']),
    builtIn('frameworks', 'what the built-in frameworks need: subscribe in any role, run tasks as any user the Jobs API allowed, check callers', [
      'frameworks.register',
      'tasks.run_as',
      'tasks.privileged',
      'acl.review',
      'cluster.view',
    ]),
    builtIn('viewer', 'read everything, change nothing (environment values stay masked)', ['cluster.view', 'frameworks.view', 'jobs.read']),
  ].map((p) => [p.name, p]),
);

/** The one-line description of every action, for `agora acl actions` and the docs. */
export function describeActions(): { action: Action; objects: ObjectKind; doc: string }[] {
  return ACTION_NAMES.map((action) => ({ action, objects: ACTIONS[action].objects, doc: ACTIONS[action].doc }));
}
