import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { SeededRandom, backoffDelay, shuffleInPlace } from '../../core/random.js';

describe('FakeClock', () => {
  it('fires timeouts in due order only when advanced past them', () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@20'), 20);
    clock.setTimeout(() => fired.push('a@10'), 10);
    const c = clock.setTimeout(() => fired.push('c@15'), 15);
    clock.clearTimeout(c);
    clock.advance(9);
    expect(fired).toEqual([]);
    clock.advance(11);
    expect(fired).toEqual(['a@10', 'b@20']);
    expect(clock.now()).toBe(20);
  });

  it('repeats intervals and sees the time of each firing', () => {
    const clock = new FakeClock(1000);
    const at: number[] = [];
    const h = clock.setInterval(() => at.push(clock.now()), 100);
    clock.advance(350);
    clock.clearInterval(h);
    clock.advance(1000);
    expect(at).toEqual([1100, 1200, 1300]);
  });

  it('runs timers scheduled by timers within the same advance', () => {
    const clock = new FakeClock(0);
    const at: number[] = [];
    clock.setTimeout(() => {
      at.push(clock.now());
      clock.setTimeout(() => at.push(clock.now()), 5);
    }, 5);
    clock.advance(10);
    expect(at).toEqual([5, 10]);
  });

  it('resolves sleep on advance and rejects it on abort', async () => {
    const clock = new FakeClock(0);
    let done = false;
    const p = clock.sleep(50).then(() => (done = true));
    await clock.advanceAsync(49);
    expect(done).toBe(false);
    await clock.advanceAsync(1);
    await p;
    expect(done).toBe(true);
    const ac = new AbortController();
    const q = clock.sleep(50, ac.signal);
    ac.abort(new Error('stop'));
    await expect(q).rejects.toThrow('stop');
    expect(clock.pending()).toBe(0);
  });

  it('refuses to go backwards', () => {
    const clock = new FakeClock(100);
    expect(() => clock.setTime(50)).toThrow(/backwards/);
  });
});

describe('seeded randomness', () => {
  it('repeats the same sequence for the same seed and differs across seeds', () => {
    const a = shuffleInPlace(new SeededRandom(42), [1, 2, 3, 4, 5, 6, 7, 8]);
    const b = shuffleInPlace(new SeededRandom(42), [1, 2, 3, 4, 5, 6, 7, 8]);
    const c = shuffleInPlace(new SeededRandom(7), [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect([...a].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('keeps backoff within its jitter band and under the cap', () => {
    const r = new SeededRandom(1);
    for (let attempt = 0; attempt < 20; attempt++) {
      const d = backoffDelay(r, attempt, 100, 10_000, 2, 0.2);
      const raw = Math.min(10_000, 100 * 2 ** attempt);
      expect(d).toBeGreaterThanOrEqual(raw * 0.8);
      expect(d).toBeLessThanOrEqual(Math.min(10_000, raw * 1.2));
    }
  });
});
