// One plan for a burst of status updates. A thousand instances starting send two thousand updates,
// and they come one at a time (the agent produces them about as fast as they are handled), while a
// plan of a service costs time in proportion to its tasks: one plan per update made a deployment
// quadratic. So an update only marks a plan as owed, and one plan pays for every update before
// it. Owed plans are spaced by their own cost — the next waits `spacing` times as long as the last
// took (at most `maxDelayMs`) — so during a burst planning takes a bounded share of the thread
// whatever the service's size, and a small service waits a millisecond or so. Any plan
// pays (an API call's, an offer round's, a tick's), and a read of a service pays what is owed
// first (frameworks/services/framework.ts), so no reader sees a service between an update and its
// plan.
//
//   update ──► owe() ──(first since paid)──► schedule(run, delay) ──► run: pay() if still owed
//   replan ──► planning(plan): paid at its start, its duration sets the next delay
//
// Pure bookkeeping: time, scheduling and the plan itself are given.

export interface PlanDebtOptions {
  /** Call `run` after `delayMs` (0: after the events already here). Real time: this is about CPU. */
  readonly schedule: (run: () => void, delayMs: number) => void;
  /** Make the owed plan (in the framework's serial section, through planning()). */
  readonly pay: () => void;
  /** A monotonic clock in ms (performance.now). */
  readonly now: () => number;
  /** An owed plan waits this many times as long as the last plan took (default 19: plans take ≤ 1/20 of a burst). */
  readonly spacing?: number;
  /** …but never longer than this (default 50 ms). */
  readonly maxDelayMs?: number;
}

export class PlanDebt {
  #owed = false;
  #scheduled = false;
  /** When the next owed plan may start (monotonic ms). */
  #nextAt = -Infinity;

  constructor(private readonly o: PlanDebtOptions) {}

  /** Something a plan must see has happened since the last plan. */
  get owed(): boolean {
    return this.#owed;
  }

  /** Plan soon: once, however often this is called before the plan starts. */
  owe(): void {
    this.#owed = true;
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.o.schedule(
      () => {
        this.#scheduled = false;
        if (this.#owed) this.o.pay();
      },
      Math.max(0, this.#nextAt - this.o.now()),
    );
  }

  /** Run a plan: it sees everything that came before it, so the debt is paid as it starts. */
  async planning<T>(plan: () => Promise<T>): Promise<T> {
    this.#owed = false;
    const started = this.o.now();
    try {
      return await plan();
    } finally {
      const ended = this.o.now();
      this.#nextAt = ended + Math.min((ended - started) * (this.o.spacing ?? 19), this.o.maxDelayMs ?? 50);
    }
  }
}
