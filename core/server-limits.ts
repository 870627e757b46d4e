// The limits every server of a process keeps so that abuse is shed rather than served: timeouts,
// connection caps, body and message sizes, event-stream clients. One set of flags, spread into
// each process's options (master, agent, frameworks), so every server is tuned the same way.
// Defaults, and why (the peers we took them from in brackets):
//
//   headers 20 s        a slow-loris client trickling header lines is cut (Apache mod_reqtimeout
//                       header=20; Node's 60 s is off altogether when fastify's requestTimeout is 0)
//   request 60 s        the whole request, body included (nginx client_body_timeout 60 s)
//   keep-alive 30 s     an idle connection between requests (nginx 75 s, Node 5 s; longer than
//                       undici's and browsers' own idle close, so the client closes first)
//   idle 60 s           a response that makes no progress: the client stopped reading (nginx
//                       send_timeout 60 s). A quiet stream (SSE, log follow) with nothing queued
//                       is not idle in this sense and is never cut for it.
//   TLS handshake 10 s  a client that opens TCP and never handshakes (Node 120 s, nginx 60 s)
//   4096 connections    per HTTP server; `agora up` runs two, well inside a 20,000 `ulimit -n`
//   512 per client      per server and client address: one host cannot take the whole pool
//   body 4 MiB          HTTP request bodies (Kubernetes' API server takes 3 MiB, nginx 1 MiB)
//   256 SSE clients     per HTTP server, each holding at most 1 MiB not yet taken by the kernel:
//                       worst case 256 MiB, against 4 GB seen with 400 unbounded clients
//   gRPC 16384 conns    a master serves one connection per agent and framework
//   4096 streams        per gRPC connection (one simulated host multiplexes 1000 agents)
//   4 MiB messages      gRPC's own default receive limit
//   keepalive 5 m/20 s  the server pings each connection every 5 m and drops it if the ping is
//                       not answered in 20 s (gRPC core's server default is 2 h): a peer that has
//                       gone holds a connection no longer than that
//   gRPC idle 30 m      a connection with no call open is closed (clients reconnect on demand)
import { InvalidArgumentError } from './errors.js';
import { opt, parseBytes, type OptionSpec, type OptionsOf } from './options.js';

export interface HttpLimits {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly tlsHandshakeTimeoutMs: number;
  /** Open connections per server; over it new ones are closed at once. 0 = no cap. */
  readonly maxConnections: number;
  /** Open connections per client address and server. 0 = no cap. */
  readonly maxConnectionsPerClient: number;
  readonly bodyLimitBytes: number;
  readonly sseMaxClients: number;
  /** Bytes an event-stream client may leave unread (queued in the process) before it is dropped. */
  readonly sseMaxBufferedBytes: number;
}

export interface GrpcLimits {
  readonly tlsHandshakeTimeoutMs: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerClient: number;
  readonly maxConcurrentStreams: number;
  readonly maxReceiveMessageBytes: number;
  readonly keepaliveTimeMs: number;
  readonly keepaliveTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

const KIB = 1024;
const MIB = 1024 * KIB;

export const DEFAULT_HTTP_LIMITS: HttpLimits = Object.freeze({
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  tlsHandshakeTimeoutMs: 10_000,
  maxConnections: 4096,
  maxConnectionsPerClient: 512,
  bodyLimitBytes: 4 * MIB,
  sseMaxClients: 256,
  sseMaxBufferedBytes: MIB,
});

export const DEFAULT_GRPC_LIMITS: GrpcLimits = Object.freeze({
  tlsHandshakeTimeoutMs: 10_000,
  maxConnections: 16_384,
  maxConnectionsPerClient: 512,
  maxConcurrentStreams: 4096,
  maxReceiveMessageBytes: 4 * MIB,
  keepaliveTimeMs: 5 * 60_000,
  keepaliveTimeoutMs: 20_000,
  idleTimeoutMs: 30 * 60_000,
});

function bytes(flag: string, description: string, def: number, min: number, max: number): OptionSpec<number> {
  return opt.custom(flag, description, (raw, f) => {
    const n = parseBytes(raw, f);
    if (n < min) throw new InvalidArgumentError(f, `must be at least ${min} bytes, got '${String(raw)}'`);
    if (n > max) throw new InvalidArgumentError(f, `must be at most ${max} bytes, got '${String(raw)}'`);
    return n;
  }, def);
}

const H = DEFAULT_HTTP_LIMITS;
const G = DEFAULT_GRPC_LIMITS;
const secs = (ms: number): string => `${ms / 1000}s`;
/** The longest timer Node keeps (about 24.8 days); longer ones fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/** Flags that apply to every server of the process. */
export const SERVER_LIMIT_OPTIONS = {
  tlsHandshakeTimeout: opt.duration('--tls-handshake-timeout', 'a client that opens a connection and does not finish the TLS handshake within this is dropped', secs(H.tlsHandshakeTimeoutMs), { minMs: 10, maxMs: MAX_TIMER_MS }),
  maxConnectionsPerClient: opt.int('--max-connections-per-client', 'open connections one client address may hold on each server; more are closed at once (0 = no cap)', H.maxConnectionsPerClient, { min: 0 }),
};

/** Flags of an HTTP server. */
export const HTTP_LIMIT_OPTIONS = {
  httpHeadersTimeout: opt.duration('--http-headers-timeout', 'a request whose headers have not all arrived within this is cut (slow clients)', secs(H.headersTimeoutMs), { minMs: 10, maxMs: MAX_TIMER_MS }),
  httpRequestTimeout: opt.duration('--http-request-timeout', 'a request (headers and body) not received within this is answered 408 and cut', secs(H.requestTimeoutMs), { minMs: 10, maxMs: MAX_TIMER_MS }),
  httpKeepaliveTimeout: opt.duration('--http-keepalive-timeout', 'an idle connection between requests is closed after this', secs(H.keepAliveTimeoutMs), { minMs: 10, maxMs: MAX_TIMER_MS }),
  httpIdleTimeout: opt.duration('--http-idle-timeout', 'a response that makes no progress for this long (the client stopped reading) is cut; quiet streams are not', secs(H.idleTimeoutMs), { minMs: 10, maxMs: MAX_TIMER_MS }),
  httpMaxConnections: opt.int('--http-max-connections', 'open connections on the HTTP server; more are closed at once (0 = no cap)', H.maxConnections, { min: 0 }),
  httpMaxBody: bytes('--http-max-body', 'largest request body, e.g. 4MiB; larger is answered 413', H.bodyLimitBytes, 1, 1024 * MIB),
  sseMaxClients: opt.int('--sse-max-clients', 'event streams (Server-Sent Events) open at once on the HTTP server; more are answered 429', H.sseMaxClients, { min: 1 }),
  sseMaxBuffered: bytes('--sse-max-buffered', 'bytes an event-stream client may leave unread before it is dropped, e.g. 1MiB', H.sseMaxBufferedBytes, 64 * KIB, 1024 * MIB),
};

/** Flags of a gRPC server. */
export const GRPC_LIMIT_OPTIONS = {
  grpcMaxConnections: opt.int('--grpc-max-connections', 'open connections on the gRPC server; more are closed at once (0 = no cap)', G.maxConnections, { min: 0 }),
  grpcMaxConcurrentStreams: opt.int('--grpc-max-concurrent-streams', 'calls and streams open at once on one gRPC connection', G.maxConcurrentStreams, { min: 1, max: 2 ** 31 - 1 }),
  grpcMaxReceiveMessage: bytes('--grpc-max-receive-message', 'largest gRPC message accepted, e.g. 4MiB; larger is RESOURCE_EXHAUSTED', G.maxReceiveMessageBytes, KIB, 1024 * MIB),
  grpcKeepaliveTime: opt.duration('--grpc-keepalive-time', 'ping each gRPC connection this often (a peer that has gone is found)', `${G.keepaliveTimeMs / 60_000}m`, { minMs: 10, maxMs: MAX_TIMER_MS }),
  grpcKeepaliveTimeout: opt.duration('--grpc-keepalive-timeout', 'drop the connection when a ping is not answered within this', secs(G.keepaliveTimeoutMs), { minMs: 10, maxMs: MAX_TIMER_MS }),
  grpcIdleTimeout: opt.duration('--grpc-idle-timeout', 'close a gRPC connection with no call open for this long (clients reconnect when they need to)', `${G.idleTimeoutMs / 60_000}m`, { minMs: 10, maxMs: MAX_TIMER_MS }),
};

type ServerFlags = OptionsOf<typeof SERVER_LIMIT_OPTIONS>;
export type HttpLimitFlags = ServerFlags & OptionsOf<typeof HTTP_LIMIT_OPTIONS>;
export type GrpcLimitFlags = ServerFlags & OptionsOf<typeof GRPC_LIMIT_OPTIONS>;

/** The HTTP limits from compiled flags; throws naming the flag when they contradict each other. */
export function httpLimitsFrom(flags: HttpLimitFlags): HttpLimits {
  if (flags.httpHeadersTimeout > flags.httpRequestTimeout) {
    throw new InvalidArgumentError('--http-headers-timeout', `must not be longer than --http-request-timeout (${flags.httpRequestTimeout} ms), got ${flags.httpHeadersTimeout} ms`);
  }
  return Object.freeze({
    headersTimeoutMs: flags.httpHeadersTimeout,
    requestTimeoutMs: flags.httpRequestTimeout,
    keepAliveTimeoutMs: flags.httpKeepaliveTimeout,
    idleTimeoutMs: flags.httpIdleTimeout,
    tlsHandshakeTimeoutMs: flags.tlsHandshakeTimeout,
    maxConnections: flags.httpMaxConnections,
    maxConnectionsPerClient: flags.maxConnectionsPerClient,
    bodyLimitBytes: flags.httpMaxBody,
    sseMaxClients: flags.sseMaxClients,
    sseMaxBufferedBytes: flags.sseMaxBuffered,
  });
}

export function grpcLimitsFrom(flags: GrpcLimitFlags): GrpcLimits {
  return Object.freeze({
    tlsHandshakeTimeoutMs: flags.tlsHandshakeTimeout,
    maxConnections: flags.grpcMaxConnections,
    maxConnectionsPerClient: flags.maxConnectionsPerClient,
    maxConcurrentStreams: flags.grpcMaxConcurrentStreams,
    maxReceiveMessageBytes: flags.grpcMaxReceiveMessage,
    keepaliveTimeMs: flags.grpcKeepaliveTime,
    keepaliveTimeoutMs: flags.grpcKeepaliveTimeout,
    idleTimeoutMs: flags.grpcIdleTimeout,
  });
}
