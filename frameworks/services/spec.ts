// A service spec (kind: Service), validated and normalized: defaults filled where the service
// framework owns them (backoff, upgrade strategy, kill grace), keys in a fixed order, so that two
// specs that mean the same thing compare equal as JSON. Every error names the field at fault;
// nothing is stored unless the whole spec is valid.
import { InvalidArgumentError } from '../../core/errors.js';
import { validateName } from '../../core/ids.js';
import { MAX_BACKOFF_SECONDS, MAX_LIFETIME_SECONDS } from '../../core/limits.js';
import type { ServiceSpec } from '../../proto/index.js';
import { checkToWire } from '../common/checks.js';
import { clampInstances, parseAutoscale, type AutoscaleSpec } from './autoscale.js';
import { compact, describe, MAX_BACKOFF_FACTOR, numberAt, objectAt, onlyKeys } from '../common/spec-fields.js';
import { parseTaskTemplate, TEMPLATE_DEFAULTS, TEMPLATE_KEYS, type TaskTemplateDoc } from '../common/task-template.js';

export type { ContainerDoc, FetchDoc, PortDoc } from '../common/task-template.js';
export { MAX_BACKOFF_FACTOR } from '../common/spec-fields.js';

/** A valid service spec with defaults applied. `instances` and `autoscale` are not part of a version. */
export interface ServiceSpecDoc extends TaskTemplateDoc {
  readonly name: string;
  readonly instances: number;
  readonly backoff: { readonly seconds: number; readonly factor: number; readonly maxLaunchDelaySeconds: number };
  readonly upgradeStrategy: { readonly minimumHealthCapacity: number; readonly maximumOverCapacity: number };
  readonly canary: { readonly instances: number };
  /** Absent = UNREACHABLE_DEFAULTS (kept absent so specs written before it keep their version). */
  readonly unreachableStrategy?: UnreachableStrategy;
  /** Absent = a fixed count. With it, `instances` is the starting count (clamped to min..max). */
  readonly autoscale?: AutoscaleSpec;
  /** Where the frameworks host's proxy listens for this service (frameworks/proxy/); absent = nowhere. Part of a version. */
  readonly servicePort?: number;
}

/** Marathon's unreachableStrategy: replace an instance whose agent is unreachable, forget it later. */
export interface UnreachableStrategy {
  /** Unreachable this long, the instance is replaced (its task is kept, and killed if it returns as a surplus). */
  readonly inactiveAfterSeconds: number;
  /** Unreachable this long, the task is forgotten (killed as unknown if it ever returns). */
  readonly expungeAfterSeconds: number;
}

/**
 * Replace at once (the master has already waited out its agent timeout, 75 s, before it says
 * UNREACHABLE — Marathon too moved its default to 0), forget after 10 minutes.
 */
export const UNREACHABLE_DEFAULTS: UnreachableStrategy = Object.freeze({ inactiveAfterSeconds: 0, expungeAfterSeconds: 600 });
/** An instance left unreplaced for more than a day is not meant. */
export const MAX_INACTIVE_AFTER_SECONDS = 24 * 3600;

/** Marathon's defaults. */
export const SPEC_DEFAULTS = Object.freeze({
  instances: 1,
  killGracePeriodSeconds: TEMPLATE_DEFAULTS.killGracePeriodSeconds,
  backoff: Object.freeze({ seconds: 1, factor: 1.15, maxLaunchDelaySeconds: 300 }),
  upgradeStrategy: Object.freeze({ minimumHealthCapacity: 1, maximumOverCapacity: 1 }),
});

const SPEC_KEYS = ['kind', 'name', 'instances', ...TEMPLATE_KEYS, 'backoff', 'upgradeStrategy', 'canary', 'unreachableStrategy', 'autoscale', 'servicePort'];

/** Validate a parsed document (camelCase, proto3 JSON form) into a normalized spec. */
export function parseServiceSpec(input: unknown): ServiceSpecDoc {
  const doc = objectAt(input, '');
  if (doc === undefined) throw new InvalidArgumentError('spec', 'a service spec is required');
  onlyKeys(doc, SPEC_KEYS, '');
  if (doc['kind'] !== undefined && !(typeof doc['kind'] === 'string' && /^service$/i.test(doc['kind']))) throw new InvalidArgumentError('kind', `must be Service, got ${describe(doc['kind'])}`);
  const name = validateName(doc['name'], 'name');
  const autoscale = parseAutoscale(doc['autoscale']);
  const instances = clampInstances(numberAt(doc['instances'], 'instances', { min: 0, integer: true, max: 10_000 }) ?? SPEC_DEFAULTS.instances, autoscale);
  const canary = objectAt(doc['canary'], 'canary');
  if (canary) onlyKeys(canary, ['instances'], 'canary');
  const t = parseTaskTemplate(doc, '', { readiness: true });
  // Keys in the order specs have always been stored in: a version is its JSON (versionKey).
  return compact({
    name,
    instances,
    command: t.command,
    args: t.args,
    container: t.container,
    resources: t.resources,
    ports: t.ports,
    env: t.env,
    labels: t.labels,
    healthCheck: t.healthCheck,
    readinessCheck: t.readinessCheck,
    constraints: t.constraints,
    role: t.role,
    killGracePeriodSeconds: t.killGracePeriodSeconds,
    backoff: parseBackoff(doc['backoff']),
    upgradeStrategy: parseUpgrade(doc['upgradeStrategy']),
    canary: { instances: numberAt(canary?.['instances'], 'canary.instances', { min: 0, integer: true }) ?? 0 },
    fetch: t.fetch,
    user: t.user,
    unreachableStrategy: parseUnreachable(doc['unreachableStrategy']),
    autoscale,
    servicePort: numberAt(doc['servicePort'], 'servicePort', { min: 1, max: 65535, integer: true }),
    envFrom: t.envFrom,
    files: t.files,
  });
}

function parseUnreachable(value: unknown): UnreachableStrategy | undefined {
  const doc = objectAt(value, 'unreachableStrategy');
  if (doc === undefined) return undefined;
  onlyKeys(doc, ['inactiveAfterSeconds', 'expungeAfterSeconds'], 'unreachableStrategy');
  const inactive = numberAt(doc['inactiveAfterSeconds'], 'unreachableStrategy.inactiveAfterSeconds', { min: 0, max: MAX_INACTIVE_AFTER_SECONDS });
  const expunge = numberAt(doc['expungeAfterSeconds'], 'unreachableStrategy.expungeAfterSeconds', { min: 0, max: MAX_LIFETIME_SECONDS });
  // A typed client's empty message means the defaults: no field of the version.
  if (inactive === undefined && expunge === undefined) return undefined;
  const d = UNREACHABLE_DEFAULTS;
  const out = { inactiveAfterSeconds: inactive ?? d.inactiveAfterSeconds, expungeAfterSeconds: expunge ?? Math.max(d.expungeAfterSeconds, inactive ?? 0) };
  if (out.expungeAfterSeconds < out.inactiveAfterSeconds) {
    throw new InvalidArgumentError('unreachableStrategy.expungeAfterSeconds', `must be at least inactiveAfterSeconds (${out.inactiveAfterSeconds}), got ${out.expungeAfterSeconds}`);
  }
  return out;
}

/** What makes a version: everything but the instance count and how it is autoscaled. */
export function versionKey(spec: ServiceSpecDoc): string {
  const { instances: _instances, autoscale: _autoscale, ...rest } = spec;
  return JSON.stringify(rest);
}

function parseBackoff(value: unknown): ServiceSpecDoc['backoff'] {
  const doc = objectAt(value, 'backoff') ?? {};
  onlyKeys(doc, ['seconds', 'factor', 'maxLaunchDelaySeconds'], 'backoff');
  const d = SPEC_DEFAULTS.backoff;
  const seconds = numberAt(doc['seconds'], 'backoff.seconds', { min: 0, max: MAX_BACKOFF_SECONDS }) ?? d.seconds;
  const factor = numberAt(doc['factor'], 'backoff.factor', { min: 1, max: MAX_BACKOFF_FACTOR }) ?? d.factor;
  const max = numberAt(doc['maxLaunchDelaySeconds'], 'backoff.maxLaunchDelaySeconds', { min: 0, max: MAX_BACKOFF_SECONDS }) ?? d.maxLaunchDelaySeconds;
  return { seconds, factor, maxLaunchDelaySeconds: max };
}

function parseUpgrade(value: unknown): ServiceSpecDoc['upgradeStrategy'] {
  const doc = objectAt(value, 'upgradeStrategy') ?? {};
  onlyKeys(doc, ['minimumHealthCapacity', 'maximumOverCapacity'], 'upgradeStrategy');
  const d = SPEC_DEFAULTS.upgradeStrategy;
  return {
    minimumHealthCapacity: numberAt(doc['minimumHealthCapacity'], 'upgradeStrategy.minimumHealthCapacity', { min: 0, max: 1 }) ?? d.minimumHealthCapacity,
    maximumOverCapacity: numberAt(doc['maximumOverCapacity'], 'upgradeStrategy.maximumOverCapacity', { min: 0, max: 1 }) ?? d.maximumOverCapacity,
  };
}

/** The wire form (workload.proto ServiceSpec) of a normalized spec, for Get and Watch. */
export function specToWire(spec: ServiceSpecDoc): ServiceSpec {
  const { envFrom, files, ...rest } = spec;
  return {
    ...rest,
    args: [...spec.args],
    ports: spec.ports.map((p) => ({ ...p, labels: { ...p.labels } })),
    container: spec.container ? { ...spec.container, parameters: [...spec.container.parameters], volumes: [...spec.container.volumes] } : null,
    healthCheck: spec.healthCheck ? checkToWire(spec.healthCheck) : null,
    readinessCheck: spec.readinessCheck ? checkToWire(spec.readinessCheck) : null,
    constraints: spec.constraints.map((c) => ({ field: c.field, operator: c.operator, value: c.value ?? '' })),
    fetch: spec.fetch.map((f) => ({ ...f })),
    unreachableStrategy: spec.unreachableStrategy ? { ...spec.unreachableStrategy } : null,
    autoscale: spec.autoscale ? { ...spec.autoscale } : null,
    env: { ...spec.env },
    labels: { ...spec.labels },
    ...(envFrom ? { envFrom: { ...envFrom } } : {}),
    ...(files ? { files: files.map((f) => ({ ...f })) } : {}),
  };
}
