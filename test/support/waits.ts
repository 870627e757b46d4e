// How a test waits. For a condition: `eventually` here (also exported by master-harness.ts),
// `until` in framework-cluster.ts, `expect.poll`; for timers in our code: a FakeClock. The real-time
// waits left are below, each named for why it waits; lint refuses a bare `setTimeout(resolve, …)`
// in a test, so a grep for `holdsFor` and `pace` lists every deliberate real-time wait.

const CHECK_EVERY_MS = 20;

/** Retry `check` until it stops throwing (or returns something other than false), or fail with its last error: the testing kit's. */
export { eventually } from '../../sdk/testing/index.js';

/**
 * An absence, bounded: `check` must hold (not throw, not return false) for the whole of `ms`. It is
 * checked at once and every 20 ms, so the test fails the moment it breaks rather than at the end.
 * `why` names what must not happen; it is in the failure.
 */
export async function holdsFor(ms: number, check: () => unknown, why: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    let ok: unknown;
    try {
      ok = await check();
    } catch (err) {
      throw new Error(`did not hold for ${ms} ms: ${why}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (ok === false) throw new Error(`did not hold for ${ms} ms: ${why}`);
    const left = deadline - Date.now();
    if (left <= 0) return;
    await realTime(Math.min(CHECK_EVERY_MS, left));
  }
}

/**
 * Real time passing with nothing to observe: a scenario's duration (a task ends while a master is
 * down), a window something is measured over, or pacing a real process. `why` is for the reader.
 */
export function pace(ms: number, _why: string): Promise<void> {
  return realTime(ms);
}

/** `promise`, or `fallback` if it has not settled within `ms` (bounds a wait for an exit, say). */
export async function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<F>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

function realTime(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
