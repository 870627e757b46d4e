import { afterEach, describe, expect, it } from 'vitest';
import { FrameworkDriver, FrameworkRemovedError, FrameworkState, Resources, electFrameworkLeader, openStore, resourcesToWire, type Offer, type TaskStatus } from '../../sdk/index.js';
import { createLogger } from '../../core/logger.js';
import { MasterHarness, eventually, stopHarnesses } from '../support/master-harness.js';
import { acknowledgementsIn, reportedTask } from '../support/test-agent.js';
import { freePort } from '../support/ports.js';
import { driverAccess } from '../support/security.js';
import { holdsFor, pace } from '../support/waits.js';

const drivers: FrameworkDriver[] = [];

/** Wait until `fn` returns something (not undefined / false). */
function found<T>(fn: () => T | undefined | false, options: { timeoutMs?: number; what?: string } = {}): Promise<T> {
  return eventually(() => {
    const value = fn();
    if (value === undefined || value === false) throw new Error('not yet');
    return value;
  }, options);
}
afterEach(async () => {
  await Promise.allSettled(drivers.splice(0).map((d) => d.stop()));
  await stopHarnesses();
});

function task(taskId: string, agentId: string) {
  return { taskId, name: taskId, agentId, resources: resourcesToWire(Resources.parse('cpus:0.5;mem:64')), command: { shell: true, value: 'sleep 60' } };
}

/** A driver that records what it sees and launches one task per wanted id on the first offers. */
async function startDriver(master: string, wanted: string[], extra: Partial<Parameters<typeof FrameworkDriver.start>[0]> = {}) {
  const updates: TaskStatus[] = [];
  const offers: Offer[] = [];
  const handlerDone: Array<{ uuid: string; at: number }> = [];
  const subscribed: Array<{ frameworkId: string; resubscribed: boolean }> = [];
  const driver: FrameworkDriver = await FrameworkDriver.start(
    { master, framework: { name: 'sdk-test', failoverTimeoutSeconds: 60 }, reconnect: { initialMs: 50, maxMs: 200 }, reconcile: { initialMs: 100, maxMs: 400 }, ...driverAccess(), ...extra },
    {
      subscribed: (_driver, s) => void subscribed.push(s),
      offers: async (_driver, list) => {
        offers.push(...list);
        for (const offer of list) {
          const ids = wanted.splice(0);
          if (ids.length > 0) await driver.launch([offer], ids.map((id) => task(id, offer.agentId)));
          else await driver.decline([offer], { refuseSeconds: 60 });
        }
      },
      update: async (_driver, status) => {
        updates.push(status);
        await pace(50, 'a slow handler: the ack must wait for it');
        handlerDone.push({ uuid: status.uuid, at: Date.now() });
      },
    },
  );
  drivers.push(driver);
  return { driver, updates, offers, handlerDone, subscribed };
}

describe('FrameworkDriver against a real master', () => {
  it('subscribes, launches on an offer, and acknowledges each update after its handler resolves', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent({ autoRun: true });
    const { driver, updates, handlerDone } = await startDriver(h.address, ['t1']);
    expect(driver.state).toBe('SUBSCRIBED');
    expect(driver.frameworkId).toMatch(/F\d+$/);
    const running = await found(() => updates.find((u) => u.taskId === 't1' && u.state === 'TASK_RUNNING'), { what: 't1 RUNNING' });
    const ack = await agent.waitForAck(running.uuid);
    expect(acknowledgementsIn(ack).find((a) => a.uuid === running.uuid)?.taskId).toBe('t1');
    const done = handlerDone.find((d) => d.uuid === running.uuid);
    expect(done).toBeDefined();
    h.invariant();
  });

  it('does not acknowledge in manual mode until asked', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent({ autoRun: true });
    const { driver, updates } = await startDriver(h.address, ['m1'], { autoAcknowledge: false });
    const running = await found(() => updates.find((u) => u.taskId === 'm1' && u.state === 'TASK_RUNNING'));
    await agent.messages.expectNone((m) => acknowledgementsIn(m).some((a) => a.uuid === running.uuid), 300);
    await driver.acknowledge(running);
    await agent.waitForAck(running.uuid);
  });

  it('rejects bad calls with typed errors', async () => {
    const h = await MasterHarness.start();
    const { driver } = await startDriver(h.address, []);
    await expect(driver.decline(['no-such-offer', 'no-such-offer'])).rejects.toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'offerIds[1]' });
    await driver.decline(['no-such-offer']); // no longer outstanding: a no-op, as in Mesos
    await expect(driver.revive(['not-my-role'])).rejects.toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'roles[0]' });
    await expect(driver.launch(['x'], [])).rejects.toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'tasks' });
  });

  it('reconnects after the master restarts, resubscribes with its id, and reconciles its running task', async () => {
    const port = await freePort();
    const h = await MasterHarness.start({ store: 'file', master: { grpcPort: port, agentReregisterTimeout: '20s' } });
    const agent = await h.agent({ autoRun: true });
    const { driver, updates, subscribed } = await startDriver(h.address, ['r1']);
    const frameworkId = driver.frameworkId;
    const running = await found(() => updates.find((u) => u.taskId === 'r1' && u.state === 'TASK_RUNNING'));
    await agent.waitForAck(running.uuid);
    const tracked = [...agent.tasks.values()].find((t) => t.task.taskId === 'r1');
    expect(tracked).toBeDefined();
    const agentId = agent.agentId;
    await agent.close();
    const before = updates.length;
    await h.restart();
    // The agent comes back with its task (as a real agent does after a master failover).
    // (gRPC may refuse the first try while its channel to the old master backs off: retry, as an agent does.)
    await eventually(() => h.agent({ agentId, tasks: [reportedTask(frameworkId ?? '', tracked!.task, 'TASK_RUNNING', agentId)], autoRun: true }), { timeoutMs: 8000, what: 'agent re-registered' });
    await found(() => subscribed.find((s) => s.resubscribed), { timeoutMs: 8000, what: 'resubscribed' });
    expect(driver.frameworkId).toBe(frameworkId);
    // Reconciliation after resubscription confirms the task is still RUNNING.
    await found(() => updates.slice(before).find((u) => u.taskId === 'r1' && u.state === 'TASK_RUNNING' && u.reason === 'REASON_RECONCILIATION'), { timeoutMs: 8000, what: 'reconciled r1' });
    expect(h.state.task(frameworkId ?? '', 'r1')?.state).toBe('TASK_RUNNING');
  });

  it('does not hand the framework offers still queued when their master went away', async () => {
    const port = await freePort();
    const h = await MasterHarness.start({ store: 'file', master: { grpcPort: port } });
    const first = await h.agent();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: string[][] = [];
    const launches: unknown[] = [];
    const logged: string[] = [];
    const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logged.push(String(JSON.parse(line).msg)) } });
    const driver: FrameworkDriver = await FrameworkDriver.start(
      { master: h.address, framework: { name: 'slow-offers', failoverTimeoutSeconds: 60 }, reconnect: { initialMs: 50, maxMs: 200 }, logger, ...driverAccess() },
      {
        offers: async (_driver, list) => {
          seen.push(list.map((o) => o.agentId));
          await gate; // a busy framework: later events wait in the driver's queue
          for (const offer of list) launches.push(await driver.launch([offer], [task(`t-${offer.id}`, offer.agentId)]).then(() => 'launched', (err: unknown) => err));
        },
      },
    );
    drivers.push(driver);
    await found(() => seen.length === 1, { what: 'the first offers' });
    // A second agent: its offer is sent while the framework is still busy with the first.
    const second = await h.agent();
    await found(() => [...h.state.outstandingOffers()].some((o) => o.agentId === second.agentId), { what: 'an offer for the second agent' });
    // Nothing shows the offer queued inside the driver; it is on its way on loopback.
    await pace(100, 'the offer reaches the driver and is queued there');
    await h.restart(); // the subscription, and every offer it carried, ends
    await found(() => driver.state !== 'SUBSCRIBED', { what: 'the driver disconnected' });
    release();
    // The offers it was handling when the master went: the framework learns by a rejection.
    await found(() => launches.length >= 1, { what: 'the first offers handled' });
    expect(launches[0]).toMatchObject({ code: 'AGORA_UNAVAILABLE' });
    // Events are handled in order, so the queued offers were dealt with before the resubscription.
    await found(() => driver.state === 'SUBSCRIBED', { timeoutMs: 8000, what: 'resubscribed' });
    // The second agent's offer came on the closed subscription: dropped, never handed to the framework.
    expect(logged).toContain('offers from a closed subscription dropped');
    expect(seen).toEqual([[first.agentId]]);
  });

  it('stops for good when the framework is torn down', async () => {
    const h = await MasterHarness.start();
    const errors: string[] = [];
    const driver = await FrameworkDriver.start({ master: h.address, framework: { name: 'doomed' }, ...driverAccess() }, { error: (_driver, e) => void errors.push(e.message) });
    drivers.push(driver);
    await driver.teardown();
    await found(() => driver.state === 'FAILED', { what: 'driver FAILED' });
    expect(errors[0]).toMatch(/removed/);
    const again = FrameworkDriver.start({ master: h.address, framework: { name: 'doomed', id: driver.frameworkId ?? '' }, reconnect: { initialMs: 20, maxMs: 50 }, ...driverAccess() }, {}, { waitSubscribedMs: 2000 });
    await expect(again).rejects.toBeInstanceOf(FrameworkRemovedError);
  });
});

describe('a driver gated by its leader\u2019s lease (mayConnect)', () => {
  it('makes no subscription while its lease is in doubt, so it cannot take the framework from the one that leads', async () => {
    // The chaos run's case: a frameworks host riding out a lost ZooKeeper connection re-subscribed
    // its frameworks with their ids while another host already led, and the leader's subscriptions
    // were replaced ("framework failed over"): cron and services stopped for good.
    const h = await MasterHarness.start();
    const errors: string[] = [];
    const leader = await FrameworkDriver.start({ master: h.address, framework: { name: 'gated' }, ...driverAccess() }, { error: (_driver, e) => void errors.push(e.message) });
    drivers.push(leader);
    let vouched = false;
    const stale = FrameworkDriver.start(
      { master: h.address, framework: { name: 'gated', id: leader.frameworkId ?? '' }, reconnect: { initialMs: 20, maxMs: 50 }, mayConnect: () => vouched, ...driverAccess() },
      {},
      { waitSubscribedMs: 10_000 },
    );
    await holdsFor(500, () => {
      expect(leader.state).toBe('SUBSCRIBED');
      expect(errors).toEqual([]);
    }, 'the gated driver does not replace the leader');
    // Once its lease is vouched for again it may subscribe, and then it does replace the other.
    vouched = true;
    drivers.push(await stale);
    await found(() => errors.length > 0, { what: 'the first subscription replaced' });
    expect(errors[0]).toMatch(/failed over/);
  });
});

describe('a refusal while handlers are busy', () => {
  it('stops the driver for good, before the stream\u2019s end can make it subscribe again and take the framework back', async () => {
    // The chaos run's case: a handler was busy when another subscription with the framework's id
    // replaced this one. The stream's end was handled at once and the refusal queued behind the
    // handler, so the driver subscribed again first — taking the framework from the other — and
    // then stopped on the stale refusal, leaving nobody subscribed.
    const h = await MasterHarness.start();
    await h.agent({ autoRun: true });
    const errors: string[] = [];
    let release: () => void = () => undefined;
    const busy = new Promise<void>((resolve) => (release = resolve));
    let offered = 0;
    const first = await FrameworkDriver.start(
      { master: h.address, framework: { name: 'busy-refusal', failoverTimeoutSeconds: 60 }, reconnect: { initialMs: 20, maxMs: 50 }, ...driverAccess() },
      {
        error: (_driver, e) => void errors.push(e.message),
        offers: async () => {
          offered += 1;
          if (offered === 1) await busy;
        },
      },
    );
    drivers.push(first);
    await found(() => offered > 0, { what: 'the first offers (the handler now busy)' });
    const otherErrors: string[] = [];
    const other = await FrameworkDriver.start({ master: h.address, framework: { name: 'busy-refusal', id: first.frameworkId ?? '' }, ...driverAccess() }, { error: (_driver, e) => void otherErrors.push(e.message) });
    drivers.push(other);
    await found(() => first.state === 'FAILED', { what: 'the replaced driver stopped' });
    expect(errors).toEqual([expect.stringMatching(/failed over/)]);
    release();
    // Well past its reconnect backoff: it has not subscribed again, and the other keeps the framework.
    await holdsFor(300, () => {
      expect(first.state).toBe('FAILED');
      expect(other.state).toBe('SUBSCRIBED');
      expect(otherErrors).toEqual([]);
    }, 'the replaced driver does not subscribe again');
  });
});

describe('framework state and leadership', () => {
  it('keeps versioned JSON with compare-and-set, lists and watches', async () => {
    const store = await openStore('memory:');
    const state = new FrameworkState(store, 'c1', 'services');
    expect(await state.get('specs/web')).toBeUndefined();
    expect(await state.set('specs/web', { instances: 3 })).toBe(0);
    const got = await state.get<{ instances: number }>('specs/web');
    expect(got).toEqual({ value: { instances: 3 }, version: 0 });
    expect(await state.compareAndSet('specs/web', { instances: 4 }, 0)).toBe(1);
    await expect(state.compareAndSet('specs/web', { instances: 5 }, 0)).rejects.toMatchObject({ code: 'AGORA_BAD_VERSION' });
    expect((await state.get('specs/web'))?.value).toEqual({ instances: 4 });
    await state.set('specs/api', {});
    expect(await state.list('specs')).toEqual(['api', 'web']);
    const seen: unknown[] = [];
    const stop = state.watch('specs/web', (v) => seen.push(v?.value));
    await state.set('specs/web', { instances: 9 });
    await found(() => seen.some((v) => (v as { instances?: number } | undefined)?.instances === 9));
    stop();
    await expect(state.transaction([{ op: 'create', key: 'specs/db', value: 1 }, { op: 'check', key: 'specs/web', version: 0 }])).rejects.toMatchObject({ code: 'AGORA_BAD_VERSION' });
    expect(await state.get('specs/db')).toBeUndefined();
    await expect(state.get('../escape')).rejects.toThrow(/not a valid state key/);
    await store.close();
  });

  it('elects one active instance and hands over when it resigns', async () => {
    const name = `mem-${Date.now()}`;
    const a = await openStore(`memory://${name}`);
    const b = await openStore(`memory://${name}`);
    const events: string[] = [];
    const first = await electFrameworkLeader({ store: a, cluster: 'c1', framework: 'cron', data: { api: 'a' }, onElected: () => void events.push('a elected'), onLost: () => void events.push('a lost') });
    const second = await electFrameworkLeader({ store: b, cluster: 'c1', framework: 'cron', data: { api: 'b' }, onElected: () => void events.push('b elected'), onLost: () => void events.push('b lost') });
    await found(() => first.isLeader);
    expect(second.isLeader).toBe(false);
    expect(second.leader?.data).toEqual({ api: 'a' });
    await first.resign();
    await found(() => second.isLeader, { what: 'b leads' });
    expect(events).toEqual(['a elected', 'a lost', 'b elected']);
    await second.resign();
    await a.close();
    await b.close();
  });
});
