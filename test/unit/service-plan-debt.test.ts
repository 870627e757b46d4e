// The services framework's plan debt (frameworks/services/plan-debt.ts): status updates owe a
// plan, one plan pays for a whole burst, any plan pays, and owed plans are spaced by what the last
// one cost. Time and scheduling are in the test's hands: nothing sleeps.
import { describe, expect, it } from 'vitest';
import { PlanDebt, type PlanDebtOptions } from '../../frameworks/services/plan-debt.js';

function setUp(extra: Partial<PlanDebtOptions> = {}) {
  let now = 1000;
  const scheduled: { run: () => void; delayMs: number }[] = [];
  let paid = 0;
  const debt = new PlanDebt({
    schedule: (run, delayMs) => void scheduled.push({ run, delayMs }),
    pay: () => void paid++,
    now: () => now,
    ...extra,
  });
  return {
    debt,
    scheduled,
    paid: () => paid,
    advance: (ms: number) => void (now += ms),
    /** Run the scheduled callbacks, as the event loop would. */
    runScheduled: () => scheduled.splice(0).forEach((s) => s.run()),
  };
}

describe('service plan debt', () => {
  it('pays a burst of updates with one plan, scheduled once', () => {
    const t = setUp();
    expect(t.debt.owed).toBe(false);
    for (let i = 0; i < 1000; i++) t.debt.owe();
    expect(t.debt.owed).toBe(true);
    expect(t.scheduled).toHaveLength(1);
    expect(t.scheduled[0]!.delayMs).toBe(0); // no plan yet: nothing to space from
    t.runScheduled();
    expect(t.paid()).toBe(1);
  });

  it('does not plan again when another plan paid before the scheduled run', async () => {
    const t = setUp();
    t.debt.owe();
    await t.debt.planning(async () => undefined); // an offer round's or an API call's plan
    expect(t.debt.owed).toBe(false);
    t.runScheduled();
    expect(t.paid()).toBe(0);
  });

  it('owes again for an update that arrives while a plan runs (the plan may not have seen it)', async () => {
    const t = setUp();
    t.debt.owe();
    t.runScheduled();
    await t.debt.planning(async () => {
      t.debt.owe(); // the plan already started: this update is not in it
    });
    expect(t.debt.owed).toBe(true);
    expect(t.scheduled).toHaveLength(1);
  });

  it('spaces an owed plan by nineteen times what the last plan took, at most 50 ms', async () => {
    const t = setUp();
    await t.debt.planning(async () => t.advance(2)); // a plan of 2 ms ends at 1002
    t.debt.owe();
    expect(t.scheduled[0]!.delayMs).toBe(38); // may start at 1002 + 38
    t.runScheduled();
    t.advance(50); // long after: no wait
    await t.debt.planning(async () => t.advance(1));
    t.advance(30);
    t.debt.owe();
    expect(t.scheduled[0]!.delayMs).toBe(0);
    t.runScheduled();
    await t.debt.planning(async () => t.advance(40)); // a costly plan waits the cap, not 760 ms
    t.debt.owe();
    expect(t.scheduled[0]!.delayMs).toBe(50);
  });

  it('takes its spacing and cap as options', async () => {
    const t = setUp({ spacing: 1, maxDelayMs: 5 });
    await t.debt.planning(async () => t.advance(3));
    t.debt.owe();
    expect(t.scheduled.at(-1)!.delayMs).toBe(3);
    t.runScheduled();
    await t.debt.planning(async () => t.advance(8));
    t.debt.owe();
    expect(t.scheduled.at(-1)!.delayMs).toBe(5);
  });

  it('counts a plan that failed as paid and spaced (its error goes to the caller)', async () => {
    const t = setUp();
    t.debt.owe();
    await expect(
      t.debt.planning(async () => {
        t.advance(1);
        throw new Error('store down');
      }),
    ).rejects.toThrow('store down');
    expect(t.debt.owed).toBe(false);
    t.runScheduled();
    expect(t.paid()).toBe(0);
    t.debt.owe();
    expect(t.scheduled.at(-1)!.delayMs).toBe(19);
  });
});
