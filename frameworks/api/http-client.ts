// A small JSON-over-HTTP client for Agora's own endpoints (the master's operator API, an agent's
// logs, the Jobs API mirror): errors the peer sends as { code, message, field } come back as the
// same typed AgoraError; a peer that cannot be reached is AGORA_UNAVAILABLE naming it.
import { fetch, type Dispatcher, type Response } from 'undici';
import { AgoraError, InvalidArgumentError, isErrorCode, NotLeaderError, UnavailableError } from '../../core/errors.js';
import { httpsDispatcher, type TlsMaterial } from '../../core/security/tls.js';

export type { Response } from 'undici';

/**
 * `host:port` or a URL → a base URL without a trailing slash. A bare address gets `scheme`
 * (https unless the caller runs --insecure).
 */
export function httpBase(address: string, scheme: 'http' | 'https' = 'https'): string {
  const trimmed = address.trim().replace(/\/+$/, '');
  return /^https?:\/\//.test(trimmed) ? trimmed : `${scheme}://${trimmed}`;
}

/** How a client proves who it is to Agora's HTTP endpoints: a token, and TLS trusting the cluster CA. */
export interface HttpAuth {
  readonly token?: string | undefined;
  /** From `httpAuth()`: trusts the cluster CA (and presents a certificate when there is one). */
  readonly dispatcher?: Dispatcher | undefined;
}

/** HttpAuth for a token and TLS material (undefined material: the system's CAs, or plain http). */
export function httpAuth(token: string | undefined, tls: TlsMaterial | undefined): HttpAuth {
  return { ...(token ? { token } : {}), ...(tls ? { dispatcher: httpsDispatcher(tls) } : {}) };
}

export interface RequestOptions {
  readonly method?: string;
  /** A string is sent as is (YAML with content-type application/yaml), anything else as JSON. */
  readonly body?: unknown;
  readonly contentType?: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly auth?: HttpAuth;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/**
 * One request; resolves to the response when it is 2xx, rejects with the peer's AgoraError.
 * Redirects (a standby master or Jobs API pointing at its leader) are followed here rather than by
 * fetch, which drops the authorization header on a cross-origin hop: the token goes on only over
 * TLS, never to a plain-http location.
 */
export async function request(url: string, options: RequestOptions = {}): Promise<Response> {
  const signals = [options.signal, options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs)].filter((s) => s !== undefined);
  const signal = signals.length ? AbortSignal.any(signals) : undefined;
  let target = url;
  let method = options.method ?? 'GET';
  let body = options.body;
  for (let hops = 0; ; hops += 1) {
    const res = await send(target, { ...options, method, body, ...(signal ? { signal } : {}) }, options.signal);
    const location = res.headers.get('location');
    if (!REDIRECTS.has(res.status) || location === null || hops >= MAX_REDIRECTS) {
      if (!res.ok) throw await errorFromResponse(res);
      return res;
    }
    await res.body?.cancel();
    target = new URL(location, target).href;
    if (res.status === 303) [method, body] = ['GET', undefined];
  }
}

async function send(url: string, options: RequestOptions, callerSignal: AbortSignal | undefined): Promise<Response> {
  const headers: Record<string, string> = {};
  if (options.auth?.token && url.startsWith('https:')) headers['authorization'] = `Bearer ${options.auth.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] = options.contentType ?? (typeof options.body === 'string' ? 'application/yaml' : 'application/json');
  }
  try {
    return await fetch(url, {
      method: options.method ?? 'GET',
      headers,
      redirect: 'manual',
      ...(body === undefined ? {} : { body }),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.auth?.dispatcher ? { dispatcher: options.auth.dispatcher } : {}),
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError' && callerSignal?.aborted) throw new AgoraError('AGORA_CANCELLED', 'cancelled', { cause: err });
    const why = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new UnavailableError(`cannot reach ${new URL(url).host}: ${why}`, { cause: err });
  }
}

export async function requestJson<T>(url: string, options: RequestOptions = {}): Promise<T> {
  const res = await request(url, options);
  const text = await res.text();
  return (text === '' ? {} : JSON.parse(text)) as T;
}

/** A non-2xx response → the AgoraError its body describes (or one made from the status). */
export async function errorFromResponse(res: Response): Promise<AgoraError> {
  const text = await res.text().catch(() => '');
  let body: { code?: unknown; message?: unknown; field?: unknown; details?: Record<string, unknown> } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON: use the status line
  }
  const message = typeof body.message === 'string' ? body.message : `${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`;
  const field = typeof body.field === 'string' ? body.field : undefined;
  if (body.code === 'AGORA_NOT_LEADER') return new NotLeaderError(typeof body.details?.['leader'] === 'string' ? body.details['leader'] : undefined);
  if (body.code === 'AGORA_INVALID_ARGUMENT' && field !== undefined) {
    return new InvalidArgumentError(field, message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message);
  }
  const code = isErrorCode(body.code) ? body.code : statusCode(res.status);
  return new AgoraError(code, message, { ...(field === undefined ? {} : { field }), details: { status: res.status, ...(body.details ?? {}) } });
}

function statusCode(status: number): AgoraError['code'] {
  if (status === 400) return 'AGORA_INVALID_ARGUMENT';
  if (status === 404) return 'AGORA_NOT_FOUND';
  if (status === 409) return 'AGORA_FAILED_PRECONDITION';
  if (status === 503) return 'AGORA_UNAVAILABLE';
  if (status === 504) return 'AGORA_TIMEOUT';
  return 'AGORA_INTERNAL';
}
