// Frameworks against a real master over loopback gRPC: subscription and the registry, heartbeats,
// re-subscription within the failover timeout, a second stream replacing the first, removal by
// failover timeout or teardown, roles and updateFramework.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { eventually, MasterHarness, rejection, stopHarnesses } from '../support/master-harness.js';
import { TestFramework, taskInfo } from '../support/test-framework.js';

afterEach(stopHarnesses);

describe('subscription', () => {
  it('assigns an id, persists the framework and answers SUBSCRIBED with the heartbeat interval', async () => {
    const h = await MasterHarness.start();
    const fw = await h.framework({ name: 'alpha', roles: ['web'], failoverTimeoutSeconds: 30 });
    const subscribed = fw.events.items[0]?.subscribed;
    expect(subscribed?.frameworkId).toBe(fw.frameworkId);
    expect(subscribed?.heartbeatIntervalSeconds).toBe(0.2);
    expect(subscribed?.masterInfo?.grpcAddress).toBe(h.address);
    const entry = await h.store.getJson<{ id: string; failoverTimeoutMs: number; info: { name: string; roles: string[] } }>(`/default/registry/frameworks/${fw.frameworkId}`);
    expect(entry.value).toMatchObject({ id: fw.frameworkId, failoverTimeoutMs: 30_000, info: { name: 'alpha', roles: ['web'] } });
    expect(h.state.framework(fw.frameworkId)?.state).toBe('connected');
  });

  it('sends heartbeats at the advertised interval', async () => {
    // The master's clock is fake: a heartbeat is due at each 200 ms it moves, and at no other time.
    const clock = new FakeClock(Date.now()); // now: certificates are checked against it
    const h = await MasterHarness.start({ clock });
    const fw = await h.framework();
    const start = fw.events.mark();
    const heartbeats = (): number => fw.events.items.filter((e, i) => i >= start && e.type === 'heartbeat').length;
    for (let n = 1; n <= 5; n++) {
      clock.advance(199);
      clock.advance(1);
      await eventually(() => expect(heartbeats()).toBe(n), { what: `heartbeat ${n}` });
    }
    // Over 1 s of the master's time: five, one per interval, none in between.
    expect(heartbeats()).toBe(5);
  });

  it('offers to a MULTI_ROLE framework name the role of each offer', async () => {
    const h = await MasterHarness.start();
    await h.agent({ resources: 'cpus:1;mem:256;cpus(b):1;mem(b):256' });
    const fw = await h.framework({ roles: ['a', 'b'], capabilities: ['MULTI_ROLE'] });
    await eventually(() => expect(new Set(fw.offersSeen().map((o) => o.allocationRole))).toEqual(new Set(['a', 'b'])));
    for (const o of fw.offersSeen()) {
      for (const r of o.resources) if (r.role && r.role !== '*') expect(r.role).toBe(o.allocationRole);
    }
    h.invariant();
  });
});

describe('failover', () => {
  it('re-subscribing with the id within the failover timeout keeps the tasks', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent();
    const fw = await h.framework({ name: 'svc', failoverTimeoutSeconds: 5, autoAck: true });
    const offer = await fw.nextOffer();
    await fw.launch(offer, [taskInfo('t1', 'cpus:1;mem:256')]);
    await agent.waitForLaunch('t1');
    agent.update(fw.frameworkId, 't1', 'TASK_RUNNING');
    await fw.waitForUpdate('t1', 'TASK_RUNNING');

    await fw.close();
    await eventually(() => expect(h.state.framework(fw.frameworkId)?.state).toBe('disconnected'));
    // While it is away, updates are not lost: the agent keeps resending until acknowledged.
    const whileAway = agent.update(fw.frameworkId, 't1', 'TASK_RUNNING', { healthy: true });
    await eventually(() => expect(h.state.task(fw.frameworkId, 't1')?.status.healthy).toBe(true), { what: 'the master to take the update' });
    expect(h.state.task(fw.frameworkId, 't1')?.state).toBe('TASK_RUNNING');
    h.invariant();

    const again = await h.framework({ name: 'svc', id: fw.frameworkId, failoverTimeoutSeconds: 5, autoAck: true });
    expect(again.frameworkId).toBe(fw.frameworkId);
    expect(h.state.frameworkCount()).toBe(1);
    expect(h.state.framework(fw.frameworkId)?.reregisteredAtMs).toBeDefined();
    await again.reconcile();
    expect((await again.waitForUpdate('t1')).state).toBe('TASK_RUNNING');
    agent.resendUnacknowledged();
    await agent.waitForAck(whileAway.uuid as string);
    expect(agent.messages.find((m) => m.type === 'shutdownFramework')).toBeUndefined();
    h.invariant();
  });

  it('a second Subscribe with the same id replaces the first stream, which gets ERROR and ends', async () => {
    const h = await MasterHarness.start();
    await h.agent();
    const first = await h.framework({ name: 'svc' });
    await first.nextOffer();
    const second = await h.framework({ name: 'svc', id: first.frameworkId });
    const error = await first.waitFor((e) => e.type === 'error', { what: 'ERROR on the replaced stream' });
    expect(error.error?.message).toMatch(/replaced/);
    await first.closed;
    expect(first.isClosed).toBe(true);
    // Offers made to the first stream were rescinded; the second gets new ones.
    await second.nextOffer();
    expect(h.state.framework(first.frameworkId)?.state).toBe('connected');
    const mark = second.events.mark();
    await second.waitFor((e) => e.type === 'heartbeat', { since: mark });
    h.invariant();
  });

  it('removes the framework when the failover timeout expires: tasks killed, agent told, id remembered', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent();
    const fw = await h.framework({ name: 'short', failoverTimeoutSeconds: 0.3, autoAck: true });
    const offer = await fw.nextOffer();
    await fw.launch(offer, [taskInfo('t1', 'cpus:1;mem:256')]);
    await agent.waitForLaunch('t1');
    agent.update(fw.frameworkId, 't1', 'TASK_RUNNING');
    await fw.waitForUpdate('t1', 'TASK_RUNNING');

    const closedAt = Date.now();
    await fw.close();
    const shutdown = await agent.waitFor((m) => m.type === 'shutdownFramework', { what: 'shutdownFramework', timeoutMs: 3000 });
    expect(shutdown.shutdownFramework?.frameworkId).toBe(fw.frameworkId);
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(250);
    expect(h.state.knowsFramework(fw.frameworkId)).toBe(false);
    expect(h.state.wasRemoved(fw.frameworkId)).toBe(true);
    expect(h.state.liveTaskCount()).toBe(0);
    expect(h.state.allocator.frameworks().map((f) => f.id)).not.toContain(fw.frameworkId);
    expect(h.taskAllocation(agent.agentId).isEmpty()).toBe(true);
    await eventually(async () => expect(await h.store.exists(`/default/registry/removed-frameworks/${fw.frameworkId}`)).toBeDefined());
    expect(await h.store.exists(`/default/registry/frameworks/${fw.frameworkId}`)).toBeUndefined();
    h.invariant();

    const err = await rejection(TestFramework.subscribe(h.address, { name: 'short', id: fw.frameworkId }));
    expect(err).toMatchObject({ code: 'AGORA_FAILED_PRECONDITION', field: 'frameworkInfo.id' });
    expect((await rejection(fw.revive())).code).toBe('AGORA_FAILED_PRECONDITION');
  });

  it('a framework with failover timeout 0 is removed as soon as it disconnects', async () => {
    const h = await MasterHarness.start();
    const fw = await h.framework({ failoverTimeoutSeconds: 0 });
    await fw.close();
    await eventually(() => expect(h.state.wasRemoved(fw.frameworkId)).toBe(true), { timeoutMs: 1000 });
  });

  it('teardown kills the tasks, tells the agent, ends the stream and forbids the id', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent();
    const fw = await h.framework({ autoAck: true });
    const offer = await fw.nextOffer();
    await fw.launch(offer, [taskInfo('t1'), taskInfo('t2')]);
    await agent.waitForLaunch('t1');
    agent.update(fw.frameworkId, 't1', 'TASK_RUNNING');
    await fw.waitForUpdate('t1', 'TASK_RUNNING');
    const other = await h.framework({ name: 'other' });

    await fw.teardown();
    expect((await agent.waitFor((m) => m.type === 'shutdownFramework')).shutdownFramework?.frameworkId).toBe(fw.frameworkId);
    const error = await fw.waitFor((e) => e.type === 'error');
    expect(error.error?.message).toMatch(/teardown/);
    await fw.closed;
    expect(h.state.liveTaskCount()).toBe(0);
    expect(h.state.knowsFramework(fw.frameworkId)).toBe(false);
    h.invariant();
    // What it held goes to the others.
    await other.nextOffer({ timeoutMs: 2000 });
    h.invariant();
    const err = await rejection(TestFramework.subscribe(h.address, { id: fw.frameworkId }));
    expect(err).toMatchObject({ code: 'AGORA_FAILED_PRECONDITION', field: 'frameworkInfo.id' });
    // Updates for the removed framework's tasks are acknowledged by the master itself.
    const late = agent.update(fw.frameworkId, 't1', 'TASK_KILLED');
    await agent.waitForAck(late.uuid as string);
  });

  it('calls from a disconnected framework fail with FAILED_PRECONDITION, from an unknown one with NOT_FOUND', async () => {
    const h = await MasterHarness.start();
    const fw = await h.framework({ failoverTimeoutSeconds: 60 });
    const id = fw.frameworkId;
    await fw.close();
    await eventually(() => expect(h.state.framework(id)?.state).toBe('disconnected'));
    const probe = h.track(await TestFramework.subscribe(h.address, { name: 'probe' }));
    const err = await rejection(probe.revive([], id));
    expect(err).toMatchObject({ code: 'AGORA_FAILED_PRECONDITION', field: 'frameworkId' });
    expect((await rejection(probe.suppress([], 'never-was'))).code).toBe('AGORA_NOT_FOUND');
    expect((await rejection(probe.teardown(''))).field).toBe('frameworkId');
  });
});

describe('updateFramework', () => {
  it('changes roles: offers follow the new role, and the registry has it', async () => {
    const h = await MasterHarness.start();
    await h.agent({ resources: 'cpus:1;mem:256;cpus(new):1;mem(new):256' });
    const fw = await h.framework({ roles: ['old'] });
    const [first] = await fw.nextOffers();
    expect(first?.allocationRole).toBe('old');
    await fw.updateFramework({ roles: ['new'], failoverTimeoutSeconds: 42 });
    await fw.waitFor((e) => e.rescind?.offerId === first?.id, { what: 'RESCIND of the old role\'s offer' });
    const [offer] = await fw.nextOffers();
    expect(offer?.allocationRole).toBe('new');
    const entry = await h.store.getJson<{ failoverTimeoutMs: number; info: { roles: string[] } }>(`/default/registry/frameworks/${fw.frameworkId}`);
    expect(entry.value).toMatchObject({ failoverTimeoutMs: 42_000, info: { roles: ['new'] } });
    h.invariant();
  });

  it('rejects bad updates naming the field', async () => {
    const h = await MasterHarness.start();
    const fw = await h.framework();
    expect(await rejection(fw.updateFramework({ roles: ['bad role'] }))).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'frameworkInfo.roles[0]' });
    expect(await rejection(fw.updateFramework({ name: '' }))).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'frameworkInfo.name' });
    expect(await rejection(fw.updateFramework({ failoverTimeoutSeconds: -1 }))).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'frameworkInfo.failoverTimeoutSeconds' });
    expect(await rejection(fw.updateFramework({ roles: ['*'] }, ['other']))).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'suppressedRoles[0]' });
  });
});
