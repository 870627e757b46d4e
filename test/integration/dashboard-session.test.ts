// The dashboard's session on a real master over HTTPS: signing in sets an HttpOnly, SameSite=Strict,
// Secure cookie holding the token; the cookie reads like a bearer token; a write it authenticates
// needs x-agora-request (a cross-site form cannot set it); signing out clears it. The page and its
// script are open, carry the CSP and no cluster data; a signed-out read of the state is refused.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { REPO_ROOT } from '../support/agent-harness.js';
import { secureFetch, testPki } from '../support/security.js';
import { tempDir } from '../support/tmp.js';

afterEach(stopHarnesses);

type Json = Record<string, any>;

let dashboardDir = '';

beforeAll(async () => {
  // The dashboard as `npm run build` makes it, into a directory of this test's own.
  dashboardDir = await tempDir('dashboard');
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build-web.mjs'), '--out', dashboardDir], { cwd: REPO_ROOT, stdio: 'inherit' });
}, 60_000);

async function master(): Promise<{ h: MasterHarness; url: (path: string) => string; agentId: string }> {
  const h = await MasterHarness.start({ dashboardDir });
  const agent = await h.agent({ hostname: 'secret-host.test' });
  return { h, url: (p) => `https://${h.master.httpAddress}${p}`, agentId: agent.agentId };
}

const asCookie = (token: string): Record<string, string> => ({ cookie: `agora_session=${token}` });

describe('the dashboard session', () => {
  it('signs in with a good token: an HttpOnly, SameSite=Strict, Secure cookie that reads as the token', async () => {
    const { url } = await master();
    const signIn = await secureFetch(url('/api/v1/session'), { method: 'POST', token: null, body: JSON.stringify({ token: testPki().adminToken }), headers: { 'content-type': 'application/json' } });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^agora_session=agora_[^;]+; /);
    for (const attribute of ['HttpOnly', 'SameSite=Strict', 'Secure', 'Path=/']) expect(cookie.split('; ')).toContain(attribute);
    expect(((await signIn.json()) as Json)).toMatchObject({ principal: 'admin', via: 'token', insecure: false });
    const token = /^agora_session=([^;]+)/.exec(cookie)?.[1] as string;
    const session = await secureFetch(url('/api/v1/session'), { token: null, headers: asCookie(token) });
    expect(session.status).toBe(200);
    const json = (await session.json()) as Json;
    expect(json).toMatchObject({ principal: 'admin', via: 'token' });
    expect(json.permissions).toContain('agents.drain');
    expect((await secureFetch(url('/api/v1/state'), { token: null, headers: asCookie(token) })).status).toBe(200);
  });

  it('refuses a bad token with 401 and sets no cookie', async () => {
    const { url } = await master();
    const r = await secureFetch(url('/api/v1/session'), { method: 'POST', token: null, body: JSON.stringify({ token: 'agora_nope_nope' }), headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(401);
    expect(r.headers.get('set-cookie')).toBeNull();
    expect((await secureFetch(url('/api/v1/session'), { token: null, headers: asCookie('agora_nope_nope') })).status).toBe(401);
  });

  it('refuses a cookie-authenticated write without x-agora-request, and changes nothing', async () => {
    const { h, url, agentId } = await master();
    const headers = { ...asCookie(testPki().adminToken), 'content-type': 'application/json' };
    const forged = await secureFetch(url(`/api/v1/agents/${agentId}/drain`), { method: 'POST', token: null, body: '{}', headers });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as Json).message).toContain('x-agora-request');
    expect(h.state.agent(agentId)?.drain).toBeUndefined();
    const real = await secureFetch(url(`/api/v1/agents/${agentId}/drain`), { method: 'POST', token: null, body: '{}', headers: { ...headers, 'x-agora-request': 'dashboard' } });
    expect(real.status, await real.clone().text()).toBe(200);
    expect(h.state.agent(agentId)?.drain).toBeDefined();
  });

  it('signs out by clearing the cookie', async () => {
    const { url } = await master();
    const out = await secureFetch(url('/api/v1/session'), { method: 'DELETE', token: null, headers: asCookie(testPki().adminToken) });
    expect(out.status).toBe(200);
    const cleared = out.headers.get('set-cookie') ?? '';
    expect(cleared).toMatch(/^agora_session=; /);
    expect(cleared).toContain('Max-Age=0');
    expect(cleared).toContain('HttpOnly');
  });

  it('serves the page and its script openly, with the CSP and no cluster data; signed out, the state is 401', async () => {
    const { url, agentId } = await master();
    for (const [path, type] of [
      ['/', 'text/html'],
      ['/ui/app.js', 'text/javascript'],
      ['/ui/app.css', 'text/css'],
    ] as const) {
      const r = await secureFetch(url(path), { token: null });
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-type'), path).toContain(type);
      const csp = r.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).not.toContain('unsafe-inline');
      expect(r.headers.get('x-frame-options'), path).toBe('DENY');
      const body = await r.text();
      expect(body, path).not.toContain(agentId);
      expect(body, path).not.toContain('secret-host.test');
    }
    const page = await (await secureFetch(url('/'), { token: null })).text();
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    expect(page).not.toContain('<style');
    const state = await secureFetch(url('/api/v1/state'), { token: null });
    expect(state.status).toBe(401);
    expect(((await state.json()) as Json).code).toBe('AGORA_UNAUTHENTICATED');
  });
});
