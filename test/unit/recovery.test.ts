// recover()'s bookkeeping on a fake clock, the test playing the master: which asks go out and when
// (known tasks and a probe, the implicit call only once the probe is answered, a second probe after
// it), how answers sort into the report, offers held and rescinded meanwhile, a resubscription, and
// the timeout. The driver's own use of it runs against a real master in
// test/integration/sdk-recover.test.ts.
import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import type { Offer__Output, TaskStatus__Output } from '../../proto/index.js';
import { RecoveryTimeoutError } from '../../sdk/errors.js';
import { Reconciler, type KnownTask } from '../../sdk/reconciler.js';
import { Recovery, RECOVERY_PROBE_PREFIX } from '../../sdk/recovery.js';

function setup() {
  const clock = new FakeClock(0);
  const asked: string[][] = [];
  let implicitCalls = 0;
  const reconciler = new Reconciler({
    clock,
    logger: silentLogger(),
    initialMs: 1000,
    maxMs: 4000,
    periodicMs: 600_000,
    send: async (tasks: readonly KnownTask[]) => void asked.push(tasks.map((t) => t.taskId)),
  });
  reconciler.start(); // subscribed
  const delivered: string[][] = [];
  let endClosed!: () => void;
  const recovery = new Recovery({
    clock,
    logger: silentLogger(),
    reconciler,
    implicit: async () => void (implicitCalls += 1),
    waitSubscribed: async () => undefined,
    closed: new Promise<void>((resolve) => (endClosed = resolve)),
    ended: () => new Error('stopped') as never,
    deliver: (offers) => void delivered.push(offers.map((o) => o.id)),
  });
  const status = (taskId: string, state: string): TaskStatus__Output => ({ taskId, state, agentId: 's1', uuid: '', reason: 'REASON_RECONCILIATION' }) as unknown as TaskStatus__Output;
  const probes = (): string[] => asked.flat().filter((t) => t.startsWith(RECOVERY_PROBE_PREFIX));
  /** The master answers the latest probe asked. */
  const answerProbe = (): boolean => recovery.observe(status(probes().at(-1) ?? '', 'TASK_GONE'));
  const offer = (id: string): Offer__Output => ({ id }) as Offer__Output;
  return { clock, asked, reconciler, recovery, delivered, status, probes, answerProbe, offer, implicit: () => implicitCalls, stop: () => endClosed() };
}

describe('Recovery', () => {
  it('asks for the known tasks and a probe, then the implicit call, then a second probe; sorts the answers', async () => {
    const t = setup();
    let report: Awaited<ReturnType<Recovery['recover']>> | undefined;
    void t.recovery.recover([{ taskId: 'a', agentId: 's1' }, { taskId: 'b' }, { taskId: 'c', agentId: 's1' }]).then((r) => (report = r));
    await flushMicrotasks();
    expect(t.asked).toHaveLength(1);
    expect(t.asked[0]?.slice(0, 3)).toEqual(['a', 'b', 'c']);
    expect(t.probes()).toHaveLength(1);
    expect(t.implicit()).toBe(0); // not before the master says it can answer for everything

    expect(t.recovery.observe(t.status('a', 'TASK_RUNNING'))).toBe(false); // the handlers' too
    expect(t.recovery.observe(t.status('b', 'TASK_GONE'))).toBe(false);
    expect(t.answerProbe()).toBe(true); // the driver's own: not the handlers'
    await flushMicrotasks();
    expect(t.implicit()).toBe(1);
    expect(t.probes()).toHaveLength(2);
    expect(t.recovery.observe(t.status('forgotten-1', 'TASK_RUNNING'))).toBe(false);
    t.answerProbe();
    await flushMicrotasks();
    expect(report).toBeUndefined(); // c is not answered yet
    t.recovery.observe(t.status('c', 'TASK_UNREACHABLE'));
    await flushMicrotasks();
    expect(report?.running.map((s) => s.taskId)).toEqual(['a', 'c']); // UNREACHABLE may come back
    expect(report?.ended.map((s) => s.taskId)).toEqual(['b']);
    expect(report?.forgotten.map((s) => s.taskId)).toEqual(['forgotten-1']);
    // The known tasks are tracked for reconciliation; the probes are not.
    expect(t.reconciler.known().map((k) => k.taskId)).toEqual(['a', 'b', 'c']);
  });

  it('holds offers while it runs, drops the rescinded ones, and hands the rest over in order on the next turn', async () => {
    const t = setup();
    expect(t.recovery.hold([t.offer('early')], 'sub')).toBe(false); // nothing runs: not held
    const done = t.recovery.recover([]);
    expect(t.recovery.hold([t.offer('o1'), t.offer('o2')], 'sub')).toBe(true);
    expect(t.recovery.hold([t.offer('o3')], 'sub')).toBe(true);
    expect(t.recovery.dropHeld('o2')).toBe(true);
    expect(t.recovery.dropHeld('never-held')).toBe(false);
    await flushMicrotasks();
    t.answerProbe();
    await flushMicrotasks(2);
    t.answerProbe();
    let resumedFirst = false;
    await done.then(() => {
      resumedFirst = t.delivered.length === 0; // the caller has the report before any offer is handed over
    });
    expect(resumedFirst).toBe(true);
    await flushMicrotasks();
    expect(t.delivered).toEqual([['o1'], ['o3']]);
    expect(t.recovery.hold([t.offer('late')], 'sub')).toBe(false);
  });

  it('does not hold offers when asked not to', async () => {
    const t = setup();
    const done = t.recovery.recover([], { holdOffers: false });
    expect(t.recovery.hold([t.offer('o1')], 'sub')).toBe(false);
    await flushMicrotasks();
    t.answerProbe();
    await flushMicrotasks();
    t.answerProbe();
    await done;
  });

  it('asks the implicit part again after a resubscription', async () => {
    const t = setup();
    const done = t.recovery.recover([]);
    await flushMicrotasks();
    t.answerProbe();
    await flushMicrotasks();
    expect(t.implicit()).toBe(1);
    t.recovery.resubscribed(); // the implicit answers may have died with the old stream
    t.answerProbe();
    await flushMicrotasks();
    t.answerProbe(); // a fresh first probe
    await flushMicrotasks();
    expect(t.implicit()).toBe(2);
    t.answerProbe();
    await done;
  });

  it('rejects with RecoveryTimeoutError naming the unanswered tasks, stops asking its probe, and lets offers go', async () => {
    const t = setup();
    const done = t.recovery.recover([{ taskId: 'a' }, { taskId: 'b' }], { timeoutMs: 5000 });
    t.recovery.hold([t.offer('o1')], 'sub');
    await flushMicrotasks();
    t.recovery.observe(t.status('a', 'TASK_RUNNING'));
    t.clock.advance(5000);
    const err = await done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecoveryTimeoutError);
    expect((err as RecoveryTimeoutError).unanswered).toEqual(['b']);
    expect((err as RecoveryTimeoutError).message).toContain('waiting for agents to re-register');
    expect(t.reconciler.known().map((k) => k.taskId)).toEqual(['a', 'b']); // still reconciled
    await flushMicrotasks();
    expect(t.delivered).toEqual([['o1']]);
  });

  it('rejects when the driver stops', async () => {
    const t = setup();
    const done = t.recovery.recover([{ taskId: 'a' }]);
    t.stop();
    await expect(done).rejects.toThrow('stopped');
  });
});
