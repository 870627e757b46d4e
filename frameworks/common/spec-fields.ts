// Small readers for validating a parsed document: each names the field path it is reading
// (`resources.cpus`, `ports[1].name`) in the InvalidArgumentError it throws. Absent, null and the
// proto3 defaults a typed gRPC client sends for unset fields ('' and empty lists) read as "not set".
import { InvalidArgumentError } from '../../core/errors.js';
import { validateRole } from '../../core/ids.js';

export type Doc = Readonly<Record<string, unknown>>;

/** Beyond this a second retry already waits the cap; larger is a typo (services' restart and cron's retry backoff). */
export const MAX_BACKOFF_FACTOR = 100;

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** An object, or undefined when absent; anything else is an error. */
export function objectAt(value: unknown, path: string): Doc | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgumentError(path, `must be an object, got ${describe(value)}`);
  return value as Doc;
}

/** Refuse keys the spec does not know (typos like `instance:` fail loudly instead of doing nothing). */
export function onlyKeys(doc: Doc, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(doc)) {
    if (!allowed.includes(key)) throw new InvalidArgumentError(join(path, key), `unknown field '${key}' (expected one of ${allowed.join(', ')})`);
  }
}

export function stringAt(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new InvalidArgumentError(path, `must be a string, got ${describe(value)}`);
  return value;
}

export function boolAt(value: unknown, path: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new InvalidArgumentError(path, `must be true or false, got ${describe(value)}`);
  return value;
}

export interface NumberRule {
  readonly min?: number;
  /** The value must be greater than `min`, not equal. */
  readonly exclusive?: boolean;
  readonly max?: number;
  readonly integer?: boolean;
}

export function numberAt(value: unknown, path: string, rule: NumberRule = {}): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new InvalidArgumentError(path, `must be a number, got ${describe(value)}`);
  if (rule.integer && !Number.isInteger(n)) throw new InvalidArgumentError(path, `must be a whole number, got ${n}`);
  if (rule.min !== undefined && (rule.exclusive ? n <= rule.min : n < rule.min)) {
    throw new InvalidArgumentError(path, `must be ${rule.exclusive ? 'greater than' : 'at least'} ${rule.min}, got ${n}`);
  }
  if (rule.max !== undefined && n > rule.max) throw new InvalidArgumentError(path, `must be at most ${rule.max}, got ${n}`);
  return n;
}

export type NumberReader = (value: unknown, path: string, rule: NumberRule) => number | undefined;

export interface ResourcesDoc {
  readonly cpus: number;
  readonly mem: number;
  readonly disk: number;
  readonly gpus: number;
}

/** `{ cpus, mem, disk?, gpus? }` at `path`: cpus and mem required and > 0, gpus whole. */
export function resourcesAt(value: unknown, path: string, example: string, read: NumberReader = numberAt): ResourcesDoc {
  const doc = objectAt(value, path);
  if (doc === undefined) throw new InvalidArgumentError(path, `is required, e.g. ${example}`);
  onlyKeys(doc, ['cpus', 'mem', 'disk', 'gpus'], path);
  // Resources are fixed-point to the thousandth: anything smaller than that is zero.
  const cpus = read(doc['cpus'], `${path}.cpus`, { min: 0.001 });
  const mem = read(doc['mem'], `${path}.mem`, { min: 0.001 });
  if (cpus === undefined) throw new InvalidArgumentError(`${path}.cpus`, 'is required and must be greater than 0');
  if (mem === undefined) throw new InvalidArgumentError(`${path}.mem`, 'is required and must be greater than 0 (MiB)');
  return {
    cpus,
    mem,
    disk: read(doc['disk'], `${path}.disk`, { min: 0 }) ?? 0,
    gpus: read(doc['gpus'], `${path}.gpus`, { min: 0, integer: true }) ?? 0,
  };
}

export function listAt(value: unknown, path: string): readonly unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InvalidArgumentError(path, `must be a list, got ${describe(value)}`);
  return value;
}

export function stringListAt(value: unknown, path: string): string[] {
  return listAt(value, path).map((v, i) => {
    if (typeof v !== 'string') throw new InvalidArgumentError(join(path, i), `must be a string, got ${describe(v)}`);
    return v;
  });
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A map of strings (numbers and booleans are written as text, as YAML users expect). */
export function stringMapAt(value: unknown, path: string, keys: 'env' | 'labels' = 'labels'): Record<string, string> {
  const doc = objectAt(value, path);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (keys === 'env' && !ENV_NAME.test(k)) throw new InvalidArgumentError(join(path, k), `'${k}' is not a valid environment variable name`);
    if (k === '') throw new InvalidArgumentError(path, 'keys must not be empty');
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else throw new InvalidArgumentError(join(path, k), `must be a string, got ${describe(v)}`);
  }
  return out;
}

/** A role name (`*`, `web`, `eng/batch`; core/ids.ts's rules), or '' when not set (= the framework's role). */
export function roleAt(value: unknown, path: string): string {
  const role = stringAt(value, path) ?? '';
  if (role !== '') validateRole(role, path);
  return role;
}

/**
 * One of `choices`, case-insensitively, with an optional prefix the proto enum names carry. An
 * error lists `spelled`, the choices as the docs write them (default: lower case, no prefix).
 */
export function enumAt<T extends string>(value: unknown, path: string, choices: readonly T[], prefix = '', spelled?: readonly string[]): T | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') {
    const upper = value.trim().toUpperCase();
    const found = choices.find((c) => c === upper || c === `${prefix}${upper}`);
    if (found !== undefined) return found;
  }
  const names = spelled ?? choices.map((c) => c.slice(prefix.length).toLowerCase());
  throw new InvalidArgumentError(path, `must be one of ${names.join(', ')}, got ${describe(value)}`);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** Freeze `value` and everything it holds (validated specs are shared, never changed). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** A copy without the keys whose value is undefined (stored specs compare and hash as JSON). */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
