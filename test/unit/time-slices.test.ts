import { describe, expect, it } from 'vitest';
import { TimeSlices } from '../../master/time-slices.js';

function burn(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy, as a re-registration is
  }
}

describe('TimeSlices', () => {
  it('runs a storm of work in slices, in arrival order, with turns of the event loop in between', async () => {
    const slices = new TimeSlices(8);
    const order: number[] = [];
    const ranBetween: number[] = [];
    // Something else that wants the loop: it must get turns while the storm runs, not only after.
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 0);
    const runs = Array.from({ length: 60 }, (_, i) =>
      slices.run(async () => {
        order.push(i);
        ranBetween.push(ticks);
        burn(2);
        return i;
      }),
    );
    expect(await Promise.all(runs)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    clearInterval(ticker);
    expect(order).toEqual(Array.from({ length: 60 }, (_, i) => i));
    // 60 × 2 ms in slices of 8 ms: the ticker ran many times during the storm, and no slice ran
    // much more than its 8 ms (at most 5 works of 2 ms between two ticks). The first turn of the
    // loop is left out: the ticker, just set, is not due in it (the loop's clock is read once a turn).
    expect(ranBetween.at(-1)! - ranBetween[0]!).toBeGreaterThanOrEqual(10);
    const perTick = new Map<number, number>();
    for (const t of ranBetween) perTick.set(t, (perTick.get(t) ?? 0) + 1);
    perTick.delete(ranBetween[0]!);
    expect(Math.max(...perTick.values())).toBeLessThanOrEqual(5);
  });

  it('lets work through at once while a slice has time, and keeps a failed work from blocking the rest', async () => {
    const slices = new TimeSlices(50);
    expect(slices.turn()).toBeUndefined();
    const failed = slices.run(async () => {
      throw new Error('bad message');
    });
    await expect(failed).rejects.toThrow('bad message');
    expect(await slices.run(async () => 'next')).toBe('next');
  });
});
