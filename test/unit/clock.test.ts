import { describe, expect, it } from 'vitest';
import { FakeClock, NODE_TIMER_MAX_MS, SystemClock } from '../../core/clock.js';
import { SeededRandom, backoffDelay, shuffleInPlace } from '../../core/random.js';
import { eventually, holdsFor, pace } from '../support/waits.js';

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

describe('SystemClock: delays longer than a Node timer holds', () => {
  // The SystemClock runs on real time, so these tests do too (and stay short).
  // Node fires a timer of more than 2^31-1 ms after 1 ms (TimeoutOverflowWarning): a 30-day kill
  // grace became a SIGKILL after 4 ms. The clock must never fire such a timer early.
  it('does not fire a timer of 30 days, 2^31 ms, 1e308 ms or Infinity early', async () => {
    const clock = new SystemClock();
    const fired: string[] = [];
    const handles = [
      clock.setTimeout(() => fired.push('30d'), 30 * 24 * 3600 * 1000),
      clock.setTimeout(() => fired.push('2^31'), NODE_TIMER_MAX_MS + 1),
      clock.setTimeout(() => fired.push('1e308'), 1e308),
      clock.setTimeout(() => fired.push('Infinity'), Infinity),
      clock.setInterval(() => fired.push('every 40d'), 40 * 24 * 3600 * 1000),
    ];
    await holdsFor(60, () => expect(fired).toEqual([]), 'no overflowed timer fires');
    for (const h of handles) clock.clearTimeout(h);
  });

  it('waits in steps and fires once when due, neither early nor twice', async () => {
    const clock = new SystemClock({ maxStepMs: 20 });
    const started = performance.now();
    const at: number[] = [];
    clock.setTimeout(() => at.push(performance.now() - started), 110);
    await eventually(() => at.length > 0, { timeoutMs: 250, intervalMs: 5, what: 'the timer to fire (due at 110 ms)' });
    await holdsFor(140, () => expect(at).toHaveLength(1), 'it fires only once');
    expect(at[0]).toBeGreaterThanOrEqual(105);
  });

  it('repeats an interval longer than a step, one period apart, until cleared', async () => {
    const clock = new SystemClock({ maxStepMs: 10 });
    const started = performance.now();
    const at: number[] = [];
    const h = clock.setInterval(() => at.push(performance.now() - started), 45);
    await pace(160, 'the interval runs for three and a half periods');
    clock.clearInterval(h);
    const count = at.length;
    expect(count).toBeGreaterThanOrEqual(2);
    at.forEach((t, i) => expect(t).toBeGreaterThanOrEqual(45 * (i + 1) - 5));
    await holdsFor(100, () => expect(at).toHaveLength(count), 'a cleared interval repeats no more');
  });

  it('cancels a long wait between its steps', async () => {
    const clock = new SystemClock({ maxStepMs: 10 });
    let fired = false;
    const h = clock.setTimeout(() => (fired = true), 50);
    await pace(25, 'between two steps of the wait');
    clock.clearTimeout(h);
    await holdsFor(80, () => expect(fired).toBe(false), 'a cancelled wait does not fire');
  });

  it('fires negative and NaN delays at once (on a later turn), as Node does', async () => {
    const clock = new SystemClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('negative'), -5);
    clock.setTimeout(() => fired.push('NaN'), Number.NaN);
    expect(fired).toEqual([]);
    await eventually(() => fired.length === 2, { timeoutMs: 20, intervalMs: 1, what: 'both timers to fire at once' });
    expect(fired.sort()).toEqual(['NaN', 'negative']);
  });

  it('a FakeClock never fires Infinity and fires a long timer when advanced to it', () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('never'), Infinity);
    clock.setTimeout(() => fired.push('40d'), 40 * 24 * 3600 * 1000);
    clock.advance(40 * 24 * 3600 * 1000 - 1);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual(['40d']);
    clock.advance(1e15);
    expect(fired).toEqual(['40d']);
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
