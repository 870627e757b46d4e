// Authentication wired into the two kinds of server every process runs:
//
//   gRPC   authenticatedUnary(auth, handler)  unary calls: the handler gets the principal
//          authenticateCall(auth, call)        streams: once, when the stream opens
//   HTTP   requireAuthentication(app, auth, { open })   every route but the open ones; the
//          principal is on the request (principalOf(req)); the dashboard's session cookie counts
//          as a token, and a write it authenticates needs x-agora-request (session-cookie.ts)
//
// A refusal is UNAUTHENTICATED (401 with `www-authenticate: Bearer`) naming why; nothing runs.
import type * as grpc from '@grpc/grpc-js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InternalError } from '../errors.js';
import { unary, type UnaryOptions } from '../grpc.js';
import { grpcCredentials, httpCredentials, type Authenticator, type PeerAuth } from './authenticate.js';
import type { Principal } from './principal.js';
import { checkCookieWrite } from './session-cookie.js';

declare module 'fastify' {
  interface FastifyRequest {
    agoraPrincipal?: Principal;
  }
}

type CallWithCredentials = { metadata: grpc.Metadata; getAuthContext?: () => PeerAuth | null };

export function authenticateCall(auth: Authenticator, call: CallWithCredentials): Principal | Promise<Principal> {
  return auth.authenticate(grpcCredentials(call));
}

/** A unary handler that runs only for an authenticated caller, and is told who it is. */
export function authenticatedUnary<Req, Res>(
  auth: Authenticator,
  handler: (request: Req, principal: Principal, call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>,
  options: UnaryOptions = {},
): grpc.handleUnaryCall<Req, Res> {
  return unary<Req, Res>(async (request, call) => handler(request, await authenticateCall(auth, call), call), options);
}

export interface HttpAuthOptions {
  /** Paths (without query) answered without credentials, e.g. /health. */
  readonly open?: Iterable<string>;
}

/** Authenticate every request to `app` (and its plugins) but those to the open paths. */
export function requireAuthentication(app: FastifyInstance, auth: Authenticator, options: HttpAuthOptions = {}): void {
  const open = new Set(options.open ?? []);
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    if (open.has(path)) return;
    try {
      const credentials = httpCredentials(req.raw);
      const principal = await auth.authenticate(credentials);
      if (credentials.fromCookie) checkCookieWrite(req.raw, principal.name);
      req.agoraPrincipal = principal;
    } catch (err) {
      void reply.header('www-authenticate', 'Bearer realm="agora"');
      throw err;
    }
  });
}

/** The caller of an authenticated route. */
export function principalOf(req: FastifyRequest): Principal {
  const principal = req.agoraPrincipal;
  if (!principal) throw new InternalError(`no principal on ${req.method} ${req.url}: the route is not behind requireAuthentication`);
  return principal;
}
