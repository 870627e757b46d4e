// Queries per client address per second (`--dns-rate`); past it a query is dropped unanswered, as
// BIND's response rate limiting drops, so the server is no useful reflector for forged sources.
// Counts live for one second; memory is bounded by starting afresh past `maxClients` addresses.
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
    if (window !== this.#window || this.#counts.size >= this.maxClients) {
      this.#window = window;
      this.#counts.clear();
    }
    const count = (this.#counts.get(address) ?? 0) + 1;
    this.#counts.set(address, count);
    return count <= this.perSecond;
  }
}
