// Queries per client address per second (`--dns-rate`); past it a query is dropped unanswered, as
// BIND's response rate limiting drops, so the server is no useful reflector for forged sources.
// Counts live for one second. Memory is bounded: past `maxClients` addresses in one second, the
// addresses not yet counted share one more count (and so one budget) until the second ends. A
// flood of forged sources therefore cannot wipe the count of the address it means to reflect at.
const OVERFLOW = '';

export class ClientRate {
  #window = -1;
  readonly #counts = new Map<string, number>();

  constructor(
    /** 0 = no limit. */
    readonly perSecond: number,
    readonly now: () => number = Date.now,
    readonly maxClients = 10_000,
  ) {}

  allow(address: string): boolean {
    if (this.perSecond === 0) return true;
    const window = Math.floor(this.now() / 1000);
    if (window !== this.#window) {
      this.#window = window;
      this.#counts.clear();
    }
    const key = this.#counts.has(address) || this.#counts.size < this.maxClients ? address : OVERFLOW;
    const count = (this.#counts.get(key) ?? 0) + 1;
    this.#counts.set(key, count);
    return count <= this.perSecond;
  }
}
