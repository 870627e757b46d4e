// Calls the driver refuses itself, before anything is sent, where it knows better than the master:
// a task naming another agent than its offer's (the master would move it there without a word),
// the acknowledgement of an update it never received, anything on a stopped driver.
import { afterEach, describe, expect, it } from 'vitest';
import { DriverStoppedError, FrameworkDriver, InvalidArgumentError, Resources, resourcesToWire, silentLogger, taskSpecToWire, type Offer, type TaskSpec, type TaskStatus } from '../../sdk/index.js';
import { MasterHarness, eventually, rejection, stopHarnesses } from '../support/master-harness.js';
import { acknowledgementsIn } from '../support/test-agent.js';
import { driverAccess } from '../support/security.js';

const drivers: FrameworkDriver[] = [];
afterEach(async () => {
  await Promise.allSettled(drivers.splice(0).map((d) => d.stop()));
  await stopHarnesses();
});

function task(taskId: string, agentId: string): TaskSpec {
  return { taskId, name: taskId, agentId, resources: resourcesToWire(Resources.parse('cpus:0.1;mem:16')), command: { shell: true, value: 'sleep 60' } };
}

async function driverWithOffers(h: MasterHarness, autoAcknowledge = true) {
  const offers: Offer[] = [];
  const updates: TaskStatus[] = [];
  const driver = await FrameworkDriver.start(
    { master: h.address, framework: { name: 'checked', failoverTimeoutSeconds: 60 }, autoAcknowledge, reconnect: { initialMs: 20, maxMs: 100 }, logger: silentLogger(), ...driverAccess() },
    { offers: (_d, list) => void offers.push(...list), update: (_d, s) => void updates.push(s) },
  );
  drivers.push(driver);
  return { driver, offers, updates };
}

describe('client-side checks', () => {
  it('refuses a launch whose task names another agent than its offer, naming the field, and launches nothing', async () => {
    const h = await MasterHarness.start();
    const a = await h.agent({ autoRun: true });
    const b = await h.agent({ autoRun: true });
    const { driver, offers } = await driverWithOffers(h);
    const offer = await eventually(() => {
      const o = offers.find((x) => x.agentId === a.agentId);
      if (!o) throw new Error('no offer from agent a yet');
      return o;
    });
    const err = await rejection(driver.launch([offer], [task('t-ok', a.agentId), task('t-moved', b.agentId)]));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.field).toBe('tasks[1].agentId');
    expect(err.message).toContain(`names agent ${b.agentId}, but its offers are on agent ${a.agentId}`);
    // By id too: the driver remembers which agent each offer it holds is on.
    expect(await rejection(driver.launch([offer.id], [task('t-moved', b.agentId)]))).toMatchObject({ field: 'tasks[0].agentId' });
    expect(await rejection(driver.accept([offer.id], [{ launch: { taskInfos: [taskSpecToWire(task('t-moved', b.agentId))] } }]))).toMatchObject({ field: 'operations[0].launch.taskInfos[0].agentId' });
    expect(await rejection(driver.launch([offer], [{ ...task('t-none', a.agentId), resources: [] }]))).toMatchObject({ field: 'tasks[0].resources' });
    expect(h.state.task(driver.frameworkId ?? '', 't-moved')).toBeUndefined();
    // Nothing was sent: the offer is still there, and the right launch goes through.
    await driver.launch([offer], [task('t-ok', a.agentId)]);
    await eventually(() => expect(h.state.task(driver.frameworkId ?? '', 't-ok')?.agentId).toBe(a.agentId));
  });

  it('refuses to acknowledge an update it never received, by itself and in a batch', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent({ autoRun: true });
    const { driver, offers, updates } = await driverWithOffers(h, false);
    const offer = await eventually(() => offers[0] ?? Promise.reject(new Error('no offer yet')));
    await driver.launch([offer], [task('acked', offer.agentId)]);
    const running = await eventually(() => updates.find((u) => u.taskId === 'acked' && u.state === 'TASK_RUNNING' && u.uuid) ?? Promise.reject(new Error('not running yet')));
    const madeUp = { agentId: running.agentId, taskId: 'acked', uuid: '00000000-0000-4000-8000-000000000000' };
    const err = await rejection(driver.acknowledge(madeUp));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.field).toBe('uuid');
    expect(err.message).toContain("no update with uuid '00000000-0000-4000-8000-000000000000' for task 'acked'");
    // A known uuid under another task is no better.
    expect(await rejection(driver.acknowledge({ ...running, taskId: 'other' }))).toMatchObject({ field: 'uuid' });
    // In a batch: the made-up one is refused by its index, the real one applied.
    const refused = await driver.acknowledgeBatch([madeUp, running]);
    expect(refused).toEqual([expect.objectContaining({ index: 0, field: 'acknowledgements[0].uuid', code: 'AGORA_INVALID_ARGUMENT' })]);
    await agent.waitForAck(running.uuid);
    expect(acknowledgementsIn(await agent.waitForAck(running.uuid)).some((a) => a.uuid === madeUp.uuid)).toBe(false);
    // A repeat of a real one is not refused (the master takes repeats too).
    await driver.acknowledge(running);
  });

  it('refuses every call of a stopped driver with DriverStoppedError, sending nothing', async () => {
    const h = await MasterHarness.start();
    await h.agent();
    const { driver, offers } = await driverWithOffers(h);
    const offer = await eventually(() => offers[0] ?? Promise.reject(new Error('no offer yet')));
    await driver.stop();
    for (const call of [driver.launch([offer], [task('late', offer.agentId)]), driver.suppress(), driver.acknowledgeBatch([]), driver.teardown(), driver.message('a', 'e', Buffer.from('x'))]) {
      expect(await rejection(call)).toBeInstanceOf(DriverStoppedError);
    }
    expect(h.state.task(driver.frameworkId ?? '', 'late')).toBeUndefined();
  });
});
