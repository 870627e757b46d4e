// A seeded fuzz test of the operator HTTP APIs on a real `agora up` (TLS and tokens on, as its
// admin, so input gets past authentication and reaches validation): every route of master/http/*.ts
// and of agent/http.ts, with values of the wrong type, nulls, nested garbage, numbers at the edges,
// long and unicode strings, broken and mis-labelled bodies, odd query strings and path segments.
// Each case must be answered (4xx with { code, message } when rejected, never 5xx), /health must
// answer within a second throughout, the state must not move after a rejected input or a read, and
// no answer may carry the secret kept outside every sandbox (fuzz-cluster.ts).
//
//   AGORA_FUZZ_SEED=123 npx vitest run test/integration/fuzz-http.test.ts   replay a seed
//   AGORA_FUZZ_SEEDS=50 AGORA_FUZZ_RUNS=300 npx vitest run test/integration/fuzz-*.test.ts   a survey
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyOf, edgeNumber, fuzzSettings, hostileString, hostileValue, listOf, mutation, numericText, objectOf, query, segment, type Body } from '../support/fuzz.js';
import { runFuzz } from '../support/fuzz-session.js';
import type { FuzzCase, FuzzTarget, HttpCase } from '../support/fuzz-target.js';
import { fuzzSession, startFuzzCluster } from './fuzz-cluster.js';

const settings = fuzzSettings({ runs: 220, budgetMs: 11_000 });
const TIMEOUT_MS = settings.seeds > 0 ? 6 * 3_600_000 : 60_000;

let target: FuzzTarget;
beforeAll(async () => {
  target = await startFuzzCluster();
});
afterAll(async () => {
  await target?.stop();
});

async function revive(): Promise<FuzzTarget> {
  await target.stop();
  target = await startFuzzCluster();
  return target;
}

function http(server: 'master' | 'agent', route: string, method: string, url: string, note: string, extra: { body?: Body; stream?: boolean; expect?: number } = {}): HttpCase {
  return { via: 'http', server, route, method, url, note: extra.body ? `${note} (${extra.body.note})`.trim() : note, ...extra };
}

const MASTER_READS = ['/health', '/version', '/metrics', '/api/v1/state', '/api/v1/state-summary', '/api/v1/leader', '/api/v1/agents', '/api/v1/frameworks', '/api/v1/offers', '/api/v1/roles', '/api/v1/weights', '/api/v1/quota', '/api/v1/acl/whoami', '/api/v1/acl/actions', '/api/v1/acl/tokens', '/api/v1/acl/policies', '/api/v1/usage/history', '/api/v1/events/recent', '/api/v1/session'];
/** A valid policy, mutated one field at a time (patterns included: they must be matched in linear time). */
const POLICY = {
  kind: 'Policy',
  name: 'fuzz-policy',
  description: 'fuzz',
  rules: [{ allow: ['cluster.view', 'agents.drain'] }, { allow: ['tasks.run_as'], users: ['nobody', 'web-*'] }, { allow: ['frameworks.register'], roles: ['web', 'dev/*'] }, { allow: ['jobs.read', 'jobs.write'], kinds: ['service'] }],
};
const ROLES = ['web', 'fuzz', 'a.b', 'dev/ops', '*', '.', '..', 'a b', '-x'];
const RESOURCE_TEXTS = ['cpus:1;mem:10', 'cpus:-1', 'cpus:1e308', 'cpus:NaN', 'ports:[1-2]', 'cpus(web):1', 'disk:1;disk:2', 'mem:', ';;', 'cpus:1,mem:2'];
/** A body over the server's 4 MiB limit: must be refused as too large (413), not read. */
const OVERSIZE = JSON.stringify({ weights: [{ role: 'web', weight: 1 }], pad: 'x'.repeat(5 * 1024 * 1024) });

function masterCases(t: FuzzTarget): fc.Arbitrary<FuzzCase> {
  const fx = t.fixtures;
  const role = fc.oneof({ weight: 3, arbitrary: hostileString() }, { weight: 2, arbitrary: fc.constantFrom(...ROLES) });
  const number = fc.oneof(edgeNumber(), numericText(), hostileValue());
  const resource = objectOf({ name: fc.oneof(fc.constantFrom('cpus', 'mem', 'ports', 'gpus'), hostileString()), type: fc.constantFrom('SCALAR', 'RANGES', 'SET', 'x'), scalar: objectOf({ value: number }), role });
  const resources = fc.oneof(fc.constantFrom(...RESOURCE_TEXTS), hostileString(), listOf(resource, 3), fc.dictionary(fc.oneof(fc.constantFrom('cpus', 'mem', 'disk', 'gpus'), hostileString()), number, { maxKeys: 3 }));
  const weightItem = objectOf({ role, weight: number });
  const weights = fc.oneof({ weight: 4, arbitrary: listOf(weightItem) }, { weight: 4, arbitrary: objectOf({ weights: listOf(weightItem) }) }, { weight: 1, arbitrary: fc.constant(Array.from({ length: 1000 }, (_, i) => ({ role: `r${i}`, weight: 1 }))) });
  const notFixture = (ids: readonly string[]) => (s: string): boolean => !ids.includes(decodeURIComponentSafe(s));
  const policy = fc.oneof({ weight: 4, arbitrary: mutation(POLICY).map((m) => m.spec) }, { weight: 1, arbitrary: objectOf({ kind: fc.constant('Policy'), name: hostileString(), rules: listOf(objectOf({ allow: listOf(hostileString(), 2), users: listOf(hostileString(), 2) }), 2) }) });
  const policyName = segment(['fuzz-policy', 'admin', 'viewer']);
  return fc.oneof(
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...MASTER_READS), query({ x: hostileString('url'), limit: numericText() })).map(([p, q]) => http('master', `GET ${p}`, 'GET', `${p}${q}`, `query ${q}`)) },
    { weight: 2, arbitrary: segment([fx.agentId]).map((id) => http('master', 'GET /api/v1/agents/:id', 'GET', `/api/v1/agents/${id}`, `id ${id}`)) },
    { weight: 2, arbitrary: segment(fx.frameworkIds).map((id) => http('master', 'GET /api/v1/frameworks/:id', 'GET', `/api/v1/frameworks/${id}`, `id ${id}`)) },
    {
      weight: 4,
      arbitrary: query({ limit: numericText(), offset: numericText(), frameworkId: fc.oneof(hostileString('url'), fc.constantFrom(...fx.frameworkIds)), agentId: fc.oneof(hostileString('url'), fc.constant(fx.agentId)), state: fc.oneof(hostileString('url'), fc.constantFrom('TASK_RUNNING', 'running', 'RUNNING', 'TASK_FINISHED')), label: fc.oneof(hostileString('url'), fc.constantFrom('agora.service%3Dfuzz', 'agora.job=x', '%3D', 'a=')), active: fc.oneof(hostileString('url'), fc.constantFrom('1', '0', 'true')), q: hostileString('url') }).map((q) => http('master', 'GET /api/v1/tasks', 'GET', `/api/v1/tasks${q}`, `query ${q}`)),
    },
    { weight: 2, arbitrary: fc.tuple(segment(fx.frameworkIds), segment([fx.liveTaskId, ...fx.jobTaskIds])).map(([f, id]) => http('master', 'GET /api/v1/frameworks/:frameworkId/tasks/:taskId', 'GET', `/api/v1/frameworks/${f}/tasks/${id}`, `framework ${f}, task ${id}`)) },
    ...agentProxyCases(t),
    { weight: 2, arbitrary: query({ heartbeatMs: fc.oneof(numericText(), fc.constantFrom('10', '9', '3600000', '3600001')) }).map((q) => http('master', 'GET /api/v1/events', 'GET', `/api/v1/events${q}`, `query ${q}`, { stream: true })) },
    { weight: 3, arbitrary: objectOf({ frameworkId: hostileString().filter((s) => !fx.frameworkIds.includes(s)) }).chain(bodyOf).map((body) => http('master', 'POST /api/v1/teardown', 'POST', '/api/v1/teardown', '', { body })) },
    { weight: 2, arbitrary: fc.tuple(segment(fx.frameworkIds), segment().filter(notFixture([fx.liveTaskId]))).map(([f, id]) => http('master', 'POST /api/v1/frameworks/:id/tasks/:taskId/kill', 'POST', `/api/v1/frameworks/${f}/tasks/${id}/kill`, `framework ${f}, task ${id}`)) },
    { weight: 6, arbitrary: weights.chain(bodyOf).map((body) => http('master', 'PUT /api/v1/weights', 'PUT', '/api/v1/weights', '', { body })) },
    { weight: 6, arbitrary: objectOf({ role, guarantee: resources, limit: resources }).chain(bodyOf).map((body) => http('master', 'PUT /api/v1/quota', 'PUT', '/api/v1/quota', '', { body })) },
    { weight: 1, arbitrary: segment(ROLES).map((r) => http('master', 'DELETE /api/v1/quota/:role', 'DELETE', `/api/v1/quota/${r}`, `role ${r}`)) },
    { weight: 2, arbitrary: fc.tuple(segment([fx.agentId]), objectOf({ gracePeriodSeconds: number }).chain(bodyOf)).map(([id, body]) => http('master', 'POST /api/v1/agents/:id/drain', 'POST', `/api/v1/agents/${id}/drain`, `agent ${id}`, { body })) },
    { weight: 1, arbitrary: segment([fx.agentId]).map((id) => http('master', 'POST /api/v1/agents/:id/undrain', 'POST', `/api/v1/agents/${id}/undrain`, `agent ${id}`)) },
    { weight: 1, arbitrary: segment([fx.agentId]).map((id) => http('master', 'POST /api/v1/agents/:id/cordon', 'POST', `/api/v1/agents/${id}/cordon`, `agent ${id}`)) },
    { weight: 1, arbitrary: segment([fx.agentId]).map((id) => http('master', 'POST /api/v1/agents/:id/uncordon', 'POST', `/api/v1/agents/${id}/uncordon`, `agent ${id}`)) },
    {
      weight: 4,
      arbitrary: objectOf({ principal: fc.oneof(fc.constant('fuzz-user'), hostileString()), policies: listOf(fc.oneof(fc.constantFrom('admin', 'viewer', 'frameworks'), hostileString()), 3), description: hostileString(), ttlSeconds: number })
        .chain(bodyOf)
        .map((body) => http('master', 'POST /api/v1/acl/tokens', 'POST', '/api/v1/acl/tokens', '', { body })),
    },
    { weight: 1, arbitrary: segment().filter(notFixture(fx.accessors)).map((a) => http('master', 'DELETE /api/v1/acl/tokens/:accessor', 'DELETE', `/api/v1/acl/tokens/${a}`, `accessor ${a}`)) },
    { weight: 1, arbitrary: policyName.map((n) => http('master', 'GET /api/v1/acl/policies/:name', 'GET', `/api/v1/acl/policies/${n}`, `name ${n}`)) },
    { weight: 4, arbitrary: fc.tuple(policyName, policy.chain((p) => bodyOf(p, { yaml: true }))).map(([n, body]) => http('master', 'PUT /api/v1/acl/policies/:name', 'PUT', `/api/v1/acl/policies/${n}`, `name ${n}`, { body })) },
    { weight: 1, arbitrary: policyName.map((n) => http('master', 'DELETE /api/v1/acl/policies/:name', 'DELETE', `/api/v1/acl/policies/${n}`, `name ${n}`)) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('PATCH', 'DELETE', 'POST', 'PUT', 'OPTIONS'), fc.constantFrom(...MASTER_READS), segment()).map(([m, p, s]) => http('master', `${m} (no such route)`, m, `${p}/${s}`, `${m} ${p}/${s}`)) },
    { weight: 1, arbitrary: fc.constant(http('master', 'PUT /api/v1/weights', 'PUT', '/api/v1/weights', 'a 5 MiB body', { body: { body: OVERSIZE, contentType: 'application/json', note: 'oversize' }, expect: 413 })) },
  );
}

const SANDBOX_PATHS = ['stdout', 'stderr', 'sub', 'sub/file', 'escape', 'updir', 'updir/stdout', 'rootdir', 'rootdir/etc/passwd', 'pipe', '.', '', '/', './stdout', 'stdout/', 'sub//file', 'sub/../stdout', '../../../../../fuzz-secret', 'updir/updir/updir/updir/updir/fuzz-secret'];

function agentCases(t: FuzzTarget): fc.Arbitrary<FuzzCase> {
  const fx = t.fixtures;
  const task = segment([fx.liveTaskId, ...fx.jobTaskIds]);
  const frameworkId = fc.oneof(hostileString('url'), fc.constantFrom(...fx.frameworkIds));
  const sandboxPath = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...SANDBOX_PATHS, t.secretPath) }, { weight: 2, arbitrary: hostileString('url') });
  const follows = (q: string): boolean => /[?&]follow=(1|true)?(&|$)/.test(q);
  return fc.oneof(
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('/health', '/metrics', '/api/v1/state'), query({ x: hostileString('url') })).map(([p, q]) => http('agent', `GET ${p}`, 'GET', `${p}${q}`, `query ${q}`)) },
    {
      weight: 6,
      arbitrary: fc
        .tuple(task, query({ stream: fc.oneof(fc.constantFrom('stdout', 'stderr', 'STDOUT', 'both'), hostileString('url')), offset: numericText(), length: numericText(), follow: fc.constantFrom('1', 'true', '', '0', 'yes'), frameworkId }))
        .map(([id, q]) => http('agent', 'GET /api/v1/tasks/:id/logs', 'GET', `/api/v1/tasks/${id}/logs${q}`, `task ${id}, query ${q}`, { stream: follows(q) })),
    },
    { weight: 3, arbitrary: fc.tuple(task, query({ path: sandboxPath, frameworkId })).map(([id, q]) => http('agent', 'GET /api/v1/tasks/:id/files', 'GET', `/api/v1/tasks/${id}/files${q}`, `task ${id}, query ${q}`)) },
    { weight: 4, arbitrary: fc.tuple(task, query({ path: sandboxPath, frameworkId })).map(([id, q]) => http('agent', 'GET /api/v1/tasks/:id/files/download', 'GET', `/api/v1/tasks/${id}/files/download${q}`, `task ${id}, query ${q}`)) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('POST', 'DELETE', 'PUT'), task).map(([m, id]) => http('agent', `${m} (no such route)`, m, `/api/v1/tasks/${id}/logs`, `${m} task ${id}`)) },
  );
}

/** The dashboard's reads of agents through the master (master/http/agent-proxy.ts): the agent's cases, sent to the master. */
function agentProxyCases(t: FuzzTarget): { weight: number; arbitrary: fc.Arbitrary<FuzzCase> }[] {
  const fx = t.fixtures;
  const agent = segment([fx.agentId]);
  const task = segment([fx.liveTaskId, ...fx.jobTaskIds]);
  const frameworkId = fc.oneof(hostileString('url'), fc.constantFrom(...fx.frameworkIds));
  const sandboxPath = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...SANDBOX_PATHS, t.secretPath) }, { weight: 2, arbitrary: hostileString('url') });
  const base = (a: string, id: string): string => `/api/v1/agents/${a}/tasks/${id}`;
  return [
    { weight: 1, arbitrary: agent.map((a) => http('master', 'GET /api/v1/agents/:agentId/containers', 'GET', `/api/v1/agents/${a}/containers`, `agent ${a}`)) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(agent, task, query({ stream: fc.oneof(fc.constantFrom('stdout', 'stderr', 'both'), hostileString('url')), offset: numericText(), length: numericText(), follow: fc.constantFrom('1', '', '0', 'yes'), frameworkId }))
        .map(([a, id, q]) => http('master', 'GET /api/v1/agents/:agentId/tasks/:taskId/logs', 'GET', `${base(a, id)}/logs${q}`, `agent ${a}, task ${id}, query ${q}`, { stream: /[?&]follow=(1)?(&|$)/.test(q) })),
    },
    { weight: 2, arbitrary: fc.tuple(agent, task, query({ path: sandboxPath, frameworkId })).map(([a, id, q]) => http('master', 'GET /api/v1/agents/:agentId/tasks/:taskId/files', 'GET', `${base(a, id)}/files${q}`, `agent ${a}, task ${id}, query ${q}`)) },
    { weight: 2, arbitrary: fc.tuple(agent, task, query({ path: sandboxPath, frameworkId })).map(([a, id, q]) => http('master', 'GET /api/v1/agents/:agentId/tasks/:taskId/files/download', 'GET', `${base(a, id)}/files/download${q}`, `agent ${a}, task ${id}, query ${q}`)) },
  ];
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

async function fuzz(name: string, cases: (t: FuzzTarget) => fc.Arbitrary<FuzzCase>): Promise<void> {
  const session = fuzzSession(target);
  await session.begin();
  const report = await runFuzz(name, session, cases(target), settings, revive);
  console.log(report.text);
  if (report.failures.length > 0) throw new Error(report.text);
}

describe('fuzz: the operator HTTP APIs of a secured agora up', () => {
  it('the state snapshot sees every kind of write (else "unchanged" would prove nothing)', async () => {
    const session = fuzzSession(target);
    await session.begin();
    const json = (value: unknown): Body => ({ body: JSON.stringify(value), contentType: 'application/json', note: 'json' });
    const writes: [HttpCase, string][] = [
      [http('master', 'PUT /api/v1/weights', 'PUT', '/api/v1/weights', '', { body: json([{ role: 'fuzz-canary', weight: 2 }]) }), '.weights'],
      [http('master', 'PUT /api/v1/quota', 'PUT', '/api/v1/quota', '', { body: json({ role: 'fuzz-canary', guarantee: 'cpus:0.1' }) }), '.quota'],
      [http('master', 'POST /api/v1/acl/tokens', 'POST', '/api/v1/acl/tokens', '', { body: json({ principal: 'fuzz-canary', policies: ['viewer'] }) }), '.tokens'],
      [http('master', 'PUT /api/v1/acl/policies/:name', 'PUT', '/api/v1/acl/policies/fuzz-canary', '', { body: json({ rules: [{ allow: ['cluster.view'] }] }) }), '.policies'],
      [http('master', 'POST /api/v1/agents/:id/drain', 'POST', `/api/v1/agents/${target.fixtures.agentId}/drain`, '', { body: json({ gracePeriodSeconds: 60 }) }), '.agents'],
      [http('master', 'POST /api/v1/apply', 'POST', '/api/v1/apply', '', { body: json({ kind: 'Job', name: 'fz-canary', suspend: true, task: { command: 'true', resources: { cpus: 0.05, mem: 16 } } }) }), '.workloads'],
    ];
    for (const [write, where] of writes) {
      const seen = await session.changesMadeBy(write);
      expect(seen.some((d) => d.startsWith(where)), `${write.route}: ${seen.join('; ')}`).toBe(true);
    }
  }, TIMEOUT_MS);
  it('master: every route answers hostile input with a 4xx that says why, and the state and /health hold', () => fuzz('master HTTP', masterCases), TIMEOUT_MS);
  it('agent: logs and sandbox files answer hostile queries with a 4xx, serve nothing outside the sandbox, and /health holds', () => fuzz('agent HTTP', agentCases), TIMEOUT_MS);
});
