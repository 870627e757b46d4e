// Scheduler.AcknowledgeBatch on a real master and a test agent: many acknowledgements in one call,
// each checked as if alone against the updates the master relayed to that framework — its own
// tasks, the agent that sent the update, the uuid it was sent. The good ones reach their agent in
// one message even when others are refused; the answer names each refused item's field.
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_ACKNOWLEDGEMENTS_PER_CALL } from '../../core/limits.js';
import type { TaskStatus__Output } from '../../proto/index.js';
import { MasterHarness, rejection, stopHarnesses } from '../support/master-harness.js';
import { acknowledgementsIn, type TestAgent } from '../support/test-agent.js';
import { taskInfo, type TestFramework } from '../support/test-framework.js';

afterEach(stopHarnesses);

/** A cluster with one agent and framework `a` running `taskIds`, their RUNNING updates not acknowledged. */
async function running(taskIds: string[]): Promise<{ h: MasterHarness; agent: TestAgent; a: TestFramework; updates: TaskStatus__Output[] }> {
  const h = await MasterHarness.start();
  const agent = await h.agent({ autoRun: true, resources: 'cpus:8;mem:8192' });
  const a = await h.framework({ name: 'a', autoAck: false });
  await a.launch(await a.nextOffer(), taskIds.map((id) => taskInfo(id, 'cpus:0.5;mem:64')));
  const updates: TaskStatus__Output[] = [];
  for (const id of taskIds) updates.push(await a.waitForUpdate(id, 'TASK_RUNNING'));
  return { h, agent, a, updates };
}

const ack = (s: TaskStatus__Output) => ({ agentId: s.agentId, taskId: s.taskId, uuid: s.uuid });

/** Uuids the agent was told are acknowledged since `mark`. */
function acked(agent: TestAgent, mark: number): string[] {
  return agent.messages.filter(() => true, mark).flatMap((m) => acknowledgementsIn(m).map((x) => x.uuid));
}

/**
 * Acknowledge `marker` alone and wait until the agent has it: messages on the agent's stream keep
 * their order, so whatever an earlier call sent has arrived by then.
 */
async function settle(a: TestFramework, agent: TestAgent, marker: TaskStatus__Output): Promise<void> {
  expect((await a.acknowledgeBatch([ack(marker)])).refused).toEqual([]);
  await agent.waitForAck(marker.uuid);
}

describe('AcknowledgeBatch', () => {
  it('acknowledges many updates in one call, and the agent gets them in one message', async () => {
    const { agent, a, updates } = await running(['t1', 't2', 't3']);
    const mark = agent.messages.mark();
    const result = await a.acknowledgeBatch(updates.map(ack));
    expect(result.refused).toEqual([]);
    const message = await agent.waitForAck(updates[2]!.uuid);
    expect(acknowledgementsIn(message).map((x) => [x.frameworkId, x.taskId, x.uuid])).toEqual(updates.map((u) => [a.frameworkId, u.taskId, u.uuid]));
    expect(acked(agent, mark)).toEqual(updates.map((u) => u.uuid));
    for (const id of ['t1', 't2', 't3']) expect(agent.task(a.frameworkId, id)?.unacknowledged).toEqual([]);
  });

  it("refuses an update of another framework's task, naming the item; nothing reaches the agent", async () => {
    const { h, agent, a, updates } = await running(['t1', 't2']);
    const b = await h.framework({ name: 'b', autoAck: false });
    const [t1, t2] = updates as [TaskStatus__Output, TaskStatus__Output];
    const mark = agent.messages.mark();
    // b names a's task, its agent and its uuid exactly: still not b's to acknowledge.
    const result = await b.acknowledgeBatch([ack(t1)]);
    expect(result.refused).toEqual([
      { index: 0, field: 'acknowledgements[0].taskId', code: 'AGORA_NOT_FOUND', message: "acknowledgements[0].taskId: no update of task 't1' of this framework awaits acknowledgement" },
    ]);
    await settle(a, agent, t2);
    expect(acked(agent, mark)).toEqual([t2.uuid]);
    expect(agent.task(a.frameworkId, 't1')?.unacknowledged.map((s) => s.uuid)).toEqual([t1.uuid]);
    // a itself still may.
    expect((await a.acknowledgeBatch([ack(t1)])).refused).toEqual([]);
    await agent.waitForAck(t1.uuid);
  });

  it('refuses a uuid that is not the update relayed, and an update acknowledged already', async () => {
    const { agent, a, updates } = await running(['t1', 't2']);
    const [t1, t2] = updates as [TaskStatus__Output, TaskStatus__Output];
    const mark = agent.messages.mark();
    const wrong = await a.acknowledgeBatch([{ ...ack(t1), uuid: 'not-the-uuid' }]);
    expect(wrong.refused).toHaveLength(1);
    expect(wrong.refused[0]).toMatchObject({ index: 0, field: 'acknowledgements[0].uuid', code: 'AGORA_INVALID_ARGUMENT' });
    expect(wrong.refused[0]?.message).toContain("'not-the-uuid' is not an update of task 't1' awaiting acknowledgement");
    await settle(a, agent, t2);
    expect(acked(agent, mark)).toEqual([t2.uuid]);
    // Acknowledged once: a second time is refused (at-least-once stops at the agent, not here).
    const again = await a.acknowledgeBatch([ack(t2)]);
    expect(again.refused.map((r) => r.field)).toEqual(['acknowledgements[0].taskId']);
  });

  it('applies the good items of a mixed batch and names each bad one', async () => {
    const { agent, a, updates } = await running(['t1', 't2', 't3']);
    const [t1, t2, t3] = updates as [TaskStatus__Output, TaskStatus__Output, TaskStatus__Output];
    const mark = agent.messages.mark();
    const result = await a.acknowledgeBatch([
      ack(t1),
      { ...ack(t2), uuid: 'forged' },
      { ...ack(t2), agentId: 'another-agent' },
      { ...ack(t2), taskId: '' },
      { ...ack(t3), taskId: 'never-launched' },
      ack(t3),
    ]);
    expect(result.refused.map((r) => [r.index, r.field, r.code])).toEqual([
      [1, 'acknowledgements[1].uuid', 'AGORA_INVALID_ARGUMENT'],
      [2, 'acknowledgements[2].agentId', 'AGORA_INVALID_ARGUMENT'],
      [3, 'acknowledgements[3].taskId', 'AGORA_INVALID_ARGUMENT'],
      [4, 'acknowledgements[4].taskId', 'AGORA_NOT_FOUND'],
    ]);
    expect(result.refused[1]?.message).toContain(`came from agent '${t2.agentId}', not 'another-agent'`);
    const message = await agent.waitForAck(t3.uuid);
    expect(acknowledgementsIn(message).map((x) => x.uuid)).toEqual([t1.uuid, t3.uuid]);
    await settle(a, agent, t2);
    expect(acked(agent, mark)).toEqual([t1.uuid, t3.uuid, t2.uuid]);
  });

  it('refuses a call with no items or too many as a whole, naming the field, and applies nothing', async () => {
    const { agent, a, updates } = await running(['t1']);
    const [t1] = updates as [TaskStatus__Output];
    const mark = agent.messages.mark();
    const empty = await rejection(a.acknowledgeBatch([]));
    expect(empty).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'acknowledgements' });
    const many = Array.from({ length: MAX_ACKNOWLEDGEMENTS_PER_CALL + 1 }, () => ack(t1));
    const tooMany = await rejection(a.acknowledgeBatch(many));
    expect(tooMany).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'acknowledgements' });
    expect(tooMany.message).toContain(`at most ${MAX_ACKNOWLEDGEMENTS_PER_CALL}`);
    await settle(a, agent, t1);
    expect(acked(agent, mark)).toEqual([t1.uuid]);
  });

  it('an update resent by the agent can be acknowledged again until the agent has the acknowledgement', async () => {
    const { agent, a, updates } = await running(['t1']);
    const [t1] = updates as [TaskStatus__Output];
    // The agent resends (no acknowledgement came in time): the master relays it once more.
    const mark = a.events.mark();
    agent.resendUnacknowledged();
    const resent = await a.waitForUpdate('t1', 'TASK_RUNNING', { since: mark });
    expect(resent.uuid).toBe(t1.uuid);
    expect((await a.acknowledgeBatch([ack(resent)])).refused).toEqual([]);
    await agent.waitForAck(t1.uuid);
  });
});
