// The cluster's resources over time, for the dashboard's overview charts: every
// --usage-history-interval the leader takes one sample of what the cluster has (total), what is
// given to frameworks (allocated) and what their tasks measurably use (used, from the agents'
// usage reports, usage.ts), and keeps the last --usage-history-size of them in a ring.
//
// The timer runs on the injected clock; a sample is taken only while `leading()` says so (a
// standby's state is not the cluster's). Memory is bounded by the size: one small object a sample.
import type { Clock, TimerHandle } from '../core/clock.js';

export interface Amounts {
  readonly cpus: number;
  /** MiB */
  readonly mem: number;
  /** MiB */
  readonly disk: number;
}

export interface UsageSample {
  readonly t: number;
  readonly total: Amounts;
  readonly allocated: Amounts;
  readonly used: Amounts;
}

export interface UsageHistoryOptions {
  readonly clock: Clock;
  /** 0: no sampling (the history stays empty). */
  readonly intervalMs: number;
  readonly size: number;
  /** The cluster now, without the time. */
  readonly sample: () => Omit<UsageSample, 't'>;
  readonly leading: () => boolean;
}

export class UsageHistory {
  readonly #options: UsageHistoryOptions;
  readonly #ring: UsageSample[] = [];
  #start = 0;
  #timer: TimerHandle | undefined;

  constructor(options: UsageHistoryOptions) {
    this.#options = options;
  }

  get intervalMs(): number {
    return this.#options.intervalMs;
  }

  /** Start sampling (no-op when the interval is 0 or it already runs). */
  start(): void {
    if (this.#options.intervalMs <= 0 || this.#options.size <= 0 || this.#timer) return;
    this.#timer = this.#options.clock.setInterval(() => this.takeSample(), this.#options.intervalMs);
  }

  stop(): void {
    this.#options.clock.clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One sample now (when leading), replacing the oldest once the ring is full. */
  takeSample(): void {
    if (!this.#options.leading()) return;
    const sample = { t: this.#options.clock.now(), ...this.#options.sample() };
    if (this.#ring.length < this.#options.size) this.#ring.push(sample);
    else {
      this.#ring[this.#start] = sample;
      this.#start = (this.#start + 1) % this.#options.size;
    }
  }

  /** The samples kept, oldest first. */
  samples(): UsageSample[] {
    return [...this.#ring.slice(this.#start), ...this.#ring.slice(0, this.#start)];
  }
}
