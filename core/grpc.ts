// gRPC plumbing every process shares: a server with the standard health service and server
// reflection (so grpcurl and grpc-health-probe work), binding on port 0, the limits of
// core/server-limits.ts (core/grpc-edge.ts), and the mapping between AgoraError and gRPC status at
// the edges — toGrpcError on the server, fromGrpcError on the client.
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath, type ServingStatus } from 'grpc-health-check';
import { LOADER_OPTIONS, packageDefinition } from '../proto/index.js';
import type { ConnectionStats } from './connection-limits.js';
import { guardDecoding, listenCapped, rejectUndecodable, serverOptionsFor, withHandshakeTimeout, type CappedListener } from './grpc-edge.js';
import { grpcCredentials, type Authenticator } from './security/authenticate.js';
import { grpcServerCredentials, type ServerTls } from './security/tls.js';
import { DEFAULT_GRPC_LIMITS, type GrpcLimits } from './server-limits.js';
import {
  AgoraError,
  CODE_METADATA_KEY,
  codeForGrpcStatus,
  FailedPreconditionError,
  FIELD_METADATA_KEY,
  InternalError,
  InvalidArgumentError,
  isErrorCode,
  LEADER_METADATA_KEY,
  NotLeaderError,
  TimeoutError,
  toAgoraError,
  UnavailableError,
} from './errors.js';

export type { ServingStatus };

export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

/** gRPC metadata on every scheduler call after Subscribe: the subscription's id (as Mesos-Stream-Id). */
export const STREAM_ID_METADATA_KEY = 'agora-stream-id';

// The health proto joins ours in the reflection index, so `grpcurl list` shows it too.
const healthDefinition = protoLoader.loadSync('health/v1/health.proto', {
  ...LOADER_OPTIONS,
  includeDirs: [dirname(dirname(dirname(healthProtoPath)))],
});

export interface GrpcServerOptions {
  /** Serve TLS with this certificate (asking clients for theirs); plaintext when absent. */
  tls?: ServerTls;
  /** Who may use server reflection (health checks stay open, like /health). Default: anyone. */
  reflectionAuth?: Authenticator;
  /** Initial health statuses by service name; '' is the server as a whole. Default { '': 'SERVING' }. */
  health?: Readonly<Record<string, ServingStatus>>;
  /** Serve gRPC server reflection (default true). */
  reflection?: boolean;
  /** Timeouts and caps; each missing one takes its default (core/server-limits.ts). */
  limits?: Partial<GrpcLimits>;
  /** More grpc-js server options; they win over those made from `limits`. */
  serverOptions?: grpc.ServerOptions;
  /** Told of errors of the listening socket (accept failing with EMFILE); the server goes on. */
  onListenError?: (err: Error) => void;
}

export interface GrpcServer {
  readonly server: grpc.Server;
  /** Sets what grpc.health.v1.Health answers for `service` ('' = the whole server). */
  setServingStatus(service: string, status: ServingStatus): void;
  /** Binds host:port (port 0 = any free port) and resolves to the port bound. */
  bind(host: string, port: number): Promise<number>;
  /** Marks every service NOT_SERVING, lets calls finish for up to graceMs, then forces. */
  shutdown(graceMs?: number): Promise<void>;
  /** The connections of the bound port (undefined before bind). */
  readonly connections: ConnectionStats | undefined;
}

export function createGrpcServer(options: GrpcServerOptions = {}): GrpcServer {
  const limits: GrpcLimits = { ...DEFAULT_GRPC_LIMITS, ...options.limits };
  const server = new grpc.Server({ ...serverOptionsFor(limits), interceptors: [rejectUndecodable], ...options.serverOptions });
  guardDecoding(server);
  const statuses = new Map<string, ServingStatus>(Object.entries(options.health ?? { '': 'SERVING' }));
  const health = new HealthImplementation(Object.fromEntries(statuses));
  health.addToServer(server);
  if (options.reflection !== false) {
    const auth = options.reflectionAuth;
    const target = auth === undefined || auth.insecure ? server : guardedServices(server, auth);
    new ReflectionService({ ...packageDefinition, ...healthDefinition }).addToServer(target as grpc.Server);
  }
  const credentials = options.tls ? withHandshakeTimeout(grpcServerCredentials(options.tls), limits.tlsHandshakeTimeoutMs) : grpc.ServerCredentials.createInsecure();
  let listener: CappedListener | undefined;
  return {
    server,
    setServingStatus(service, status) {
      statuses.set(service, status);
      health.setStatus(service, status);
    },
    async bind(host, port) {
      if (listener) throw new Error('this gRPC server is already bound');
      listener = await listenCapped(server, credentials, host, port, limits, options.onListenError);
      return listener.port;
    },
    async shutdown(graceMs) {
      for (const service of statuses.keys()) health.setStatus(service, 'NOT_SERVING');
      const closed = listener?.close();
      await shutdownServer(server, graceMs);
      listener?.destroy();
      await closed;
    },
    get connections() {
      return listener?.connections;
    },
  };
}

/** Something services are added to: a server, or a guard in front of one. */
type ServiceTarget = Pick<grpc.Server, 'addService'>;

/** Adds services to `server` with every handler behind `auth` (for services we do not write). */
function guardedServices(server: grpc.Server, auth: Authenticator): ServiceTarget {
  return {
    addService(definition, implementation) {
      const guarded: grpc.UntypedServiceImplementation = {};
      for (const [name, handler] of Object.entries(implementation)) {
        guarded[name] = ((call: { metadata: grpc.Metadata; emit: (event: 'error', err: unknown) => void }, callback?: (err: unknown) => void) => {
          // Through a new Promise: an authenticator may also throw synchronously.
          new Promise((resolve) => resolve(auth.authenticate(grpcCredentials(call)))).then(
            () => (handler as (...args: unknown[]) => void)(call, callback),
            (err: unknown) => (callback ? callback(toGrpcError(err)) : call.emit('error', toGrpcError(err))),
          );
        }) as grpc.UntypedHandleCall;
      }
      server.addService(definition, guarded);
    },
  };
}

/** Binds `host:port` (port 0 = any free port) with the given credentials (default: plaintext); resolves to the actual port. */
export function bindServer(
  server: grpc.Server,
  host: string,
  port: number,
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(),
): Promise<number> {
  const address = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, boundPort) => {
      if (err) reject(new UnavailableError(`cannot bind gRPC server to ${address}: ${err.message}`, { cause: err }));
      else resolve(boundPort);
    });
  });
}

/** Graceful shutdown: waits for calls in flight up to graceMs, then cancels the rest. */
export function shutdownServer(server: grpc.Server, graceMs = 5_000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

// ---- errors at the edge ----------------------------------------------------------------------

/** An error carrying a gRPC status: what grpc-js gives clients, and what servers send. */
export function isGrpcStatusError(err: unknown): err is grpc.ServiceError {
  return (
    err instanceof Error &&
    typeof (err as Partial<grpc.ServiceError>).code === 'number' &&
    (err as Partial<grpc.ServiceError>).metadata instanceof grpc.Metadata
  );
}

/** Server side: anything thrown → a status error with the Agora code, field and leader in metadata. */
export function toGrpcError(err: unknown): grpc.ServiceError {
  const agora = isGrpcStatusError(err) ? fromGrpcError(err) : toAgoraError(err);
  const metadata = new grpc.Metadata();
  metadata.set(CODE_METADATA_KEY, agora.code);
  if (agora.field !== undefined) setFieldMetadata(metadata, cut(agora.field, MAX_FIELD_CHARS));
  if (agora instanceof NotLeaderError && agora.leader) metadata.set(LEADER_METADATA_KEY, agora.leader);
  // The status travels in HTTP/2 trailers; a message echoing a huge input would not fit them, and
  // the call would end with no status at all.
  const details = cut(agora.message, MAX_DETAILS_CHARS);
  return Object.assign(new Error(details), {
    code: agora.grpcStatus as number as grpc.status,
    details,
    metadata,
  });
}

/** The longest error message and field name sent in a status (the rest is cut, with a mark). */
const MAX_DETAILS_CHARS = 4_096;
const MAX_FIELD_CHARS = 512;
const FIELD_BIN_METADATA_KEY = `${FIELD_METADATA_KEY}-bin`;

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/**
 * A field name as metadata: printable ASCII as text; anything else (a key "é" or "\t" in a
 * document) as UTF-8 in the binary key, since a text value outside printable ASCII makes
 * grpc-js throw and the call would never get a status.
 */
function setFieldMetadata(metadata: grpc.Metadata, field: string): void {
  if (/^[\x20-\x7e]*$/.test(field)) metadata.set(FIELD_METADATA_KEY, field);
  else metadata.set(FIELD_BIN_METADATA_KEY, Buffer.from(field, 'utf8'));
}

function fieldFromMetadata(metadata: grpc.Metadata): string | undefined {
  const text = metadataString(metadata, FIELD_METADATA_KEY);
  if (text !== undefined) return text;
  const bin = metadata.get(FIELD_BIN_METADATA_KEY)[0];
  return Buffer.isBuffer(bin) && bin.length > 0 ? bin.toString('utf8') : undefined;
}

function metadataString(metadata: grpc.Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Client side: a failed call → a typed AgoraError. The Agora code comes from metadata when the
 * peer sent one, else from the gRPC status (so transport failures become AGORA_UNAVAILABLE etc).
 * Check `code` rather than the class: only some codes have their own class here.
 */
export function fromGrpcError(err: unknown): AgoraError {
  if (err instanceof AgoraError) return err;
  if (!isGrpcStatusError(err)) return toAgoraError(err);
  const sent = metadataString(err.metadata, CODE_METADATA_KEY);
  const code = isErrorCode(sent) ? sent : codeForGrpcStatus(err.code);
  const field = fieldFromMetadata(err.metadata);
  const leader = metadataString(err.metadata, LEADER_METADATA_KEY);
  const message = err.details || err.message;
  if (code === 'AGORA_NOT_LEADER' || (leader !== undefined && code === 'AGORA_UNAVAILABLE')) return new NotLeaderError(leader);
  switch (code) {
    case 'AGORA_INVALID_ARGUMENT':
      if (field === undefined) break;
      return new InvalidArgumentError(field, message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message);
    case 'AGORA_FAILED_PRECONDITION':
      return new FailedPreconditionError(message, { cause: err, ...(field === undefined ? {} : { field }) });
    case 'AGORA_UNAVAILABLE':
      return new UnavailableError(message, { cause: err });
    case 'AGORA_TIMEOUT':
      return new TimeoutError(message, { cause: err });
    case 'AGORA_INTERNAL':
      return new InternalError(message, { cause: err });
    default:
      break;
  }
  return new AgoraError(code, message, { cause: err, ...(field === undefined ? {} : { field }) });
}

// ---- handlers and calls ----------------------------------------------------------------------

export type UnaryHandler<Req, Res> = (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res;

export interface UnaryOptions {
  /** Sees every error a handler throws (after mapping), e.g. to log AGORA_INTERNAL ones. */
  onError?: (err: AgoraError, method: string) => void;
}

/**
 * An async handler → a grpc-js unary handler. A thrown error (sync or async) becomes a gRPC
 * status through toGrpcError; it never escapes to crash the server.
 */
export function unary<Req, Res>(handler: UnaryHandler<Req, Res>, options: UnaryOptions = {}): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const fail = (err: unknown): void => {
      const status = toGrpcError(err);
      try {
        options.onError?.(fromGrpcError(status), call.getPath());
      } finally {
        callback(status);
      }
    };
    new Promise<Res>((resolve) => resolve(handler(call.request, call))).then((response) => callback(null, response), fail).catch(() => {
      // callback itself threw (the call is already gone); nothing is left to tell the client.
    });
  };
}

/**
 * Client side: runs one unary call and settles with its response, or rejects with a typed
 * AgoraError: `await unaryCall<Ack__Output>((cb) => client.accept(request, cb))`.
 */
export function unaryCall<Res>(start: (callback: grpc.requestCallback<Res>) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    start((err, response) => {
      if (err) reject(fromGrpcError(err));
      else if (response === undefined) reject(new InternalError('empty gRPC response'));
      else resolve(response);
    });
  });
}
