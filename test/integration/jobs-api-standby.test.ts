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
import { adminHttp, secureFetch, testPki } from '../support/security.js';
import { request } from '../../frameworks/api/http-client.js';

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

    const url = `https://${standby.httpAddress}/api/v1/services/web?x=1`;
    const redirect = await secureFetch(url, { redirect: 'manual' });
    expect(redirect.status).toBe(307);
    expect(redirect.headers.get('location')).toBe(`https://${leader.httpAddress}/api/v1/services/web?x=1`);
    // Agora's client follows, keeping its credentials (fetch drops the token on the way to another origin).
    const followed = await request(url, { auth: adminHttp() });
    expect(followed.status).toBe(200);
    expect(await followed.json()).toMatchObject({ name: 'web', version: 'v1' });
    const post = await request(`https://${standby.httpAddress}/api/v1/services`, { method: 'POST', body: 'name: api\ncommand: y\n', auth: adminHttp() });
    expect(post.status).toBe(201);
    expect([...first.entries.keys()].sort()).toEqual(['api', 'web']);

    await leader.stop();
    expect(first.stopped).toBe(true);
    await standby.waitLeading(5_000);
    expect(await call((cb) => jobsClient(standby).apply({ document: 'kind: Service\nname: web\ncommand: x\n' }, cb))).toMatchObject({ result: 'CREATED' });
    expect([...second.entries.keys()]).toEqual(['web']);
    expect((await secureFetch(`https://${standby.httpAddress}/health`).then((r) => r.json())) as unknown).toMatchObject({ lifecycle: 'LEADING', leader: null });
  });

  it('answers 503 while its frameworks start, and the CLI client waits for them', async () => {
    const fake = new FakeServiceController();
    let release: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (release = resolve));
    const slow = { ...fakeServicesModule(fake), start: async () => (await started, fake) };
    const host = await startJobsHost({ modules: [slow], lead: false });
    const res = await secureFetch(`https://${host.httpAddress}/api/v1/services`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: 'AGORA_UNAVAILABLE' });
    const listing = new AgoraClient({ api: `https://${host.httpAddress}`, ca: testPki().clientTls.ca, token: testPki().adminToken }).jobs<{ items: unknown[] }>('GET', '/api/v1/services');
    setTimeout(release, 600);
    expect(await listing).toEqual({ items: [] });
  });
});
