// The catalogue of permissions: every action a policy can grant, what objects it ranges over, and
// what it lets a principal do. One table, read by the policy parser, the authoriser, the docs test
// and `agora acl` — so a permission named in a refusal is always one that can be granted.
import { InvalidArgumentError } from '../errors.js';

/** What an action's objects are: roles, users, workload kinds or secret names; 'none' when it has none. */
export type ObjectKind = 'roles' | 'users' | 'kinds' | 'secrets' | 'none';

interface ActionSpec {
  readonly objects: ObjectKind;
  readonly doc: string;
}

export const ACTIONS = {
  'agents.register': { objects: 'none', doc: 'register and re-register agents (an agent id then belongs to the credential that registered it)' },
  'frameworks.register': { objects: 'roles', doc: 'subscribe frameworks in these roles (a framework id then belongs to its principal)' },
  'tasks.run_as': { objects: 'users', doc: 'launch tasks that run as these users (root also needs --allow-root-tasks on the agent)' },
  'tasks.privileged': { objects: 'none', doc: 'launch privileged containers, containers with added capabilities and host-path volumes (the agent must also allow them)' },
  'frameworks.view': { objects: 'none', doc: "see every framework's tasks, sandboxes and logs (a principal always sees its own frameworks')" },
  'frameworks.teardown': { objects: 'none', doc: 'tear down any framework (a framework may always tear itself down)' },
  'tasks.kill': { objects: 'none', doc: "kill any framework's tasks through the operator API (a framework kills its own through the scheduler API)" },
  'tasks.exec': { objects: 'none', doc: "run commands inside any task one may see (`agora exec`), as the task's user; not implied by frameworks.view (a framework's principal may always exec into its own tasks)" },
  'env.view': { objects: 'none', doc: "see the values of tasks' and workloads' environment variables (others see them masked)" },
  'cluster.view': { objects: 'none', doc: 'read agents, frameworks, roles, weights, quota, offers, the event stream and metrics' },
  'weights.update': { objects: 'none', doc: "set roles' weights" },
  'quota.update': { objects: 'none', doc: "set and remove roles' quota" },
  'agents.drain': { objects: 'none', doc: 'drain and undrain, cordon and uncordon agents' },
  'acl.manage': { objects: 'none', doc: 'create, list and revoke tokens; write and delete policies' },
  'acl.review': { objects: 'none', doc: 'ask the master who a credential belongs to (agents and the built-in frameworks, for requests they serve)' },
  'jobs.read': { objects: 'kinds', doc: 'read workloads of these kinds in the Jobs API (and their tasks\u2019 logs)' },
  'jobs.write': { objects: 'kinds', doc: 'create, change, run and delete workloads of these kinds in the Jobs API' },
  'secrets.read': { objects: 'secrets', doc: "read the values of these Secrets, and apply workloads whose tasks are given them (jobs.read/jobs.write on Secret covers their keys and sizes, and writing them)" },
} as const satisfies Record<string, ActionSpec>;

export type Action = keyof typeof ACTIONS;

export const ACTION_NAMES: readonly Action[] = Object.freeze(Object.keys(ACTIONS) as Action[]);

export function isAction(value: unknown): value is Action {
  return typeof value === 'string' && Object.hasOwn(ACTIONS, value);
}

export function objectKindOf(action: Action): ObjectKind {
  return ACTIONS[action].objects;
}

/** The workload kinds, as the Jobs API names them (and as policies may spell them). */
export const WORKLOAD_KINDS = Object.freeze({ service: 'SERVICE', cronjob: 'CRONJOB', job: 'JOB', secret: 'SECRET', config: 'CONFIG' } as const);

/** `Service`, `service` or `SERVICE` → `SERVICE`; anything else names `field`. */
export function normaliseKind(value: string, field: string): string {
  const kind = (WORKLOAD_KINDS as Record<string, string>)[value.toLowerCase()];
  if (kind === undefined) throw new InvalidArgumentError(field, `'${value}' is not a workload kind (Service, CronJob, Job, Secret or Config)`);
  return kind;
}
