// The Jobs API's HTTP/JSON mirror. Same operations and errors as gRPC (AgoraError → HTTP status
// with { code, message, field }); bodies are YAML or JSON. A standby answers 307 to the leader.
//
//   POST /api/v1/apply                       any kind (the document's `kind`), ?dryRun=1
//   POST|PUT /api/v1/{services,cronjobs,jobs} a spec of that kind (`kind` optional)
//   GET /api/v1/{plural}[/NAME]  DELETE /api/v1/{plural}/NAME
//   POST /api/v1/services/NAME/{scale {instances}, rollback {toVersion}, restart, promote, abort, kill {taskIds, scale}}
//   GET /api/v1/services/NAME/endpoints[?watch=1]   GET /api/v1/services/NAME/endpoints/watch   (SSE)
//   POST /api/v1/{cronjobs,jobs}/NAME/{trigger, suspend, resume}
//   GET /api/v1/watch?kinds=service,job&names=a,b&initial=1   (SSE: one event per WatchEvent)
//   POST|PUT /api/v1/{secrets,configs}   GET /api/v1/{secrets,configs}[/NAME[?reveal=1]]   DELETE …/NAME
//     (a Secret's values only with reveal=1 and secrets.read on it; objects-api.ts)
//
// kinds and names are comma-separated lists and may also be repeated; any other query parameter
// given twice is INVALID_ARGUMENT naming it.
//   GET /api/v1/tasks/TASK/logs?stream=stdout|stderr&offset=&length=&follow=1   (a built-in framework's task)
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidArgumentError, toAgoraError, UnavailableError } from '../../core/errors.js';
import { queryInt, type HttpServer } from '../../core/http.js';
import type { WatchEvent } from '../../proto/index.js';
import type { WorkloadKind } from '../workload.js';
import { fromObject, readDocument } from './document.js';
import { objectKindOf, OBJECT_KINDS, type ObjectKind } from '../objects/spec.js';
import { objectKindOfDocument } from './objects-api.js';
import type { ServingGate } from './gate.js';
import { httpBase } from './http-client.js';
import type { ApplyInput, JobsApi } from './jobs-api.js';
import { kindFromAlias, kindFromDocument, KINDS } from './kinds.js';
import { openSse } from '../../core/sse.js';
import { principalOf } from '../../core/security/edge.js';
import type { JobsApiMetrics } from './metrics.js';

export interface JobsHttpOptions {
  /** SSE heartbeat (ms); a client may ask for another with ?heartbeatMs=. Default 15 s. */
  readonly heartbeatMs?: number;
  /** Count and time every request here (refusals of the server's authentication included). */
  readonly metrics?: JobsApiMetrics;
}

type Req = FastifyRequest<{ Params: { name: string }; Querystring: Record<string, string | string[] | undefined> }>;
type Body = Record<string, unknown>;

export function registerJobsHttp(app: HttpServer, api: JobsApi, gate: ServingGate, options: JobsHttpOptions = {}): void {
  void app.register(async (scope: FastifyInstance) => {
    scope.addHook('onRequest', async (req, reply) => redirectUnlessServing(gate, req, reply));
    const metrics = options.metrics;
    if (metrics) scope.addHook('onResponse', async (req, reply) => countRequest(metrics, req, reply));
    routes(scope, api, options.heartbeatMs ?? 15_000);
  });
}

async function redirectUnlessServing(gate: ServingGate, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (gate.serving()) return;
  const leader = gate.leader()?.httpAddress;
  if (leader === undefined) throw new UnavailableError('the frameworks are not running here yet (no leader elected, or starting); retry shortly');
  await reply.header('x-agora-leader', leader).redirect(`${httpBase(leader, req.protocol === 'https' ? 'https' : 'http')}${req.url}`, 307);
}

/** One request answered: `VERB /route`, the HTTP status; timed unless it was a stream (events, followed logs). */
function countRequest(metrics: JobsApiMetrics, req: FastifyRequest, reply: FastifyReply): void {
  const route = req.routeOptions.url ?? 'unknown';
  const type = reply.getHeader('content-type');
  const streamed = (typeof type === 'string' && type.startsWith('text/event-stream')) || ((req.query ?? {}) as Record<string, unknown>)['follow'] !== undefined;
  metrics.observe('http', `${req.method} ${route}`, String(reply.statusCode), streamed ? undefined : reply.elapsedTime / 1000);
}

function routes(app: FastifyInstance, api: JobsApi, heartbeatMs: number): void {
  app.post('/api/v1/apply', async (req: Req, reply) => sendApply(reply, await api.apply(principalOf(req), applyInput(req.body), dryRun(req))));
  for (const { kind, plural } of KINDS) {
    const base = `/api/v1/${plural}`;
    const apply = async (req: Req, reply: FastifyReply): Promise<unknown> => sendApply(reply, await api.apply(principalOf(req), applyInput(req.body, kind), dryRun(req)));
    app.post(base, apply);
    app.put(base, apply);
    app.get(base, async (req: Req) => ({ items: await api.list(principalOf(req), [kind]) }));
    app.get(`${base}/:name`, async (req: Req) => api.get(principalOf(req), kind, req.params.name));
    app.delete(`${base}/:name`, async (req: Req) => api.delete(principalOf(req), kind, req.params.name));
  }
  objectRoutes(app, api);
  serviceRoutes(app, api, heartbeatMs);
  for (const kind of ['CRONJOB', 'JOB'] as const) {
    const base = `/api/v1/${kind === 'JOB' ? 'jobs' : 'cronjobs'}/:name`;
    app.post(`${base}/trigger`, async (req: Req) => api.trigger(principalOf(req), kind, req.params.name));
    app.post(`${base}/suspend`, async (req: Req) => {
      await api.suspend(principalOf(req), kind, req.params.name, bool(body(req)['suspend'], 'suspend', true));
      return {};
    });
    app.post(`${base}/resume`, async (req: Req) => {
      await api.suspend(principalOf(req), kind, req.params.name, false);
      return {};
    });
  }
  app.get('/api/v1/watch', async (req: Req, reply) => watchAll(api, req, reply, heartbeatMs));
  app.get('/api/v1/tasks/:name/logs', async (req: Req, reply) => taskLogs(api, req, reply));
}

function objectRoutes(app: FastifyInstance, api: JobsApi): void {
  for (const { kind, plural, document } of OBJECT_KINDS) {
    const base = `/api/v1/${plural}`;
    const apply = async (req: Req, reply: FastifyReply): Promise<unknown> => sendApply(reply, await api.apply(principalOf(req), objectInput(req.body, kind, document), dryRun(req)));
    app.post(base, apply);
    app.put(base, apply);
    app.get(base, async (req: Req) => ({ items: api.listObjects(principalOf(req), kind) }));
    app.get(`${base}/:name`, async (req: Req) => api.getObject(principalOf(req), kind, req.params.name, ['1', 'true', ''].includes(single(req, 'reveal') ?? 'no')));
    app.delete(`${base}/:name`, async (req: Req) => {
      await api.deleteObject(principalOf(req), kind, req.params.name);
      return {};
    });
  }
}

/** A Secret or Config body (YAML text or JSON), `kind` optional but, if given, this route's. */
function objectInput(raw: unknown, kind: ObjectKind, document: string): ApplyInput {
  const value = typeof raw === 'string' ? readDocument(raw) : raw;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgumentError('body', `send the ${document} as YAML or JSON`);
  const given = (value as Body)['kind'];
  if (given !== undefined && objectKindOf(given) !== kind) throw new InvalidArgumentError('kind', `is ${String(given)}, but this endpoint takes ${document} documents`);
  return { object: { ...(value as Body), kind: document }, kind };
}

function serviceRoutes(app: FastifyInstance, api: JobsApi, heartbeatMs: number): void {
  const base = '/api/v1/services/:name';
  app.post(`${base}/scale`, async (req: Req) => api.scale(principalOf(req), req.params.name, integer(body(req)['instances'], 'instances')));
  app.post(`${base}/rollback`, async (req: Req) => api.rollback(principalOf(req), req.params.name, optionalString(body(req)['toVersion'], 'toVersion')));
  app.post(`${base}/restart`, async (req: Req) => api.restart(principalOf(req), req.params.name));
  app.post(`${base}/promote`, async (req: Req) => api.promote(principalOf(req), req.params.name));
  app.post(`${base}/abort`, async (req: Req) => api.abort(principalOf(req), req.params.name));
  app.post(`${base}/kill`, async (req: Req) => {
    const b = body(req);
    return api.killTasks(principalOf(req), req.params.name, stringList(b['taskIds'], 'taskIds'), bool(b['scale'], 'scale', false));
  });
  app.get(`${base}/endpoints`, async (req: Req, reply) => {
    const watch = single(req, 'watch');
    if (watch === undefined || watch === '0' || watch === 'false') return { endpoints: await api.endpoints(principalOf(req), req.params.name) };
    return watchEndpoints(api, req, reply, heartbeatMs);
  });
  app.get(`${base}/endpoints/watch`, async (req: Req, reply) => watchEndpoints(api, req, reply, heartbeatMs));
}

/** SSE: `event: endpoints` with the current list at once and after every change; `deleted` ends it. */
async function watchEndpoints(api: JobsApi, req: Req, reply: FastifyReply, defaultHeartbeatMs: number): Promise<void> {
  const name = req.params.name;
  const heartbeatMs = heartbeat(req, defaultHeartbeatMs);
  const principal = principalOf(req);
  const initial = await api.endpoints(principal, name);
  const sse = openSse(reply, { heartbeatMs });
  sse.send('endpoints', { name, endpoints: initial });
  const stop = api.watch(
    principal,
    { kinds: ['SERVICE'], names: [name], sendInitial: false },
    {
      send: (e) => {
        if (e.type === 'ENDPOINTS') sse.send('endpoints', { name, endpoints: e.endpoints ?? [] });
        if (e.type === 'DELETED') {
          sse.send('deleted', { name });
          sse.close();
        }
      },
      end: (err) => {
        if (err) sse.send('error', toAgoraError(err).toJSON());
        sse.close();
      },
    },
  );
  sse.onClose(stop);
}

/** SSE: one frame per WatchEvent, named after its type in lower case (added, modified, ...). */
async function watchAll(api: JobsApi, req: Req, reply: FastifyReply, defaultHeartbeatMs: number): Promise<void> {
  const kinds = list(req.query['kinds']).map((k, i) => kindFromAlias(k) ?? kindFromDocument(k, `kinds[${i}]`));
  const filter = { kinds, names: list(req.query['names']), sendInitial: ['1', 'true', ''].includes(single(req, 'initial') ?? 'no') };
  const heartbeatMs = heartbeat(req, defaultHeartbeatMs);
  let sse: ReturnType<typeof openSse> | undefined;
  const early: WatchEvent[] = [];
  // Opening the watch validates the kinds: do it before answering 200.
  const stop = api.watch(principalOf(req), filter, {
    send: (e) => (sse ? sse.send(String(e.type).toLowerCase(), e) : early.push(e)),
    end: (err) => {
      if (err) sse?.send('error', toAgoraError(err).toJSON());
      sse?.close();
    },
  });
  try {
    sse = openSse(reply, { heartbeatMs });
  } catch (err) {
    stop();
    throw err;
  }
  sse.send('subscribed', { kinds: kinds.length > 0 ? kinds : null, names: filter.names, heartbeatMs });
  for (const e of early) sse.send(String(e.type).toLowerCase(), e);
  sse.onClose(stop);
}

/**
 * A task's output as text, as TaskLogs streams it: for principals that may read the kind of
 * workload its framework runs. Errors (unknown task, no permission) are answered before the
 * first byte; `x-agora-log-offset` is the offset of the first byte sent.
 */
async function taskLogs(api: JobsApi, req: Req, reply: FastifyReply): Promise<unknown> {
  const stream = single(req, 'stream') ?? 'stdout';
  if (stream !== 'stdout' && stream !== 'stderr') throw new InvalidArgumentError('stream', `expected stdout or stderr, got '${stream}'`);
  const rawOffset = single(req, 'offset') ?? '';
  if (rawOffset !== '' && !/^-?\d+$/.test(rawOffset)) throw new InvalidArgumentError('offset', `expected an integer (negative: from the end), got '${rawOffset}'`);
  const length = queryInt(req.query, 'length', 0);
  const abort = new AbortController();
  reply.raw.on('close', () => abort.abort());
  const chunks = api.logs(principalOf(req), { taskId: req.params.name, stream, offset: Number(rawOffset || 0), length, follow: ['1', 'true', ''].includes(single(req, 'follow') ?? 'no') }, abort.signal);
  const first = await chunks.next();
  const rest = async function* (): AsyncGenerator<Buffer> {
    if (first.done) return;
    yield first.value.data;
    for await (const chunk of chunks) yield chunk.data;
  };
  return reply
    .header('content-type', 'text/plain; charset=utf-8')
    .header('x-agora-log-offset', String(first.done ? Math.max(0, Number(rawOffset || 0)) : first.value.offset))
    .send(Readable.from(rest()));
}

// ---- request parsing ------------------------------------------------------------------------

function applyInput(raw: unknown, expected?: WorkloadKind): ApplyInput {
  if (typeof raw === 'string') return expected ? { document: raw, expected } : { document: raw };
  if (raw === undefined || raw === null) throw new InvalidArgumentError('body', 'send the spec as YAML or JSON');
  const object = expected === undefined ? objectKindOfDocument(raw) : undefined;
  if (object) return { object: raw as Body, kind: object };
  return { parsed: fromObject(raw, expected) };
}

function sendApply(reply: FastifyReply, response: { result?: unknown }): unknown {
  return reply.status(response.result === 'CREATED' ? 201 : 200).send(response);
}

function dryRun(req: Req): boolean {
  const v = single(req, 'dryRun') ?? single(req, 'dry_run');
  return v === '1' || v === 'true' || v === '';
}

function body(req: Req): Body {
  const b = req.body;
  if (b === undefined || b === null || b === '') return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw new InvalidArgumentError('body', 'must be a JSON object');
  return b as Body;
}

function integer(v: unknown, field: string): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError(field, `must be a non-negative integer, got ${JSON.stringify(v) ?? 'nothing'}`);
  return n;
}

function optionalString(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new InvalidArgumentError(field, 'must be a string');
  return v;
}

function stringList(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new InvalidArgumentError(field, 'must be a list of strings');
  return v as string[];
}

function bool(v: unknown, field: string, def: boolean): boolean {
  if (v === undefined || v === null) return def;
  if (typeof v !== 'boolean') throw new InvalidArgumentError(field, 'must be true or false');
  return v;
}

/** A query parameter given at most once: `?dryRun=1&dryRun=1` is refused rather than read as "not 1". */
function single(req: Req, name: string): string | undefined {
  const v = req.query[name];
  if (Array.isArray(v)) throw new InvalidArgumentError(name, 'give it once');
  return v;
}

/** A list: comma-separated, and the parameter may be repeated (`?names=a,b&names=c`). */
function list(v: string | string[] | undefined): string[] {
  const all = v === undefined ? [] : Array.isArray(v) ? v : [v];
  return all.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

function heartbeat(req: Req, def: number): number {
  const ms = queryInt(req.query, 'heartbeatMs', def, 3_600_000);
  if (ms < 10) throw new InvalidArgumentError('heartbeatMs', `must be at least 10, got ${ms}`);
  return ms;
}
