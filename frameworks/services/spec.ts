// A service spec (kind: Service), validated and normalized: defaults filled where the service
// framework owns them (backoff, upgrade strategy, kill grace), keys in a fixed order, so that two
// specs that mean the same thing compare equal as JSON. Every error names the field at fault;
// nothing is stored unless the whole spec is valid.
import { InvalidArgumentError } from '../../core/errors.js';
import { validateName } from '../../core/ids.js';
import { MAX_BACKOFF_SECONDS, MAX_GRACE_SECONDS, MAX_LIFETIME_SECONDS } from '../../core/limits.js';
import { parseConstraints, type Constraint } from '../../sdk/constraints.js';
import type { ServiceSpec } from '../../proto/index.js';
import { checkToWire, parseCheck, type CheckDoc } from './spec-checks.js';
import {
  boolAt,
  compact,
  describe,
  enumAt,
  join,
  listAt,
  numberAt,
  objectAt,
  onlyKeys,
  resourcesAt,
  roleAt,
  stringAt,
  stringListAt,
  stringMapAt,
  type Doc,
} from './spec-fields.js';

export interface PortDoc {
  /** '' for an unnamed port (reachable as $PORT<i> only). */
  readonly name: string;
  readonly number?: number;
  readonly protocol: 'tcp' | 'udp';
  readonly containerPort?: number;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ContainerDoc {
  readonly image: string;
  readonly forcePull: boolean;
  readonly network: 'NETWORK_HOST' | 'NETWORK_BRIDGE' | 'NETWORK_NONE' | 'NETWORK_USER';
  readonly networkName: string;
  readonly parameters: readonly { readonly key: string; readonly value: string }[];
  readonly volumes: readonly { readonly containerPath: string; readonly hostPath: string; readonly mode: 'RW' | 'RO' }[];
  readonly privileged: boolean;
}

export interface FetchDoc {
  readonly value: string;
  readonly executable: boolean;
  readonly extract: boolean;
  readonly cache: boolean;
  readonly outputFile: string;
}

/** A valid service spec with defaults applied. `instances` is not part of a version. */
export interface ServiceSpecDoc {
  readonly name: string;
  readonly instances: number;
  readonly command: string;
  readonly args: readonly string[];
  readonly container?: ContainerDoc;
  readonly resources: { readonly cpus: number; readonly mem: number; readonly disk: number; readonly gpus: number };
  readonly ports: readonly PortDoc[];
  readonly env: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly healthCheck?: CheckDoc;
  readonly readinessCheck?: CheckDoc;
  readonly constraints: readonly Constraint[];
  readonly role: string;
  readonly killGracePeriodSeconds: number;
  readonly backoff: { readonly seconds: number; readonly factor: number; readonly maxLaunchDelaySeconds: number };
  readonly upgradeStrategy: { readonly minimumHealthCapacity: number; readonly maximumOverCapacity: number };
  readonly canary: { readonly instances: number };
  readonly fetch: readonly FetchDoc[];
  readonly user: string;
  /** Absent = UNREACHABLE_DEFAULTS (kept absent so specs written before it keep their version). */
  readonly unreachableStrategy?: UnreachableStrategy;
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
  killGracePeriodSeconds: 5,
  backoff: Object.freeze({ seconds: 1, factor: 1.15, maxLaunchDelaySeconds: 300 }),
  upgradeStrategy: Object.freeze({ minimumHealthCapacity: 1, maximumOverCapacity: 1 }),
});

const SPEC_KEYS = [
  'kind', 'name', 'instances', 'command', 'args', 'container', 'resources', 'ports', 'env', 'labels', 'healthCheck',
  'readinessCheck', 'constraints', 'role', 'killGracePeriodSeconds', 'backoff', 'upgradeStrategy', 'canary', 'fetch', 'user',
  'unreachableStrategy',
];
/** Beyond this a second retry already waits the cap; larger is a typo. */
export const MAX_BACKOFF_FACTOR = 100;
const PORT_NAME = /^[a-z]([a-z0-9-_]{0,61}[a-z0-9])?$/i;

/** Validate a parsed document (camelCase, proto3 JSON form) into a normalized spec. */
export function parseServiceSpec(input: unknown): ServiceSpecDoc {
  const doc = objectAt(input, '');
  if (doc === undefined) throw new InvalidArgumentError('spec', 'a service spec is required');
  onlyKeys(doc, SPEC_KEYS, '');
  if (doc['kind'] !== undefined && !(typeof doc['kind'] === 'string' && /^service$/i.test(doc['kind']))) throw new InvalidArgumentError('kind', `must be Service, got ${describe(doc['kind'])}`);
  const name = validateName(doc['name'], 'name');
  const ports = parsePorts(doc['ports']);
  const portNames = ports.map((p) => p.name);
  const container = parseContainer(doc['container']);
  const { command, args } = parseCommand(doc, container);
  const instances = numberAt(doc['instances'], 'instances', { min: 0, integer: true, max: 10_000 }) ?? SPEC_DEFAULTS.instances;
  const canary = objectAt(doc['canary'], 'canary');
  if (canary) onlyKeys(canary, ['instances'], 'canary');
  return compact({
    name,
    instances,
    command,
    args,
    container,
    resources: parseResources(doc['resources']),
    ports,
    env: stringMapAt(doc['env'], 'env', 'env'),
    labels: stringMapAt(doc['labels'], 'labels'),
    healthCheck: parseCheck(doc['healthCheck'], 'healthCheck', portNames),
    readinessCheck: parseCheck(doc['readinessCheck'], 'readinessCheck', portNames),
    constraints: parseConstraints(listAt(doc['constraints'], 'constraints'), 'constraints').map((c) => compact({ ...c })),
    role: roleAt(doc['role'], 'role'),
    killGracePeriodSeconds: numberAt(doc['killGracePeriodSeconds'], 'killGracePeriodSeconds', { min: 0, max: MAX_GRACE_SECONDS }) ?? SPEC_DEFAULTS.killGracePeriodSeconds,
    backoff: parseBackoff(doc['backoff']),
    upgradeStrategy: parseUpgrade(doc['upgradeStrategy']),
    canary: { instances: numberAt(canary?.['instances'], 'canary.instances', { min: 0, integer: true }) ?? 0 },
    fetch: listAt(doc['fetch'], 'fetch').map((f, i) => parseFetch(f, join('fetch', i))),
    user: stringAt(doc['user'], 'user') ?? '',
    unreachableStrategy: parseUnreachable(doc['unreachableStrategy']),
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

/** What makes a version: everything but the instance count. */
export function versionKey(spec: ServiceSpecDoc): string {
  const { instances: _instances, ...rest } = spec;
  return JSON.stringify(rest);
}

function parseCommand(doc: Doc, container: ContainerDoc | undefined): { command: string; args: string[] } {
  const command = stringAt(doc['command'], 'command') ?? '';
  const args = stringListAt(doc['args'], 'args');
  if (container === undefined) {
    if (command === '' && args.length === 0) throw new InvalidArgumentError('command', 'a service needs a command, args (exec form) or container.image');
    if (command !== '' && args.length > 0) throw new InvalidArgumentError('args', 'give either command (a shell command) or args (exec form), not both');
  } else if (command !== '' && args.length > 0) {
    throw new InvalidArgumentError('args', 'with an image, give either command (run with sh -c) or args (to the entrypoint), not both');
  }
  return { command, args };
}

function parseResources(value: unknown): ServiceSpecDoc['resources'] {
  return resourcesAt(value, 'resources', '{ cpus: 0.1, mem: 64 }');
}

function parsePorts(value: unknown): PortDoc[] {
  const ports = listAt(value, 'ports').map((p, i) => parsePort(p, join('ports', i)));
  const seen = new Map<string, number>();
  ports.forEach((p, i) => {
    if (p.name === '') return;
    if (seen.has(p.name)) throw new InvalidArgumentError(`ports[${i}].name`, `'${p.name}' is already the name of ports[${seen.get(p.name)}]`);
    seen.set(p.name, i);
  });
  const numbers = new Map<number, number>();
  ports.forEach((p, i) => {
    if (p.number === undefined) return;
    if (numbers.has(p.number)) throw new InvalidArgumentError(`ports[${i}].number`, `port ${p.number} is already asked for by ports[${numbers.get(p.number)}]`);
    numbers.set(p.number, i);
  });
  return ports;
}

function parsePort(value: unknown, path: string): PortDoc {
  const doc = typeof value === 'string' ? { name: value } : objectAt(value, path);
  if (doc === undefined) throw new InvalidArgumentError(path, 'must be a port name or { name, number?, protocol? }');
  onlyKeys(doc, ['name', 'number', 'protocol', 'containerPort', 'labels'], path);
  const name = stringAt(doc['name'], join(path, 'name')) ?? '';
  if (name !== '' && !PORT_NAME.test(name)) {
    throw new InvalidArgumentError(join(path, 'name'), `'${name}' is not a valid port name: letters, digits, '-' and '_', starting with a letter, up to 63 characters`);
  }
  return compact({
    name,
    number: numberAt(doc['number'] === 0 ? undefined : doc['number'], join(path, 'number'), { min: 1, max: 65535, integer: true }),
    protocol: (enumAt(doc['protocol'], join(path, 'protocol'), ['TCP', 'UDP'] as const) ?? 'TCP').toLowerCase() as 'tcp' | 'udp',
    containerPort: numberAt(doc['containerPort'] === 0 ? undefined : doc['containerPort'], join(path, 'containerPort'), { min: 1, max: 65535, integer: true }),
    labels: stringMapAt(doc['labels'], join(path, 'labels')),
  });
}

function parseContainer(value: unknown): ContainerDoc | undefined {
  const doc = objectAt(value, 'container');
  if (doc === undefined) return undefined;
  onlyKeys(doc, ['image', 'forcePull', 'network', 'networkName', 'parameters', 'volumes', 'privileged'], 'container');
  const image = stringAt(doc['image'], 'container.image');
  if (image === undefined) throw new InvalidArgumentError('container.image', 'is required with a container (omit container to run a command as a process)');
  const network = enumAt(doc['network'], 'container.network', ['NETWORK_HOST', 'NETWORK_BRIDGE', 'NETWORK_NONE', 'NETWORK_USER'] as const, 'NETWORK_') ?? 'NETWORK_HOST';
  const networkName = stringAt(doc['networkName'], 'container.networkName') ?? '';
  if (network === 'NETWORK_USER' && networkName === '') throw new InvalidArgumentError('container.networkName', 'is required with network user');
  return {
    image,
    forcePull: boolAt(doc['forcePull'], 'container.forcePull') ?? false,
    network,
    networkName,
    parameters: listAt(doc['parameters'], 'container.parameters').map((p, i) => keyValue(p, join('container.parameters', i))),
    volumes: listAt(doc['volumes'], 'container.volumes').map((v, i) => parseVolume(v, join('container.volumes', i))),
    privileged: boolAt(doc['privileged'], 'container.privileged') ?? false,
  };
}

function keyValue(value: unknown, path: string): { key: string; value: string } {
  const doc = objectAt(value, path) ?? {};
  onlyKeys(doc, ['key', 'value'], path);
  const key = stringAt(doc['key'], join(path, 'key'));
  if (key === undefined) throw new InvalidArgumentError(join(path, 'key'), 'is required');
  return { key, value: stringAt(doc['value'], join(path, 'value')) ?? '' };
}

function parseVolume(value: unknown, path: string): ContainerDoc['volumes'][number] {
  const doc = objectAt(value, path) ?? {};
  onlyKeys(doc, ['containerPath', 'hostPath', 'mode'], path);
  const containerPath = stringAt(doc['containerPath'], join(path, 'containerPath'));
  if (containerPath === undefined || !containerPath.startsWith('/')) throw new InvalidArgumentError(join(path, 'containerPath'), 'must be an absolute path');
  const hostPath = stringAt(doc['hostPath'], join(path, 'hostPath'));
  if (hostPath === undefined) throw new InvalidArgumentError(join(path, 'hostPath'), 'is required');
  return { containerPath, hostPath, mode: enumAt(doc['mode'], join(path, 'mode'), ['RW', 'RO'] as const) ?? 'RW' };
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

function parseFetch(value: unknown, path: string): FetchDoc {
  const doc = typeof value === 'string' ? { value } : (objectAt(value, path) ?? {});
  onlyKeys(doc, ['value', 'executable', 'extract', 'cache', 'outputFile'], path);
  const uri = stringAt(doc['value'], join(path, 'value'));
  if (uri === undefined) throw new InvalidArgumentError(join(path, 'value'), 'is required (a URL or a path)');
  return {
    value: uri,
    executable: boolAt(doc['executable'], join(path, 'executable')) ?? false,
    extract: boolAt(doc['extract'], join(path, 'extract')) ?? false,
    cache: boolAt(doc['cache'], join(path, 'cache')) ?? false,
    outputFile: stringAt(doc['outputFile'], join(path, 'outputFile')) ?? '',
  };
}

/** The wire form (workload.proto ServiceSpec) of a normalized spec, for Get and Watch. */
export function specToWire(spec: ServiceSpecDoc): ServiceSpec {
  return {
    ...spec,
    args: [...spec.args],
    ports: spec.ports.map((p) => ({ ...p, labels: { ...p.labels } })),
    container: spec.container ? { ...spec.container, parameters: [...spec.container.parameters], volumes: [...spec.container.volumes] } : null,
    healthCheck: spec.healthCheck ? checkToWire(spec.healthCheck) : null,
    readinessCheck: spec.readinessCheck ? checkToWire(spec.readinessCheck) : null,
    constraints: spec.constraints.map((c) => ({ field: c.field, operator: c.operator, value: c.value ?? '' })),
    fetch: spec.fetch.map((f) => ({ ...f })),
    unreachableStrategy: spec.unreachableStrategy ? { ...spec.unreachableStrategy } : null,
    env: { ...spec.env },
    labels: { ...spec.labels },
  };
}
