// The named waits of test/support/waits.ts: an absence fails the moment it breaks, not at the end.
import { describe, expect, it } from 'vitest';
import { eventually, holdsFor, within } from '../support/waits.js';

describe('holdsFor', () => {
  it('passes when the check holds for the whole period, having checked it more than once', async () => {
    let checks = 0;
    const started = Date.now();
    await holdsFor(60, () => void checks++, 'nothing happens');
    expect(Date.now() - started).toBeGreaterThanOrEqual(60);
    expect(checks).toBeGreaterThan(1);
  });

  it('fails the moment the check breaks, naming what must not happen and why it broke', async () => {
    let broken = false;
    setTimeout(() => (broken = true), 30);
    const started = Date.now();
    const err = await holdsFor(5_000, () => expect(broken).toBe(false), 'no launch reaches the agent').then(() => undefined, (e: unknown) => e as Error);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(err?.message).toMatch(/^did not hold for 5000 ms: no launch reaches the agent: expected true to be false/);
  });

  it('treats a false result as broken, and checks at once', async () => {
    await expect(holdsFor(1_000, () => false, 'quiet')).rejects.toThrow('did not hold for 1000 ms: quiet');
    await expect(holdsFor(1_000, async () => Promise.reject(new Error('gone')), 'still there')).rejects.toThrow('still there: gone');
  });
});

describe('eventually', () => {
  it('returns the first value that is not false, and names what it waited for when it times out', async () => {
    let n = 0;
    expect(await eventually(() => (++n >= 3 ? n : false), { intervalMs: 1 })).toBe(3);
    await expect(eventually(() => false, { timeoutMs: 30, what: 'the agent' })).rejects.toThrow('timed out waiting for the agent: condition is false');
  });
});

describe('within', () => {
  it('gives the promise, or the fallback when it does not settle in time', async () => {
    expect(await within(Promise.resolve(1), 1_000, 'late')).toBe(1);
    expect(await within(new Promise(() => undefined), 20, 'late')).toBe('late');
  });
});
