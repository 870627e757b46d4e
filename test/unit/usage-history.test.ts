// The cluster's usage history: sampled on the injected clock while leading, bounded, oldest first.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { UsageHistory } from '../../master/usage-history.js';

function history(options: { intervalMs?: number; size?: number } = {}): { clock: FakeClock; h: UsageHistory; lead: { on: boolean }; cpus: { n: number } } {
  const clock = new FakeClock(0);
  const lead = { on: true };
  const cpus = { n: 0 };
  const h = new UsageHistory({
    clock,
    intervalMs: options.intervalMs ?? 10_000,
    size: options.size ?? 3,
    leading: () => lead.on,
    sample: () => ({ total: { cpus: 8, mem: 1024, disk: 0 }, allocated: { cpus: cpus.n, mem: 0, disk: 0 }, used: { cpus: cpus.n / 2, mem: 0, disk: 0 } }),
  });
  return { clock, h, lead, cpus };
}

describe('usage history', () => {
  it('takes one sample every interval and keeps the last `size`, oldest first', () => {
    const { clock, h, cpus } = history();
    h.start();
    h.start(); // a second start does not double the timer
    expect(h.samples()).toEqual([]);
    for (let i = 1; i <= 5; i++) {
      cpus.n = i;
      clock.advance(10_000);
    }
    expect(h.samples().map((s) => [s.t, s.allocated.cpus, s.used.cpus])).toEqual([
      [30_000, 3, 1.5],
      [40_000, 4, 2],
      [50_000, 5, 2.5],
    ]);
    expect(h.samples()[0]?.total).toEqual({ cpus: 8, mem: 1024, disk: 0 });
    h.stop();
    clock.advance(60_000);
    expect(h.samples()).toHaveLength(3);
    expect(clock.pending()).toBe(0);
  });

  it('samples only while leading', () => {
    const { clock, h, lead } = history({ size: 10 });
    h.start();
    clock.advance(10_000);
    lead.on = false;
    clock.advance(20_000);
    lead.on = true;
    clock.advance(10_000);
    expect(h.samples().map((s) => s.t)).toEqual([10_000, 40_000]);
  });

  it('does not sample with an interval of 0', () => {
    const { clock, h } = history({ intervalMs: 0 });
    h.start();
    expect(clock.pending()).toBe(0);
    clock.advance(100_000);
    expect(h.samples()).toEqual([]);
  });
});
