// A task's references to Secrets and Configs, as a template gives them (parsed once for every
// kind), and their resolution at launch into TaskInfo.secrets:
//
//   envFrom:                                   files:
//     DB_PASSWORD: { secret: db, key: password }   - { path: conf/app.ini, config: app, key: ini }
//     LOG_LEVEL: { config: app, key: level }       - { path: tls/key.pem, secret: tls, key: key, mode: 0400 }
//
// envFrom is Kubernetes' env[].valueFrom written as a map (like `env`); files are written into the
// sandbox, owned by the task's user, mode 0400 for a Secret's and 0440 for a Config's unless
// `mode` says (at most 0777, never setuid). A path is relative and stays in the sandbox.
import path from 'node:path';
import { FailedPreconditionError, InvalidArgumentError } from '../../core/errors.js';
import type { TaskSecrets } from '../../proto/index.js';
import { join, listAt, objectAt, onlyKeys, stringAt, type Doc } from './spec-fields.js';

/** As written (and as the wire's ValueRef): `{ secret, key }` or `{ config, key }`. */
export type ValueRefDoc = { readonly secret: string; readonly key: string } | { readonly config: string; readonly key: string };

/** Which object a reference names. */
export function targetOf(ref: ValueRefDoc): { kind: 'SECRET' | 'CONFIG'; name: string } {
  return 'secret' in ref ? { kind: 'SECRET', name: ref.secret } : { kind: 'CONFIG', name: ref.config };
}

/** `mode` is octal text ("0400"): a YAML number 0400 reads as decimal 400, so numbers are refused. */
export type FileRefDoc = { readonly path: string } & ValueRefDoc & { readonly mode: string };

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_PATH = 1024;

/** One `{ secret | config, key }`; `path` names the field at fault. */
export function parseValueRef(value: unknown, at: string): ValueRefDoc {
  const doc = objectAt(value, at);
  if (doc === undefined) throw new InvalidArgumentError(at, 'must be { secret: NAME, key: KEY } or { config: NAME, key: KEY }');
  return refOf(doc, at, ['secret', 'config', 'key']);
}

function refOf(doc: Doc, at: string, allowed: readonly string[]): ValueRefDoc {
  onlyKeys(doc, allowed, at);
  const secret = stringAt(doc['secret'], join(at, 'secret'));
  const config = stringAt(doc['config'], join(at, 'config'));
  if ((secret === undefined) === (config === undefined)) throw new InvalidArgumentError(at, 'give exactly one of secret or config');
  const key = stringAt(doc['key'], join(at, 'key'));
  if (key === undefined) throw new InvalidArgumentError(join(at, 'key'), 'is required: which key of the ' + (secret ? 'secret' : 'config'));
  return secret !== undefined ? { secret, key } : { config: config as string, key };
}

/** `envFrom`: variable name → reference, sorted by name. */
export function parseEnvFrom(value: unknown, at: string, env: Readonly<Record<string, string>>): Record<string, ValueRefDoc> {
  const doc = objectAt(value, at) ?? {};
  const out: Record<string, ValueRefDoc> = {};
  for (const name of Object.keys(doc).sort()) {
    if (!ENV_NAME.test(name)) throw new InvalidArgumentError(join(at, name), `'${name}' is not a valid environment variable name`);
    if (Object.hasOwn(env, name)) throw new InvalidArgumentError(join(at, name), `'${name}' is also in env: give it in one of them`);
    out[name] = parseValueRef(doc[name], join(at, name));
  }
  return out;
}

/** `files`: each a relative path that stays in the sandbox, unique. */
export function parseFiles(value: unknown, at: string): FileRefDoc[] {
  const seen = new Map<string, number>();
  return listAt(value, at).map((item, i) => {
    const here = join(at, i);
    const doc = objectAt(item, here);
    if (doc === undefined) throw new InvalidArgumentError(here, 'must be { path, secret | config, key, mode? }');
    const ref = refOf(doc, here, ['path', 'secret', 'config', 'key', 'mode']);
    const file = sandboxPath(stringAt(doc['path'], join(here, 'path')), join(here, 'path'));
    const prior = seen.get(file);
    if (prior !== undefined) throw new InvalidArgumentError(join(here, 'path'), `'${file}' is already written by ${join(at, prior)}`);
    seen.set(file, i);
    const mode = modeAt(doc['mode'], join(here, 'mode')) ?? ('secret' in ref ? '0400' : '0440');
    return { path: file, ...ref, mode };
  });
}

/** Octal permission bits as text: "0400", "440", "0o640"; at most 0777. */
function modeAt(value: unknown, at: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const m = typeof value === 'string' ? /^(?:0o?)?([0-7]{3})$/.exec(value) : null;
  if (!m) throw new InvalidArgumentError(at, `must be octal permission bits written as a string, e.g. "0400" (a YAML number 0400 would read as decimal 400), got ${JSON.stringify(value) ?? 'nothing'}`);
  return `0${m[1]}`;
}

/** A relative path inside the sandbox, normalised (`./a//b` → `a/b`); anything leaving it is refused. */
export function sandboxPath(value: string | undefined, at: string): string {
  if (value === undefined) throw new InvalidArgumentError(at, 'is required: a path relative to the sandbox');
  if (value.length > MAX_PATH || value.includes('\0')) throw new InvalidArgumentError(at, `must be at most ${MAX_PATH} characters, without NUL`);
  if (path.posix.isAbsolute(value)) throw new InvalidArgumentError(at, `'${value}' is absolute: give a path relative to the sandbox`);
  const normal = path.posix.normalize(value);
  if (normal === '.' || normal === '..' || normal.startsWith('../') || normal.endsWith('/')) throw new InvalidArgumentError(at, `'${value}' leaves the sandbox or names no file`);
  return normal;
}

/** Every Secret and Config a template's task is given, with the field that names it. */
export function refsOf(template: { readonly envFrom?: Readonly<Record<string, ValueRefDoc>>; readonly files?: readonly FileRefDoc[] }, at = ''): { ref: ValueRefDoc; field: string }[] {
  const env = Object.entries(template.envFrom ?? {}).map(([name, ref]) => ({ ref, field: join(join(at, 'envFrom'), name) }));
  const files = (template.files ?? []).map((ref, i) => ({ ref, field: join(join(at, 'files'), i) }));
  return [...env, ...files];
}

/** Reads the current value of one key (the objects store's cache); undefined when absent. */
export type ValueResolver = (kind: 'SECRET' | 'CONFIG', name: string, key: string) => string | undefined;

export class MissingValueError extends FailedPreconditionError {
  constructor(ref: ValueRefDoc, field: string) {
    const { kind, name } = targetOf(ref);
    const what = `${kind === 'SECRET' ? 'secret' : 'config'} '${name}'`;
    super(`${field}: ${what} has no key '${ref.key}' (or does not exist): create it first`, { field });
  }
}

/** The values a task is given, for TaskInfo.secrets; MissingValueError names the first reference that does not resolve. */
export function resolveRefs(template: Parameters<typeof refsOf>[0], resolve: ValueResolver | undefined): TaskSecrets | undefined {
  const refs = refsOf(template);
  if (refs.length === 0) return undefined;
  const read = (ref: ValueRefDoc, field: string): string => {
    const { kind, name } = targetOf(ref);
    const value = resolve?.(kind, name, ref.key);
    if (value === undefined) throw new MissingValueError(ref, field);
    return value;
  };
  return {
    env: Object.entries(template.envFrom ?? {}).map(([name, ref]) => ({ name, value: read(ref, `envFrom.${name}`) })),
    files: (template.files ?? []).map((f, i) => ({ path: f.path, mode: parseInt(f.mode, 8), data: Buffer.from(read(f, `files[${i}]`)) })),
  };
}
