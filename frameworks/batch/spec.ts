// A job spec (kind: Job), validated and normalized with Kubernetes Job semantics: defaults filled
// (completions 1, parallelism 1, backoffLimit 6), parallelism trimmed to completions, keys in a
// fixed order, and the whole value frozen. Every error names the field path at fault.
//
//   document ──► validateJobSpec ──► JobSpecDoc (frozen) ──► planner / gang / queue
//                                         └─► taskShape(spec): what one task needs, for matchOffers
import { InvalidArgumentError } from '../../core/errors.js';
import { validateName } from '../../core/ids.js';
import { MAX_LIFETIME_SECONDS } from '../../core/limits.js';
import type { Constraint } from '../../sdk/constraint-spec.js';
import { boolAt, compact, deepFreeze, describe, numberAt, objectAt, onlyKeys, stringMapAt, type NumberRule, type ResourcesDoc } from '../common/spec-fields.js';
import { portRequests, templateCapabilities } from '../common/task-info.js';
import { parseTaskTemplate, TEMPLATE_DEFAULTS, TEMPLATE_KEYS, type TaskTemplateDoc as CommonTemplate } from '../common/task-template.js';
import type { PortRequest } from '../../sdk/offers.js';

export type CompletionModeName = 'NON_INDEXED' | 'INDEXED';

export type TaskResourcesDoc = ResourcesDoc;

/** What each task of the job runs: common/task-template.ts, without a readinessCheck (nothing waits for a job's task to be ready). */
export type TaskTemplateDoc = Omit<CommonTemplate, 'readinessCheck'>;

export interface JobSpecDoc {
  readonly name: string;
  readonly completions: number;
  /** Tasks at once, already trimmed to `completions` (Kubernetes never runs more than are left). */
  readonly parallelism: number;
  readonly backoffLimit: number;
  readonly activeDeadlineSeconds?: number;
  readonly ttlSecondsAfterFinished?: number;
  readonly completionMode: CompletionModeName;
  readonly gang: boolean;
  readonly priority: number;
  readonly suspend: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly task: TaskTemplateDoc;
}

/** Kubernetes' defaults (backoffLimit 6), Agora's kill grace (5 s). */
export const JOB_DEFAULTS = Object.freeze({ completions: 1, parallelism: 1, backoffLimit: 6, killGracePeriodSeconds: TEMPLATE_DEFAULTS.killGracePeriodSeconds });

// Far beyond any real job; refuses typos like 1e9 before the planner allocates per-index state.
const MAX_COMPLETIONS = 100_000;
const JOB_KEYS = [
  'kind', 'name', 'completions', 'parallelism', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished',
  'completionMode', 'gang', 'priority', 'suspend', 'labels', 'task',
];

/** Validate a parsed document (camelCase, proto3 JSON form) into a frozen, normalized job spec. */
export function validateJobSpec(input: unknown): JobSpecDoc {
  const doc = objectAt(input, '');
  if (doc === undefined) throw new InvalidArgumentError('spec', 'a job spec is required');
  onlyKeys(doc, JOB_KEYS, '');
  if (doc['kind'] !== undefined && !(typeof doc['kind'] === 'string' && /^job$/i.test(doc['kind']))) throw new InvalidArgumentError('kind', `must be Job, got ${describe(doc['kind'])}`);
  const name = validateName(doc['name'], 'name');
  const completionMode = parseMode(doc['completionMode']);
  const gang = boolAt(doc['gang'], 'gang') ?? false;
  const given = strictNumber(doc['completions'], 'completions', { min: 1, integer: true, max: MAX_COMPLETIONS });
  if (completionMode === 'INDEXED' && given === undefined) {
    throw new InvalidArgumentError('completions', 'is required with completionMode Indexed (one task per index 0..completions-1)');
  }
  const completions = given ?? JOB_DEFAULTS.completions;
  const parallelism = strictNumber(doc['parallelism'], 'parallelism', { min: 1, integer: true, max: MAX_COMPLETIONS }) ?? JOB_DEFAULTS.parallelism;
  if (gang && completions < parallelism) {
    throw new InvalidArgumentError('completions', `must be ≥ parallelism when gang is true (a gang launches ${parallelism} tasks together, got completions ${completions})`);
  }
  const spec: JobSpecDoc = compact({
    name,
    completions,
    parallelism: Math.min(parallelism, completions),
    backoffLimit: strictNumber(doc['backoffLimit'], 'backoffLimit', { min: 0, integer: true, max: 2 ** 31 - 1 }) ?? JOB_DEFAULTS.backoffLimit,
    activeDeadlineSeconds: strictNumber(doc['activeDeadlineSeconds'], 'activeDeadlineSeconds', { min: 0, exclusive: true, max: MAX_LIFETIME_SECONDS }),
    ttlSecondsAfterFinished: strictNumber(doc['ttlSecondsAfterFinished'], 'ttlSecondsAfterFinished', { min: 0, max: MAX_LIFETIME_SECONDS }),
    completionMode,
    gang,
    priority: strictNumber(doc['priority'], 'priority', { integer: true, min: -(2 ** 31), max: 2 ** 31 - 1 }) ?? 0,
    suspend: boolAt(doc['suspend'], 'suspend') ?? false,
    labels: stringMapAt(doc['labels'], 'labels'),
    task: parseTask(doc['task']),
  });
  return deepFreeze(spec);
}

/** What one task of `spec` needs, in the form sdk matchOffers takes (`group` = the job). */
export interface TaskShape {
  readonly resources: string;
  /** Absent when the template asks for no ports. */
  readonly ports?: readonly PortRequest[];
  readonly constraints: readonly Constraint[];
  readonly role?: string;
  readonly group: string;
  /** ['DOCKER'] for a template with a container image; absent otherwise. */
  readonly capabilities?: readonly 'DOCKER'[];
}

export function taskShape(spec: JobSpecDoc): TaskShape {
  return compact({
    resources: resourcesText(spec.task.resources),
    // A template stored before jobs had ports has none.
    ports: (spec.task.ports ?? []).length > 0 ? portRequests(spec.task) : undefined,
    constraints: spec.task.constraints,
    role: spec.task.role === '' ? undefined : spec.task.role,
    group: `job:${spec.name}`,
    capabilities: templateCapabilities(spec.task).capabilities,
  });
}

/** `cpus:1;mem:128` (disk and gpus only when asked for). */
export function resourcesText(r: TaskResourcesDoc): string {
  const parts = [`cpus:${r.cpus}`, `mem:${r.mem}`];
  if (r.disk > 0) parts.push(`disk:${r.disk}`);
  if (r.gpus > 0) parts.push(`gpus:${r.gpus}`);
  return parts.join(';');
}

// 'NonIndexed' / 'Indexed' as Kubernetes spells them, the proto names (NON_INDEXED) or numbers.
function parseMode(value: unknown): CompletionModeName {
  if (value === undefined || value === null || value === '' || value === 0) return 'NON_INDEXED';
  if (value === 1) return 'INDEXED';
  const key = typeof value === 'string' ? value.replace(/[-_\s]/g, '').toUpperCase() : '';
  if (key === 'NONINDEXED') return 'NON_INDEXED';
  if (key === 'INDEXED') return 'INDEXED';
  throw new InvalidArgumentError('completionMode', `must be NonIndexed or Indexed, got ${describe(value)}`);
}

/** Numbers only: a quoted "5" is a wrong type here (YAML users get numbers by not quoting). */
function strictNumber(value: unknown, path: string, rule: NumberRule): number | undefined {
  if (value !== undefined && value !== null && typeof value !== 'number') {
    throw new InvalidArgumentError(path, `must be a number, got ${describe(value)}`);
  }
  return numberAt(value, path, rule);
}

/**
 * A task template as validateJobSpec writes it, from one stored before jobs shared the common
 * template (no ports or fetch, a container of image and forcePull only): the same keys, in order.
 */
export function currentTemplate(task: TaskTemplateDoc): TaskTemplateDoc {
  const c = task.container as Partial<NonNullable<TaskTemplateDoc['container']>> | undefined;
  const container = c === undefined ? undefined : {
    image: c.image!,
    forcePull: c.forcePull ?? false,
    network: c.network ?? 'NETWORK_HOST',
    networkName: c.networkName ?? '',
    parameters: c.parameters ?? [],
    volumes: c.volumes ?? [],
    privileged: c.privileged ?? false,
  };
  return compact({
    command: task.command,
    args: task.args,
    container,
    resources: task.resources,
    ports: task.ports ?? [],
    env: task.env,
    labels: task.labels,
    healthCheck: task.healthCheck,
    constraints: task.constraints,
    role: task.role,
    killGracePeriodSeconds: task.killGracePeriodSeconds,
    fetch: task.fetch ?? [],
    user: task.user,
    envFrom: task.envFrom,
    files: task.files,
  });
}

// The template's own rules (common/task-template.ts); the job-level numbers above stay numbers only.
function parseTask(value: unknown): TaskTemplateDoc {
  const doc = objectAt(value, 'task');
  if (doc === undefined) throw new InvalidArgumentError('task', 'is required: what each task runs, e.g. { command: "./work.sh", resources: { cpus: 1, mem: 128 } }');
  onlyKeys(doc, TEMPLATE_KEYS, 'task');
  return parseTaskTemplate(doc, 'task', { readiness: false });
}
