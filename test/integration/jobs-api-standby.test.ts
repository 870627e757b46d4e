// Two frameworks hosts on one store: one is elected and serves; the other answers gRPC with
// UNAVAILABLE naming the leader, and HTTP with 307 to the leader. When the leader goes, the
// standby takes over and starts its frameworks. While they start, the API answers 503 and the CLI's
// client waits.
import { afterEach, describe, expect, it } from 'vitest';
import { AgoraClient } from '../../cli/client.js';
import { NotLeaderError } from '../../core/errors.js';
import { FakeServiceController, fakeServicesModule } from '../support/fake-service-controller.js';
import { call, jobsClient, startJobsHost, stopJobsHosts, uniqueStore } from '../support/jobs-host.js';
import { rejection } from '../support/master-harness.js';

afterEach(stopJobsHosts);

describe('frameworks host standby', () => {
  it('redirects to the leader, and takes over when it stops', async () => {
    const store = uniqueStore();
    const first = new FakeServiceController();
    const second = new FakeServiceController();
    const leader = await startJobsHost({ store, modules: [fakeServicesModule(first)] });
    const standby = await startJobsHost({ store, modules: [fakeServicesModule(second)], lead: false });
    expect([leader.lifecycle, standby.lifecycle]).toEqual(['LEADING', 'STANDBY']);
    await call((cb) => jobsClient(leader).apply({ document: 'kind: Service\nname: web\ncommand: x\n' }, cb));

    const err = await rejection(call((cb) => jobsClient(standby).get({ kind: 'SERVICE', name: 'web' }, cb)));
    expect(err).toBeInstanceOf(NotLeaderError);
    expect((err as NotLeaderError).leader).toBe(leader.grpcAddress);
    expect(second.entries.size).toBe(0);

    const url = `http://${standby.httpAddress}/api/v1/services/web?x=1`;
    const redirect = await fetch(url, { redirect: 'manual' });
    expect(redirect.status).toBe(307);
    expect(redirect.headers.get('location')).toBe(`http://${leader.httpAddress}/api/v1/services/web?x=1`);
    const followed = await fetch(url);
    expect(followed.status).toBe(200);
    expect(await followed.json()).toMatchObject({ name: 'web', version: 'v1' });
    const post = await fetch(`http://${standby.httpAddress}/api/v1/services`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: 'name: api\ncommand: y\n' });
    expect(post.status).toBe(201);
    expect([...first.entries.keys()].sort()).toEqual(['api', 'web']);

    await leader.stop();
    expect(first.stopped).toBe(true);
    await standby.waitLeading(5_000);
    expect(await call((cb) => jobsClient(standby).apply({ document: 'kind: Service\nname: web\ncommand: x\n' }, cb))).toMatchObject({ result: 'CREATED' });
    expect([...second.entries.keys()]).toEqual(['web']);
    expect((await fetch(`http://${standby.httpAddress}/health`).then((r) => r.json())) as unknown).toMatchObject({ lifecycle: 'LEADING', leader: null });
  });

  it('answers 503 while its frameworks start, and the CLI client waits for them', async () => {
    const fake = new FakeServiceController();
    let release: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (release = resolve));
    const slow = { ...fakeServicesModule(fake), start: async () => (await started, fake) };
    const host = await startJobsHost({ modules: [slow], lead: false });
    const res = await fetch(`http://${host.httpAddress}/api/v1/services`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: 'AGORA_UNAVAILABLE' });
    const listing = new AgoraClient({ api: `http://${host.httpAddress}` }).jobs<{ items: unknown[] }>('GET', '/api/v1/services');
    setTimeout(release, 600);
    expect(await listing).toEqual({ items: [] });
  });
});
