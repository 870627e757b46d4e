// Callers of waitSubscribed(): each resolves on the next subscription, or rejects on its own
// timeout (on the driver's clock) or when the driver ends.
import type { Clock } from '../core/clock.js';
import type { AgoraError } from '../core/errors.js';

export class SubscriptionWaiters {
  readonly #waiters = new Set<{ resolve: () => void; reject: (err: AgoraError) => void }>();

  constructor(private readonly clock: Clock) {}

  /** A promise settled by resolveAll / rejectAll, or rejected with `onTimeout()` after `timeoutMs`. */
  wait(timeoutMs: number, onTimeout: () => AgoraError): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          this.clock.clearTimeout(timer);
          resolve();
        },
        reject: (err: AgoraError) => {
          this.clock.clearTimeout(timer);
          reject(err);
        },
      };
      const timer = this.clock.setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(onTimeout());
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  resolveAll(): void {
    for (const w of this.#waiters) w.resolve();
    this.#waiters.clear();
  }

  rejectAll(err: AgoraError): void {
    for (const w of this.#waiters) w.reject(err);
    this.#waiters.clear();
  }
}
