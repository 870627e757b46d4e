// One request forwarded to another Agora server (an agent, the Jobs API) on the caller's behalf,
// its answer streamed back as it comes: status, body and the headers that describe the body. Used
// by the agent proxy (agent-proxy.ts) and the Jobs API forwarding (jobs-forward.ts).
//
// Bounded: the answer's headers must come within `headersTimeoutMs` and, unless the body is a
// stream meant to stay open (a followed log, an event stream: bodyTimeoutMs 0), the body must not
// stall longer than `bodyTimeoutMs`. A caller that goes away aborts the upstream request. A peer
// that cannot be reached is UNAVAILABLE naming it; what the peer answers (its errors too) is passed
// through as it is.
//
// The peer is asked for the path as given, never another: a URL client resolves `.` and `..`
// segments (percent-encoded or behind a backslash too), so a caller's
// `/api/v1/services/../../metrics`, matched by a forwarded route, would reach a path no route
// forwards. Such a path is INVALID_ARGUMENT.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { request, type Dispatcher } from 'undici';
import { FailedPreconditionError, InvalidArgumentError, UnavailableError } from '../../core/errors.js';
import { httpCredentials } from '../../core/security/authenticate.js';

export interface ForwardOptions {
  readonly url: string;
  /** Who is asked, for errors: "agent a1 at 10.0.0.1:5052". */
  readonly peer: string;
  readonly dispatcher?: Dispatcher | undefined;
  /** Sent as `authorization: Bearer` (only over https). */
  readonly token?: string | undefined;
  readonly method?: string;
  readonly body?: string | undefined;
  readonly contentType?: string | undefined;
  readonly headersTimeoutMs?: number;
  /** 0: the body may stay open as long as the caller listens. */
  readonly bodyTimeoutMs?: number;
}

const HEADERS_TIMEOUT_MS = 10_000;
const BODY_TIMEOUT_MS = 30_000;

/** Headers of the peer's answer passed on to the caller. */
const PASSED = /^(content-type|content-length|content-disposition|cache-control|www-authenticate|x-agora-[a-z-]+)$/;

/**
 * The body is the peer's (an agent's copy of a task's file, say), served on the dashboard's origin:
 * never sniffed into another type, and, should it be rendered as a page, in a sandbox with no
 * script and no access to the origin — whatever content-type the peer gave.
 */
const UNTRUSTED_BODY = { 'x-content-type-options': 'nosniff', 'content-security-policy': "sandbox; default-src 'none'" };

export async function forward(reply: FastifyReply, options: ForwardOptions): Promise<FastifyReply> {
  checkPathKept(options.url);
  const abort = new AbortController();
  reply.raw.once('close', () => abort.abort());
  const headers: Record<string, string> = { accept: '*/*' };
  if (options.token !== undefined && options.url.startsWith('https:')) headers['authorization'] = `Bearer ${options.token}`;
  if (options.contentType !== undefined) headers['content-type'] = options.contentType;
  let res: Dispatcher.ResponseData;
  try {
    res = await request(options.url, {
      method: (options.method ?? 'GET') as Dispatcher.HttpMethod,
      headers,
      ...(options.body === undefined ? {} : { body: options.body }),
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      signal: abort.signal,
      headersTimeout: options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS,
      bodyTimeout: options.bodyTimeoutMs ?? BODY_TIMEOUT_MS,
    });
  } catch (err) {
    throw new UnavailableError(`${options.peer} cannot be reached: ${(err as Error).message}`);
  }
  void reply.status(res.statusCode);
  for (const [name, value] of Object.entries(res.headers)) if (value !== undefined && PASSED.test(name)) void reply.header(name, value);
  void reply.headers(UNTRUSTED_BODY);
  // An upstream that fails mid-body ends the caller's answer (fastify destroys it); nothing to log.
  res.body.once('error', () => undefined);
  return reply.send(res.body);
}

/** Refuse a URL whose path a URL client would rewrite (dot segments, backslashes): see the top. */
export function checkPathKept(url: string): void {
  const given = url.replace(/^[a-z]+:\/\/[^/?#]*/i, '').split(/[?#]/)[0] ?? '';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidArgumentError('path', `'${given.slice(0, 128)}' does not make a URL`);
  }
  if (parsed.pathname !== (given === '' ? '/' : given)) {
    throw new InvalidArgumentError('path', `'${given.slice(0, 128)}' has '.' or '..' segments, or characters a URL rewrites: ask for the path itself`);
  }
}

/** A log read asks to follow (`follow`, `follow=`, `=1`, `=true`), as the agent and the Jobs API read the flag. */
export function followsLog(query: unknown): boolean {
  const value = (query as Record<string, unknown> | undefined)?.['follow'];
  return value === '' || value === '1' || value === 'true';
}

/**
 * The caller's token (header or session cookie), to forward so that the peer authorises the caller
 * itself (undefined when security is off). A caller known by its client certificate alone has none.
 */
export function callerToken(req: FastifyRequest, insecure: boolean, what: string): string | undefined {
  if (insecure) return undefined;
  const token = httpCredentials(req.raw).token;
  if (token === undefined) throw new FailedPreconditionError(`${what} through the master forwards your token, and you signed in with a client certificate only: send a bearer token, or ask it directly`);
  return token;
}
