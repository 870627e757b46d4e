// The status-update manager on a FakeClock: durable before sent, one outstanding per task, resent
// with doubling backoff up to the max, stale acknowledgements ignored, resent after reconnecting.
import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from '../../core/clock.js';
import type { TaskStatus } from '../../proto/index.js';
import { StatusUpdateManager, type UpdateJournal } from '../../agent/status-updates.js';

const S = 1000;

class MemoryJournal implements UpdateJournal {
  readonly records: string[] = [];
  /** While set, recordUpdate waits for it (a slow fsync). */
  gate: Promise<void> | undefined;
  async recordUpdate(frameworkId: string, taskId: string, status: TaskStatus): Promise<void> {
    if (this.gate) await this.gate;
    this.records.push(`update ${taskId} ${status.state} ${status.uuid}`);
  }
  async recordAck(frameworkId: string, taskId: string, uuid: string): Promise<void> {
    this.records.push(`ack ${taskId} ${uuid}`);
  }
}

function setup(retryMs = 10 * S, retryMaxMs = 600 * S) {
  const clock = new FakeClock(0);
  const journal = new MemoryJournal();
  const sent: { at: number; frameworkId: string; status: TaskStatus }[] = [];
  const forgotten: string[] = [];
  const manager = new StatusUpdateManager({
    clock,
    journal,
    retryMs,
    retryMaxMs,
    send: (frameworkId, status) => sent.push({ at: clock.now(), frameworkId, status }),
    onTerminalAcknowledged: (fw, task) => forgotten.push(`${fw}/${task}`),
  });
  return { clock, journal, sent, forgotten, manager };
}

function status(taskId: string, state: string): TaskStatus {
  return { taskId, state: state as TaskStatus['state'], message: '' };
}

describe('StatusUpdateManager', () => {
  it('journals an update with a fresh uuid before sending it', async () => {
    const { journal, sent, manager } = setup();
    manager.connected();
    const journalled: string[] = [];
    const original = journal.recordUpdate.bind(journal);
    journal.recordUpdate = async (fw, task, s) => {
      expect(sent).toHaveLength(0); // not sent before it is durable
      await original(fw, task, s);
      journalled.push(s.uuid ?? '');
    };
    const out = await manager.update('fw', status('t1', 'TASK_RUNNING'));
    expect(out.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(journalled).toEqual([out.uuid]);
    expect(sent.map((s) => s.status.uuid)).toEqual([out.uuid]);
  });

  it('keeps one update outstanding per task and sends the next after the ack', async () => {
    const { sent, manager } = setup();
    manager.connected();
    const a = await manager.update('fw', status('t1', 'TASK_STARTING'));
    const b = await manager.update('fw', status('t1', 'TASK_RUNNING'));
    const other = await manager.update('fw', status('t2', 'TASK_STARTING'));
    expect(sent.map((s) => s.status.uuid)).toEqual([a.uuid, other.uuid]);
    expect(manager.unacknowledged('fw', 't1').map((s) => s.uuid)).toEqual([a.uuid, b.uuid]);
    expect(await manager.acknowledge('fw', 't1', a.uuid ?? '')).toBe(true);
    expect(sent.map((s) => s.status.uuid)).toEqual([a.uuid, other.uuid, b.uuid]);
    expect(manager.pendingCount()).toBe(2);
  });

  it('resends with doubling backoff up to the max until acknowledged', async () => {
    const { clock, sent, manager } = setup(10 * S, 35 * S);
    manager.connected();
    const a = await manager.update('fw', status('t1', 'TASK_RUNNING'));
    clock.advance(100 * S);
    // sent at 0, then after 10 s, 20 s, 35 s (capped), 35 s ...
    expect(sent.map((s) => s.at)).toEqual([0, 10 * S, 30 * S, 65 * S, 100 * S]);
    expect(new Set(sent.map((s) => s.status.uuid))).toEqual(new Set([a.uuid]));
    expect(manager.stats.resent).toBe(4);
    await manager.acknowledge('fw', 't1', a.uuid ?? '');
    clock.advance(1000 * S);
    expect(sent).toHaveLength(5);
  });

  it('ignores acknowledgements of unknown or old uuids', async () => {
    const { clock, sent, manager, journal } = setup();
    manager.connected();
    const a = await manager.update('fw', status('t1', 'TASK_STARTING'));
    const b = await manager.update('fw', status('t1', 'TASK_RUNNING'));
    expect(await manager.acknowledge('fw', 't1', 'not-a-uuid')).toBe(false);
    expect(await manager.acknowledge('fw', 't1', b.uuid ?? '')).toBe(false); // not the head yet
    expect(await manager.acknowledge('fw', 'nope', a.uuid ?? '')).toBe(false);
    expect(await manager.acknowledge('fw', 't1', a.uuid ?? '')).toBe(true);
    expect(await manager.acknowledge('fw', 't1', a.uuid ?? '')).toBe(false); // a duplicate
    expect(journal.records.filter((r) => r.startsWith('ack'))).toEqual([`ack t1 ${a.uuid}`]);
    clock.advance(10 * S);
    expect(sent.map((s) => s.status.uuid)).toEqual([a.uuid, b.uuid, b.uuid]);
  });

  it('forgets a task once its terminal update is acknowledged', async () => {
    const { manager, forgotten } = setup();
    manager.connected();
    const a = await manager.update('fw', status('t1', 'TASK_RUNNING'));
    const b = await manager.update('fw', status('t1', 'TASK_FINISHED'));
    await manager.acknowledge('fw', 't1', a.uuid ?? '');
    expect(forgotten).toEqual([]);
    await manager.acknowledge('fw', 't1', b.uuid ?? '');
    expect(forgotten).toEqual(['fw/t1']);
    expect(manager.pendingCount()).toBe(0);
  });

  it('sends nothing while disconnected and resends the heads, with a fresh backoff, on reconnect', async () => {
    const { clock, sent, manager } = setup(10 * S, 600 * S);
    const a = await manager.update('fw', status('t1', 'TASK_RUNNING'));
    clock.advance(100 * S);
    expect(sent).toHaveLength(0);
    manager.connected();
    expect(sent.map((s) => [s.at, s.status.uuid])).toEqual([[100 * S, a.uuid]]);
    clock.advance(15 * S);
    manager.disconnected();
    clock.advance(1000 * S);
    expect(sent).toHaveLength(2);
    manager.connected();
    clock.advance(10 * S);
    expect(sent.map((s) => s.at)).toEqual([100 * S, 110 * S, 1115 * S, 1125 * S]);
  });

  it('queues recovered updates ahead of new ones and sends them once connected', async () => {
    const { sent, manager } = setup();
    const old = { ...status('t1', 'TASK_RUNNING'), uuid: 'u-old' };
    manager.recover('fw', 't1', [old]);
    const next = manager.update('fw', status('t1', 'TASK_FINISHED'));
    await next;
    expect(sent).toHaveLength(0);
    manager.connected();
    expect(sent.map((s) => s.status.uuid)).toEqual(['u-old']);
    await manager.acknowledge('fw', 't1', 'u-old');
    expect(sent.map((s) => s.status.state)).toEqual(['TASK_RUNNING', 'TASK_FINISHED']);
  });

  it('keeps the order of a task\u2019s updates while the journal is slow', async () => {
    const { sent, manager, journal } = setup();
    manager.connected();
    let open!: () => void;
    journal.gate = new Promise((resolve) => (open = resolve));
    const first = manager.update('fw', status('t1', 'TASK_STARTING'));
    const second = manager.update('fw', status('t1', 'TASK_RUNNING'));
    await flushMicrotasks();
    expect(sent).toHaveLength(0);
    journal.gate = undefined;
    open();
    const [a, b] = await Promise.all([first, second]);
    expect(journal.records).toEqual([`update t1 TASK_STARTING ${a.uuid}`, `update t1 TASK_RUNNING ${b.uuid}`]);
    expect(sent.map((s) => s.status.uuid)).toEqual([a.uuid]);
  });

  it('keeps the updates of a task with no journal in memory: sent, resent and forgotten the same', async () => {
    const { clock, journal, sent, forgotten, manager } = setup(10 * S);
    manager.connected();
    journal.recordUpdate = async () => {
      throw new Error('ENAMETOOLONG: the journal cannot be made');
    };
    const failed = await manager.update('fw', status('t1', 'TASK_FAILED'), { journal: false });
    clock.advance(10 * S);
    expect(sent.map((s) => s.status.uuid)).toEqual([failed.uuid, failed.uuid]);
    expect(await manager.acknowledge('fw', 't1', failed.uuid ?? '')).toBe(true);
    expect(journal.records).toEqual([]); // neither the update nor its ack
    expect(forgotten).toEqual(['fw/t1']);
    expect(manager.pendingCount()).toBe(0);
  });
});
