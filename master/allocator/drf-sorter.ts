// Weighted DRF: active clients sit in a heap keyed by (share, allocations so far, name), so the
// order is deterministic and each charge re-keys one client in O(log n). When the cluster total
// changes (an agent comes or goes) every share changes, and the heap is rebuilt once, lazily.
import { IndexedHeap } from './heap.js';
import { dominantShare } from './kinds.js';
import { BaseSorter, type SorterClient } from './sorter.js';

export function drfLess(a: SorterClient, b: SorterClient): boolean {
  if (a.key !== b.key) return a.key < b.key;
  if (a.count !== b.count) return a.count < b.count;
  return a.name < b.name;
}

export class DrfSorter extends BaseSorter {
  readonly #heap = new IndexedHeap<SorterClient>(drfLess);
  /** Clients handed out in the current round. */
  readonly #taken: SorterClient[] = [];
  #version = -1;

  sort(): string[] {
    this.#sync();
    const active = [...this.#heap.items(), ...this.#taken.filter((c) => c.active)];
    return active.sort((a, b) => (drfLess(a, b) ? -1 : drfLess(b, a) ? 1 : 0)).map((c) => c.name);
  }

  next(): string | undefined {
    this.#sync();
    const c = this.#heap.pop();
    if (c === undefined) return undefined;
    this.#taken.push(c);
    return c.name;
  }

  reset(): void {
    for (const c of this.#taken) {
      if (c.active && c.heapIndex < 0 && this.byName.get(c.name) === c) this.#heap.push(c);
    }
    this.#taken.length = 0;
  }

  /** For tests. */
  heapIsValid(): boolean {
    this.#sync();
    return this.#heap.isValid();
  }

  protected changed(c: SorterClient): void {
    if (this.#version !== this.totals.version) {
      this.#sync();
      return;
    }
    c.key = this.#key(c);
    this.#heap.update(c);
  }

  protected weightChanged(c: SorterClient): void {
    this.changed(c);
  }

  protected onActivate(c: SorterClient): void {
    this.#sync();
    c.key = this.#key(c);
    this.#heap.push(c);
  }

  protected onDeactivate(c: SorterClient): void {
    this.#heap.remove(c);
  }

  #key(c: SorterClient): number {
    return dominantShare(c.alloc, this.totals.milli) / c.weight;
  }

  #sync(): void {
    if (this.#version === this.totals.version) return;
    this.#version = this.totals.version;
    for (const c of this.byName.values()) c.key = this.#key(c);
    this.#heap.heapify();
  }
}
