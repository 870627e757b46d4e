// How the CLI reaches a cluster: the master's HTTP port — `--master URL`, else $AGORA_MASTER, else
// http://localhost:5050. The master's operator API answers agents, frameworks, tasks and roles.
// The Jobs API (services, cron jobs, jobs) is wherever the built-in frameworks advertise it: the
// master's frameworks list carries each framework's apiUrl (FrameworkInfo.api_url). In `agora up`
// that is the master's own port; with a separate `agora frameworks` process it is that process
// (standbys redirect to the leader). `--api URL` / $AGORA_API skips the lookup.
import type { Command } from 'commander';
import { AgoraError } from '../core/errors.js';
import { httpBase, request, requestJson, type HttpAuth, type RequestOptions } from '../frameworks/api/http-client.js';

export const DEFAULT_MASTER = 'http://localhost:5050';
/** The framework whose apiUrl serves the Jobs API. */
const JOBS_FRAMEWORKS = ['agora-services', 'agora-cron', 'agora-batch'];
const DEFAULT_TIMEOUT_MS = 30_000;
const STARTING_RETRIES = 20;
const STARTING_RETRY_MS = 250;

export interface ClientFlags {
  readonly master?: string;
  readonly api?: string;
}

/** Add --master and --api to a command that talks to a cluster. */
export function withClientFlags(cmd: Command): Command {
  return cmd
    .option('--master <url>', `the master's HTTP address (default $AGORA_MASTER or ${DEFAULT_MASTER})`)
    .option('--api <url>', 'the Jobs API address (default: found through the master)');
}

interface FrameworkRow {
  readonly name: string;
  readonly state: string;
  readonly apiUrl?: string;
}

export class AgoraClient {
  readonly masterUrl: string;
  /** Credentials for every request (set up by cli/config.ts). */
  readonly http: HttpAuth = {};
  readonly scheme: 'http' | 'https' = 'https';
  #jobsUrl: Promise<string> | undefined;

  constructor(flags: ClientFlags = {}, env: NodeJS.ProcessEnv = process.env) {
    this.masterUrl = httpBase(flags.master ?? env['AGORA_MASTER'] ?? DEFAULT_MASTER);
    const api = flags.api ?? env['AGORA_API'];
    if (api !== undefined && api !== '') this.#jobsUrl = Promise.resolve(httpBase(api));
  }

  /** GET the master's operator API. */
  master<T>(path: string): Promise<T> {
    return requestJson<T>(`${this.masterUrl}${path}`, { timeoutMs: DEFAULT_TIMEOUT_MS });
  }

  /** Call the Jobs API's HTTP mirror. */
  async jobs<T>(method: string, path: string, body?: unknown, options: Omit<RequestOptions, 'method' | 'body'> = {}): Promise<T> {
    const base = await this.jobsUrl();
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await requestJson<T>(`${base}${path}`, { timeoutMs: DEFAULT_TIMEOUT_MS, ...options, method, ...(body === undefined ? {} : { body }) });
      } catch (err) {
        // 503 from a reachable API: the frameworks are (re)starting or electing; give them a moment.
        const starting = err instanceof AgoraError && err.code === 'AGORA_UNAVAILABLE' && err.details['status'] === 503;
        if (!starting || attempt >= STARTING_RETRIES) throw err;
        await new Promise((resolve) => setTimeout(resolve, STARTING_RETRY_MS));
      }
    }
  }

  /** A raw response from the Jobs API (streams). */
  async jobsStream(path: string, signal?: AbortSignal): Promise<Response> {
    return request(`${await this.jobsUrl()}${path}`, signal ? { signal } : {});
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
    return best?.apiUrl ? httpBase(best.apiUrl) : this.masterUrl;
  }
}
