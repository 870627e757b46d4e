// Attacks on the scheduler API, as issue 15 found them on an open master, now refused: subscribing
// as another principal's framework id, calling as it, calling from a replaced subscription,
// registering in roles, running tasks as users or privileged without the permission — and every
// way of not being anyone (no token, a bad or revoked token, a certificate from another CA).
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { STREAM_ID_METADATA_KEY, unaryCall } from '../../core/grpc.js';
import { SchedulerClient, type Ack__Output } from '../../proto/index.js';
import { issueToken, revokeToken } from '../support/acl.js';
import { MasterHarness, eventually, rejection, stopHarnesses } from '../support/master-harness.js';
import { channel, testPki } from '../support/security.js';
import { taskInfo, TestFramework } from '../support/test-framework.js';
import { holdsFor } from '../support/waits.js';

afterEach(stopHarnesses);

/** A principal that may register frameworks in any role and run tasks as nobody. */
const FRAMEWORK_RULES = [
  { allow: ['frameworks.register'] },
  { allow: ['tasks.run_as'], users: ['nobody'] },
];

async function withVictim(): Promise<{ h: MasterHarness; victim: TestFramework; mallory: string; aliceToken: string }> {
  const h = await MasterHarness.start();
  const agent = await h.agent({ autoRun: true });
  const aliceToken = await issueToken(h.master.httpAddress, 'alice', FRAMEWORK_RULES);
  const victim = h.track(await TestFramework.subscribe(h.address, { name: 'victim', credentials: channel({ token: aliceToken }), failoverTimeoutSeconds: 0 }));
  const offer = await victim.nextOffer();
  await victim.launch(offer, [taskInfo('t1', 'cpus:0.5;mem:64')], { refuseSeconds: 0 });
  await victim.waitForUpdate('t1', 'TASK_RUNNING');
  await agent.waitForLaunch('t1');
  const mallory = await issueToken(h.master.httpAddress, 'mallory', FRAMEWORK_RULES);
  return { h, victim, mallory, aliceToken };
}

describe('a framework id belongs to the principal that registered it', () => {
  it('another principal cannot subscribe as it: refused, and the framework keeps its subscription', async () => {
    const { h, victim, mallory } = await withVictim();
    const err = await rejection(TestFramework.subscribe(h.address, { id: victim.frameworkId, name: 'victim', credentials: channel({ token: mallory }) }));
    expect(err.code).toBe('AGORA_PERMISSION_DENIED');
    expect(err.message).toBe(`framework '${victim.frameworkId}' belongs to principal 'alice'; principal 'mallory' cannot act as it`);
    await holdsFor(100, () => {
      expect(victim.isClosed).toBe(false);
      expect(victim.events.find((e) => e.type === 'error')).toBeUndefined();
    }, "the victim's stream is not closed or errored");
    expect(h.state.framework(victim.frameworkId)).toMatchObject({ state: 'connected', principal: 'alice' });
    // Still its own: a call on its subscription works.
    await victim.revive();
  });

  it('another principal cannot kill, acknowledge, reconcile, update or tear it down by naming its id', async () => {
    const { h, victim, mallory } = await withVictim();
    const own = h.track(await TestFramework.subscribe(h.address, { name: 'mallory', credentials: channel({ token: mallory }) }));
    const as = { frameworkId: victim.frameworkId };
    const attempts: Array<[string, Promise<unknown>]> = [
      ['kill', own.kill('t1', '', as)],
      ['acknowledge', own.acknowledge({ agentId: 'x', taskId: 't1', uuid: 'u' }, as)],
      ['acknowledgeBatch', own.acknowledgeBatch([{ agentId: 'x', taskId: 't1', uuid: 'u' }], as)],
      ['reconcile', own.reconcile([], as)],
      ['updateFramework', own.updateFramework({ id: victim.frameworkId, name: 'victim', roles: ['evil'] })],
      ['teardown', own.teardown(victim.frameworkId)],
      ['revive', own.revive([], victim.frameworkId)],
    ];
    for (const [what, attempt] of attempts) {
      const err = await rejection(attempt);
      expect(err.code, what).toBe('AGORA_PERMISSION_DENIED');
      expect(err.message, what).toContain("belongs to principal 'alice'");
    }
    const record = h.state.framework(victim.frameworkId);
    expect(record?.roles).toEqual(['*']);
    expect(h.state.task(victim.frameworkId, 't1')?.state).toBe('TASK_RUNNING');
    expect(victim.updates('t1').map((s) => s.state)).toEqual(['TASK_RUNNING']);
  });

  it('calls from a replaced subscription are refused; the current one works; a call without the stream id names it', async () => {
    const { h, victim, aliceToken } = await withVictim();
    const stale = victim.streamId;
    const again = h.track(await TestFramework.subscribe(h.address, { id: victim.frameworkId, name: 'victim', credentials: channel({ token: aliceToken }), failoverTimeoutSeconds: 0 }));
    expect(again.streamId).not.toBe(stale);
    // The old subscription's calls (its stream id) no longer speak for the framework.
    const err = await rejection(victim.kill('t1'));
    expect(err.code).toBe('AGORA_FAILED_PRECONDITION');
    expect(err.field).toBe(STREAM_ID_METADATA_KEY);
    expect(h.state.task(victim.frameworkId, 't1')?.state).toBe('TASK_RUNNING');
    // A call that carries no stream id at all.
    const client = new SchedulerClient(h.address, channel({ token: aliceToken }));
    const bare = await rejection(unaryCall<Ack__Output>((cb) => client.revive({ frameworkId: victim.frameworkId, roles: [] }, cb)));
    client.close();
    expect(bare.code).toBe('AGORA_INVALID_ARGUMENT');
    expect(bare.field).toBe(STREAM_ID_METADATA_KEY);
    await again.revive();
  });
});

describe('registering and launching need permissions', () => {
  it('a framework registers only in roles it may', async () => {
    const h = await MasterHarness.start();
    const token = await issueToken(h.master.httpAddress, 'team-a', [{ allow: ['frameworks.register'], roles: ['team-a', 'team-a/*'] }]);
    const fw = h.track(await TestFramework.subscribe(h.address, { name: 'a', roles: ['team-a/batch'], credentials: channel({ token }) }));
    expect(h.state.framework(fw.frameworkId)?.principal).toBe('team-a');
    const err = await rejection(TestFramework.subscribe(h.address, { name: 'b', roles: ['team-a', 'prod'], credentials: channel({ token }) }));
    expect(err.code).toBe('AGORA_PERMISSION_DENIED');
    expect(err.message).toBe("principal 'team-a' lacks permission 'frameworks.register' on 'prod'");
    expect([...h.state.allFrameworks()].map((f) => f.info.name)).toEqual(['a']);
    // Nor may it claim to be someone else in its FrameworkInfo.
    const claimed = await rejection(TestFramework.subscribe(h.address, { name: 'c', roles: ['team-a'], credentials: channel({ token }), info: { principal: 'admin' } }));
    expect(claimed.field).toBe('frameworkInfo.principal');
  });

  it('tasks run as the framework user or nobody; other users and privileged containers need their permission', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent({ autoRun: true, resources: 'cpus:8;mem:8192' });
    const token = await issueToken(h.master.httpAddress, 'alice', FRAMEWORK_RULES);
    const fw = h.track(await TestFramework.subscribe(h.address, { name: 'f', credentials: channel({ token }), info: { user: '' } }));
    const offer = await fw.nextOffer();
    const docker = (extra: object) => ({ type: 'CONTAINER_DOCKER' as const, docker: { image: 'busybox', ...extra }, volumes: [] });
    await fw.launch(offer, [
      taskInfo('plain', 'cpus:0.1;mem:32'),
      taskInfo('as-root', 'cpus:0.1;mem:32', { command: { value: 'id', user: 'root' } }),
      taskInfo('as-uid-0', 'cpus:0.1;mem:32', { command: { value: 'id', user: '0' } }),
      taskInfo('privileged', 'cpus:0.1;mem:32', { container: docker({ privileged: true }) }),
      taskInfo('host-mount', 'cpus:0.1;mem:32', { container: { ...docker({}), volumes: [{ containerPath: '/host', hostPath: '/', mode: 'RW' }] } }),
      taskInfo('escape', 'cpus:0.1;mem:32', { container: { ...docker({}), volumes: [{ containerPath: '/up', hostPath: '../..', mode: 'RO' }] } }),
      taskInfo('cap-add', 'cpus:0.1;mem:32', { container: docker({ parameters: [{ key: 'cap-add', value: 'SYS_ADMIN' }] }) }),
    ]);
    const launch = await agent.waitForLaunch('plain');
    expect(launch.launch?.tasks.map((t) => t.taskId)).toEqual(['plain']);
    // The user it runs as is decided (and authorised) by the master, and is what the agent gets.
    expect(launch.launch?.tasks[0]?.command?.user).toBe('nobody');
    for (const [id, permission, object] of [
      ['as-root', 'tasks.run_as', 'root'],
      ['as-uid-0', 'tasks.run_as', 'root'],
      ['privileged', 'tasks.privileged', undefined],
      ['host-mount', 'tasks.privileged', undefined],
      ['escape', 'tasks.privileged', undefined],
      ['cap-add', 'tasks.privileged', undefined],
    ] as const) {
      const status = await fw.waitForUpdate(id, 'TASK_ERROR');
      expect(status.reason, id).toBe('REASON_TASK_UNAUTHORIZED');
      expect(status.message, id).toBe(`principal 'alice' lacks permission '${permission}'${object ? ` on '${object}'` : ''}`);
      expect(h.state.task(fw.frameworkId, id), id).toBeUndefined();
    }
    h.invariant();
  });
});

describe('who is calling', () => {
  it('no credentials, a token that is not one, another CA’s certificate, or plaintext: nobody gets in', async () => {
    const h = await MasterHarness.start();
    const pki = testPki();
    const cases: Array<[string, grpc.ChannelCredentials, string]> = [
      ['no credentials', channel({}), 'AGORA_UNAUTHENTICATED'],
      ['garbage token', channel({ token: 'letmein' }), 'AGORA_UNAUTHENTICATED'],
      ['forged token', channel({ token: `agora_${'0'.repeat(16)}_${'1'.repeat(64)}` }), 'AGORA_UNAUTHENTICATED'],
      ['another CA', channel({ tls: pki.foreignTls }), 'AGORA_UNAUTHENTICATED'],
      ['plaintext', grpc.credentials.createInsecure(), 'AGORA_UNAVAILABLE'],
    ];
    for (const [what, credentials, code] of cases) {
      const err = await rejection(TestFramework.subscribe(h.address, { name: what, credentials }));
      expect(err.code, what).toBe(code);
    }
    const foreign = await rejection(TestFramework.subscribe(h.address, { name: 'x', credentials: channel({ tls: pki.foreignTls }) }));
    expect(foreign.message).toContain("is not signed by this cluster's CA");
    expect(h.state.frameworkCount()).toBe(0);
  });

  it('a revoked token stops working at once, for new subscriptions and for calls', async () => {
    const h = await MasterHarness.start();
    await h.agent();
    const token = await issueToken(h.master.httpAddress, 'temp', FRAMEWORK_RULES);
    const fw = h.track(await TestFramework.subscribe(h.address, { name: 'temp', credentials: channel({ token }) }));
    await fw.revive();
    await revokeToken(h.master.httpAddress, token);
    const call = await rejection(fw.revive());
    expect(call.code).toBe('AGORA_UNAUTHENTICATED');
    expect(call.message).toBe('the bearer token is not valid (unknown, revoked or mistyped)');
    const sub = await rejection(TestFramework.subscribe(h.address, { name: 'temp2', credentials: channel({ token }) }));
    expect(sub.code).toBe('AGORA_UNAUTHENTICATED');
  });

  it('a client certificate holding the admin policy is a principal like a token', async () => {
    const h = await MasterHarness.start();
    await h.agent();
    const fw = h.track(await TestFramework.subscribe(h.address, { name: 'by-cert', credentials: channel({ tls: testPki().adminCertTls }) }));
    await eventually(() => h.state.framework(fw.frameworkId)?.principal === 'admin-cert');
    await fw.nextOffer();
  });
});
