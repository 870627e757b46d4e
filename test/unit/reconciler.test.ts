import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { Reconciler, type KnownTask } from '../../sdk/reconciler.js';

function setup() {
  const clock = new FakeClock(0);
  const calls: Array<{ at: number; tasks: string[] }> = [];
  const reconciler = new Reconciler({
    clock,
    logger: silentLogger(),
    initialMs: 1000,
    maxMs: 4000,
    periodicMs: 60_000,
    send: async (tasks: readonly KnownTask[]) => void calls.push({ at: clock.now(), tasks: tasks.map((t) => t.taskId) }),
  });
  return { clock, calls, reconciler };
}

describe('Reconciler', () => {
  it('asks explicitly for every known task, retrying with truncated exponential backoff until answered', async () => {
    const { clock, calls, reconciler } = setup();
    reconciler.track({ taskId: 'a', agentId: 's1' });
    reconciler.track({ taskId: 'b', agentId: 's1' });
    reconciler.start();
    await flushMicrotasks();
    clock.advance(1000); // retry 1 after 1 s
    clock.advance(2000); // retry 2 after 2 s more
    clock.advance(4000); // capped at 4 s
    clock.advance(4000);
    expect(calls.map((c) => c.at)).toEqual([0, 1000, 3000, 7000, 11000]);
    expect(calls[0]?.tasks).toEqual(['a', 'b']);
    reconciler.confirmed('a');
    clock.advance(4000);
    expect(calls.at(-1)?.tasks).toEqual(['b']); // only what is still unanswered
    reconciler.confirmed('b');
    expect(reconciler.reconciling).toBe(false);
    const before = calls.length;
    clock.advance(59_000);
    expect(calls.length).toBe(before); // no more explicit asks
    clock.advance(1000);
    expect(calls.at(-1)).toEqual({ at: clock.now(), tasks: [] }); // the periodic implicit one
  });

  it('postpones the retry while answers keep arriving', () => {
    const { clock, calls, reconciler } = setup();
    for (const id of ['a', 'b', 'c']) reconciler.track({ taskId: id, agentId: 's1' });
    reconciler.start();
    clock.advance(900);
    reconciler.confirmed('a'); // an answer: the retry moves to 900 + 1000
    clock.advance(900);
    reconciler.confirmed('b');
    clock.advance(900);
    expect(calls.length).toBe(1);
    clock.advance(100);
    expect(calls.length).toBe(2);
    expect(calls[1]?.tasks).toEqual(['c']);
  });

  it('goes straight to periodic implicit reconciliation when nothing is known, and restarts cleanly', () => {
    const { clock, calls, reconciler } = setup();
    reconciler.start();
    expect(reconciler.reconciling).toBe(false);
    clock.advance(60_000);
    expect(calls).toEqual([{ at: 60_000, tasks: [] }]);
    reconciler.track({ taskId: 'x', agentId: 's2' });
    reconciler.start(); // a resubscription
    expect(calls.at(-1)).toEqual({ at: 60_000, tasks: ['x'] });
    reconciler.untrack('x');
    reconciler.stop();
    clock.advance(200_000);
    expect(calls.length).toBe(2);
  });

  it('asks about tasks tracked after a round began, in one call, and retries them', async () => {
    const { clock, calls, reconciler } = setup();
    reconciler.ask({ taskId: 'early', agentId: 's1' }); // before any round: only remembered
    await flushMicrotasks();
    expect(calls).toEqual([]);
    reconciler.start();
    expect(calls.at(-1)?.tasks).toEqual(['early']);
    reconciler.confirmed('early');
    reconciler.ask({ taskId: 'a', agentId: 's1' });
    reconciler.ask({ taskId: 'b', agentId: 's1' });
    await flushMicrotasks();
    expect(calls.at(-1)).toEqual({ at: 0, tasks: ['a', 'b'] });
    clock.advance(1000);
    expect(calls.at(-1)).toEqual({ at: 1000, tasks: ['a', 'b'] }); // unanswered: asked again
    reconciler.confirmed('a');
    reconciler.confirmed('b');
    const before = calls.length;
    clock.advance(30_000);
    expect(calls.length).toBe(before);
  });
});
