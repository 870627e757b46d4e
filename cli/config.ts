// How the CLI finds a cluster and its credentials. Each value on its own, first found wins:
//
//   value    flag        environment       context (config-file.ts)   default
//   master   --master    $AGORA_MASTER     master                     https://localhost:5050
//   api      --api       $AGORA_API        api                        found through the master
//   token    --token     $AGORA_TOKEN      token | tokenFile          none
//   ca       --ca        $AGORA_CA         ca                         the system's CAs
//   insecure --insecure                    insecure                   false
//
// The context is --context, else $AGORA_CONTEXT, else the file's currentContext. Insecure means
// plain http for bare addresses and no token at all. Choosing (chooseSettings) is pure; loading
// the token file and the CA (loadConnection) is the only I/O, done once, before any request.
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../core/errors.js';
import { parseToken } from '../core/security/tokens.js';
import { httpBase } from '../frameworks/api/http-client.js';
import { checkUrl, configPath, readConfigFile, type ConfigFile, type ContextConfig } from './config-file.js';
import { FileInputError } from './errors.js';

export { configPath, deleteContext, readConfigFile, useContext, writeContext, type ConfigFile, type ContextConfig, type WriteContextOptions } from './config-file.js';

export const DEFAULT_MASTER = 'localhost:5050';

/** The flags every client command takes. */
export interface ClientFlags {
  readonly master?: string;
  readonly api?: string;
  readonly token?: string;
  readonly ca?: string;
  readonly context?: string;
  readonly insecure?: boolean;
}

/** A value and where it came from (`--master`, `$AGORA_MASTER`, `context "up"`, `default`). */
export interface Setting<T> {
  readonly value: T;
  readonly from: string;
}

export type TokenSource = { readonly token: string } | { readonly file: string };

/** What was chosen, before any file is read. */
export interface ClientSettings {
  readonly configFile: string;
  /** The context in use, and why (undefined: none). */
  readonly context?: Setting<string>;
  readonly master: Setting<string>;
  readonly api?: Setting<string>;
  readonly token?: Setting<TokenSource>;
  readonly ca?: Setting<string>;
  readonly insecure: Setting<boolean>;
}

/** Everything a client needs to talk to a cluster; no I/O left to do. */
export interface ClientConnection {
  /** A URL (a bare host:port gets https, or http when insecure). */
  readonly master?: string;
  readonly api?: string;
  readonly token?: string;
  /** The cluster CA (PEM); undefined: the system's CAs. */
  readonly ca?: Buffer;
  readonly insecure?: boolean;
  /** Which credential is used, for messages — never the token itself. */
  readonly credential?: string;
  /** The context in use, for messages. */
  readonly context?: string;
  readonly configFile?: string;
}

/** Choose each value by precedence: flag, environment, context, default. Pure. */
export function chooseSettings(flags: ClientFlags, env: NodeJS.ProcessEnv, config: ConfigFile): ClientSettings {
  const fromEnv = (name: string): string | undefined => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const context = pickContext(flags, fromEnv('AGORA_CONTEXT'), config);
  const ctx: ContextConfig | undefined = context ? config.contexts[context.value] : undefined;
  const inContext = context ? `context "${context.value}"` : '';
  const first = <T>(...candidates: [T | undefined, string][]): Setting<T> | undefined => {
    const hit = candidates.find(([v]) => v !== undefined);
    return hit ? { value: hit[0] as T, from: hit[1] } : undefined;
  };
  const insecure: Setting<boolean> = first<boolean>([flags.insecure === true ? true : undefined, '--insecure'], [ctx?.insecure, inContext]) ?? { value: false, from: 'default' };
  const master = first<string>([flags.master, '--master'], [fromEnv('AGORA_MASTER'), '$AGORA_MASTER'], [ctx?.master, inContext]) ?? { value: DEFAULT_MASTER, from: 'default' };
  const api = first<string>([flags.api, '--api'], [fromEnv('AGORA_API'), '$AGORA_API'], [ctx?.api, inContext]);
  const token = first<TokenSource>(
    [flags.token === undefined ? undefined : { token: flags.token }, '--token'],
    [fromEnv('AGORA_TOKEN') === undefined ? undefined : { token: fromEnv('AGORA_TOKEN') as string }, '$AGORA_TOKEN'],
    [ctx?.token !== undefined ? { token: ctx.token } : ctx?.tokenFile !== undefined ? { file: ctx.tokenFile } : undefined, inContext],
  );
  const ca = first<string>([flags.ca, '--ca'], [fromEnv('AGORA_CA'), '$AGORA_CA'], [ctx?.ca, inContext]);
  for (const s of [master, api]) if (s) checkUrl(s.value, (why) => new InvalidArgumentError(s.from === inContext ? `${inContext} in ${config.path}` : s.from, why));
  return Object.freeze({
    configFile: config.path,
    ...(context ? { context } : {}),
    master,
    ...(api ? { api } : {}),
    ...(token && !insecure.value ? { token } : {}),
    ...(ca ? { ca } : {}),
    insecure,
  });
}

function pickContext(flags: ClientFlags, envContext: string | undefined, config: ConfigFile): Setting<string> | undefined {
  const named: [string | undefined, string][] = [
    [flags.context, '--context'],
    [envContext, '$AGORA_CONTEXT'],
  ];
  for (const [name, from] of named) {
    if (name === undefined) continue;
    if (config.contexts[name] === undefined) {
      const known = Object.keys(config.contexts);
      throw new InvalidArgumentError(from, `no context '${name}' in ${config.path} (${known.length ? `known: ${known.join(', ')}` : 'it has none: add one with `agora config set-context`'})`);
    }
    return { value: name, from };
  }
  return config.currentContext === undefined ? undefined : { value: config.currentContext, from: `currentContext in ${config.path}` };
}

/** Read what the settings point at (the token file, the CA) into a connection. */
export function loadConnection(settings: ClientSettings): ClientConnection {
  const insecure = settings.insecure.value;
  const scheme = insecure ? 'http' : 'https';
  const token = settings.token ? loadToken(settings.token, settings) : undefined;
  const ca = settings.ca ? loadCa(settings.ca, settings) : undefined;
  return Object.freeze({
    master: httpBase(settings.master.value, scheme),
    ...(settings.api ? { api: httpBase(settings.api.value, scheme) } : {}),
    ...(token ? { token } : {}),
    ...(ca ? { ca } : {}),
    insecure,
    credential: describeCredential(settings),
    ...(settings.context ? { context: settings.context.value } : {}),
    configFile: settings.configFile,
  });
}

/** The connection the flags and environment lead to (reads the config file, the token file and the CA). */
export function resolveConnection(flags: ClientFlags, env: NodeJS.ProcessEnv = process.env): ClientConnection {
  return loadConnection(chooseSettings(flags, env, readConfigFile(configPath(env))));
}

/** Which credential is in use, for messages — never the token. */
export function describeCredential(settings: ClientSettings): string {
  if (settings.insecure.value) return `no token (insecure, from ${settings.insecure.from})`;
  const t = settings.token;
  if (!t) {
    const where = settings.context ? `context "${settings.context.value}" has none` : `no context is selected in ${settings.configFile}`;
    return `no token (none given with --token or $AGORA_TOKEN, and ${where})`;
  }
  if (t.from === '--token') return 'the token given with --token';
  if (t.from === '$AGORA_TOKEN') return 'the token in $AGORA_TOKEN';
  return 'file' in t.value ? `the token file ${t.value.file} of ${t.from}` : `the token of ${t.from} (in ${settings.configFile})`;
}

function loadToken(source: Setting<TokenSource>, settings: ClientSettings): string {
  const fail = (why: string): Error =>
    source.from.startsWith('context') ? new FileInputError(settings.configFile, `contexts.${settings.context?.value ?? ''}.${'file' in source.value ? 'tokenFile' : 'token'}`, why) : new InvalidArgumentError(source.from, why);
  let token: string;
  if ('file' in source.value) {
    try {
      token = readFileSync(source.value.file, 'utf8').trim();
    } catch (err) {
      throw fail(`cannot read '${source.value.file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (!parseToken(token)) throw fail(`'${source.value.file}' does not hold an Agora token (agora_<16 hex>_<64 hex>)`);
  } else {
    token = source.value.token.trim();
    // Never repeat the value: it may be a real secret with a typo.
    if (!parseToken(token)) throw fail('is not an Agora token (agora_<16 hex>_<64 hex>)');
  }
  return token;
}

function loadCa(source: Setting<string>, settings: ClientSettings): Buffer {
  const fail = (why: string): Error => (source.from.startsWith('context') ? new FileInputError(settings.configFile, `contexts.${settings.context?.value ?? ''}.ca`, why) : new InvalidArgumentError(source.from, why));
  let pem: Buffer;
  try {
    pem = readFileSync(source.value);
  } catch (err) {
    throw fail(`cannot read '${source.value}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!pem.toString('utf8').includes('-----BEGIN CERTIFICATE-----')) throw fail(`'${source.value}' holds no PEM certificate`);
  return pem;
}
