// The Jobs gRPC service on a real frameworks host (loopback, port 0): routing by kind, errors
// that name the field and change nothing, the Watch stream, and TaskLogs read from a real agent
// through a real master. The controller is an in-memory fake (shape tests); the end-to-end tests
// use the real services framework.
import { afterEach, describe, expect, it } from 'vitest';
import type { AgoraError } from '../../core/errors.js';
import { fromGrpcError } from '../../core/grpc.js';
import type { ListResponse__Output, WatchEvent__Output } from '../../proto/index.js';
import { launchTask, startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { FakeServiceController, fakeServicesModule } from '../support/fake-service-controller.js';
import { call, collect, jobsClient, startJobsHost, stopJobsHosts } from '../support/jobs-host.js';
import { MasterHarness, rejection, stopHarnesses } from '../support/master-harness.js';
import { taskInfo } from '../support/test-framework.js';
import { channel, testPki } from '../support/security.js';
import { eventually } from '../support/waits.js';

afterEach(async () => {
  await stopJobsHosts();
  await stopTestAgents();
  await stopHarnesses();
});

const WEB = 'kind: Service\nname: web\ninstances: 2\ncommand: sleep 100\n';

async function setup(): Promise<{ fake: FakeServiceController; jobs: ReturnType<typeof jobsClient> }> {
  const fake = new FakeServiceController();
  const host = await startJobsHost({ modules: [fakeServicesModule(fake)] });
  return { fake, jobs: jobsClient(host) };
}

describe('Jobs gRPC API', () => {
  it('applies a document, then gets, lists, scales, rolls back, restarts and deletes it', async () => {
    const { fake, jobs } = await setup();
    const created = await call((cb) => jobs.apply({ document: WEB }, cb));
    expect(created).toMatchObject({ kind: 'SERVICE', name: 'web', version: 'v1', result: 'CREATED', deploymentId: 'd1' });
    expect(fake.entries.get('web')?.spec).toEqual({ name: 'web', instances: 2, command: 'sleep 100' });
    expect(await call((cb) => jobs.apply({ document: WEB }, cb))).toMatchObject({ result: 'UNCHANGED', deploymentId: '' });

    const json = JSON.stringify({ kind: 'Service', name: 'api', command: 'true' });
    expect(await call((cb) => jobs.apply({ document: json, format: 'JSON' }, cb))).toMatchObject({ name: 'api', result: 'CREATED' });

    const got = await call((cb) => jobs.get({ kind: 'SERVICE', name: 'web' }, cb));
    expect(got).toMatchObject({ kind: 'SERVICE', name: 'web', version: 'v1', service: { name: 'web', instances: 2 } });
    const list = await call<ListResponse__Output>((cb) => jobs.list({}, cb));
    expect(list.items.map((w) => w.name)).toEqual(['api', 'web']);

    expect(await call((cb) => jobs.scale({ name: 'web', instances: 5 }, cb))).toEqual({ deploymentId: 'd3', version: 'v3' });
    expect(fake.entries.get('web')?.spec['instances']).toBe(5);
    expect(await call((cb) => jobs.rollback({ name: 'web', toVersion: 'v1' }, cb))).toMatchObject({ version: 'v4' });
    expect(fake.entries.get('web')?.spec['instances']).toBe(2);
    expect(await call((cb) => jobs.restart({ name: 'web' }, cb))).toMatchObject({ deploymentId: 'd5' });

    await call((cb) => jobs.delete({ kind: 'SERVICE', name: 'web' }, cb));
    const gone = await rejection(call((cb) => jobs.get({ kind: 'SERVICE', name: 'web' }, cb)));
    expect(gone.code).toBe('AGORA_NOT_FOUND');
  });

  it('answers bad specs with INVALID_ARGUMENT naming the field, and changes nothing', async () => {
    const { fake, jobs } = await setup();
    const cases: [string, string][] = [
      ['name: web\ncommand: x\n', 'kind'],
      ['kind: Deployment\nname: web\n', 'kind'],
      ['kind: Service\nname: web\n  command: [\n', 'document'],
      ['- a\n- b\n', 'document'],
      ['', 'document'],
      ['kind: Service\nname: Web!\ncommand: x\n', 'name'],
      ['kind: Service\nname: web\ninstances: -1\ncommand: x\n', 'instances'],
    ];
    for (const [document, field] of cases) {
      const err: AgoraError = await rejection(call((cb) => jobs.apply({ document }, cb)));
      expect({ document, code: err.code, field: err.field }).toEqual({ document, code: 'AGORA_INVALID_ARGUMENT', field });
      expect(err.message).toContain(`${field}: `);
    }
    const notServed = await rejection(call((cb) => jobs.apply({ document: 'kind: CronJob\nname: nightly\nschedule: "@daily"\n' }, cb)));
    expect(notServed.code).toBe('AGORA_FAILED_PRECONDITION');
    expect(notServed.message).toBe('kind CronJob is not served yet');
    expect(fake.entries.size).toBe(0);
    expect((await call<ListResponse__Output>((cb) => jobs.list({}, cb))).items).toEqual([]);
  });

  it('dry-runs, takes structured specs in proto3 JSON form, and rejects the wrong kind for an operation', async () => {
    const { fake, jobs } = await setup();
    expect(await call((cb) => jobs.apply({ document: WEB, dryRun: true }, cb))).toMatchObject({ result: 'CREATED', version: '' });
    expect(fake.entries.size).toBe(0);

    const structured = await call((cb) => jobs.apply({ service: { name: 'api', command: 'serve', ports: [{ name: 'http', number: 0 }], healthCheck: { type: 'HTTP', http: { path: '/health' } } } }, cb));
    expect(structured).toMatchObject({ name: 'api', result: 'CREATED' });
    // Defaults are gone, as in proto3 JSON; `number: 0` stays because the field is `optional`.
    expect(fake.entries.get('api')?.spec).toEqual({ name: 'api', command: 'serve', ports: [{ name: 'http', number: 0 }], healthCheck: { type: 'HTTP', http: { path: '/health' } } });

    const trigger = await rejection(call((cb) => jobs.trigger({ kind: 'SERVICE', name: 'api' }, cb)));
    expect([trigger.code, trigger.field]).toEqual(['AGORA_INVALID_ARGUMENT', 'kind']);
    const jobTrigger = await rejection(call((cb) => jobs.trigger({ kind: 'JOB', name: 'x' }, cb)));
    expect([jobTrigger.code, jobTrigger.message]).toEqual(['AGORA_FAILED_PRECONDITION', 'kind Job is not served yet']);
    const unnamed = await rejection(call((cb) => jobs.get({ kind: 'SERVICE', name: '' }, cb)));
    expect(unnamed.field).toBe('name');
    const noKind = await rejection(call((cb) => jobs.get({ name: 'api' }, cb)));
    expect(noKind.field).toBe('kind');
    const controllerError = await rejection(call((cb) => jobs.rollback({ name: 'api' }, cb)));
    expect([controllerError.code, controllerError.field]).toEqual(['AGORA_FAILED_PRECONDITION', 'toVersion']);
  });

  it('streams watch events: the initial state, then changes, filtered by name', async () => {
    const { fake, jobs } = await setup();
    await call((cb) => jobs.apply({ document: WEB }, cb));
    await call((cb) => jobs.apply({ document: 'kind: Service\nname: other\ncommand: x\n' }, cb));
    const stream = jobs.watch({ kinds: ['SERVICE'], names: ['web'], sendInitial: true });
    const events: WatchEvent__Output[] = [];
    stream.on('data', (e: WatchEvent__Output) => events.push(e));
    const ended = new Promise<void>((resolve) => stream.on('error', () => resolve()));
    await until(() => events.length >= 1);
    expect(events[0]).toMatchObject({ type: 'ADDED', kind: 'SERVICE', name: 'web', object: { name: 'web', version: 'v1' } });

    await call((cb) => jobs.scale({ name: 'other', instances: 3 }, cb));
    await call((cb) => jobs.scale({ name: 'web', instances: 3 }, cb));
    fake.setEndpoints('web', [{ taskId: 'web-1', host: '127.0.0.1', ports: [{ number: 31001 }], ready: true }]);
    await call((cb) => jobs.delete({ kind: 'SERVICE', name: 'web' }, cb));
    await until(() => events.some((e) => e.type === 'DELETED'));
    expect(events.map((e) => `${e.type}:${e.name}`)).toEqual(['ADDED:web', 'DEPLOYMENT_PROGRESS:web', 'ENDPOINTS:web', 'DELETED:web']);
    expect(events[2]?.endpoints).toEqual([{ taskId: 'web-1', host: '127.0.0.1', ip: '', ports: [{ number: 31001, name: '', protocol: '', labels: {} }], ready: true }]);
    stream.cancel();
    await ended;

    const bad = await rejection(collect(jobs.watch({ kinds: ['JOB'] })).catch((err: unknown) => Promise.reject(fromStatus(err))));
    expect(bad.code).toBe('AGORA_FAILED_PRECONDITION');
  });

  it('streams a task\u2019s logs from its agent, found through the master', async () => {
    const h = await MasterHarness.start();
    await startTestAgent(h.address);
    // A task of the built-in services framework (its name and principal), and one of another framework.
    const fw = await h.framework({ autoAck: true, name: 'agora-services', credentials: channel({ token: testPki().frameworksToken }) });
    await launchTask(fw, taskInfo('echo-1', 'cpus:0.1;mem:32', { command: { value: 'printf "hello\\nworld\\n"; printf oops >&2' } }));
    await fw.waitForUpdate('echo-1', 'TASK_FINISHED', { timeoutMs: 10_000 });
    await fw.close(); // its offers go to the next framework
    const other = await h.framework({ autoAck: true, name: 'someone-else' });
    await launchTask(other, taskInfo('theirs', 'cpus:0.1;mem:32', { command: { value: 'echo private' } }));
    await other.waitForUpdate('theirs', 'TASK_FINISHED', { timeoutMs: 10_000 });
    const host = await startJobsHost({ modules: [fakeServicesModule(new FakeServiceController())], masterHttp: h.master.httpAddress });
    const jobs = jobsClient(host);
    const text = async (req: Parameters<typeof jobs.taskLogs>[0]): Promise<string> => Buffer.concat((await collect(jobs.taskLogs(req))).map((c) => c.data)).toString();
    expect(await text({ taskId: 'echo-1' })).toBe('hello\nworld\n');
    expect(await text({ taskId: 'echo-1', stream: 'STDERR' })).toBe('oops');
    expect(await text({ taskId: 'echo-1', offset: -6 })).toBe('world\n');
    expect(await text({ taskId: 'echo-1', offset: 6, length: 3 })).toBe('wor');
    expect(await text({ taskId: 'echo-1', follow: true })).toBe('hello\nworld\n');
    const missing = await rejection(collect(jobs.taskLogs({ taskId: 'nope' })).catch((err: unknown) => Promise.reject(fromStatus(err))));
    expect(missing.code).toBe('AGORA_NOT_FOUND');
    // The Jobs API reads the built-in frameworks' tasks only, not every framework's.
    const foreign = await rejection(collect(jobs.taskLogs({ taskId: 'theirs' })).catch((err: unknown) => Promise.reject(fromStatus(err))));
    expect(foreign.code).toBe('AGORA_NOT_FOUND');
  });
});

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  await eventually(check, { timeoutMs });
}

function fromStatus(err: unknown): AgoraError {
  return fromGrpcError(err);
}
