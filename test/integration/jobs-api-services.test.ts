// The Jobs API over the real services framework: a frameworks host of its own (as `agora
// frameworks` runs) against a real master and agent. The CLI's client finds the API through the
// master's frameworks list (apiUrl); gRPC Apply and Watch, the HTTP mirror's endpoints, errors from
// the controller, TaskLogs and Delete all go through to real tasks.
import { afterEach, describe, expect, it } from 'vitest';
import { AgoraClient } from '../../cli/client.js';
import type { Endpoint, WatchEvent__Output } from '../../proto/index.js';
import { startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { call, collect, jobsClient, fastServicesModule, startJobsHost, stopJobsHosts } from '../support/jobs-host.js';
import { eventually, MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { freePorts } from '../support/ports.js';
import { secureFetch, testPki } from '../support/security.js';

afterEach(async () => {
  await stopJobsHosts();
  await stopTestAgents();
  await stopHarnesses();
});


const server = `require('http').createServer((q, s) => s.end('ok')).listen(+process.env.PORT0, () => console.log('listening'))`;
const WEB = [
  'kind: Service',
  'name: web',
  'instances: 2',
  `command: ${JSON.stringify(`exec ${process.execPath} -e "${server}"`)}`,
  'resources: { cpus: 0.05, mem: 32 }',
  'ports: [{ name: http }]',
  'healthCheck: { type: HTTP, http: { portName: http }, delaySeconds: 0, intervalSeconds: 0.2, timeoutSeconds: 1 }',
  'killGracePeriodSeconds: 0.5',
  '',
].join('\n');

describe('Jobs API over the services framework', () => {
  it('runs a service end to end through gRPC and the HTTP mirror, found through the master', async () => {
    const h = await MasterHarness.start();
    const ports = (await freePorts(8)).map((p) => `${p}-${p}`).join(',');
    await startTestAgent(h.address, { resources: `cpus:2;mem:2048;disk:1024;ports:[${ports}]` });
    const host = await startJobsHost({ master: h.address, masterHttp: h.master.httpAddress, modules: [fastServicesModule] });
    const api = `https://${host.httpAddress}`;
    expect(await new AgoraClient({ master: h.master.httpAddress, ca: testPki().clientTls.ca, token: testPki().adminToken }).jobsUrl()).toBe(api);

    const jobs = jobsClient(host);
    const events: WatchEvent__Output[] = [];
    const watch = jobs.watch({ names: ['web'] });
    watch.on('data', (e: WatchEvent__Output) => events.push(e));
    watch.on('error', () => undefined);

    expect(await call((cb) => jobs.apply({ document: WEB }, cb))).toMatchObject({ kind: 'SERVICE', name: 'web', result: 'CREATED' });
    await eventually(() => events.some((e) => e.type === 'DEPLOYMENT_PROGRESS' && e.deployment?.phase === 'DEPLOYMENT_SUCCEEDED'), { timeoutMs: 30_000, what: 'the deployment to succeed' });
    await eventually(() => events.some((e) => e.type === 'ENDPOINTS' && e.endpoints.length === 2), { what: 'two endpoints' });
    expect(events[0]?.type).toBe('ADDED');

    const endpoints = (await (await secureFetch(`${api}/api/v1/services/web/endpoints`)).json()) as { endpoints: Endpoint[] };
    expect(endpoints.endpoints).toHaveLength(2);
    for (const e of endpoints.endpoints) expect(await (await fetch(`http://${e.host ?? ''}:${Number(e.ports?.[0]?.number)}/`)).text()).toBe('ok');

    const before = (await (await secureFetch(`${api}/api/v1/services/web`)).json()) as { version: string };
    const bad = await secureFetch(`${api}/api/v1/services`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: WEB.replace('instances: 2', 'instances: -1') });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'instances' });
    expect(await (await secureFetch(`${api}/api/v1/services/web`)).json()).toMatchObject({ version: before.version });

    const task = endpoints.endpoints[0]?.taskId ?? '';
    const logs = await collect(jobs.taskLogs({ taskId: task }));
    expect(Buffer.concat(logs.map((c) => c.data)).toString()).toBe('listening\n');

    const scaled = await secureFetch(`${api}/api/v1/services/web/scale`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"instances":1}' });
    expect(scaled.status).toBe(200);
    await eventually(async () => ((await (await secureFetch(`${api}/api/v1/services/web/endpoints`)).json()) as { endpoints: Endpoint[] }).endpoints.length === 1, { timeoutMs: 15_000, what: 'one endpoint' });

    await call((cb) => jobs.delete({ kind: 'SERVICE', name: 'web' }, cb));
    await eventually(() => events.some((e) => e.type === 'DELETED'), { what: 'DELETED' });
    await eventually(() => [...h.state.liveTasks()].every((t) => t.state !== 'TASK_RUNNING'), { timeoutMs: 10_000, what: 'the tasks to be killed' });
    watch.cancel();
  });
});
