// The services proxy end to end: a frameworks host (as `agora frameworks` runs it) with the real
// services framework, a real master and agent, node HTTP servers as instances (each answers its
// task id), and HTTP clients on the service port. Every request is a new connection, so each one
// is a placement the proxy makes.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FrameworksHost } from '../../frameworks/host.js';
import type { ApplyResponse__Output, Endpoint, JobsClient } from '../../proto/index.js';
import { startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { call, jobsClient, fastServicesModule, startJobsHost, stopJobsHosts } from '../support/jobs-host.js';
import { eventually, MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { freePorts } from '../support/ports.js';
import { expectLintClean, parseScrape } from '../support/prometheus.js';
import { accepts, getOnce, tally } from '../support/proxy-client.js';
import { secureFetch } from '../support/security.js';
import { tempDir } from '../support/tmp.js';


let host: FrameworksHost;
let jobs: JobsClient;
let sick: string;
let servicePort: number;
let otherPort: number;

// Answers its task id; /health fails while a file named after the task is in `sick`. On SIGTERM it
// keeps serving for a second, then exits; a connection it accepts after SIGTERM is answered
// `stopping <id>`: a new connection sent to an instance after its kill is seen, not hidden by a
// refused connect the proxy retries. (A connection the proxy opened before the instance left the
// endpoints may carry its request after SIGTERM: that one drains, as it should, and is answered.)
function serverScript(dir: string): string {
  return [
    "const h=require('http'),f=require('fs'),id=process.env.AGORA_TASK_ID;",
    "const s=h.createServer((q,r)=>{if(q.url==='/health'){r.statusCode=f.existsSync('" + dir + "/'+id)?503:200;return r.end()}r.end(q.socket.late?'stopping '+id:id)});let stop=false;s.on('connection',(c)=>{c.late=stop});",
    "s.listen(+process.env.PORT0);process.on('SIGTERM',()=>{stop=true;setTimeout(()=>process.exit(0),1000)});",
  ].join('');
}

function webSpec(instances: number, extra: string[] = []): string {
  return [
    'kind: Service',
    'name: web',
    `instances: ${instances}`,
    `command: ${JSON.stringify(`exec ${process.execPath} -e "${serverScript(sick)}"`)}`,
    'resources: { cpus: 0.05, mem: 32 }',
    'ports: [{ name: http }]',
    `servicePort: ${servicePort}`,
    'healthCheck: { type: HTTP, http: { portName: http, path: /health }, delaySeconds: 0, intervalSeconds: 0.2, timeoutSeconds: 1, consecutiveFailures: 1 }',
    'killGracePeriodSeconds: 2',
    'upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 0.34 }',
    ...extra,
    '',
  ].join('\n');
}

async function endpoints(): Promise<Endpoint[]> {
  const res = await secureFetch(`https://${host.httpAddress ?? ''}/api/v1/services/web/endpoints`);
  return ((await res.json()) as { endpoints: Endpoint[] }).endpoints;
}

async function waitEndpoints(n: number, what: string): Promise<Endpoint[]> {
  let list: Endpoint[] = [];
  await eventually(async () => expect((list = await endpoints())).toHaveLength(n), { timeoutMs: 30_000, what });
  return list;
}

beforeAll(async () => {
  sick = await tempDir('proxy-sick');
  [servicePort, otherPort] = await freePorts(2) as [number, number];
  const h = await MasterHarness.start();
  const ports = (await freePorts(12)).map((p) => `${p}-${p}`).join(',');
  await startTestAgent(h.address, { resources: `cpus:4;mem:4096;disk:1024;ports:[${ports}]` });
  host = await startJobsHost({ master: h.address, masterHttp: h.master.httpAddress, modules: [fastServicesModule], flags: { proxyBind: '127.0.0.1', proxyConnectTimeout: '500ms' } });
  jobs = jobsClient(host);
});

afterAll(async () => {
  await stopJobsHosts();
  await stopTestAgents();
  await stopHarnesses();
});

describe('the service proxy', () => {
  it('spreads new connections over the three instances, each answering its own task id', async () => {
    expect(await call((cb) => jobs.apply({ document: webSpec(3) }, cb))).toMatchObject({ result: 'CREATED' });
    const list = await waitEndpoints(3, 'three endpoints');
    await eventually(async () => expect((await getOnce(servicePort)).status).toBe(200), { what: 'the proxy to answer on the service port' });
    const counts = await tally(servicePort, 30);
    // Sequential connections: counts are (nearly) equal, so least-connections is round-robin; a
    // connection the proxy has not yet seen closed may still count when the next one is placed.
    expect([...counts.keys()].sort()).toEqual(list.map((e) => e.taskId).sort());
    for (const n of counts.values()) expect(n).toBeGreaterThanOrEqual(7);
    const m = parseScrape(await host.metrics.scrape());
    expect(m.value('agora_proxy_connections_total{service="web"}')).toBeGreaterThanOrEqual(30);
    await eventually(async () => expect(parseScrape(await host.metrics.scrape()).value('agora_proxy_active_connections{service="web"}')).toBe(0), { what: 'no connection open' });
    expect(m.has('agora_proxy_connect_failures_total')).toBe(false);
    expectLintClean(m);
  });

  it('sends nothing to an instance scaled away', async () => {
    const before = (await endpoints()).map((e) => e.taskId);
    await call((cb) => jobs.scale({ name: 'web', instances: 2 }, cb));
    const after = (await waitEndpoints(2, 'two endpoints')).map((e) => e.taskId);
    const removed = before.filter((id) => !after.includes(id));
    expect(removed).toHaveLength(1);
    const counts = await tally(servicePort, 20);
    expect([...counts.keys()].sort()).toEqual([...after].sort());
  });

  it('drops an instance the moment its health check fails', async () => {
    const [bad, good] = (await endpoints()).map((e) => e.taskId ?? '') as [string, string];
    fs.writeFileSync(path.join(sick, bad), '');
    await eventually(async () => expect((await endpoints()).map((e) => e.taskId)).not.toContain(bad), { timeoutMs: 10_000, what: 'the unhealthy instance out of the endpoints' });
    const counts = await tally(servicePort, 20);
    expect([...counts.keys()]).not.toContain(bad);
    expect(counts.get(good)).toBeGreaterThan(0);
    fs.rmSync(path.join(sick, bad));
    await waitEndpoints(2, 'the service healthy again');
  });

  it('answers every request of a load loop through a rolling update', async () => {
    const old = new Set((await endpoints()).map((e) => e.taskId));
    let failed = 0;
    const failures: string[] = [];
    let requests = 0;
    let replaced = false;
    const seen = new Set<string>();
    // At least 200 requests, and on until the old instances are all gone (bounded: 5,000).
    const loop = (async () => {
      while ((requests < 200 || !replaced) && requests < 5_000) {
        requests += 1;
        try {
          const { status, body } = await getOnce(servicePort);
          if (status === 200 && !body.startsWith('stopping')) seen.add(body);
          else {
            failed += 1;
            failures.push(`#${requests}: ${status} ${body.slice(0, 80)}`);
          }
        } catch (err) {
          failed += 1;
          failures.push(`#${requests}: ${(err as Error).message}`);
        }
      }
    })();
    await call((cb) => jobs.apply({ document: webSpec(2, ['env: { RELEASE: "2" }']) }, cb));
    await eventually(async () => {
      const now = (await endpoints()).map((e) => e.taskId ?? '');
      expect(now).toHaveLength(2);
      expect(now.filter((id) => old.has(id))).toEqual([]);
    }, { timeoutMs: 30_000, what: 'the new version to replace the old' });
    replaced = true;
    await loop;
    expect({ failed, requests: requests >= 200 }, failures.join('; ')).toEqual({ failed: 0, requests: true });
    // The loop ran across the update: it reached old instances and new ones.
    expect([...seen].filter((id) => old.has(id)).length).toBeGreaterThan(0);
    expect([...seen].filter((id) => !old.has(id)).length).toBeGreaterThan(0);
  });

  it('refuses a servicePort out of range or held by another service, naming it', async () => {
    const other = (port: unknown): string => ['kind: Service', 'name: other', 'command: sleep 100', 'resources: { cpus: 0.01, mem: 8 }', `servicePort: ${String(port)}`, ''].join('\n');
    for (const bad of [0, 65536, 1.5, '"http"']) {
      await expect(call((cb) => jobs.apply({ document: other(bad) }, cb))).rejects.toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'servicePort' });
    }
    const taken = call((cb) => jobs.apply({ document: other(servicePort) }, cb));
    await expect(taken).rejects.toMatchObject({ field: 'servicePort', message: expect.stringContaining('service web') });
    const warned = (await call((cb) => jobs.apply({ document: other(31500), dryRun: true }, cb))) as ApplyResponse__Output;
    expect(warned.warnings.join(' ')).toContain("agents' default port range");
    expect(await accepts(otherPort)).toBe(false);
  });

  it('refuses a rollback to a servicePort another service took since, naming it', async () => {
    const [first, second] = (await freePorts(2)) as [number, number];
    const doc = (name: string, port: number): string => [`kind: Service`, `name: ${name}`, 'instances: 0', 'command: sleep 100', 'resources: { cpus: 0.01, mem: 8 }', `servicePort: ${port}`, ''].join('\n');
    await call((cb) => jobs.apply({ document: doc('mover', first) }, cb));
    await call((cb) => jobs.apply({ document: doc('mover', second) }, cb));
    await call((cb) => jobs.apply({ document: doc('taker', first) }, cb));
    await expect(call((cb) => jobs.rollback({ name: 'mover' }, cb))).rejects.toMatchObject({ field: 'servicePort', message: expect.stringContaining('service taker') });
    await call((cb) => jobs.delete({ kind: 'SERVICE', name: 'taker' }, cb));
    await call((cb) => jobs.rollback({ name: 'mover' }, cb));
    await call((cb) => jobs.delete({ kind: 'SERVICE', name: 'mover' }, cb));
  });
});
