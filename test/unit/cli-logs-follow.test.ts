import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { allSettledWithin } from '../../cli/commands/logs.js';

describe('allSettledWithin (agora logs -f, every --refresh)', () => {
  it('leaves no abort listener behind, however often it is called', async () => {
    const signal = new AbortController().signal;
    const never = new Promise<void>(() => undefined);
    for (let i = 0; i < 3; i += 1) expect(await allSettledWithin([never], 1, signal)).toBe(false);
    expect(await allSettledWithin([Promise.resolve()], 1000, signal)).toBe(true);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('returns false at once when the signal aborts', async () => {
    const abort = new AbortController();
    const pending = allSettledWithin([new Promise<void>(() => undefined)], 60_000, abort.signal);
    abort.abort();
    expect(await pending).toBe(false);
  });
});
