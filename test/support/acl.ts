// Principals for tests, made as an operator makes them: through the master's ACL endpoints, as the
// test admin.
//
//   const token = await issueToken(h.master.httpAddress, 'alice', [{ allow: ['frameworks.register'], roles: ['a'] }]);
//   const fw = await h.framework({ credentials: channel({ token }) });
import { secureFetch } from './security.js';

export type Rule = { readonly allow: readonly string[]; readonly roles?: readonly string[]; readonly users?: readonly string[]; readonly kinds?: readonly string[] };

let seq = 0;

/**
 * A token of principal `principal` holding a policy of its own with `rules` (or, given a string
 * list, those existing policies). Returns the token.
 */
export async function issueToken(masterHttp: string, principal: string, rules: readonly Rule[] | readonly string[], options: { ttlSeconds?: number } = {}): Promise<string> {
  let policies: string[];
  if (rules.length > 0 && typeof rules[0] !== 'string') {
    seq += 1;
    const name = `${principal.toLowerCase().replace(/[^a-z0-9]/g, '-')}-${process.pid}-${seq}`;
    await call(masterHttp, 'PUT', `/api/v1/acl/policies/${name}`, { kind: 'Policy', name, rules });
    policies = [name];
  } else {
    policies = [...(rules as readonly string[])];
  }
  const created = await call(masterHttp, 'POST', '/api/v1/acl/tokens', { principal, policies, ...(options.ttlSeconds ? { ttlSeconds: options.ttlSeconds } : {}) });
  return created['token'] as string;
}

/** Revoke a token by its accessor (the middle part of the token). */
export async function revokeToken(masterHttp: string, token: string): Promise<void> {
  const accessor = token.split('_')[1] ?? '';
  await call(masterHttp, 'DELETE', `/api/v1/acl/tokens/${accessor}`);
}

async function call(masterHttp: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await secureFetch(`https://${masterHttp}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
