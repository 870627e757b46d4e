// The web dashboard (web/, built into dist/web by `npm run build`): its page and assets at `/` and
// `/ui/*`, and the session it signs in with.
//
//   GET /                 the page (open: it holds no data; signed out, it shows the sign-in form)
//   GET /ui/app.js, /ui/app.css, /ui/favicon.svg     the assets (open)
//   POST /api/v1/session  { token } → sets the session cookie (open: the token is the credential)
//   GET /api/v1/session   who is signed in, and what they may do
//   DELETE /api/v1/session   clears the cookie (open, so a revoked token can still sign out)
//
// Every answer here forbids framing and inline scripts (Content-Security-Policy), so an injected
// string in a task's name or log cannot run as script, and another site cannot frame the page.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply } from 'fastify';
import { InvalidArgumentError, UnavailableError } from '../../core/errors.js';
import type { HttpServer } from '../../core/http.js';
import { httpCredentials, type Authenticator } from '../../core/security/authenticate.js';
import type { Principal } from '../../core/security/principal.js';
import { clearedSessionCookie, sessionCookie } from '../../core/security/session-cookie.js';

/** Paths answered without credentials. */
export const DASHBOARD_OPEN_PATHS: readonly string[] = ['/', '/ui/app.js', '/ui/app.css', '/ui/favicon.svg', '/ui/app.js.LEGAL.txt', '/api/v1/session'];

const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
  'app.js.LEGAL.txt': 'text/plain; charset=utf-8',
};

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** Where the built dashboard is: dist/web beside dist/master, or (running from source) ./dist/web. */
export function dashboardDir(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const dir of [path.resolve(here, '../../web'), path.resolve(here, '../../dist/web')]) {
    if (existsSync(path.join(dir, 'app.js')) && existsSync(path.join(dir, 'index.html'))) return dir;
  }
  return undefined;
}

export interface DashboardOptions {
  readonly authenticator: Authenticator;
  /** The server speaks TLS (the cookie is then Secure). */
  readonly tls: boolean;
  /** The built files (default: dashboardDir()). */
  readonly dir?: string;
}

export function registerDashboard(app: HttpServer, options: DashboardOptions): void {
  const dir = options.dir ?? dashboardDir();
  const files = new Map<string, Buffer>();
  if (dir) {
    for (const name of ['index.html', ...Object.keys(ASSETS)]) {
      const file = path.join(dir, name);
      if (existsSync(file)) files.set(name, readFileSync(file));
    }
  }
  const send = (reply: FastifyReply, name: string, type: string): FastifyReply => {
    const body = files.get(name);
    if (!body) throw new UnavailableError(`the dashboard is not built here (no ${name} in ${dir ?? 'dist/web'}): run npm run build`);
    void reply.headers(SECURITY_HEADERS).header('content-type', type);
    // The page is small and must follow upgrades at once; the assets are named per release.
    void reply.header('cache-control', name === 'index.html' ? 'no-cache' : 'public, max-age=300');
    return reply.send(body);
  };
  app.get('/', async (_req, reply) => send(reply, 'index.html', 'text/html; charset=utf-8'));
  app.get<{ Params: { name: string } }>('/ui/:name', async (req, reply) => {
    const type = ASSETS[req.params.name];
    if (!type) return reply.status(404).headers(SECURITY_HEADERS).send({ code: 'AGORA_NOT_FOUND', message: `no dashboard file '${req.params.name}'` });
    return send(reply, req.params.name, type);
  });

  app.post('/api/v1/session', async (req, reply) => {
    const body = req.body;
    const token = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>)['token'] : undefined;
    if (typeof token !== 'string' || token.trim() === '') throw new InvalidArgumentError('token', 'send { "token": "agora_…" }: the token to sign in with');
    if (!/^[\x21-\x7e]+$/.test(token) || token.length > 512) throw new InvalidArgumentError('token', 'a token is at most 512 printable characters without spaces');
    const principal = await options.authenticator.authenticate({ token });
    if (!options.authenticator.insecure) void reply.header('set-cookie', sessionCookie(token, options.tls));
    return sessionJson(principal, options.authenticator.insecure);
  });
  app.get('/api/v1/session', async (req, reply) => {
    // The path is open for POST and DELETE; a GET needs credentials like any other read.
    try {
      return sessionJson(await options.authenticator.authenticate(httpCredentials(req.raw)), options.authenticator.insecure);
    } catch (err) {
      void reply.header('www-authenticate', 'Bearer realm="agora"');
      throw err;
    }
  });
  app.delete('/api/v1/session', async (_req, reply) => {
    void reply.header('set-cookie', clearedSessionCookie(options.tls));
    return {};
  });
}

function sessionJson(principal: Principal, insecure: boolean): Record<string, unknown> {
  return { principal: principal.name, via: principal.via, insecure, permissions: [...new Set(principal.grants.map((g) => g.action))].sort() };
}
