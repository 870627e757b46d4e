// Health and readiness checks of a task template: HTTP, TCP or a command, with the port named by
// the template's port name (`port: http` or `portName: http`), its index (`portIndex: 1`) or a
// fixed number (`port: 8080`). Checks run on the agent; this only validates and normalizes them.
import { InvalidArgumentError } from '../../core/errors.js';
import { MAX_CHECK_SECONDS } from '../../core/limits.js';
import type { HealthCheck } from '../../proto/index.js';
import { compact, describe, enumAt, join, listAt, numberAt, objectAt, onlyKeys, stringAt, stringListAt, type Doc } from './spec-fields.js';

export interface CheckPort {
  /** A fixed host port. */
  readonly port?: number;
  readonly portName?: string;
  readonly portIndex?: number;
}

export interface HttpCheckDoc extends CheckPort {
  readonly scheme: 'http' | 'https';
  readonly path: string;
  readonly statuses: readonly number[];
}

export interface CommandCheckDoc {
  readonly value: string;
  /** Exec form (no shell): `arguments` is the argv. Absent = a shell command. */
  readonly arguments?: readonly string[];
}

export interface CheckDoc {
  readonly type: 'HTTP' | 'TCP' | 'COMMAND';
  readonly http?: HttpCheckDoc;
  readonly tcp?: CheckPort;
  readonly command?: CommandCheckDoc;
  readonly delaySeconds?: number;
  readonly intervalSeconds?: number;
  readonly timeoutSeconds?: number;
  readonly consecutiveFailures?: number;
  readonly gracePeriodSeconds?: number;
}

const CHECK_KEYS = ['type', 'http', 'tcp', 'command', 'delaySeconds', 'intervalSeconds', 'timeoutSeconds', 'consecutiveFailures', 'gracePeriodSeconds'];
const TYPES = ['HTTP', 'TCP', 'COMMAND'] as const;
const CHECK_EXAMPLES: Record<(typeof TYPES)[number], string> = { HTTP: '{ portName: http, path: / }', TCP: '{ portName: http }', COMMAND: '{ value: "test -f ready" }' };

/** Validate a check against the template's port names (in order; '' for unnamed ports). */
export function parseCheck(value: unknown, path: string, portNames: readonly string[]): CheckDoc | undefined {
  const doc = objectAt(value, path);
  if (doc === undefined) return undefined;
  onlyKeys(doc, CHECK_KEYS, path);
  const http = objectAt(doc['http'], join(path, 'http'));
  const tcp = objectAt(doc['tcp'], join(path, 'tcp'));
  const command = doc['command'] === null || doc['command'] === undefined || doc['command'] === '' ? undefined : doc['command'];
  const given = [http && 'HTTP', tcp && 'TCP', command !== undefined && 'COMMAND'].filter((t): t is (typeof TYPES)[number] => typeof t === 'string');
  const declared = doc['type'] === 'CHECK_TYPE_UNSPECIFIED' ? undefined : enumAt(doc['type'], join(path, 'type'), TYPES, '', TYPES);
  if (given.length === 0) {
    // An all-default message from a typed client means "no check".
    if (declared === undefined) return undefined;
    throw new InvalidArgumentError(join(path, declared.toLowerCase()), `is required with type: ${declared}, e.g. ${CHECK_EXAMPLES[declared]}`);
  }
  if (given.length > 1) throw new InvalidArgumentError(path, `give exactly one of http, tcp or command, got ${given.join(' and ').toLowerCase()}`);
  const type = given[0]!;
  if (declared !== undefined && declared !== type) throw new InvalidArgumentError(join(path, 'type'), `is ${declared} but the check has ${type.toLowerCase()} settings`);
  return compact({
    type,
    http: http && parseHttp(http, join(path, 'http'), portNames),
    tcp: tcp && parsePort(tcp, join(path, 'tcp'), portNames, ['port', 'portName', 'portIndex']),
    command: command === undefined ? undefined : parseCommand(command, join(path, 'command')),
    delaySeconds: numberAt(doc['delaySeconds'], join(path, 'delaySeconds'), { min: 0, max: MAX_CHECK_SECONDS }),
    intervalSeconds: numberAt(doc['intervalSeconds'], join(path, 'intervalSeconds'), { min: 0, exclusive: true, max: MAX_CHECK_SECONDS }),
    timeoutSeconds: numberAt(doc['timeoutSeconds'], join(path, 'timeoutSeconds'), { min: 0, exclusive: true, max: MAX_CHECK_SECONDS }),
    consecutiveFailures: numberAt(doc['consecutiveFailures'], join(path, 'consecutiveFailures'), { min: 1, integer: true }),
    gracePeriodSeconds: numberAt(doc['gracePeriodSeconds'], join(path, 'gracePeriodSeconds'), { min: 0, max: MAX_CHECK_SECONDS }),
  });
}

function parseHttp(doc: Doc, path: string, portNames: readonly string[]): HttpCheckDoc {
  const port = parsePort(doc, path, portNames, ['scheme', 'path', 'statuses', 'port', 'portName', 'portIndex']);
  const scheme = enumAt(doc['scheme'], join(path, 'scheme'), ['HTTP', 'HTTPS'] as const, '', ['http', 'https']) ?? 'HTTP';
  const urlPath = stringAt(doc['path'], join(path, 'path')) ?? '/';
  if (!urlPath.startsWith('/')) throw new InvalidArgumentError(join(path, 'path'), `must start with '/', got '${urlPath}'`);
  const statuses = listAt(doc['statuses'], join(path, 'statuses')).map((s, i) => numberAt(s, join(join(path, 'statuses'), i), { min: 100, max: 599, integer: true })!);
  return { ...port, scheme: scheme === 'HTTPS' ? 'https' : 'http', path: urlPath, statuses };
}

// The port to probe. Precedence on the agent is port, portName, portIndex; one is enough, so
// giving two is refused rather than silently ignoring one.
function parsePort(doc: Doc, path: string, portNames: readonly string[], keys: readonly string[]): CheckPort {
  onlyKeys(doc, keys, path);
  const rawPort = doc['port'] === 0 ? undefined : doc['port'];
  const byName = typeof rawPort === 'string' && !/^\d+$/.test(rawPort);
  const port = byName ? undefined : numberAt(rawPort, join(path, 'port'), { min: 1, max: 65535, integer: true });
  const portName = byName ? (rawPort as string) : stringAt(doc['portName'], join(path, 'portName'));
  const nameField = byName ? join(path, 'port') : join(path, 'portName');
  const portIndex = numberAt(doc['portIndex'], join(path, 'portIndex'), { min: 0, integer: true });
  const set = [port !== undefined, portName !== undefined, portIndex !== undefined].filter(Boolean).length;
  if (set > 1) throw new InvalidArgumentError(join(path, 'port'), 'give one of port (a number or a port name), portName or portIndex');
  if (portName !== undefined && !portNames.includes(portName)) {
    const known = portNames.filter((n) => n !== '');
    throw new InvalidArgumentError(nameField, `no port named '${portName}' (${known.length ? `ports: ${known.join(', ')}` : 'the task names no ports'})`);
  }
  if (portIndex !== undefined && portIndex >= portNames.length) {
    throw new InvalidArgumentError(join(path, 'portIndex'), `is ${portIndex} but the task has ${portNames.length} port(s)`);
  }
  if (set === 0 && portNames.length === 0) throw new InvalidArgumentError(join(path, 'port'), 'the task has no ports: add one to ports, or give a port number');
  return compact({ port, portName, portIndex: set === 0 ? 0 : portIndex });
}

function parseCommand(value: unknown, path: string): CommandCheckDoc {
  if (typeof value === 'string') return { value };
  const doc = objectAt(value, path);
  if (doc === undefined) throw new InvalidArgumentError(path, `must be a command line or { value }, got ${describe(value)}`);
  onlyKeys(doc, ['value', 'shell', 'arguments', 'environment', 'user', 'uris'], path);
  const text = stringAt(doc['value'], join(path, 'value'));
  const args = stringListAt(doc['arguments'], join(path, 'arguments'));
  if (doc['shell'] === false) {
    if (args.length === 0 && text === undefined) throw new InvalidArgumentError(join(path, 'arguments'), 'an exec-form check needs its argv');
    return { value: text ?? '', arguments: args };
  }
  if (text === undefined) throw new InvalidArgumentError(join(path, 'value'), 'the check command is required');
  return { value: text };
}

/** The wire HealthCheck of a normalized check, with named ports left for the agent to resolve. */
export function checkToWire(check: CheckDoc): HealthCheck {
  const timing = compact({
    delaySeconds: check.delaySeconds,
    intervalSeconds: check.intervalSeconds,
    timeoutSeconds: check.timeoutSeconds,
    consecutiveFailures: check.consecutiveFailures,
    gracePeriodSeconds: check.gracePeriodSeconds,
  });
  switch (check.type) {
    case 'HTTP': {
      const h = check.http!;
      return { type: 'HTTP', ...timing, http: { scheme: h.scheme, path: h.path, statuses: [...h.statuses], ...portToWire(h) } };
    }
    case 'TCP':
      return { type: 'TCP', ...timing, tcp: portToWire(check.tcp!) };
    case 'COMMAND': {
      const c = check.command!;
      const command = c.arguments === undefined ? { shell: true, value: c.value } : { shell: false, value: c.value, arguments: [...c.arguments] };
      return { type: 'COMMAND', ...timing, command };
    }
  }
}

function portToWire(p: CheckPort): { port?: number; portName?: string; portIndex?: number } {
  return compact({ port: p.port, portName: p.portName, portIndex: p.portIndex });
}
