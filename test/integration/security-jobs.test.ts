// The Jobs API's side of trust, on a frameworks host that checks its callers with a real master
// (the Access service, as a separate `agora frameworks` does): read and write per kind, the user
// a spec's tasks run as and privileged containers authorised for the caller (not for the
// frameworks, which may run anything), env values shown only with env.view, nothing without
// credentials. Issue 15 saw a `user: nobody` job print root's /etc/shadow and env secrets readable
// by anyone through this API.
import { afterEach, describe, expect, it } from 'vitest';
import { unaryCall } from '../../core/grpc.js';
import { JobsClient, type ApplyResponse__Output, type Workload__Output } from '../../proto/index.js';
import { issueToken } from '../support/acl.js';
import { FakeServiceController, fakeServicesModule } from '../support/fake-service-controller.js';
import { startJobsHost, stopJobsHosts } from '../support/jobs-host.js';
import { MasterHarness, rejection, stopHarnesses } from '../support/master-harness.js';
import { channel, secureFetch } from '../support/security.js';

afterEach(async () => {
  await stopJobsHosts();
  await stopHarnesses();
});

const SECRET_SERVICE = 'kind: Service\nname: web\ncommand: serve\nenv:\n  DB_PASSWORD: hunter2\n  MODE: prod\n';

async function setup(): Promise<{ h: MasterHarness; fake: FakeServiceController; api: string; grpcAddress: string }> {
  const h = await MasterHarness.start();
  const fake = new FakeServiceController();
  const host = await startJobsHost({ master: h.address, masterHttp: h.master.httpAddress, modules: [fakeServicesModule(fake)] });
  return { h, fake, api: `https://${host.httpAddress}`, grpcAddress: host.grpcAddress ?? '' };
}

async function send(url: string, token: string | null, method = 'GET', body?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await secureFetch(url, { method, token, ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/yaml' } }) });
  const text = await res.text();
  return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

describe('Jobs API', () => {
  it('needs credentials, and jobs.read / jobs.write on the kind', async () => {
    const { h, fake, api } = await setup();
    expect((await send(`${api}/api/v1/services`, null)).status).toBe(401);
    expect((await send(`${api}/api/v1/services`, null, 'POST', SECRET_SERVICE)).status).toBe(401);
    const reader = await issueToken(h.master.httpAddress, 'rita', [{ allow: ['jobs.read'], kinds: ['Service'] }]);
    expect((await send(`${api}/api/v1/services`, reader)).status).toBe(200);
    const write = await send(`${api}/api/v1/services`, reader, 'POST', SECRET_SERVICE);
    expect(write.status).toBe(403);
    expect(write.json['message']).toBe("principal 'rita' lacks permission 'jobs.write' on 'SERVICE'");
    const jobs = await send(`${api}/api/v1/jobs`, reader);
    expect(jobs.status).toBe(403);
    expect(jobs.json['message']).toBe("principal 'rita' lacks permission 'jobs.read' on 'JOB'");
    expect(fake.entries.size).toBe(0);
  });

  it('authorises the user a spec runs as and privileged containers for the caller', async () => {
    const { h, fake, api } = await setup();
    const dev = await issueToken(h.master.httpAddress, 'dev', [{ allow: ['jobs.read', 'jobs.write'] }, { allow: ['tasks.run_as'], users: ['nobody', 'app'] }]);
    expect((await send(`${api}/api/v1/services`, dev, 'POST', 'name: plain\ncommand: x\n')).status).toBe(201);
    expect((await send(`${api}/api/v1/services`, dev, 'POST', 'name: as-app\ncommand: x\nuser: app\n')).status).toBe(201);
    for (const [spec, message] of [
      ['name: as-root\ncommand: x\nuser: root\n', "principal 'dev' lacks permission 'tasks.run_as' on 'root'"],
      ['name: as-zero\ncommand: x\nuser: "0"\n', "principal 'dev' lacks permission 'tasks.run_as' on 'root'"],
      ['name: priv\ncontainer: { image: busybox, privileged: true }\n', "principal 'dev' lacks permission 'tasks.privileged'"],
      ['name: mount\ncontainer: { image: busybox, volumes: [{ containerPath: /h, hostPath: /etc }] }\n', "principal 'dev' lacks permission 'tasks.privileged'"],
      ['name: caps\ncontainer: { image: busybox, parameters: [{ key: cap-add, value: ALL }] }\n', "principal 'dev' lacks permission 'tasks.privileged'"],
    ] as const) {
      const r = await send(`${api}/api/v1/services`, dev, 'POST', spec);
      expect(r.status, spec).toBe(403);
      expect(r.json['message'], spec).toBe(message);
    }
    expect([...fake.entries.keys()].sort()).toEqual(['as-app', 'plain']);
    // Jobs and cron jobs: the task template's user.
    const job = await send(`${api}/api/v1/apply`, dev, 'POST', 'kind: Job\nname: j\ntask: { command: x, user: root }\n');
    expect(job.status).toBe(403);
  });

  it('shows env values only to principals with env.view, over HTTP and gRPC', async () => {
    const { h, api, grpcAddress } = await setup();
    const writer = await issueToken(h.master.httpAddress, 'wes', [{ allow: ['jobs.read', 'jobs.write'] }, { allow: ['tasks.run_as'], users: ['nobody'] }]);
    expect((await send(`${api}/api/v1/services`, writer, 'POST', SECRET_SERVICE)).status).toBe(201);
    const masked = (await send(`${api}/api/v1/services/web`, writer)).json as { service: { env: Record<string, string> } };
    expect(masked.service.env).toEqual({ DB_PASSWORD: '<hidden>', MODE: '<hidden>' });
    const list = (await send(`${api}/api/v1/services`, writer)).json as { items: { service: { env: Record<string, string> } }[] };
    expect(list.items[0]?.service.env).toEqual({ DB_PASSWORD: '<hidden>', MODE: '<hidden>' });
    const jobs = new JobsClient(grpcAddress, channel({ token: writer }));
    const viaGrpc = await unaryCall<Workload__Output>((cb) => jobs.get({ kind: 'SERVICE', name: 'web' }, cb));
    jobs.close();
    expect(JSON.stringify(viaGrpc)).not.toContain('hunter2');
    const seer = await issueToken(h.master.httpAddress, 'sam', [{ allow: ['jobs.read', 'env.view'] }]);
    expect(((await send(`${api}/api/v1/services/web`, seer)).json as typeof masked).service.env).toEqual({ DB_PASSWORD: 'hunter2', MODE: 'prod' });
  });

  it('refuses gRPC callers without credentials and with a token the master does not know', async () => {
    const { grpcAddress } = await setup();
    for (const credentials of [channel({}), channel({ token: `agora_${'a'.repeat(16)}_${'b'.repeat(64)}` })]) {
      const jobs = new JobsClient(grpcAddress, credentials);
      const err = await rejection(unaryCall<ApplyResponse__Output>((cb) => jobs.apply({ document: SECRET_SERVICE }, cb)));
      jobs.close();
      expect(err.code).toBe('AGORA_UNAUTHENTICATED');
    }
  });
});
