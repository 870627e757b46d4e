// Random fairness (Mesos's RandomSorter): each round hands the active clients out in a fresh
// weighted random order (a client of weight 2 is twice as likely to come first), drawn from a
// seeded generator so runs are reproducible. Allocations are still tracked, so shares still show.
//
// The active clients live in one array; a round is a lazy Fisher–Yates shuffle of it: `next()`
// draws from the part not yet handed out and swaps the pick to the front.
import type { Random } from '../../core/random.js';
import type { ClusterTotals } from './kinds.js';
import { BaseSorter, type SorterClient } from './sorter.js';

export class RandomSorter extends BaseSorter {
  readonly #random: Random;
  readonly #order: SorterClient[] = [];
  #taken = 0;
  /** Active clients whose weight is not 1; when none, draws are uniform and O(1). */
  #weighted = 0;

  constructor(totals: ClusterTotals, random: Random) {
    super(totals);
    this.#random = random;
  }

  sort(): string[] {
    const saved = this.#taken;
    this.#taken = 0;
    const out: string[] = [];
    for (let name = this.next(); name !== undefined; name = this.next()) out.push(name);
    this.#taken = saved;
    return out;
  }

  next(): string | undefined {
    const order = this.#order;
    const k = this.#taken;
    if (k >= order.length) return undefined;
    const j = this.#weighted === 0 ? k + Math.floor(this.#random.next() * (order.length - k)) : this.#weightedPick(k);
    this.#swap(k, Math.min(j, order.length - 1));
    this.#taken = k + 1;
    return order[k]!.name;
  }

  reset(): void {
    this.#taken = 0;
  }

  protected changed(): void {
    // Allocations do not matter to the draw.
  }

  protected weightChanged(c: SorterClient, old: number): void {
    if (!c.active) return;
    if (old !== 1) this.#weighted--;
    if (c.weight !== 1) this.#weighted++;
  }

  protected onActivate(c: SorterClient): void {
    c.slot = this.#order.length;
    this.#order.push(c);
    if (c.weight !== 1) this.#weighted++;
  }

  protected onDeactivate(c: SorterClient): void {
    let i = c.slot;
    if (i < this.#taken) {
      // Keep the handed-out prefix contiguous: move the client to its end first.
      this.#swap(i, this.#taken - 1);
      i = this.#taken - 1;
      this.#taken--;
    }
    this.#swap(i, this.#order.length - 1);
    this.#order.pop();
    c.slot = -1;
    if (c.weight !== 1) this.#weighted--;
  }

  #weightedPick(k: number): number {
    const order = this.#order;
    let total = 0;
    for (let i = k; i < order.length; i++) total += order[i]!.weight;
    let r = this.#random.next() * total;
    for (let i = k; i < order.length; i++) {
      r -= order[i]!.weight;
      if (r < 0) return i;
    }
    return order.length - 1;
  }

  #swap(i: number, j: number): void {
    if (i === j) return;
    const order = this.#order;
    const a = order[i]!;
    const b = order[j]!;
    order[i] = b;
    b.slot = i;
    order[j] = a;
    a.slot = j;
  }
}
