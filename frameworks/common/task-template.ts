// What one task runs — the part of a Service, and the `task` of a CronJob and a Job — validated
// and normalized once for the three frameworks: the same fields, the same rules and the same
// messages, with the field path under the caller's prefix (`command` for a Service,
// `task.command` for the others). Decisions where the frameworks used to disagree:
//
// - command + container.image: accepted everywhere (the command runs with `sh -c` in the image, as
//   Marathon's `cmd` with a Docker container, Kubernetes' `command` and Nomad's docker `command`);
//   args then go to the image's entrypoint. Only command + args together are refused.
// - ports, fetch, the full container (network, volumes, parameters, privileged): accepted
//   everywhere — a run-to-completion task may serve a port while it runs (a distributed job's
//   workers), and Chronos and Nomad batch fetch artifacts (here `fetch` becomes CommandInfo.uris;
//   the agent does not download them yet). The Jobs API authorises privileged containers and host
//   paths for every kind (api/access.ts).
// - healthCheck: accepted everywhere (a Kubernetes Job's pod may have a liveness probe, Chronos
//   tasks Mesos health checks): a task that fails it is killed by the agent, and that is a failed
//   attempt.
// - readinessCheck: a Service's only. It gates a rolling update; nothing waits for a job's task to
//   be ready, so a CronJob or Job that gives one is refused with a message that says so, rather
//   than ignored.
// - numbers: a number or a numeric string (proto3 JSON writes 64-bit numbers as strings), for
//   every template field.
import { InvalidArgumentError } from '../../core/errors.js';
import { MAX_GRACE_SECONDS } from '../../core/limits.js';
import { parseConstraints, type Constraint } from '../../sdk/constraint-spec.js';
import { parseCheck, type CheckDoc } from './checks.js';
import { parseEnvFrom, parseFiles, type FileRefDoc, type ValueRefDoc } from './value-refs.js';
import {
  boolAt, compact, enumAt, join, listAt, numberAt, objectAt, onlyKeys, resourcesAt, roleAt, stringAt, stringListAt, stringMapAt, type Doc, type ResourcesDoc,
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

/** A valid task template with defaults applied (keys in this order, so equal templates compare equal as JSON). */
export interface TaskTemplateDoc {
  readonly command: string;
  readonly args: readonly string[];
  readonly container?: ContainerDoc;
  readonly resources: ResourcesDoc;
  readonly ports: readonly PortDoc[];
  readonly env: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly healthCheck?: CheckDoc;
  /** A Service's only (see above). */
  readonly readinessCheck?: CheckDoc;
  readonly constraints: readonly Constraint[];
  /** '' = the framework's role. */
  readonly role: string;
  readonly killGracePeriodSeconds: number;
  readonly fetch: readonly FetchDoc[];
  /** '' = the framework's task user. */
  readonly user: string;
  /** Variables from Secrets and Configs (value-refs.ts); absent when none. */
  readonly envFrom?: Readonly<Record<string, ValueRefDoc>>;
  /** Files from Secrets and Configs written into the sandbox; absent when none. */
  readonly files?: readonly FileRefDoc[];
}

/** The template's fields, as a document gives them. */
export const TEMPLATE_KEYS: readonly string[] = [
  'command', 'args', 'container', 'resources', 'ports', 'env', 'labels', 'healthCheck', 'readinessCheck', 'constraints', 'role',
  'killGracePeriodSeconds', 'fetch', 'user', 'envFrom', 'files',
];

/** Agora's kill grace (Mesos's default), for every kind. */
export const TEMPLATE_DEFAULTS = Object.freeze({ killGracePeriodSeconds: 5 });

export interface TemplateRules {
  /** May the template have a readinessCheck (a Service's rolling update waits for it). */
  readonly readiness: boolean;
}

const PORT_NAME = /^[a-z]([a-z0-9-_]{0,61}[a-z0-9])?$/i;

/**
 * Validate the template fields of `doc` (its other keys are the caller's to check) with paths
 * under `at` ('' for a Service, 'task' for a job's template).
 */
export function parseTaskTemplate(doc: Doc, at: string, rules: TemplateRules): TaskTemplateDoc {
  const path = (key: string): string => join(at, key);
  if (!rules.readiness && doc['readinessCheck'] !== undefined && doc['readinessCheck'] !== null) {
    throw new InvalidArgumentError(path('readinessCheck'), 'is for services (a rolling update waits for it); nothing waits for a run-to-completion task to be ready: use healthCheck');
  }
  const ports = parsePorts(doc['ports'], path('ports'));
  const portNames = ports.map((p) => p.name);
  const container = parseContainer(doc['container'], path('container'));
  const { command, args } = parseCommand(doc, at, container);
  const env = stringMapAt(doc['env'], path('env'), 'env');
  const envFrom = parseEnvFrom(doc['envFrom'], path('envFrom'), env);
  const files = parseFiles(doc['files'], path('files'));
  return compact({
    command,
    args,
    container,
    resources: resourcesAt(doc['resources'], path('resources'), '{ cpus: 0.1, mem: 64 }'),
    ports,
    env,
    labels: stringMapAt(doc['labels'], path('labels')),
    healthCheck: parseCheck(doc['healthCheck'], path('healthCheck'), portNames),
    readinessCheck: rules.readiness ? parseCheck(doc['readinessCheck'], path('readinessCheck'), portNames) : undefined,
    constraints: parseConstraints(listAt(doc['constraints'], path('constraints')), path('constraints')).map((c) => compact({ ...c })),
    role: roleAt(doc['role'], path('role')),
    killGracePeriodSeconds: numberAt(doc['killGracePeriodSeconds'], path('killGracePeriodSeconds'), { min: 0, max: MAX_GRACE_SECONDS }) ?? TEMPLATE_DEFAULTS.killGracePeriodSeconds,
    fetch: listAt(doc['fetch'], path('fetch')).map((f, i) => parseFetch(f, join(path('fetch'), i))),
    user: stringAt(doc['user'], path('user')) ?? '',
    // Absent rather than empty, so a template stored before references existed compares equal.
    envFrom: Object.keys(envFrom).length > 0 ? envFrom : undefined,
    files: files.length > 0 ? files : undefined,
  });
}

function parseCommand(doc: Doc, at: string, container: ContainerDoc | undefined): { command: string; args: string[] } {
  const command = stringAt(doc['command'], join(at, 'command')) ?? '';
  const args = stringListAt(doc['args'], join(at, 'args'));
  if (container === undefined) {
    if (command === '' && args.length === 0) throw new InvalidArgumentError(join(at, 'command'), 'a task needs a command, args (exec form) or container.image');
    if (command !== '' && args.length > 0) throw new InvalidArgumentError(join(at, 'args'), 'give either command (a shell command) or args (exec form), not both');
  } else if (command !== '' && args.length > 0) {
    throw new InvalidArgumentError(join(at, 'args'), 'with an image, give either command (run with sh -c) or args (to the entrypoint), not both');
  }
  return { command, args };
}

function parsePorts(value: unknown, at: string): PortDoc[] {
  const ports = listAt(value, at).map((p, i) => parsePort(p, join(at, i)));
  const names = new Map<string, number>();
  const numbers = new Map<number, number>();
  ports.forEach((p, i) => {
    if (p.name === '') return;
    if (names.has(p.name)) throw new InvalidArgumentError(join(join(at, i), 'name'), `'${p.name}' is already the name of ports[${names.get(p.name)}]`);
    names.set(p.name, i);
  });
  ports.forEach((p, i) => {
    if (p.number === undefined) return;
    if (numbers.has(p.number)) throw new InvalidArgumentError(join(join(at, i), 'number'), `port ${p.number} is already asked for by ports[${numbers.get(p.number)}]`);
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

function parseContainer(value: unknown, at: string): ContainerDoc | undefined {
  const doc = objectAt(value, at);
  if (doc === undefined) return undefined;
  onlyKeys(doc, ['image', 'forcePull', 'network', 'networkName', 'parameters', 'volumes', 'privileged'], at);
  const image = stringAt(doc['image'], join(at, 'image'));
  if (image === undefined) throw new InvalidArgumentError(join(at, 'image'), 'is required with a container (omit container to run a command as a process)');
  const network = enumAt(doc['network'], join(at, 'network'), ['NETWORK_HOST', 'NETWORK_BRIDGE', 'NETWORK_NONE', 'NETWORK_USER'] as const, 'NETWORK_') ?? 'NETWORK_HOST';
  const networkName = stringAt(doc['networkName'], join(at, 'networkName')) ?? '';
  if (network === 'NETWORK_USER' && networkName === '') throw new InvalidArgumentError(join(at, 'networkName'), 'is required with network user');
  return {
    image,
    forcePull: boolAt(doc['forcePull'], join(at, 'forcePull')) ?? false,
    network,
    networkName,
    parameters: listAt(doc['parameters'], join(at, 'parameters')).map((p, i) => keyValue(p, join(join(at, 'parameters'), i))),
    volumes: listAt(doc['volumes'], join(at, 'volumes')).map((v, i) => parseVolume(v, join(join(at, 'volumes'), i))),
    privileged: boolAt(doc['privileged'], join(at, 'privileged')) ?? false,
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
