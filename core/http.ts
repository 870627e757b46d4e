// The HTTP edge every process shares: fastify with JSON errors from AgoraError codes, a JSON 404,
// and a listen helper that reports the port actually bound (port 0 picks one).
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { AgoraError, InvalidArgumentError, toAgoraError } from './errors.js';
import type { Logger } from './logger.js';
import { httpsServerOptions, type ServerTls } from './security/tls.js';

export type HttpServer = FastifyInstance;

export interface HttpServerOptions {
  logger?: Logger;
  /** Largest request body accepted (bytes). */
  bodyLimit?: number;
  /** Serve HTTPS with this certificate, asking clients for theirs (see core/security/tls.ts). */
  tls?: ServerTls;
}

export function createHttpServer(options: HttpServerOptions = {}): HttpServer {
  const fastifyOptions: FastifyServerOptions = {
    bodyLimit: options.bodyLimit ?? 4 * 1024 * 1024,
    disableRequestLogging: true,
    forceCloseConnections: true,
    ...(options.tls ? { https: httpsServerOptions(options.tls) } : {}),
  };
  const app = Fastify(fastifyOptions);
  // YAML bodies are passed through as text; handlers parse them.
  app.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => {
    done(null, body);
  });
  app.setErrorHandler((err, request, reply) => {
    const agoraError = fromFastifyError(err);
    if (agoraError.code === 'AGORA_INTERNAL') options.logger?.error({ err, url: request.url }, 'http handler failed');
    const leader = agoraError.details['leader'];
    if (typeof leader === 'string') reply.header('x-agora-leader', leader);
    void reply.status(agoraError.httpStatus).send(agoraError.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ code: 'AGORA_NOT_FOUND', message: `no route for ${request.method} ${request.url.split('?')[0] ?? ''}` });
  });
  return app;
}

function fromFastifyError(err: unknown): AgoraError {
  if (err instanceof AgoraError) return err;
  const e = err as { statusCode?: number; code?: string; message?: string; validation?: unknown };
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new InvalidArgumentError('content-type', e.message ?? 'unsupported media type');
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new AgoraError('AGORA_RESOURCE_EXHAUSTED', 'request body is too large');
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
