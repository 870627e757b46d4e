// Reconciliation while agents re-register after a master restart. The master cannot answer for a
// task whose agent is not back yet, so it stays silent — but it remembers the ask and answers it
// exactly once as soon as it can: when the agent comes back (with the task, or without it), or when
// recovery ends. Never a guess, never twice for one ask, never on top of the agent's own resend.
import { afterEach, describe, expect, it } from 'vitest';
import type { Offer__Output, TaskStatus__Output } from '../../proto/index.js';
import { eventually, MasterHarness, stopHarnesses } from '../support/master-harness.js';
import type { TestAgent } from '../support/test-agent.js';
import { taskInfo, type TestFramework } from '../support/test-framework.js';
import { holdsFor } from '../support/waits.js';

afterEach(stopHarnesses);

/** Launch the tasks on each agent (one offer each) and have them RUNNING and acknowledged. */
async function launch(fw: TestFramework, plan: Array<[TestAgent, string[]]>): Promise<void> {
  const offers = await eventually(() => {
    const seen = fw.offersSeen();
    const mine = plan.map(([agent]) => seen.findLast((o) => o.agentId === agent.agentId));
    if (mine.some((o) => o === undefined)) throw new Error('no offer yet for every agent');
    return mine as Offer__Output[];
  });
  for (const [i, [agent, taskIds]] of plan.entries()) {
    await fw.launch(offers[i]!, taskIds.map((id) => taskInfo(id, 'cpus:0.5;mem:128')));
    for (const id of taskIds) {
      await agent.waitForLaunch(id);
      const status = agent.update(fw.frameworkId, id, 'TASK_RUNNING');
      await agent.waitForAck(status.uuid as string);
    }
  }
}

describe('reconciling while agents re-register', () => {
  it('answers each ask once, as soon as the task’s agent is back, and the rest when recovery ends', async () => {
    const h = await MasterHarness.start({ store: 'file', master: { agentReregisterTimeout: '20s' } });
    const a = await h.agent({ resources: 'cpus:4;mem:4096' });
    const b = await h.agent({ resources: 'cpus:4;mem:4096' });
    const fw = await h.framework({ name: 'svc', failoverTimeoutSeconds: 30, autoAck: true, capabilities: ['PARTITION_AWARE'] });
    await launch(fw, [[a, ['a1', 'a2', 'a3']], [b, ['b1']]]);
    const aTasks = a.trackedTasks();
    const bTasks = b.trackedTasks();
    // a3's RUNNING is, as far as the agent knows, not acknowledged: it will send it again itself.
    const a3 = aTasks.find((t) => t.task.taskId === 'a3')!;
    a3.unacknowledged = [a3.latest];

    await h.restart();
    expect(h.master.lifecycle).toBe('RECOVERING');
    const again = await h.framework({ name: 'svc', id: fw.frameworkId, failoverTimeoutSeconds: 30, autoAck: true, capabilities: ['PARTITION_AWARE'] });
    const mark = again.events.mark();
    const asks = [
      { taskId: 'a1', agentId: a.agentId },
      { taskId: 'a2', agentId: a.agentId },
      { taskId: 'a3', agentId: a.agentId },
      { taskId: 'ghost', agentId: a.agentId }, // on A as far as the framework knows; A has no such task
      { taskId: 'b1', agentId: b.agentId },
      { taskId: 'anywhere' }, // no agent named: any agent might bring it back
    ];
    // Asked, and asked again (a retry) before anyone is back.
    await again.reconcile(asks);
    await again.reconcile(asks);
    await again.events.expectNone((e) => e.type === 'update', 300, { since: mark, what: 'an answer while no agent is back' });

    // A comes back: its tasks are answered (a3 by the agent's own resend only), and so is the ask
    // for a task A did not bring back; B's and the unplaced one wait.
    const backA = await h.agent({ agentId: a.agentId, hostname: a.hostname, resources: a.resources, tasks: aTasks });
    await eventually(() => expect(answered(again, mark).map((s) => s.taskId).sort()).toEqual(['a1', 'a2', 'ghost']));
    expect(again.updates('a1', mark)[0]).toMatchObject({ state: 'TASK_RUNNING', reason: 'REASON_RECONCILIATION', uuid: '', agentId: a.agentId });
    expect(again.updates('ghost', mark)[0]).toMatchObject({ state: 'TASK_GONE', reason: 'REASON_RECONCILIATION' });
    expect(backA.resendUnacknowledged()).toBe(1);
    const resent = await again.waitForUpdate('a3', 'TASK_RUNNING', { since: mark });
    expect(resent.uuid).toBe(a3.latest.uuid);
    expect(h.master.lifecycle).toBe('RECOVERING');
    // A retry now: answered from what the master knows, and the owed asks stay owed (no extra answers).
    const retry = again.events.mark();
    await again.reconcile([{ taskId: 'b1', agentId: b.agentId }, { taskId: 'anywhere' }]);
    await again.events.expectNone((e) => e.type === 'update', 300, { since: retry, what: 'an answer for a task whose agent is not back' });

    // B comes back: b1 is answered, recovery is over, and the unplaced task is GONE.
    await h.agent({ agentId: b.agentId, hostname: b.hostname, resources: b.resources, tasks: bTasks });
    await eventually(() => expect(h.master.lifecycle).toBe('LEADING'));
    await eventually(() => expect(answered(again, mark).map((s) => s.taskId).sort()).toEqual(['a1', 'a2', 'anywhere', 'b1', 'ghost']));
    expect(again.updates('anywhere', mark)[0]?.state).toBe('TASK_GONE');
    expect(again.updates('b1', mark)[0]).toMatchObject({ state: 'TASK_RUNNING', agentId: b.agentId });

    // Settled: each ask was answered once, and a3 heard of once (the resend).
    const perTask = (): Record<string, number> => {
      const counts: Record<string, number> = {};
      for (const s of again.updates(undefined, mark)) counts[s.taskId] = (counts[s.taskId] ?? 0) + 1;
      return counts;
    };
    await holdsFor(300, () => expect(Object.values(perTask()).every((n) => n === 1)).toBe(true), 'no second answer comes');
    expect(perTask()).toEqual({ a1: 1, a2: 1, a3: 1, ghost: 1, b1: 1, anywhere: 1 });
    h.invariant();
  }, 30_000);

  it('drops what it owed a subscription that ended: the new one asks afresh', async () => {
    const h = await MasterHarness.start({ store: 'file', master: { agentReregisterTimeout: '20s' } });
    const a = await h.agent({ resources: 'cpus:4;mem:4096' });
    const fw = await h.framework({ name: 'svc', failoverTimeoutSeconds: 30, autoAck: true });
    await launch(fw, [[a, ['t1']]]);
    const tasks = a.trackedTasks();
    await h.restart();
    const first = await h.framework({ name: 'svc', id: fw.frameworkId, failoverTimeoutSeconds: 30, autoAck: true });
    await first.reconcile([{ taskId: 't1', agentId: a.agentId }]);
    await first.close();
    const second = await h.framework({ name: 'svc', id: fw.frameworkId, failoverTimeoutSeconds: 30, autoAck: true });
    const mark = second.events.mark();
    await h.agent({ agentId: a.agentId, hostname: a.hostname, resources: a.resources, tasks });
    await second.events.expectNone((e) => e.type === 'update', 300, { since: mark, what: 'an answer to the previous subscription' });
    await second.reconcile([{ taskId: 't1', agentId: a.agentId }]);
    expect((await second.waitForUpdate('t1', undefined, { since: mark })).state).toBe('TASK_RUNNING');
  }, 30_000);
});

/** Reconciliation answers (uuid-less, from the master) since `mark`. */
function answered(fw: TestFramework, mark: number): TaskStatus__Output[] {
  return fw.updates(undefined, mark).filter((s) => s.reason === 'REASON_RECONCILIATION');
}
