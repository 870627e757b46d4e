// The operator HTTP API and the Access service under attack: issue 15's `POST /api/v1/teardown`
// with no credentials (it removed agora-batch and killed ~2,600 tasks), kills of another
// framework's tasks, operator writes without the permission, and the ACL endpoints themselves.
import { afterEach, describe, expect, it } from 'vitest';
import { unaryCall } from '../../core/grpc.js';
import { AccessClient, type AuthenticateResponse__Output } from '../../proto/index.js';
import { issueToken, revokeToken } from '../support/acl.js';
import { MasterHarness, rejection, stopHarnesses } from '../support/master-harness.js';
import { channel, secureFetch, testPki } from '../support/security.js';
import { taskInfo, TestFramework } from '../support/test-framework.js';

afterEach(stopHarnesses);

// JSON read back from the endpoints
type Json = Record<string, any>;

async function http(h: MasterHarness, method: string, path: string, token: string | null, body?: unknown): Promise<{ status: number; json: Json; headers: Headers }> {
  const res = await secureFetch(`https://${h.master.httpAddress}${path}`, {
    method,
    token,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': typeof body === 'string' ? 'application/yaml' : 'application/json' } }),
  });
  const text = await res.text();
  let json: Json = {};
  try {
    json = JSON.parse(text) as Json;
  } catch {
    // not JSON
  }
  return { status: res.status, json, headers: res.headers as unknown as Headers };
}

/** A master, an agent that runs what it is given, and framework `fw` (principal alice) with task t1 running. */
async function cluster(): Promise<{ h: MasterHarness; fw: TestFramework; alice: string }> {
  const h = await MasterHarness.start();
  await h.agent({ autoRun: true });
  const alice = await issueToken(h.master.httpAddress, 'alice', [{ allow: ['frameworks.register'] }, { allow: ['tasks.run_as'], users: ['nobody'] }]);
  const fw = h.track(await TestFramework.subscribe(h.address, { name: 'fw', credentials: channel({ token: alice }), autoAck: true }));
  await fw.launch(await fw.nextOffer(), [taskInfo('t1')], { refuseSeconds: 0 });
  await fw.waitForUpdate('t1', 'TASK_RUNNING');
  return { h, fw, alice };
}

describe('operator HTTP', () => {
  it('answers nothing but /health without credentials; a teardown without them changes nothing', async () => {
    const { h, fw } = await cluster();
    expect((await http(h, 'GET', '/health', null)).status).toBe(200);
    for (const path of ['/api/v1/state', '/api/v1/frameworks', '/api/v1/tasks', '/metrics', '/api/v1/events', '/version']) {
      const r = await http(h, 'GET', path, null);
      expect(r.status, path).toBe(401);
      expect(r.json, path).toMatchObject({ code: 'AGORA_UNAUTHENTICATED' });
      expect(r.headers.get('www-authenticate'), path).toBe('Bearer realm="agora"');
    }
    const teardown = await http(h, 'POST', '/api/v1/teardown', null, { frameworkId: fw.frameworkId });
    expect(teardown.status).toBe(401);
    expect(h.state.framework(fw.frameworkId)?.state).toBe('connected');
    expect(h.state.task(fw.frameworkId, 't1')?.state).toBe('TASK_RUNNING');
  });

  it('tears down and kills only its own frameworks, unless granted; every refusal names the permission', async () => {
    const { h, fw, alice } = await cluster();
    const viewer = await issueToken(h.master.httpAddress, 'vera', ['viewer']);
    const refusedTeardown = await http(h, 'POST', '/api/v1/teardown', viewer, { frameworkId: fw.frameworkId });
    expect(refusedTeardown.status).toBe(403);
    expect(refusedTeardown.json).toMatchObject({ code: 'AGORA_PERMISSION_DENIED', message: "principal 'vera' lacks permission 'frameworks.teardown'" });
    const refusedKill = await http(h, 'POST', `/api/v1/frameworks/${fw.frameworkId}/tasks/t1/kill`, viewer);
    expect(refusedKill.status).toBe(403);
    expect(refusedKill.json.message).toBe("principal 'vera' lacks permission 'tasks.kill'");
    for (const [method, path, body, permission] of [
      ['PUT', '/api/v1/weights', [{ role: 'x', weight: 2 }], 'weights.update'],
      ['DELETE', '/api/v1/weights/x', undefined, 'weights.update'],
      ['PUT', '/api/v1/quota', { role: 'x', guarantee: 'cpus:1' }, 'quota.update'],
      ['POST', `/api/v1/agents/${[...h.state.allAgents()][0]?.id}/drain`, {}, 'agents.drain'],
      ['GET', '/api/v1/acl/tokens', undefined, 'acl.manage'],
    ] as const) {
      const r = await http(h, method, path, viewer, body);
      expect(r.status, path).toBe(403);
      expect(r.json.message, path).toBe(`principal 'vera' lacks permission '${permission}'`);
    }
    expect(h.state.weights).toEqual({});
    expect(h.state.quota).toEqual({});
    expect([...h.state.allAgents()].every((a) => a.drain === undefined)).toBe(true);
    expect(h.state.task(fw.frameworkId, 't1')?.state).toBe('TASK_RUNNING');

    // Its own principal may kill its task through the operator API, and the framework hears it.
    expect((await http(h, 'POST', `/api/v1/frameworks/${fw.frameworkId}/tasks/t1/kill`, alice)).status).toBe(200);
    await fw.waitForUpdate('t1', 'TASK_KILLED');
    // And tear itself down.
    expect((await http(h, 'POST', '/api/v1/teardown', alice, { frameworkId: fw.frameworkId })).status).toBe(200);
    expect(h.state.knowsFramework(fw.frameworkId)).toBe(false);
  });

  it('shows a principal its own frameworks’ tasks only, unless it may view all', async () => {
    const { h, fw } = await cluster();
    const bob = await issueToken(h.master.httpAddress, 'bob', [{ allow: ['frameworks.register'] }]);
    expect((await http(h, 'GET', '/api/v1/tasks', bob)).json).toMatchObject({ tasks: [], total: 0 });
    expect((await http(h, 'GET', '/api/v1/frameworks', bob)).json.frameworks).toEqual([]);
    expect((await http(h, 'GET', `/api/v1/frameworks/${fw.frameworkId}`, bob)).status).toBe(404);
    const viewer = await issueToken(h.master.httpAddress, 'vera', ['viewer']);
    expect((await http(h, 'GET', '/api/v1/tasks', viewer)).json.total).toBe(1);
    expect((await http(h, 'GET', '/api/v1/state', bob)).status).toBe(403);
  });
});

describe('tokens and policies', () => {
  it('are created, listed and revoked by acl.manage; a revoked token is refused at once; secrets are never listed', async () => {
    const h = await MasterHarness.start();
    const admin = testPki().adminToken;
    const made = await http(h, 'POST', '/api/v1/acl/tokens', admin, { principal: 'ci', policies: ['viewer'], description: 'the CI robot' });
    expect(made.status).toBe(201);
    const token = made.json.token as string;
    expect((await http(h, 'GET', '/api/v1/acl/whoami', token)).json).toMatchObject({ principal: 'ci', via: 'token' });
    const listed = await http(h, 'GET', '/api/v1/acl/tokens', admin);
    const row = (listed.json.tokens as Json[]).find((t) => t.principal === 'ci');
    expect(row).toMatchObject({ accessor: made.json.accessor, policies: ['viewer'], description: 'the CI robot', createdBy: 'admin' });
    expect(JSON.stringify(listed.json)).not.toContain(token.split('_')[2]);
    expect(JSON.stringify(listed.json)).not.toContain('secretHash');
    // The store keeps the secret's hash, never the secret.
    const stored = await h.store.getJson<Json>(`/default/acl/tokens/${made.json.accessor as string}`);
    expect(stored.value.secretHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(stored.value)).not.toContain(token.split('_')[2]);
    await revokeToken(h.master.httpAddress, token);
    expect((await http(h, 'GET', '/api/v1/acl/whoami', token)).status).toBe(401);
    expect(await h.store.exists(`/default/acl/tokens/${made.json.accessor as string}`)).toBeUndefined();
  });

  it('refuse bad policies naming the field, and built-in ones cannot change', async () => {
    const h = await MasterHarness.start();
    const admin = testPki().adminToken;
    const bad = await http(h, 'PUT', '/api/v1/acl/policies/p', admin, 'kind: Policy\nname: p\nrules:\n  - allow: [frameworks.register]\n    users: [x]\n');
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'policy.rules[0].users' });
    expect((await http(h, 'DELETE', '/api/v1/acl/policies/admin', admin)).status).toBe(409);
    expect((await http(h, 'PUT', '/api/v1/acl/policies/admin', admin, { rules: [{ allow: ['cluster.view'] }] })).status).toBe(409);
    const good = await http(h, 'PUT', '/api/v1/acl/policies/ops', admin, 'kind: Policy\nname: ops\nrules:\n  - allow: [agents.drain, cluster.view]\n');
    expect(good.status).toBe(201);
    const token = await issueToken(h.master.httpAddress, 'olga', ['ops']);
    const grants = (await http(h, 'GET', '/api/v1/acl/whoami', token)).json.grants as Json[];
    expect(grants).toHaveLength(2);
    expect(grants).toEqual(expect.arrayContaining([{ action: 'cluster.view', objects: null }, { action: 'agents.drain', objects: null }]));
    // A token naming a policy that does not exist is refused.
    const unknown = await http(h, 'POST', '/api/v1/acl/tokens', admin, { principal: 'x', policies: ['nope'] });
    expect(unknown.json).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'policies[0]' });
  });
});

describe('the Access service', () => {
  it('answers agents (acl.review) who a credential is, with its grants; refuses callers without acl.review', async () => {
    const h = await MasterHarness.start();
    const asAgent = new AccessClient(h.address, channel({ tls: testPki().agentTls }));
    const viewer = await issueToken(h.master.httpAddress, 'vera', ['viewer']);
    try {
      const known = await unaryCall<AuthenticateResponse__Output>((cb) => asAgent.authenticate({ token: viewer }, cb));
      expect(known).toMatchObject({ authenticated: true, principal: 'vera', via: 'token' });
      expect(known.grants.map((g) => g.action).sort()).toEqual(['cluster.view', 'frameworks.view', 'jobs.read']);
      const unknown = await unaryCall<AuthenticateResponse__Output>((cb) => asAgent.authenticate({ token: 'agora_nope' }, cb));
      expect(unknown).toMatchObject({ authenticated: false, principal: '' });
      const foreign = await unaryCall<AuthenticateResponse__Output>((cb) => asAgent.authenticate({ certificate: pemToDer(testPki().foreignTls.cert!) }, cb));
      expect(foreign.authenticated).toBe(false);
      expect(foreign.reason).toContain("not signed by this cluster's CA");
    } finally {
      asAgent.close();
    }
    const asViewer = new AccessClient(h.address, channel({ token: viewer }));
    try {
      const err = await rejection(unaryCall((cb) => asViewer.authenticate({ token: viewer }, cb)));
      expect(err.code).toBe('AGORA_PERMISSION_DENIED');
      expect(err.message).toBe("principal 'vera' lacks permission 'acl.review'");
    } finally {
      asViewer.close();
    }
  });
});

function pemToDer(pem: Buffer): Buffer {
  return Buffer.from(pem.toString('utf8').replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
}
