// Time is injected: production code takes a Clock, tests pass a FakeClock and advance it, so
// timer-heavy logic (allocation intervals, backoff, cron, health checks) is tested without sleeping.
//
// Node keeps a timer's delay in a signed 32-bit int: past 2^31-1 ms (24.8 days) it warns and fires
// after 1 ms, so a kill grace of 30 days would kill at once. SystemClock therefore waits in steps
// of at most MAX_TIMER_STEP_MS, checking the wall clock at each, and any caller may ask for any
// delay: a long one fires when due, Infinity never, a negative or NaN one at once.

export type TimerHandle = { readonly id: number };

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
  /** Resolves after `ms` of this clock's time. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

let nextId = 1;

/** The longest delay one Node timer holds (2^31-1 ms, about 24.8 days). */
export const NODE_TIMER_MAX_MS = 2 ** 31 - 1;
/** SystemClock waits in steps no longer than this (a day: far inside what Node holds). */
export const MAX_TIMER_STEP_MS = 24 * 3600 * 1000;

/** A delay as timers take it: NaN and negatives are 0 (at once); Infinity stays (never). */
export function timerDelay(ms: number): number {
  return Number.isNaN(ms) || ms < 0 ? 0 : ms;
}

export class SystemClock implements Clock {
  /** The Node timer currently standing for each handle (a long wait changes it at each step). */
  private readonly timers = new Map<number, NodeJS.Timeout | undefined>();
  readonly #maxStepMs: number;

  /** `maxStepMs` is for tests, to see long waits taken in steps without waiting a day. */
  constructor(options: { maxStepMs?: number } = {}) {
    this.#maxStepMs = Math.min(options.maxStepMs ?? MAX_TIMER_STEP_MS, MAX_TIMER_STEP_MS);
  }

  now(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = nextId++;
    this.timers.set(id, undefined);
    this.#wait(id, monotonicNow() + timerDelay(ms), () => {
      this.timers.delete(id);
      fn();
    });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const t = this.timers.get(handle.id);
    if (t) clearTimeout(t);
    this.timers.delete(handle.id);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = nextId++;
    const every = Math.max(1, timerDelay(ms));
    this.timers.set(id, undefined);
    if (every <= this.#maxStepMs) {
      const t = setInterval(fn, every);
      t.unref?.();
      this.timers.set(id, t);
    } else {
      // Longer than a Node timer holds: a chain of long waits, each due one period after the last.
      const tick = (due: number): void =>
        this.#wait(id, due, () => {
          fn();
          if (this.timers.has(id)) tick(due + every);
        });
      tick(monotonicNow() + every);
    }
    return { id };
  }

  clearInterval(handle: TimerHandle | undefined): void {
    this.clearTimeout(handle);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /**
   * Run `fire` after `due` (monotonic ms): one Node timer when that is at most a step away (as a
   * plain setTimeout), else a step's wait and then the same again; nothing once cleared.
   */
  #wait(id: number, due: number, fire: () => void): void {
    if (due === Infinity) return;
    const left = Math.max(0, due - monotonicNow());
    const last = left <= this.#maxStepMs;
    const t = setTimeout(() => {
      if (this.timers.get(id) !== t) return;
      if (last) fire();
      else this.#wait(id, due, fire);
    }, last ? left : this.#maxStepMs);
    t.unref?.();
    this.timers.set(id, t);
  }
}

/** Milliseconds of a clock that never jumps (not the wall clock, which NTP may step). */
function monotonicNow(): number {
  return performance.now();
}

/** A clock that only moves when told. Timers fire in due order during `advance`/`tick`. */
export class FakeClock implements Clock {
  private current: number;
  private readonly timers = new Map<number, { due: number; fn: () => void; every?: number }>();

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = nextId++;
    this.timers.set(id, { due: this.current + timerDelay(ms), fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete(handle.id);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = nextId++;
    const every = Math.max(1, timerDelay(ms));
    this.timers.set(id, { due: this.current + every, fn, every });
    return { id };
  }

  clearInterval(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete(handle.id);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Number of timers waiting to fire. */
  pending(): number {
    return this.timers.size;
  }

  /** Move time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      const [id, timer] = next;
      this.current = timer.due;
      if (timer.every !== undefined) timer.due += timer.every;
      else this.timers.delete(id);
      timer.fn();
    }
    this.current = target;
  }

  /** Advance in steps, letting promise callbacks run between timers (for async code under test). */
  async advanceAsync(ms: number, stepMs = ms): Promise<void> {
    let left = ms;
    while (left > 0) {
      const step = Math.min(stepMs, left);
      this.advance(step);
      left -= step;
      await flushMicrotasks();
    }
  }

  /** Set the time directly (only forward). */
  setTime(ms: number): void {
    if (ms < this.current) throw new Error('FakeClock cannot go backwards');
    this.advance(ms - this.current);
  }

  private nextDue(limit: number): [number, { due: number; fn: () => void; every?: number }] | undefined {
    let best: [number, { due: number; fn: () => void; every?: number }] | undefined;
    for (const entry of this.timers) {
      if (entry[1].due > limit) continue;
      if (!best || entry[1].due < best[1].due || (entry[1].due === best[1].due && entry[0] < best[0])) best = entry;
    }
    return best;
  }
}

/** Let queued promise callbacks run (several turns, since chains take one turn per link). */
export async function flushMicrotasks(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const systemClock: Clock = new SystemClock();
