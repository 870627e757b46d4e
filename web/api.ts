// The dashboard's one way to call Agora: same-origin fetches that the master authenticates by the
// session cookie set at sign-in (HttpOnly: this code never sees the token). Every call carries
// `x-agora-request: dashboard`, which the master requires of a cookie-authenticated write, so a
// page on another site cannot make the browser act for the operator (a cross-site form cannot set
// the header, and the master answers no CORS preflight). An error is the API's own
// { code, message, field }, shown to the operator as it came.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Called when a request comes back 401: the session is over (signed out elsewhere, token revoked). */
let onUnauthenticated: () => void = () => {};
export function setUnauthenticatedHandler(handler: () => void): void {
  onUnauthenticated = handler;
}

export const REQUEST_HEADER = 'x-agora-request';

export async function request(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { [REQUEST_HEADER]: 'dashboard', accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    ...(signal ? { signal } : {}),
  });
  if (res.ok) return res;
  const text = await res.text();
  let parsed: { code?: string; message?: string; field?: string } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    parsed = { message: text || res.statusText };
  }
  if (res.status === 401) onUnauthenticated();
  throw new ApiError(res.status, parsed.code ?? `HTTP_${res.status}`, parsed.message ?? res.statusText, parsed.field);
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await request('GET', path, undefined, signal)).json() as Promise<T>;
}

export async function postJson<T>(path: string, body: unknown = {}): Promise<T> {
  const res = await request('POST', path, body);
  const text = await res.text();
  return (text ? JSON.parse(text) : {}) as T;
}

export async function deleteJson<T>(path: string): Promise<T> {
  const res = await request('DELETE', path);
  const text = await res.text();
  return (text ? JSON.parse(text) : {}) as T;
}

/** `a/b` with each part encoded: ids are the caller's text. */
export function pathOf(...parts: string[]): string {
  return parts.map((p, i) => (i === 0 ? p : encodeURIComponent(p))).join('/');
}

export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

// ---- the session ----

export interface Session {
  readonly principal: string;
  readonly insecure: boolean;
  /** The permissions the principal holds (for showing or hiding actions; the API decides). */
  readonly permissions: readonly string[];
}

export function session(): Promise<Session> {
  return getJson<Session>('/api/v1/session');
}

export function signIn(token: string): Promise<Session> {
  return postJson<Session>('/api/v1/session', { token });
}

export function signOut(): Promise<unknown> {
  return deleteJson('/api/v1/session');
}
