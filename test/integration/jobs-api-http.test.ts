// The Jobs API's HTTP/JSON mirror on a real frameworks host: the same operations and errors as
// gRPC (YAML or JSON bodies; { code, message, field } errors), the endpoints list and its SSE
// watch, and the change stream. The controller is an in-memory fake (shape tests).
import { afterEach, describe, expect, it } from 'vitest';
import { FakeServiceController, fakeServicesModule } from '../support/fake-service-controller.js';
import { openSse, startJobsHost, stopJobsHosts } from '../support/jobs-host.js';
import { secureFetch } from '../support/security.js';

afterEach(stopJobsHosts);

async function setup(): Promise<{ fake: FakeServiceController; base: string }> {
  const fake = new FakeServiceController();
  const host = await startJobsHost({ modules: [fakeServicesModule(fake)] });
  return { fake, base: `https://${host.httpAddress}` };
}

async function send(method: string, url: string, body?: unknown, contentType?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    headers['content-type'] = contentType ?? (typeof body === 'string' ? 'application/yaml' : 'application/json');
  }
  const res = await secureFetch(url, { method, headers, ...(payload === undefined ? {} : { body: payload }) });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

describe('Jobs HTTP mirror', () => {
  it('creates, reads, updates and deletes services with YAML or JSON bodies', async () => {
    const { fake, base } = await setup();
    const created = await send('POST', `${base}/api/v1/services`, 'name: web\ninstances: 2\ncommand: sleep 100\n');
    expect(created).toEqual({ status: 201, body: { kind: 'SERVICE', name: 'web', version: 'v1', result: 'CREATED', deploymentId: 'd1', warnings: [] } });
    const updated = await send('PUT', `${base}/api/v1/services`, { kind: 'Service', name: 'web', instances: 3, command: 'sleep 100' });
    expect(updated).toMatchObject({ status: 200, body: { result: 'UPDATED', version: 'v2' } });
    expect(await send('POST', `${base}/api/v1/apply`, 'kind: service\nname: api\ncommand: x\n')).toMatchObject({ status: 201, body: { name: 'api' } });
    expect(await send('POST', `${base}/api/v1/apply?dryRun=1`, 'kind: Service\nname: dry\ncommand: x\n')).toMatchObject({ status: 201, body: { result: 'CREATED', version: '' } });
    expect(fake.entries.has('dry')).toBe(false);

    const list = await send('GET', `${base}/api/v1/services`);
    expect((list.body['items'] as { name: string }[]).map((w) => w.name)).toEqual(['api', 'web']);
    expect(await send('GET', `${base}/api/v1/services/web`)).toMatchObject({ status: 200, body: { name: 'web', version: 'v2', serviceStatus: { instances: 3 } } });

    expect(await send('POST', `${base}/api/v1/services/web/scale`, { instances: 1 })).toEqual({ status: 200, body: { deploymentId: 'd4', version: 'v4' } });
    expect(await send('POST', `${base}/api/v1/services/web/rollback`, {})).toMatchObject({ status: 200, body: { version: 'v5' } });
    expect(fake.entries.get('web')?.spec['instances']).toBe(3);
    expect(await send('POST', `${base}/api/v1/services/web/restart`)).toMatchObject({ status: 200 });
    expect(await send('POST', `${base}/api/v1/services/web/kill`, { taskIds: ['web-1'], scale: true })).toMatchObject({ status: 200 });
    expect(fake.entries.get('web')?.spec['instances']).toBe(2);
    expect(await send('POST', `${base}/api/v1/services/web/promote`)).toMatchObject({ status: 409, body: { code: 'AGORA_FAILED_PRECONDITION' } });

    expect(await send('DELETE', `${base}/api/v1/services/web`)).toEqual({ status: 200, body: { deploymentId: '' } });
    expect(await send('GET', `${base}/api/v1/services/web`)).toMatchObject({ status: 404, body: { code: 'AGORA_NOT_FOUND', message: "service 'web' not found" } });
  });

  it('answers bad input with 400 naming the field, and changes nothing', async () => {
    const { fake, base } = await setup();
    const cases: [string, string, unknown, string][] = [
      ['POST', '/api/v1/services', 'name: web\ninstances: many\ncommand: x\n', 'instances'],
      ['POST', '/api/v1/services', 'kind: Job\nname: web\n', 'kind'],
      ['POST', '/api/v1/apply', 'name: web\ncommand: x\n', 'kind'],
      ['POST', '/api/v1/apply', 'kind: Service\nname: [oops\n', 'document'],
      ['POST', '/api/v1/services', [1, 2], 'document'],
      ['POST', '/api/v1/services/web/scale', { instances: -2 }, 'instances'],
      ['POST', '/api/v1/services/web/kill', { taskIds: 'web-1' }, 'taskIds'],
      ['GET', '/api/v1/watch?kinds=deployment', undefined, 'kinds[0]'],
      // A parameter given twice is refused, not read as "not 1" (which would make this no dry run).
      ['POST', '/api/v1/apply?dryRun=1&dryRun=1', 'kind: Service\nname: web\ncommand: x\n', 'dryRun'],
      ['GET', '/api/v1/watch?initial=1&initial=0', undefined, 'initial'],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await send(method, `${base}${path}`, body);
      expect({ path, status: res.status, code: res.body['code'], field: res.body['field'] }).toEqual({ path, status: 400, code: 'AGORA_INVALID_ARGUMENT', field });
    }
    const notServed = await send('POST', `${base}/api/v1/cronjobs`, 'name: nightly\nschedule: "@daily"\n');
    expect(notServed).toMatchObject({ status: 409, body: { code: 'AGORA_FAILED_PRECONDITION', message: 'kind CronJob is not served yet' } });
    expect(await send('POST', `${base}/api/v1/jobs/x/trigger`)).toMatchObject({ status: 409, body: { message: 'kind Job is not served yet' } });
    expect(fake.entries.size).toBe(0);
  });

  it('lists endpoints and streams their changes as server-sent events', async () => {
    const { fake, base } = await setup();
    await send('POST', `${base}/api/v1/services`, 'name: web\ncommand: x\n');
    expect(await send('GET', `${base}/api/v1/services/web/endpoints`)).toEqual({ status: 200, body: { endpoints: [] } });
    expect(await send('GET', `${base}/api/v1/services/nope/endpoints?watch=1`)).toMatchObject({ status: 404 });

    const viaQuery = await openSse(`${base}/api/v1/services/web/endpoints?watch=1`);
    const viaPath = await openSse(`${base}/api/v1/services/web/endpoints/watch`);
    for (const sse of [viaQuery, viaPath]) expect(await sse.next()).toEqual({ event: 'endpoints', data: { name: 'web', endpoints: [] } });
    const endpoint = { taskId: 'web-1', host: '127.0.0.1', ports: [{ name: 'http', number: 31000 }], ready: true };
    fake.setEndpoints('web', [endpoint]);
    for (const sse of [viaQuery, viaPath]) expect(await sse.next((e) => e.event === 'endpoints')).toEqual({ event: 'endpoints', data: { name: 'web', endpoints: [endpoint] } });
    expect(await send('GET', `${base}/api/v1/services/web/endpoints`)).toEqual({ status: 200, body: { endpoints: [endpoint] } });
    await send('DELETE', `${base}/api/v1/services/web`);
    expect(await viaPath.next((e) => e.event !== 'endpoints')).toEqual({ event: 'deleted', data: { name: 'web' } });
  });

  it('streams every change from /api/v1/watch, starting with the current state', async () => {
    const { base } = await setup();
    await send('POST', `${base}/api/v1/services`, 'name: web\ncommand: x\n');
    const sse = await openSse(`${base}/api/v1/watch?kinds=service&initial=1&heartbeatMs=50`);
    expect(sse.status).toBe(200);
    expect(await sse.next()).toMatchObject({ event: 'subscribed', data: { kinds: ['SERVICE'] } });
    expect(await sse.next()).toMatchObject({ event: 'added', data: { type: 'ADDED', name: 'web', object: { version: 'v1' } } });
    await send('POST', `${base}/api/v1/services/web/scale`, { instances: 4 });
    expect(await sse.next()).toMatchObject({ event: 'deployment_progress', data: { name: 'web', deployment: { version: 'v2', phase: 'DEPLOYMENT_SUCCEEDED' } } });
    await send('POST', `${base}/api/v1/services`, 'name: api\ncommand: x\n');
    expect(await sse.next((e) => e.event === 'added')).toMatchObject({ data: { name: 'api' } });
  });

  it('takes the kinds and names of a watch repeated as well as comma-separated', async () => {
    const { base } = await setup();
    await send('POST', `${base}/api/v1/services`, 'name: web\ncommand: x\n');
    const sse = await openSse(`${base}/api/v1/watch?kinds=service&names=web,api&names=db&initial=1`);
    expect(sse.status).toBe(200);
    expect(await sse.next()).toMatchObject({ event: 'subscribed', data: { kinds: ['SERVICE'], names: ['web', 'api', 'db'] } });
    expect(await sse.next()).toMatchObject({ event: 'added', data: { name: 'web' } });
  });
});
