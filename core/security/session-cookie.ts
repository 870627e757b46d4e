// The dashboard's session: signing in (POST /api/v1/session with a token) sets the token in a
// cookie the browser sends back with every same-origin request, EventSource streams included
// (which cannot carry an authorization header). The cookie is HttpOnly (page scripts never read
// it), SameSite=Strict (no other site's page makes the browser send it) and Secure over TLS.
// Writes authenticated by the cookie must also carry `x-agora-request` — a header a cross-site
// form cannot set and that the servers allow no CORS preflight for — so a forged request from
// another origin is refused even by a browser that ignores SameSite.
//
// The cookie holds the token itself, not a session id: every master (and a failover's next
// leader) authenticates it from the tokens it already follows, a revoked token ends every session
// at once, and no session table needs keeping. Signing out clears the cookie; the token stays
// valid until it expires or is revoked (`agora acl token revoke`).
import type { IncomingMessage } from 'node:http';
import { PermissionDeniedError } from '../errors.js';

export const SESSION_COOKIE = 'agora_session';
/** Header a cookie-authenticated write must carry (any value). */
export const REQUEST_HEADER = 'x-agora-request';
/** How long a browser keeps the cookie: a working day. */
export const SESSION_MAX_AGE_S = 12 * 3600;

/** The session cookie's token in a Cookie header, if any. */
export function sessionCookieOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return value === '' ? undefined : value;
  }
  return undefined;
}

/** Set-Cookie for a signed-in session (`secure` over TLS). */
export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MAX_AGE_S}${secure ? '; Secure' : ''}`;
}

/** Set-Cookie that ends the session. */
export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Refuse a cookie-authenticated write without the dashboard's header (a cross-site forgery). */
export function checkCookieWrite(req: IncomingMessage, principal: string): void {
  if (SAFE_METHODS.has(req.method ?? 'GET') || req.headers[REQUEST_HEADER] !== undefined) return;
  throw new PermissionDeniedError(principal, 'session', undefined, `a request authenticated by the session cookie must carry the ${REQUEST_HEADER} header (the dashboard sends it); other clients send the token as authorization: Bearer`);
}
