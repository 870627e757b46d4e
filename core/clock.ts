// Time is injected: production code takes a Clock, tests pass a FakeClock and advance it, so
// timer-heavy logic (allocation intervals, backoff, cron, health checks) is tested without sleeping.

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

export class SystemClock implements Clock {
  private readonly timers = new Map<number, NodeJS.Timeout>();

  now(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = nextId++;
    const t = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, Math.max(0, ms));
    t.unref?.();
    this.timers.set(id, t);
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
    const t = setInterval(fn, Math.max(1, ms));
    t.unref?.();
    this.timers.set(id, t);
    return { id };
  }

  clearInterval(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const t = this.timers.get(handle.id);
    if (t) clearInterval(t);
    this.timers.delete(handle.id);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }
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
    this.timers.set(id, { due: this.current + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete(handle.id);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = nextId++;
    const every = Math.max(1, ms);
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
