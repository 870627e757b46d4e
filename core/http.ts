// The HTTP edge every process shares: fastify with JSON errors from AgoraError codes, a JSON 404,
// and a listen helper that reports the port actually bound (port 0 picks one). The node server
// under it is made here (fastify's serverFactory) so that every limit of core/server-limits.ts
// holds: headers, request, keep-alive, idle and TLS handshake timeouts, connection caps, the body
// limit (413), and the cap on event-stream clients (core/sse.ts).
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { capConnections, type ConnectionStats } from './connection-limits.js';
import { AgoraError, InvalidArgumentError, toAgoraError } from './errors.js';
import type { Logger } from './logger.js';
import { httpsServerOptions, type ServerTls } from './security/tls.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './server-limits.js';
import { SseGate, setSseGate } from './sse.js';

export type HttpServer = FastifyInstance;

export interface HttpServerOptions {
  logger?: Logger;
  /** Timeouts and caps; each missing one takes its default (core/server-limits.ts). */
  limits?: Partial<HttpLimits>;
  /** Serve HTTPS with this certificate, asking clients for theirs (see core/security/tls.ts). */
  tls?: ServerTls;
}

/** What a server's limits have done, for metrics and tests. */
export interface HttpEdgeStats {
  readonly connections: ConnectionStats;
  readonly sse: SseGate;
  /** Connections cut by the idle timeout (a response that made no progress, an idle keep-alive). */
  readonly idleCut: number;
}

const stats = new WeakMap<object, HttpEdgeStats>();

/** The limits' counters of a server made by createHttpServer. */
export function httpEdgeStats(app: HttpServer): HttpEdgeStats {
  const found = stats.get(app.server);
  if (!found) throw new Error('not a server made by createHttpServer');
  return found;
}

export function createHttpServer(options: HttpServerOptions = {}): HttpServer {
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
  const fastifyOptions: FastifyServerOptions = {
    bodyLimit: limits.bodyLimitBytes,
    disableRequestLogging: true,
    forceCloseConnections: true,
    serverFactory: (handler) => createNodeServer(handler, limits, options.tls),
    clientErrorHandler: answerClientError,
  };
  const app = Fastify(fastifyOptions);
  // YAML bodies are passed through as text; handlers parse them.
  app.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => {
    done(null, body);
  });
  app.setErrorHandler((err, request, reply) => {
    const agoraError = fromFastifyError(err, limits);
    if (agoraError.code === 'AGORA_INTERNAL') options.logger?.error({ err, url: request.url }, 'http handler failed');
    const leader = agoraError.details['leader'];
    if (typeof leader === 'string') reply.header('x-agora-leader', leader);
    if (agoraError.code === 'AGORA_PAYLOAD_TOO_LARGE') reply.header('connection', 'close');
    void reply.status(agoraError.httpStatus).send(agoraError.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ code: 'AGORA_NOT_FOUND', message: `no route for ${request.method} ${request.url.split('?')[0] ?? ''}` });
  });
  return app;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

function createNodeServer(handler: Handler, limits: HttpLimits, tls: ServerTls | undefined): http.Server {
  const timeouts = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks the headers and request timeouts on this period (30 s by default): a quarter of
    // the shorter one cuts a slow client within 125 % of its timeout.
    connectionsCheckingInterval: Math.max(10, Math.min(30_000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4))),
  };
  const server = tls
    ? https.createServer({ ...httpsServerOptions(tls), ...timeouts, handshakeTimeout: limits.tlsHandshakeTimeoutMs }, handler)
    : http.createServer(timeouts, handler);
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  const connections = capConnections(server, { max: limits.maxConnections, perClient: limits.maxConnectionsPerClient });
  const sse = new SseGate({ maxClients: limits.sseMaxClients, maxBufferedBytes: limits.sseMaxBufferedBytes });
  setSseGate(server, sse);
  const edge = { connections, sse, idleCut: 0 };
  stats.set(server, edge);
  cutIdleConnections(server, limits.idleTimeoutMs, () => (edge.idleCut += 1));
  return server;
}

/**
 * The idle timeout, as nginx's send_timeout: Node calls a socket idle when nothing was read or
 * written for `idleMs` (and not while a large write is still draining). Such a socket is cut —
 * unless a response on it is open with nothing queued: a quiet stream (SSE between heartbeats, a
 * log being followed, a handler still working), which is not the client's fault. A response the
 * client has stopped reading has bytes queued, so it is cut; so is an idle keep-alive connection.
 */
function cutIdleConnections(server: http.Server, idleMs: number, onCut: () => void): void {
  const open = new WeakMap<Socket, http.ServerResponse>();
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    open.set(req.socket, res);
    res.once('close', () => {
      if (open.get(req.socket) === res) open.delete(req.socket);
    });
  });
  server.setTimeout(idleMs);
  server.on('timeout', (socket: Socket) => {
    const res = open.get(socket);
    if (res && !res.writableEnded && res.writableLength === 0) return;
    onCut();
    socket.destroy();
  });
}

/**
 * A request Node could not parse (a head over its 16 KiB limit, bytes that are not HTTP, a client
 * too slow to send its head) is answered before fastify sees it: with an Agora error body like every
 * other answer, instead of fastify's `{error, statusCode}`, then the connection is closed.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, body] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, { code: 'AGORA_TIMEOUT', message: 'the request was not received in time (--http-headers-timeout, --http-request-timeout)' }]
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, { code: 'AGORA_PAYLOAD_TOO_LARGE', field: 'headers', message: `the request head is larger than ${http.maxHeaderSize} bytes` }]
        : [400, { code: 'AGORA_INVALID_ARGUMENT', field: 'request', message: `not an HTTP/1.1 request: ${err.code ?? err.message}` }];
  const text = JSON.stringify(body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(text)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy();
}

function fromFastifyError(err: unknown, limits: HttpLimits): AgoraError {
  if (err instanceof AgoraError) return err;
  const e = err as { statusCode?: number; code?: string; message?: string; validation?: unknown };
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new InvalidArgumentError('content-type', e.message ?? 'unsupported media type');
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.statusCode === 413) {
    return new AgoraError('AGORA_PAYLOAD_TOO_LARGE', `request body is larger than ${limits.bodyLimitBytes} bytes (--http-max-body)`, {
      field: 'body',
      details: { limitBytes: limits.bodyLimitBytes },
    });
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new InvalidArgumentError('body', e.message ?? 'bad request');
  }
  return toAgoraError(err);
}

/** Listen on host:port and return the port bound. */
export async function listenHttp(app: HttpServer, host: string, port: number): Promise<number> {
  await app.listen({ host, port });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('HTTP server has no TCP address');
  return address.port;
}

/** Parse a non-negative integer query parameter, naming it when it is bad. */
export function queryInt(query: Record<string, unknown>, name: string, def: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = query[name];
  if (raw === undefined || raw === '') return def;
  const text = String(raw);
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError(name, `expected a non-negative integer, got '${text}'`);
  const n = Number(text);
  if (n > max) throw new InvalidArgumentError(name, `must be at most ${max}, got ${n}`);
  return n;
}
