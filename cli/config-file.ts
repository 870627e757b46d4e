// The CLI's config file, kubectl-style: named contexts — a cluster and how to prove who you are to
// it — and the current one. `$AGORA_CONFIG`, else ~/.agora/config.yaml:
//
//   currentContext: up
//   contexts:
//     up:                                  # `agora up` registers itself here
//       master: https://127.0.0.1:5050
//       tokenFile: /home/me/.agora/admin-token
//       ca: /home/me/.agora/ca.pem
//     dev: { master: http://dev:5050, insecure: true }
//
// Relative paths are relative to the file. The file leads to secrets, so it is written 0600 in a
// 0700 directory, atomically (a temp file renamed over it), keeping comments and other contexts;
// an edit that would leave it invalid is refused before anything is written.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseDocument, type Document } from 'yaml';
import { InvalidArgumentError, NotFoundError } from '../core/errors.js';
import { parseToken } from '../core/security/tokens.js';
import { FileInputError } from './errors.js';

export interface ContextConfig {
  /** The master's HTTP address: a URL, or host:port (https unless insecure). */
  readonly master: string;
  /** The Jobs API, when it is not to be found through the master. */
  readonly api?: string;
  /** A token in the file itself (allowed; tokenFile is preferred). */
  readonly token?: string;
  /** A file holding the token (absolute once read). */
  readonly tokenFile?: string;
  /** The cluster CA's certificate, PEM (absolute once read); default: the system's CAs. */
  readonly ca?: string;
  /** Plain http and no token: for clusters started with --insecure. */
  readonly insecure?: boolean;
}

export interface ConfigFile {
  readonly path: string;
  readonly currentContext?: string;
  readonly contexts: Readonly<Record<string, ContextConfig>>;
}

const TOP_KEYS = ['currentContext', 'contexts'];
const CONTEXT_KEYS = ['master', 'api', 'token', 'tokenFile', 'ca', 'insecure'];
const CONTEXT_NAME = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,62}$/;

/** Where the config file is: $AGORA_CONFIG, else ~/.agora/config.yaml. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const given = env['AGORA_CONFIG'];
  return path.resolve(given !== undefined && given !== '' ? given : path.join(os.homedir(), '.agora', 'config.yaml'));
}

export function validateContextName(name: string, field = 'NAME'): string {
  if (!CONTEXT_NAME.test(name)) throw new InvalidArgumentError(field, `'${name}' is not a valid context name: letters, digits, '.', '_', '@', ':' or '-', up to 63 characters`);
  return name;
}

/** The config file, validated; a missing file is an empty config. */
export function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Object.freeze({ path: file, contexts: {} });
    throw new FileInputError(file, '(file)', `cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseConfig(text, file);
}

/** Config text → a validated ConfigFile; errors name the file and the field. */
export function parseConfig(text: string, file: string): ConfigFile {
  const doc = parseDocument(text);
  const bad = doc.errors[0];
  if (bad) throw new FileInputError(file, `line ${bad.linePos?.[0].line ?? '?'}`, `not valid YAML: ${bad.message.split('\n')[0] ?? ''}`);
  const raw: unknown = doc.toJS();
  if (raw === null || raw === undefined) return Object.freeze({ path: file, contexts: {} });
  const top = object(raw, file, '(top level)');
  unknownKeys(top, TOP_KEYS, file, '');
  const contexts: Record<string, ContextConfig> = {};
  const rawContexts = top['contexts'] === undefined || top['contexts'] === null ? {} : object(top['contexts'], file, 'contexts');
  for (const [name, value] of Object.entries(rawContexts)) {
    if (!CONTEXT_NAME.test(name)) throw new FileInputError(file, `contexts.${name}`, 'not a valid context name (letters, digits, ., _, @, : or -)');
    contexts[name] = parseContext(value, file, `contexts.${name}`);
  }
  const current = top['currentContext'];
  if (current !== undefined && current !== null && typeof current !== 'string') throw new FileInputError(file, 'currentContext', 'must be a context name');
  if (typeof current === 'string' && current !== '' && contexts[current] === undefined) {
    throw new FileInputError(file, 'currentContext', `names context '${current}', which is not in contexts (${Object.keys(contexts).join(', ') || 'none'})`);
  }
  return Object.freeze({ path: file, ...(typeof current === 'string' && current !== '' ? { currentContext: current } : {}), contexts: Object.freeze(contexts) });
}

function parseContext(value: unknown, file: string, field: string): ContextConfig {
  const raw = object(value, file, field);
  unknownKeys(raw, CONTEXT_KEYS, file, `${field}.`);
  const dir = path.dirname(file);
  const str = (key: string): string | undefined => {
    const v = raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw new FileInputError(file, `${field}.${key}`, 'must be a non-empty string');
    return v.trim();
  };
  const master = str('master');
  if (master === undefined) throw new FileInputError(file, `${field}.master`, "is required (the master's HTTP address, e.g. https://master.example:5050)");
  checkUrl(master, (why) => new FileInputError(file, `${field}.master`, why));
  const api = str('api');
  if (api !== undefined) checkUrl(api, (why) => new FileInputError(file, `${field}.api`, why));
  const token = str('token');
  // The token is a secret: the message never repeats it.
  if (token !== undefined && !parseToken(token)) throw new FileInputError(file, `${field}.token`, 'is not an Agora token (agora_<16 hex>_<64 hex>)');
  const tokenFile = str('tokenFile');
  if (token !== undefined && tokenFile !== undefined) throw new FileInputError(file, `${field}.tokenFile`, 'give token or tokenFile, not both');
  const ca = str('ca');
  const insecure = raw['insecure'];
  if (insecure !== undefined && insecure !== null && typeof insecure !== 'boolean') throw new FileInputError(file, `${field}.insecure`, 'must be true or false');
  return Object.freeze({
    master,
    ...(api === undefined ? {} : { api }),
    ...(token === undefined ? {} : { token }),
    ...(tokenFile === undefined ? {} : { tokenFile: path.resolve(dir, tokenFile) }),
    ...(ca === undefined ? {} : { ca: path.resolve(dir, ca) }),
    ...(insecure === true ? { insecure: true } : {}),
  });
}

/** A URL or host:port the client can talk to; `fail` makes the error naming where it came from. */
export function checkUrl(value: string, fail: (why: string) => Error): void {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw fail(`'${value}' is not a URL or host:port`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw fail(`'${value}': only http:// and https:// are spoken`);
}

function object(value: unknown, file: string, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FileInputError(file, field, 'expected a mapping');
  return value as Record<string, unknown>;
}

function unknownKeys(raw: Record<string, unknown>, known: readonly string[], file: string, prefix: string): void {
  for (const key of Object.keys(raw)) if (!known.includes(key)) throw new FileInputError(file, `${prefix}${key}`, `unknown field (expected ${known.join(', ')})`);
}

export interface WriteContextOptions {
  /** Make it the current context. */
  readonly makeCurrent?: boolean;
  /** The config file (default: configPath()). */
  readonly file?: string;
}

/**
 * Add or replace context `name` (other contexts, and comments, are kept). What `agora up` calls to
 * register itself, and `agora config set-context`. Returns the file written.
 */
export async function writeContext(name: string, context: ContextConfig, options: WriteContextOptions = {}): Promise<string> {
  validateContextName(name, 'context name');
  const file = options.file ?? configPath();
  const entry = Object.fromEntries(CONTEXT_KEYS.filter((k) => context[k as keyof ContextConfig] !== undefined).map((k) => [k, context[k as keyof ContextConfig]]));
  await editConfigFile(file, (doc) => {
    doc.setIn(['contexts', name], doc.createNode(entry));
    if (options.makeCurrent) doc.set('currentContext', name);
  });
  return file;
}

/** Make `name` the current context. */
export async function useContext(name: string, file = configPath()): Promise<void> {
  const config = readConfigFile(file);
  if (config.contexts[name] === undefined) throw new NotFoundError('context', name);
  await editConfigFile(file, (doc) => doc.set('currentContext', name));
}

/** Remove context `name` (and make no context current if it was). */
export async function deleteContext(name: string, file = configPath()): Promise<void> {
  const config = readConfigFile(file);
  if (config.contexts[name] === undefined) throw new NotFoundError('context', name);
  await editConfigFile(file, (doc) => {
    doc.deleteIn(['contexts', name]);
    if (config.currentContext === name) doc.delete('currentContext');
  });
}

/** Read, edit, check and atomically replace the file (created 0600 in a 0700 directory). */
async function editConfigFile(file: string, edit: (doc: Document) => void): Promise<void> {
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new FileInputError(file, '(file)', `cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  parseConfig(text, file); // refuse to rewrite a broken file: the user's text would be lost
  const doc: Document = parseDocument(text);
  if (doc.contents === null) doc.contents = doc.createNode({});
  edit(doc);
  const out = doc.toString();
  parseConfig(out, file);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, out, { mode: 0o600, flag: 'wx' });
    await chmod(tmp, 0o600);
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw new FileInputError(file, '(file)', `cannot write it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
