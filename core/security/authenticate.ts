// Authentication at the edges. Every server reads what the caller presented — a bearer token
// (`authorization: Bearer …`, gRPC metadata or HTTP header) or a client certificate from the TLS
// handshake — into Credentials, and asks its Authenticator who that is:
//
//   master                    LocalAuthenticator  (its own tokens and policies: acl-authenticator.ts)
//   agent, agora frameworks   RemoteAuthenticator (asks the master's Access service, cached: remote.ts)
//   --insecure                INSECURE            (everyone is `anonymous`, allowed everything)
import type * as grpc from '@grpc/grpc-js';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { UnauthenticatedError } from '../errors.js';
import { sessionCookieOf } from './session-cookie.js';
import { AUTHORIZATION_METADATA_KEY } from './tls.js';
import { INSECURE_PRINCIPAL, type Principal } from './principal.js';

/** What grpc-js's getAuthContext() tells of a call's TLS peer. */
export interface PeerAuth {
  readonly sslPeerCertificate?: { readonly raw?: Buffer } | undefined;
}

export interface Credentials {
  /** A bearer token. */
  readonly token?: string;
  /** The token came from the dashboard's session cookie (core/security/session-cookie.ts), not a header. */
  readonly fromCookie?: boolean;
  /** A client certificate (DER) the caller presented over TLS. */
  readonly certificate?: Buffer;
}

export interface Authenticator {
  /** True when everyone is let in (security turned off). */
  readonly insecure: boolean;
  /** Who presented these credentials; rejects with UNAUTHENTICATED naming why not. */
  authenticate(credentials: Credentials): Principal | Promise<Principal>;
}

export const INSECURE: Authenticator = Object.freeze({ insecure: true, authenticate: () => INSECURE_PRINCIPAL });

export const NO_CREDENTIALS_MESSAGE = 'no credentials: send a bearer token (authorization: Bearer …) or a client certificate signed by the cluster CA';

/** `Bearer abc` → `abc`; anything else → undefined. */
export function bearerOf(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

/** What a gRPC caller presented. A malformed authorization header counts as a (bad) token. */
export function grpcCredentials(call: { metadata: grpc.Metadata; getAuthContext?: () => PeerAuth | null }): Credentials {
  const header = call.metadata.get(AUTHORIZATION_METADATA_KEY)[0];
  const token = typeof header === 'string' ? (bearerOf(header) ?? header) : undefined;
  // A token wins over a certificate: the peer certificate (a parse on every call) is read only
  // when there is none.
  if (token !== undefined) return { token };
  const raw = call.getAuthContext?.()?.sslPeerCertificate?.raw;
  return raw ? { certificate: raw } : {};
}

/** What an HTTP caller presented. */
export function httpCredentials(req: IncomingMessage): Credentials {
  const header = req.headers.authorization;
  const token = typeof header === 'string' ? (bearerOf(header) ?? header) : undefined;
  if (token !== undefined) return { token };
  const cookie = sessionCookieOf(req.headers.cookie);
  if (cookie !== undefined) return { token: cookie, fromCookie: true };
  const socket = req.socket as Partial<TLSSocket>;
  const raw = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate().raw : undefined;
  return raw ? { certificate: raw } : {};
}

export function requireSomeCredentials(credentials: Credentials): void {
  if (credentials.token === undefined && credentials.certificate === undefined) throw new UnauthenticatedError(NO_CREDENTIALS_MESSAGE);
}
