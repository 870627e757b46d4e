// driver.recover(): a framework restarted with what its own state remembers learns which of those
// tasks still run, which ended while it was away (or never existed), and which of its tasks the
// state forgot — against a real master and agent — with offers held until it settles (or not), a
// typed timeout when the master cannot answer yet, and bad input refused before anything changes.
import { afterEach, describe, expect, it } from 'vitest';
import {
  FailedPreconditionError,
  FrameworkDriver,
  InvalidArgumentError,
  RecoveryTimeoutError,
  Resources,
  resourcesToWire,
  silentLogger,
  type FrameworkHandlers,
  type Offer,
  type TaskSpec,
  type TaskStatus,
} from '../../sdk/index.js';
import { MasterHarness, eventually, rejection, stopHarnesses } from '../support/master-harness.js';
import { freePort } from '../support/ports.js';
import { driverAccess } from '../support/security.js';
import { reportedTask, type TestAgent } from '../support/test-agent.js';

const drivers: FrameworkDriver[] = [];
afterEach(async () => {
  await Promise.allSettled(drivers.splice(0).map((d) => d.stop()));
  await stopHarnesses();
});

const NAME = 'recovering';

function task(taskId: string, agentId: string): TaskSpec {
  return { taskId, name: taskId, agentId, resources: resourcesToWire(Resources.parse('cpus:0.1;mem:16')), command: { shell: true, value: 'sleep 60' } };
}

async function start(h: MasterHarness, handlers: FrameworkHandlers, id?: string): Promise<FrameworkDriver> {
  const driver = await FrameworkDriver.start(
    {
      master: h.address,
      framework: { name: NAME, failoverTimeoutSeconds: 60, capabilities: ['PARTITION_AWARE'], ...(id ? { id } : {}) },
      reconnect: { initialMs: 20, maxMs: 100 },
      reconcile: { initialMs: 100, maxMs: 400 },
      logger: silentLogger(),
      ...driverAccess(),
    },
    handlers,
  );
  drivers.push(driver);
  return driver;
}

/** A framework's first life: launch `taskIds` on the agent, see them RUNNING and acknowledged, then stop. */
async function firstLife(h: MasterHarness, agent: TestAgent, taskIds: string[]): Promise<string> {
  const offers: Offer[] = [];
  const updates: TaskStatus[] = [];
  const driver = await start(h, { offers: (_d, list) => void offers.push(...list), update: (_d, s) => void updates.push(s) });
  const offer = await eventually(() => offers[0] ?? Promise.reject(new Error('no offer yet')));
  await driver.launch([offer], taskIds.map((id) => task(id, agent.agentId)), { refuseSeconds: 0 });
  await eventually(() => expect(taskIds.filter((id) => updates.some((u) => u.taskId === id && u.state === 'TASK_RUNNING'))).toEqual(taskIds));
  await eventually(() => expect([...agent.tasks.values()].filter((t) => t.unacknowledged.length > 0)).toEqual([]));
  const frameworkId = driver.frameworkId ?? '';
  await driver.stop();
  await eventually(() => expect(h.state.framework(frameworkId)?.state).toBe('disconnected'));
  return frameworkId;
}

/** The second life, whose `subscribed` handler waits for `gate`: offers sent meanwhile queue up in the driver. */
async function secondLife(h: MasterHarness, frameworkId: string, gate: Promise<void>) {
  const deliveries: Array<{ ids: string[]; afterRecover: boolean }> = [];
  const updates: TaskStatus[] = [];
  const flags = { recovered: false };
  const driver = await start(
    h,
    {
      subscribed: () => gate,
      offers: (_d, list) => void deliveries.push({ ids: list.map((o) => o.id), afterRecover: flags.recovered }),
      update: (_d, s) => void updates.push(s),
    },
    frameworkId,
  );
  // Offers the master has sent to this subscription: on their way to, or queued in, the driver.
  const sent = await eventually(() => {
    const ids = [...h.state.outstandingOffers()].filter((o) => o.frameworkId === frameworkId).map((o) => o.id);
    return ids.length > 0 ? ids : Promise.reject(new Error('no offer sent yet'));
  });
  return { driver, deliveries, updates, flags, sent };
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('driver.recover()', () => {
  it('reports what runs, what ended while it was away or never existed, and what its state forgot; offers wait until it settles', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent({ autoRun: true });
    const frameworkId = await firstLife(h, agent, ['t1', 't2', 't3']);
    // While the framework is away, t2 finishes.
    agent.update(frameworkId, 't2', 'TASK_FINISHED');
    await eventually(() => expect(h.state.task(frameworkId, 't2')?.state ?? 'ended').not.toBe('TASK_RUNNING'));

    const g = gate();
    const second = await secondLife(h, frameworkId, g.promise);
    const recovering = second.driver.recover([{ taskId: 't1', agentId: agent.agentId }, { taskId: 't2', agentId: agent.agentId }, { taskId: 'made-up' }]);
    g.open();
    const report = await recovering;
    second.flags.recovered = true;

    expect(report.running.map((s) => [s.taskId, s.state])).toEqual([['t1', 'TASK_RUNNING']]);
    expect(report.ended.map((s) => [s.taskId, s.state])).toEqual([
      ['t2', 'TASK_FINISHED'],
      ['made-up', 'TASK_GONE'],
    ]);
    expect(report.forgotten.map((s) => [s.taskId, s.state])).toEqual([['t3', 'TASK_RUNNING']]);
    // None of the driver's own probes shows: not in the report, not in the update handler.
    expect(second.updates.filter((u) => u.taskId.startsWith('agora-recovery-probe.'))).toEqual([]);
    // The update handler saw the answers as usual (t2's end among them).
    await eventually(() => expect(second.updates.some((u) => u.taskId === 't2' && u.state === 'TASK_FINISHED')).toBe(true));
    // The offers sent before recover() settled were held, then delivered after it, none before.
    await eventually(() => expect(second.deliveries.flatMap((d) => d.ids)).toEqual(expect.arrayContaining(second.sent)));
    expect(second.deliveries.filter((d) => !d.afterRecover)).toEqual([]);
    // What runs stays tracked for reconciliation (the forgotten t3 too: the driver heard it is live); what ended does not.
    await eventually(() => expect(second.driver.reconciler.known().map((t) => t.taskId).sort()).toEqual(['t1', 't3']));
  });

  it('with holdOffers false, hands offers to the handler while it runs', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent({ autoRun: true });
    const frameworkId = await firstLife(h, agent, ['t1']);
    const g = gate();
    const second = await secondLife(h, frameworkId, g.promise);
    const recovering = second.driver.recover([{ taskId: 't1', agentId: agent.agentId }], { holdOffers: false });
    g.open();
    const report = await recovering;
    second.flags.recovered = true;
    expect(report.running.map((s) => s.taskId)).toEqual(['t1']);
    expect(second.deliveries.filter((d) => !d.afterRecover).flatMap((d) => d.ids)).toEqual(expect.arrayContaining(second.sent));
  });

  it('rejects with RecoveryTimeoutError naming the tasks the master cannot answer yet, and keeps reconciling them', async () => {
    const port = await freePort();
    const h = await MasterHarness.start({ store: 'file', master: { grpcPort: port, agentReregisterTimeout: '30s' } });
    const agent = await h.agent({ autoRun: true });
    const frameworkId = await firstLife(h, agent, ['t1']);
    const tracked = agent.trackedTasks();
    const agentId = agent.agentId;
    await agent.close();
    await h.restart(); // the agent is not back: the master stays silent about its tasks
    const updates: TaskStatus[] = [];
    const driver = await start(h, { update: (_d, s) => void updates.push(s) }, frameworkId);

    const err = await rejection(driver.recover([{ taskId: 't1', agentId }], { timeoutMs: 400 }));
    expect(err).toBeInstanceOf(RecoveryTimeoutError);
    expect((err as RecoveryTimeoutError).unanswered).toEqual(['t1']);
    expect(err.message).toContain("no answer for task 't1'");

    // The driver keeps asking: once the agent is back, t1's state arrives as an update.
    await eventually(() => h.agent({ agentId, tasks: tracked.map((t) => reportedTask(frameworkId, t.task, 'TASK_RUNNING', agentId)), autoRun: true }), { timeoutMs: 8000, what: 'agent re-registered' });
    await eventually(() => expect(updates.some((u) => u.taskId === 't1' && u.state === 'TASK_RUNNING')).toBe(true), { timeoutMs: 8000 });
    // And a recover() now settles.
    const report = await driver.recover([{ taskId: 't1', agentId }], { timeoutMs: 5000 });
    expect(report.running.map((s) => s.taskId)).toEqual(['t1']);
  });

  it('refuses bad input naming the field, and a second recover() while one runs, changing nothing', async () => {
    const h = await MasterHarness.start();
    await h.agent({ autoRun: true });
    const driver = await start(h, {});
    const before = driver.reconciler.known();
    const bad: Array<[Parameters<FrameworkDriver['recover']>, string]> = [
      [[[{ taskId: 'ok' }, { taskId: '' }]], 'known[1].taskId'],
      [[[{ taskId: 'ok' }, { taskId: 7 } as never]], 'known[1].taskId'],
      [[[{ taskId: 'ok', agentId: 3 } as never]], 'known[0].agentId'],
      [[[{ taskId: 'agora-recovery-probe.x' }]], 'known[0].taskId'],
      [[[{ taskId: 'ok' }], { timeoutMs: -1 }], 'options.timeoutMs'],
      [[[{ taskId: 'ok' }], { timeoutMs: Number.NaN }], 'options.timeoutMs'],
    ];
    for (const [args, field] of bad) {
      const err = await rejection(driver.recover(...args));
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err.field).toBe(field);
    }
    expect(driver.reconciler.known()).toEqual(before);

    const first = driver.recover([{ taskId: 'ghost' }]);
    expect(await rejection(driver.recover([{ taskId: 'other' }]))).toBeInstanceOf(FailedPreconditionError);
    expect((await first).ended.map((s) => [s.taskId, s.state])).toEqual([['ghost', 'TASK_GONE']]);
    expect(driver.reconciler.known().map((t) => t.taskId)).not.toContain('other');
  });
});
