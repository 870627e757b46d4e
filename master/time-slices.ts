// Work that comes in storms — a thousand agents re-registering at once after a failover — runs in
// slices of about SLICE_MS, with a turn of the event loop in between. Without them, one read of
// the sockets can bring hundreds of re-registrations that all run before the loop moves on, and
// what they produce (reconciliation answers to the framework, `reregistered` to the agents) is
// only written out at the end: HTTP/2 flushes writes once per turn. With them, answers leave every
// slice and the framework works through them alongside, and its calls are served in between.
//
//   turn() ── slice has time ──► undefined: go on
//          └─ slice used up ───► a promise, resolved in a later slice, first come first served,
//                                one after the other while that slice lasts
import { performance } from 'node:perf_hooks';

/** How long a slice may run before the event loop gets a turn. */
export const SLICE_MS = 8;

export class TimeSlices {
  readonly #waiting: Array<() => void> = [];
  /** When the current slice began; undefined between slices. */
  #sliceStart: number | undefined;
  /** Waiters are being woken, one after the other, while the slice lasts. */
  #waking = false;

  constructor(private readonly sliceMs = SLICE_MS) {}

  /** undefined when the caller may run now; else a promise resolved when its turn comes. */
  turn(): Promise<void> | undefined {
    if (this.#sliceStart === undefined) this.#startSlice();
    if (this.#waiting.length === 0 && !this.#waking && this.#hasTime()) return undefined;
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Run `work` in its turn. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    const wait = this.turn();
    if (wait) await wait;
    return work();
  }

  #hasTime(): boolean {
    return this.#sliceStart !== undefined && performance.now() - this.#sliceStart < this.sliceMs;
  }

  #startSlice(): void {
    this.#sliceStart = performance.now();
    setImmediate(() => this.#endSlice());
  }

  /** The loop has had its turn (writes flushed, sockets read): a new slice for those waiting. */
  #endSlice(): void {
    this.#sliceStart = undefined;
    if (this.#waiting.length === 0) return;
    this.#startSlice();
    this.#wakeNext();
  }

  /**
   * Wake the next waiter; once its work has run up to its first await (the microtask queued after
   * waking it runs after that), wake the one after, while the slice lasts.
   */
  #wakeNext(): void {
    const next = this.#hasTime() ? this.#waiting.shift() : undefined;
    this.#waking = next !== undefined;
    if (!next) return;
    next();
    queueMicrotask(() => this.#wakeNext());
  }
}
