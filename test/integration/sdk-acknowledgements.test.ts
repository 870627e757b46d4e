// The SDK's acknowledgements against a real master and a test agent: the automatic ones after the
// handlers are sent together (AcknowledgeBatch), a batch of updates' in one call, and
// driver.acknowledgeBatch answers which items the master refused while the others are applied.
import { afterEach, describe, expect, it } from 'vitest';
import type { Offer__Output, TaskStatus__Output } from '../../proto/index.js';
import { FrameworkDriver, Resources, resourcesToWire } from '../../sdk/index.js';
import { eventually, MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { driverAccess } from '../support/security.js';
import { acknowledgementsIn, type TestAgent } from '../support/test-agent.js';

const drivers: FrameworkDriver[] = [];
afterEach(async () => {
  await Promise.allSettled(drivers.splice(0).map((d) => d.stop()));
  await stopHarnesses();
});

const task = (taskId: string, agentId: string) => ({ taskId, name: taskId, agentId, resources: resourcesToWire(Resources.parse('cpus:0.1;mem:16')), command: { shell: true, value: 'true' } });

/** A driver launching `taskIds` on its first offer; `updates` records each batch handed to it. */
async function driverWith(address: string, taskIds: string[], handlers: { updates?: (driver: FrameworkDriver, batch: TaskStatus__Output[]) => Promise<void> }, autoAcknowledge = true) {
  const wanted = [...taskIds];
  const driver: FrameworkDriver = await FrameworkDriver.start(
    { master: address, framework: { name: 'acks', failoverTimeoutSeconds: 60 }, autoAcknowledge, ...driverAccess() },
    {
      offers: async (_driver, offers: Offer__Output[]) => {
        for (const offer of offers) {
          const ids = wanted.splice(0);
          if (ids.length > 0) await driver.launch([offer], ids.map((id) => task(id, offer.agentId)));
          else await driver.decline([offer], { refuseSeconds: 60 });
        }
      },
      ...handlers,
    },
  );
  drivers.push(driver);
  return driver;
}

/** Every acknowledgement message the agent got since `mark`, as lists of uuids. */
function ackMessages(agent: TestAgent, mark = 0): string[][] {
  return agent.messages
    .filter((m) => m.type === 'acknowledgement' || m.type === 'acknowledgements', mark)
    .map((m) => acknowledgementsIn(m).map((a) => a.uuid));
}

describe('the SDK acknowledges in batches', () => {
  it("acknowledges each handler batch in one call, after the handler resolved", async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent({ autoRun: true, resources: 'cpus:8;mem:8192' });
    const ids = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'];
    const batches: TaskStatus__Output[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    await driverWith(h.address, ids, {
      updates: async (_driver, batch) => {
        batches.push(batch);
        // Held: the updates arriving meanwhile wait, and come as the next batch.
        if (batches.length === 1) await gate;
      },
    });
    await eventually(() => expect(batches.length).toBeGreaterThan(0));
    // Nothing is acknowledged while its handler runs.
    expect(ackMessages(agent)).toEqual([]);
    release();
    await eventually(() => expect(batches.flat().filter((s) => s.state === 'TASK_RUNNING').map((s) => s.taskId).sort()).toEqual(ids));
    for (const s of batches.flat()) await agent.waitForAck(s.uuid);
    const messages = ackMessages(agent);
    // Only the batched form; the acknowledgements of one handler batch travel in one message.
    expect(agent.messages.filter((m) => m.type === 'acknowledgement')).toEqual([]);
    for (const batch of batches) {
      const carrying = messages.filter((uuids) => batch.some((s) => uuids.includes(s.uuid)));
      expect(carrying).toHaveLength(1);
      expect(carrying[0]).toEqual(expect.arrayContaining(batch.map((s) => s.uuid)));
    }
    expect(messages.length).toBeLessThanOrEqual(batches.length);
    for (const id of ids) expect(agent.task(h.state.allFrameworks().next().value!.id, id)?.unacknowledged).toEqual([]);
  });

  it('driver.acknowledgeBatch applies the good items and answers the refused ones by task', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent({ autoRun: true, resources: 'cpus:8;mem:8192' });
    const seen: TaskStatus__Output[] = [];
    const driver = await driverWith(h.address, ['m1', 'm2'], { updates: async (_driver, batch) => void seen.push(...batch) }, false);
    await eventually(() => expect(seen.filter((s) => s.state === 'TASK_RUNNING')).toHaveLength(2));
    const [m1, m2] = ['m1', 'm2'].map((id) => seen.find((s) => s.taskId === id && s.state === 'TASK_RUNNING')!) as [TaskStatus__Output, TaskStatus__Output];
    const mark = agent.messages.mark();
    const refused = await driver.acknowledgeBatch([{ ...m1, uuid: 'forged' }, m2, { ...m1, agentId: 'elsewhere' }]);
    expect(refused.map((r) => [r.index, r.taskId, r.field, r.code])).toEqual([
      [0, 'm1', 'acknowledgements[0].uuid', 'AGORA_INVALID_ARGUMENT'],
      [2, 'm1', 'acknowledgements[2].agentId', 'AGORA_INVALID_ARGUMENT'],
    ]);
    await agent.waitForAck(m2.uuid);
    expect(await driver.acknowledgeBatch([m1])).toEqual([]);
    await agent.waitForAck(m1.uuid);
    expect(ackMessages(agent, mark)).toEqual([[m2.uuid], [m1.uuid]]);
    // The single call keeps working beside it.
    await driver.acknowledge(m1);
  });
});
