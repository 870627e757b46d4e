// The Jobs API wherever it runs. Under `agora up` the frameworks host serves its HTTP mirror on the
// master's own server; a master that runs alone (`agora master` beside `agora frameworks`) forwards
// the dashboard's Jobs API paths to the leading frameworks host instead, so the dashboard keeps one
// origin:
//
//   /api/v1/apply, /api/v1/{services,cronjobs,jobs,secrets,configs}[/…], /api/v1/watch, /api/v1/tasks/:id/logs
//
// Which host: --jobs-api when given (a frameworks host on another store), else the leader of the
// frameworks hosts' election in the store the master shares with them (the SDK's framework
// election, `agora-frameworks`: its member's data carries the leader's httpAddress), followed with
// a watch. The caller's token is forwarded, as for agents (forward.ts); event streams and followed
// logs stream through.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Agent as UndiciAgent } from 'undici';
import { watchLeader } from '../../core/election.js';
import { UnavailableError } from '../../core/errors.js';
import type { HttpServer } from '../../core/http.js';
import type { Logger } from '../../core/logger.js';
import type { TlsMaterial } from '../../core/security/tls.js';
import type { Store } from '../../core/store/index.js';
import { callerToken, followsLog, forward } from './forward.js';

/** The built-in frameworks host's election (frameworks/host.ts FRAMEWORKS_ELECTION_NAME; the master may not import it). */
const FRAMEWORKS_ELECTION = 'agora-frameworks';

const PATHS = ['/api/v1/apply', '/api/v1/services', '/api/v1/services/*', '/api/v1/cronjobs', '/api/v1/cronjobs/*', '/api/v1/jobs', '/api/v1/jobs/*', '/api/v1/secrets', '/api/v1/secrets/*', '/api/v1/configs', '/api/v1/configs/*', '/api/v1/watch', '/api/v1/tasks/:id/logs'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];

export interface JobsForwardOptions {
  /** --jobs-api: the Jobs API's base URL or host:port (else found in the store). */
  readonly jobsApi: string | undefined;
  readonly store: Store;
  readonly cluster: string;
  /** The cluster CA (undefined: --insecure, plain http). */
  readonly tls: TlsMaterial | undefined;
  readonly insecure: boolean;
  readonly logger: Logger;
}

/**
 * Forward the Jobs API paths, unless this server already serves them (`agora up`). Checked in a
 * plugin: fastify loads plugins in order, so the Jobs API's own (registered before) is in by then.
 */
export function registerJobsForward(app: HttpServer, options: JobsForwardOptions): void {
  void app.register(async (scope) => {
    if (scope.hasRoute({ method: 'GET', url: '/api/v1/services' })) return;
    forwardJobsApi(scope, options);
  });
}

function forwardJobsApi(app: FastifyInstance, options: JobsForwardOptions): void {
  const scheme = options.tls ? 'https' : 'http';
  const base = jobsApiBase(app, options, scheme);
  const dispatcher = options.tls ? new UndiciAgent({ connect: { ca: options.tls.ca } }) : undefined;
  app.addHook('onClose', async () => dispatcher?.close());
  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const target = base();
    if (target === undefined) throw new UnavailableError('no frameworks host leads: the Jobs API (services, cron jobs, jobs) cannot be reached from this master — start `agora frameworks` on its store, or give the master --jobs-api');
    const path = req.url;
    const streams = streamsThrough(req.routeOptions.url, req.query);
    const body = req.body === undefined || req.body === null ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
    return forward(reply, {
      url: `${target}${path}`,
      peer: `the Jobs API at ${target}`,
      dispatcher,
      token: callerToken(req, options.insecure, 'the Jobs API'),
      method: req.method,
      body,
      contentType: body === undefined ? undefined : typeof req.body === 'string' ? (req.headers['content-type'] ?? 'application/yaml') : 'application/json',
      ...(streams ? { bodyTimeoutMs: 0 } : {}),
    });
  };
  for (const url of PATHS) app.route({ method: METHODS, url, handler });
}

/** The answer stays open as long as the caller listens (no body timeout): the watch, a followed log. */
export function streamsThrough(route: string | undefined, query: unknown): boolean {
  return route === '/api/v1/watch' || (route === '/api/v1/tasks/:id/logs' && followsLog(query));
}

/** The Jobs API's base URL now: the flag's, or the frameworks leader's advertised address. */
function jobsApiBase(app: FastifyInstance, options: JobsForwardOptions, scheme: string): () => string | undefined {
  if (options.jobsApi !== undefined) {
    const fixed = /^https?:\/\//.test(options.jobsApi) ? options.jobsApi.replace(/\/+$/, '') : `${scheme}://${options.jobsApi}`;
    return () => fixed;
  }
  let current: string | undefined;
  const path = `/${options.cluster}/frameworks/${FRAMEWORKS_ELECTION}/election`;
  const stop = watchLeader<{ httpAddress?: string }>(
    options.store,
    path,
    (leader) => {
      const address = leader?.data?.httpAddress;
      current = typeof address === 'string' && address !== '' ? `${scheme}://${address}` : undefined;
    },
    { onError: (err) => options.logger.warn({ err }, 'cannot read the frameworks leader') },
  );
  app.addHook('onClose', async () => stop());
  return () => current;
}
