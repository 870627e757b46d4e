// How the CLI reaches a cluster: the master's HTTP port, with the credentials config.ts resolved
// (flag, environment, context, default) — a bearer token, sent only over TLS, and TLS trusting the
// cluster CA. The master's operator API answers agents, frameworks, tasks, roles and the ACL.
// The Jobs API (services, cron jobs, jobs) is wherever the built-in frameworks advertise it: the
// master's frameworks list carries each framework's apiUrl (FrameworkInfo.api_url). In `agora up`
// that is the master's own port; with a separate `agora frameworks` process it is that process
// (standbys redirect to the leader). `--api URL` skips the lookup. Every request — master, Jobs
// API, agents' logs — carries the same credentials.
import type { Command } from 'commander';
import { AgoraError } from '../core/errors.js';
import { httpAuth, httpBase, request, requestJson, type HttpAuth, type RequestOptions, type Response } from '../frameworks/api/http-client.js';
import { MasterTaskLocator, readTaskLogs, type LogChunk, type LogRequest } from '../frameworks/api/task-logs.js';
import { DEFAULT_MASTER, resolveConnection, type ClientConnection, type ClientFlags } from './config.js';
import { CredentialsRejectedError } from './errors.js';

export type { ClientFlags } from './config.js';

/** The frameworks whose apiUrl serves the Jobs API. */
const JOBS_FRAMEWORKS = ['agora-services', 'agora-cron', 'agora-batch'];
const DEFAULT_TIMEOUT_MS = 30_000;
const STARTING_RETRIES = 20;
const STARTING_RETRY_MS = 250;

/** Add the connection and credential flags to a command that talks to a cluster. */
export function withClientFlags(cmd: Command): Command {
  return cmd
    .option('--master <url>', `the master's HTTP address (default: $AGORA_MASTER, the context's, or https://${DEFAULT_MASTER})`)
    .option('--api <url>', "the Jobs API address (default: $AGORA_API, the context's, or found through the master)")
    .option('--token <token>', "bearer token (default: $AGORA_TOKEN, or the context's token or tokenFile)")
    .option('--ca <file>', "the cluster CA certificate, PEM (default: $AGORA_CA, the context's, or the system's CAs)")
    .option('--context <name>', 'a context of the config file ($AGORA_CONFIG or ~/.agora/config.yaml) instead of the current one')
    .option('--insecure', 'plain http and no token, for a cluster started with --insecure');
}

export type MasterRequest = Pick<RequestOptions, 'method' | 'body' | 'contentType'>;

interface FrameworkRow {
  readonly name: string;
  readonly state: string;
  readonly apiUrl?: string;
}

export class AgoraClient {
  readonly masterUrl: string;
  readonly connection: ClientConnection;
  readonly #auth: HttpAuth;
  #jobsUrl: Promise<string> | undefined;

  /** A client for an already resolved connection (no I/O); commands use fromFlags(). */
  constructor(connection: ClientConnection = {}) {
    this.connection = connection;
    this.masterUrl = httpBase(connection.master ?? DEFAULT_MASTER, this.scheme);
    this.#auth = httpAuth(connection.insecure ? undefined : connection.token, connection.ca ? { ca: connection.ca } : undefined);
    if (connection.api !== undefined && connection.api !== '') this.#jobsUrl = Promise.resolve(httpBase(connection.api, this.scheme));
  }

  /** The client the flags, the environment and the config file lead to. */
  static fromFlags(flags: ClientFlags, env: NodeJS.ProcessEnv = process.env): AgoraClient {
    return new AgoraClient(resolveConnection(flags, env));
  }

  /** The scheme of bare host:port addresses (agents advertise those). */
  get scheme(): 'http' | 'https' {
    return this.connection.insecure ? 'http' : 'https';
  }

  /** Call the master's operator API (GET unless told otherwise). */
  async master<T>(path: string, options: MasterRequest = {}): Promise<T> {
    return (await this.masterCall<T>(path, options)).body;
  }

  /** As master(), with the response's status (201 created, 200 replaced). */
  async masterCall<T>(path: string, options: MasterRequest = {}): Promise<{ status: number; body: T }> {
    const url = `${this.masterUrl}${path}`;
    try {
      const res = await request(url, { timeoutMs: DEFAULT_TIMEOUT_MS, ...options, auth: this.#auth });
      const text = await res.text();
      return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as T };
    } catch (err) {
      throw this.explain(err, url);
    }
  }

  /** A raw response from the master (its event stream). */
  async masterStream(path: string, signal?: AbortSignal): Promise<Response> {
    const url = `${this.masterUrl}${path}`;
    try {
      return await request(url, { auth: this.#auth, ...(signal ? { signal } : {}) });
    } catch (err) {
      throw this.explain(err, url);
    }
  }

  /** GET an agent's HTTP API (`address` as the master lists it: host:port), with these credentials. */
  async agent<T>(address: string, path: string): Promise<T> {
    const url = `${httpBase(address, this.scheme)}${path}`;
    try {
      return await requestJson<T>(url, { timeoutMs: DEFAULT_TIMEOUT_MS, auth: this.#auth });
    } catch (err) {
      throw this.explain(err, url);
    }
  }

  /** Call the Jobs API's HTTP mirror. */
  async jobs<T>(method: string, path: string, body?: unknown, options: Omit<RequestOptions, 'method' | 'body' | 'auth'> = {}): Promise<T> {
    const base = await this.jobsUrl();
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await requestJson<T>(`${base}${path}`, { timeoutMs: DEFAULT_TIMEOUT_MS, ...options, method, auth: this.#auth, ...(body === undefined ? {} : { body }) });
      } catch (err) {
        // 503 from a reachable API: the frameworks are (re)starting or electing; give them a moment.
        const starting = err instanceof AgoraError && err.code === 'AGORA_UNAVAILABLE' && err.details['status'] === 503;
        if (!starting || attempt >= STARTING_RETRIES) throw this.explain(err, `${base}${path}`);
        await new Promise((resolve) => setTimeout(resolve, STARTING_RETRY_MS));
      }
    }
  }

  /** A raw response from the Jobs API (streams). */
  async jobsStream(path: string, signal?: AbortSignal): Promise<Response> {
    const url = `${await this.jobsUrl()}${path}`;
    try {
      return await request(url, { auth: this.#auth, ...(signal ? { signal } : {}) });
    } catch (err) {
      throw this.explain(err, url);
    }
  }

  /**
   * A task's output, from the agent that ran it (found through the master), with these
   * credentials — who may read any framework's tasks, or their own. A task these credentials
   * cannot see there (a workload's task, to one who may read the workload but not every
   * framework) is asked of the Jobs API, which reads the built-in frameworks' tasks.
   */
  async *taskLogs(req: LogRequest, signal?: AbortSignal): AsyncGenerator<LogChunk> {
    const locator = new MasterTaskLocator({ masterHttp: () => this.masterUrl, http: this.#auth, scheme: this.scheme, kindOf: () => undefined });
    let sent = false;
    try {
      for await (const chunk of readTaskLogs(locator, req, signal)) {
        sent = true;
        yield chunk;
      }
      return;
    } catch (err) {
      if (sent || !(err instanceof AgoraError && err.code === 'AGORA_NOT_FOUND')) throw this.explain(err, this.masterUrl);
    }
    const query = new URLSearchParams({ stream: req.stream, offset: String(req.offset ?? 0), ...(req.length ? { length: String(req.length) } : {}), ...(req.follow ? { follow: '1' } : {}) });
    const res = await this.jobsStream(`/api/v1/tasks/${encodeURIComponent(req.taskId)}/logs?${query.toString()}`, signal);
    let offset = Number(res.headers.get('x-agora-log-offset') ?? 0);
    if (!res.body) return;
    for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
      const data = Buffer.from(part);
      yield { data, offset };
      offset += data.length;
    }
  }

  /** The Jobs API's base URL: --api, else the apiUrl a built-in framework advertises, else the master. */
  jobsUrl(): Promise<string> {
    this.#jobsUrl ??= this.#findJobsUrl();
    return this.#jobsUrl;
  }

  async #findJobsUrl(): Promise<string> {
    const { frameworks } = await this.master<{ frameworks: FrameworkRow[] }>('/api/v1/frameworks');
    const candidates = frameworks.filter((f) => JOBS_FRAMEWORKS.includes(f.name) && f.apiUrl);
    const best = candidates.find((f) => f.state === 'connected') ?? candidates[0];
    return best?.apiUrl ? httpBase(best.apiUrl, this.scheme) : this.masterUrl;
  }

  /** An error with what the user needs to fix it: which credential was refused, why TLS failed. */
  explain(err: unknown, url: string): unknown {
    if (!(err instanceof AgoraError)) return err;
    const host = safeHost(url);
    if (err.code === 'AGORA_UNAUTHENTICATED' && !(err instanceof CredentialsRejectedError)) {
      return new CredentialsRejectedError(unauthenticatedMessage(host, err.message, this.connection), { cause: err, details: err.details });
    }
    if (err.code === 'AGORA_UNAVAILABLE' && /certificate|self.signed|unable to verify|CERT_/i.test(err.message)) {
      return new AgoraError('AGORA_UNAVAILABLE', `${err.message}\n  the server's certificate is not trusted: give the cluster CA with --ca, $AGORA_CA or the context's ca`, { cause: err });
    }
    if (err.code === 'AGORA_UNAVAILABLE' && url.startsWith('https:') && /wrong version number|packet length too long|EPROTO/i.test(err.message)) {
      return new AgoraError('AGORA_UNAVAILABLE', `${err.message}\n  ${host} does not speak TLS: if the cluster runs with --insecure, pass --insecure (or set insecure: true in the context)`, { cause: err });
    }
    if (err.code === 'AGORA_UNAVAILABLE' && url.startsWith('http:') && /other side closed|socket hang up|ECONNRESET/i.test(err.message)) {
      return new AgoraError('AGORA_UNAVAILABLE', `${err.message}\n  ${host} may speak TLS only (the default): use an https:// address, without --insecure`, { cause: err });
    }
    return err;
  }
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function unauthenticatedMessage(host: string, why: string, connection: ClientConnection): string {
  return [
    `${host} did not accept the credentials: ${why}`,
    `  sent: ${connection.credential ?? (connection.token ? 'a token' : 'no token')}`,
    '  to get a token: an admin runs `agora acl token create --principal NAME --policy POLICY` and gives it to you',
    '  (pass it with --token or $AGORA_TOKEN, or save it to a file and `agora config set-context NAME --master URL --token-file FILE --ca CA`);',
    '  on a cluster started with `agora up`, use the admin token it wrote under its data directory (.agora/ by default).',
  ].join('\n');
}
