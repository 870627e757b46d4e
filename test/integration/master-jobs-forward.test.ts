// A master that runs alone forwards the dashboard's Jobs API paths to the leading frameworks host,
// found through the election in the store they share (or --jobs-api): a real master, a real agent
// and a real frameworks host in this process, over HTTPS, with the caller's token forwarded.
import https from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { issueToken } from '../support/acl.js';
import { startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { openSse, startJobsHost, stopJobsHosts, uniqueStore } from '../support/jobs-host.js';
import { eventually, MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { secureFetch, testPki } from '../support/security.js';

afterEach(async () => {
  await stopJobsHosts();
  await stopTestAgents();
  await stopHarnesses();
});

type Json = Record<string, any>;

/** GET `path` exactly as written (fetch would resolve its dot segments first), as the admin. */
function rawGet(address: string, path: string): Promise<{ status: number; body: string }> {
  const colon = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const options = { host: address.slice(0, colon), port: Number(address.slice(colon + 1)), path, ca: testPki().clientTls.ca, headers: { authorization: `Bearer ${testPki().adminToken}` } };
    const req = https.request(options, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const SERVICE = ['kind: Service', 'name: web', 'instances: 1', 'command: "sleep 60"', 'resources: { cpus: 0.05, mem: 16 }', 'killGracePeriodSeconds: 0.2'].join('\n');

async function cluster(masterFlags: Record<string, unknown> = {}, shareStore = true): Promise<{ h: MasterHarness; url: (path: string) => string; hostHttp: string }> {
  const store = uniqueStore();
  const h = await MasterHarness.start({ ...(shareStore ? { store: { url: store } } : {}), master: masterFlags });
  await startTestAgent(h.address);
  const host = await startJobsHost({ store, master: h.address, masterHttp: h.master.httpAddress });
  return { h, url: (path) => `https://${h.master.httpAddress}${path}`, hostHttp: host.httpAddress ?? '' };
}

describe('the Jobs API through a master that runs alone', () => {
  it('forwards applies, reads and the watch stream to the frameworks leader found in the store', async () => {
    const { url } = await cluster();
    const watch = await openSse(url('/api/v1/watch'));
    const applied = await secureFetch(url('/api/v1/apply'), { method: 'POST', body: SERVICE, headers: { 'content-type': 'application/yaml' } });
    expect(applied.status, await applied.clone().text()).toBe(201);
    await watch.next((e) => JSON.stringify(e.data ?? '').includes('web'));
    const list = (await (await secureFetch(url('/api/v1/services'))).json()) as Json;
    expect(list.items.map((s: Json) => s.name ?? s.metadata?.name)).toContain('web');
    await eventually(async () => {
      const web = (await (await secureFetch(url('/api/v1/services/web'))).json()) as Json;
      expect(web.name).toBe('web');
      expect(web.serviceStatus?.running).toBe(1);
    }, { timeoutMs: 20_000, what: 'web running' });
    // A task's logs, by task id alone, through the Jobs API (which finds its agent).
    const [task] = ((await (await secureFetch(url('/api/v1/tasks?label=agora.service%3Dweb&active=1'))).json()) as Json).tasks as Json[];
    const logs = await secureFetch(url(`/api/v1/tasks/${encodeURIComponent(task?.id as string)}/logs`));
    expect(logs.status, await logs.clone().text()).toBe(200);
    // A write with the session cookie needs x-agora-request at the master, and is forwarded with it.
    const cookie = `agora_session=${testPki().adminToken}`;
    const bare = await secureFetch(url('/api/v1/services/web/scale'), { method: 'POST', token: null, body: JSON.stringify({ instances: 2 }), headers: { cookie, 'content-type': 'application/json' } });
    expect(bare.status).toBe(403);
    const scaled = await secureFetch(url('/api/v1/services/web/scale'), { method: 'POST', token: null, body: JSON.stringify({ instances: 2 }), headers: { cookie, 'content-type': 'application/json', 'x-agora-request': 'dashboard' } });
    expect(scaled.status, await scaled.clone().text()).toBe(200);
    await eventually(async () => {
      const web = (await (await secureFetch(url('/api/v1/services/web'))).json()) as Json;
      expect(web.serviceStatus?.instances).toBe(2);
    });
  });

  it('passes the Jobs API’s own refusals through, and needs credentials at the master', async () => {
    const { h, url } = await cluster();
    expect((await secureFetch(url('/api/v1/services'), { token: null })).status).toBe(401);
    const carl = await issueToken(h.master.httpAddress, 'carl', [{ allow: ['cluster.view'] }]);
    const refused = await secureFetch(url('/api/v1/apply'), { method: 'POST', token: carl, body: SERVICE, headers: { 'content-type': 'application/yaml' } });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as Json).code).toBe('AGORA_PERMISSION_DENIED');
    const unknown = await secureFetch(url('/api/v1/services/nope'));
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as Json).code).toBe('AGORA_NOT_FOUND');
    // A path that climbs out of a forwarded route is refused, not resolved into another one on the
    // frameworks host (its /metrics, here).
    for (const path of ['/api/v1/services/../../../metrics', '/api/v1/services/%2e%2e/%2E%2e/%2e%2e/metrics', '/api/v1/jobs/..\\..\\..\\metrics', '/api/v1/cronjobs/./x']) {
      const climbed = await rawGet(h.master.httpAddress, path);
      expect(climbed.status, `${path}: ${climbed.body.slice(0, 120)}`).toBe(400);
      expect((JSON.parse(climbed.body) as Json).code).toBe('AGORA_INVALID_ARGUMENT');
    }
  });

  it('uses --jobs-api when the frameworks host is on another store, and says so when none leads', async () => {
    const { url, hostHttp } = await cluster({}, false);
    const none = await secureFetch(url('/api/v1/services'));
    expect(none.status).toBe(503);
    expect(((await none.json()) as Json).message).toContain('--jobs-api');
    // A second master, on a store of its own, told where the Jobs API is.
    const flagged = await MasterHarness.start({ master: { jobsApi: `https://${hostHttp}` } });
    const list = await secureFetch(`https://${flagged.master.httpAddress}/api/v1/services`);
    expect(list.status, await list.clone().text()).toBe(200);
    expect(((await list.json()) as Json).items).toEqual([]);
  });
});
