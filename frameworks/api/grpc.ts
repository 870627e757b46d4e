// The Jobs gRPC service: proto requests → JobsApi calls → proto responses. Errors become gRPC
// statuses at this edge (core/grpc toGrpcError: INVALID_ARGUMENT with the field, NOT_FOUND,
// FAILED_PRECONDITION, UNAVAILABLE with the leader on a standby).
import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from '../../core/errors.js';
import { toGrpcError } from '../../core/grpc.js';
import type { Logger } from '../../core/logger.js';
import type { Authenticator } from '../../core/security/authenticate.js';
import { authenticateCall, authenticatedUnary } from '../../core/security/edge.js';
import type { Principal } from '../../core/security/principal.js';
import type { JobsHandlers, LogChunk, TaskLogsRequest__Output, WatchEvent, WatchRequest__Output } from '../../proto/index.js';
import type { WorkloadKind } from '../workload.js';
import { checkServing, type ServingGate } from './gate.js';
import type { JobsApi } from './jobs-api.js';
import { kindFromWire } from './kinds.js';
import type { JobsApiMetrics } from './metrics.js';

/** Every call is authenticated (`auth`); what it may do is JobsApi's to say. Unary calls are counted and timed in `metrics`. */
export function jobsGrpcHandlers(api: JobsApi, gate: ServingGate, auth: Authenticator, logger?: Logger, metrics?: JobsApiMetrics): JobsHandlers {
  const handlers = handlersOf(api, gate, auth, logger);
  if (!metrics) return handlers;
  const counted: Record<string, unknown> = { ...handlers };
  for (const [method, handler] of Object.entries(handlers)) {
    if (method !== 'Watch' && method !== 'TaskLogs') counted[method] = metrics.unary(method, handler as grpc.handleUnaryCall<unknown, unknown>);
  }
  return counted as unknown as JobsHandlers;
}

function handlersOf(api: JobsApi, gate: ServingGate, auth: Authenticator, logger?: Logger): JobsHandlers {
  const onError = (err: { code: string }, method: string): void => {
    if (err.code === 'AGORA_INTERNAL') logger?.error({ err, method }, 'jobs call failed');
  };
  const call = <Req, Res>(fn: (req: Req, principal: Principal) => Promise<Res>): grpc.handleUnaryCall<Req, Res> =>
    authenticatedUnary<Req, Res>(auth, (req, principal) => {
      checkServing(gate);
      return fn(req, principal);
    }, { onError });
  return {
    Apply: call(async (req, p) => {
      const dryRun = req.dryRun;
      if (req.spec === 'document') return api.apply(p, { document: req.document ?? '', format: req.format }, dryRun);
      if (req.spec === 'service' && req.service) return api.apply(p, { structured: 'SERVICE', spec: { ...req.service } }, dryRun);
      if (req.spec === 'cronjob' && req.cronjob) return api.apply(p, { structured: 'CRONJOB', spec: { ...req.cronjob } }, dryRun);
      if (req.spec === 'job' && req.job) return api.apply(p, { structured: 'JOB', spec: { ...req.job } }, dryRun);
      throw new InvalidArgumentError('document', 'give a document (YAML or JSON), or a service, cronjob or job spec');
    }),
    Get: call((req, p) => api.get(p, kindFromWire(req.kind), req.name)),
    List: call(async (req, p) => ({ items: await api.list(p, req.kinds.map((k, i) => kindFromWire(k, `kinds[${i}]`)), req.labels) })),
    Delete: call((req, p) => api.delete(p, kindFromWire(req.kind), req.name)),
    Scale: call((req, p) => api.scale(p, req.name, req.instances)),
    Rollback: call((req, p) => api.rollback(p, req.name, req.toVersion)),
    Restart: call((req, p) => api.restart(p, req.name)),
    KillTasks: call((req, p) => api.killTasks(p, req.name, req.taskIds, req.scale)),
    Promote: call((req, p) => api.promote(p, req.name)),
    Abort: call((req, p) => api.abort(p, req.name)),
    Trigger: call((req, p) => api.trigger(p, kindFromWire(req.kind), req.name)),
    Suspend: call(async (req, p) => {
      await api.suspend(p, kindFromWire(req.kind), req.name, req.suspend);
      return {};
    }),
    Watch: (stream) => void watchStream(api, gate, auth, stream),
    TaskLogs: (stream) => void logsStream(api, gate, auth, stream),
  };
}

async function watchStream(api: JobsApi, gate: ServingGate, auth: Authenticator, stream: grpc.ServerWritableStream<WatchRequest__Output, WatchEvent>): Promise<void> {
  let stop: (() => void) | undefined;
  try {
    const principal = await authenticateCall(auth, stream);
    checkServing(gate);
    const kinds: WorkloadKind[] = stream.request.kinds.map((k, i) => kindFromWire(k, `kinds[${i}]`));
    stop = api.watch(
      principal,
      { kinds, names: stream.request.names, sendInitial: stream.request.sendInitial },
      {
        send: (event) => stream.write(event),
        end: (err) => (err ? fail(stream, err) : stream.end()),
      },
    );
  } catch (err) {
    fail(stream, err);
    return;
  }
  stream.on('cancelled', () => stop?.());
  stream.on('close', () => stop?.());
}

async function logsStream(api: JobsApi, gate: ServingGate, auth: Authenticator, stream: grpc.ServerWritableStream<TaskLogsRequest__Output, LogChunk>): Promise<void> {
  const abort = new AbortController();
  stream.on('cancelled', () => abort.abort());
  stream.on('close', () => abort.abort());
  try {
    const principal = await authenticateCall(auth, stream);
    checkServing(gate);
    const req = stream.request;
    const logs = api.logs(
      principal,
      { taskId: req.taskId, stream: req.stream === 'STDERR' ? 'stderr' : 'stdout', offset: req.offset, length: req.length, follow: req.follow },
      abort.signal,
    );
    for await (const chunk of logs) {
      if (!stream.write({ data: chunk.data, offset: chunk.offset })) await new Promise((resolve) => stream.once('drain', resolve));
    }
    stream.end();
  } catch (err) {
    if (!abort.signal.aborted) fail(stream, err);
  }
}

/** End a server stream with an error status (grpc-js sends it from the stream's 'error' event). */
function fail(stream: grpc.ServerWritableStream<unknown, unknown>, err: unknown): void {
  stream.emit('error', toGrpcError(err));
}
