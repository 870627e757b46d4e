// The offers the batch framework holds for its gang jobs (not declined: kept until the whole group
// is covered, for a bounded time — see gang.ts), each with the time it arrived, and each gang's
// memory (its cool-down after a release). An offer is held for at most one job; a rescinded offer
// is dropped; after a resubscription every held offer is void and forgotten.
import type { GangMemory, HeldOffer } from './gang.js';

export class GangHolds {
  readonly #held = new Map<string, HeldOffer[]>();
  readonly #memory = new Map<string, GangMemory>();

  /** Jobs holding offers now. */
  jobs(): string[] {
    return [...this.#held.keys()];
  }

  heldBy(job: string): readonly HeldOffer[] {
    return this.#held.get(job) ?? [];
  }

  get size(): number {
    let n = 0;
    for (const list of this.#held.values()) n += list.length;
    return n;
  }

  /** Remove and return what `job` holds. */
  take(job: string): HeldOffer[] {
    const list = this.#held.get(job) ?? [];
    this.#held.delete(job);
    return list;
  }

  /** `job` now holds exactly these (none of which another job holds: the caller took them from the pool). */
  hold(job: string, offers: readonly HeldOffer[]): void {
    if (offers.length === 0) this.#held.delete(job);
    else this.#held.set(job, [...offers]);
  }

  memory(job: string): GangMemory {
    return this.#memory.get(job) ?? {};
  }

  remember(job: string, memory: GangMemory): void {
    this.#memory.set(job, memory);
  }

  /** The job is gone (deleted, finished, triggered anew): its memory goes too; returns what it held. */
  forget(job: string): HeldOffer[] {
    this.#memory.delete(job);
    return this.take(job);
  }

  /** The master took the offer back. */
  rescind(offerId: string): boolean {
    for (const [job, list] of this.#held) {
      const rest = list.filter((h) => h.offer.id !== offerId);
      if (rest.length !== list.length) {
        this.hold(job, rest);
        return true;
      }
    }
    return false;
  }

  /** When the oldest held offer reaches `maxHoldMs`, for the wake-up timer. */
  nextExpiry(maxHoldMs: number): number | undefined {
    let at: number | undefined;
    for (const list of this.#held.values()) for (const h of list) at = Math.min(at ?? Infinity, h.receivedAtMs + maxHoldMs);
    return at;
  }

  /** After a (re)subscription: offers of the previous connection are void. */
  clear(): void {
    this.#held.clear();
  }
}
