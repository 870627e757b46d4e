// Fairness as a small interface, as Mesos's sorters: clients (roles, or frameworks inside a role)
// are added, charged with `allocated` and credited with `unallocated`, and read back in order.
//
// The order is consumed in *rounds*, one per agent: `next()` hands out the best active client not
// yet handed out in this round, and `reset()` ends the round, putting every handed-out client back
// in play with whatever share it has now. A DRF sorter does this with a heap (O(log n) per client
// taken), so an agent that the first client takes whole costs two heap operations, not a sort.
// Activation (a client that wants nothing is inactive) must not change in the middle of a round.
import { InternalError } from '../../core/errors.js';
import { addInto, dominantShare, type ClusterTotals, type MilliVector } from './kinds.js';

export interface Sorter {
  readonly size: number;
  /** How many clients are active (would be handed out by `next`). */
  readonly activeCount: number;
  add(client: string, weight?: number): void;
  remove(client: string): void;
  has(client: string): boolean;
  setWeight(client: string, weight: number): void;
  activate(client: string): void;
  deactivate(client: string): void;
  isActive(client: string): boolean;
  /** Charge `client` (counts one allocation for the tie-break). */
  allocated(client: string, delta: readonly number[]): void;
  unallocated(client: string, delta: readonly number[]): void;
  /** What `client` holds, in milli-units by kind index. Do not mutate. */
  allocation(client: string): readonly number[];
  /** Weighted dominant share: max over kinds of allocation ÷ cluster total, ÷ weight. */
  share(client: string): number;
  /** Every client, active or not, by name. */
  clients(): string[];
  /** The active clients in the order a fresh round would hand them out. */
  sort(): string[];
  next(): string | undefined;
  reset(): void;
}

export interface SorterClient {
  readonly name: string;
  weight: number;
  readonly alloc: MilliVector;
  /** Allocations so far (never decremented); the second tie-break, as Mesos. */
  count: number;
  active: boolean;
  /** Cached weighted share (the DRF heap key). */
  key: number;
  heapIndex: number;
  /** Position in the random sorter's order, or -1. */
  slot: number;
}

/** Bookkeeping shared by every sorter: clients, allocations, shares. */
export abstract class BaseSorter implements Sorter {
  protected readonly byName = new Map<string, SorterClient>();
  protected readonly totals: ClusterTotals;
  #active = 0;

  constructor(totals: ClusterTotals) {
    this.totals = totals;
  }

  get size(): number {
    return this.byName.size;
  }

  get activeCount(): number {
    return this.#active;
  }

  add(name: string, weight = 1): void {
    if (this.byName.has(name)) throw new InternalError(`sorter: client '${name}' added twice`);
    checkWeight(weight);
    this.byName.set(name, { name, weight, alloc: [], count: 0, active: false, key: 0, heapIndex: -1, slot: -1 });
  }

  remove(name: string): void {
    const c = this.byName.get(name);
    if (c === undefined) return;
    if (c.active) this.deactivate(name);
    this.byName.delete(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  setWeight(name: string, weight: number): void {
    checkWeight(weight);
    const c = this.client(name);
    const old = c.weight;
    c.weight = weight;
    this.weightChanged(c, old);
  }

  activate(name: string): void {
    const c = this.client(name);
    if (c.active) return;
    c.active = true;
    this.#active++;
    this.onActivate(c);
  }

  deactivate(name: string): void {
    const c = this.client(name);
    if (!c.active) return;
    c.active = false;
    this.#active--;
    this.onDeactivate(c);
  }

  isActive(name: string): boolean {
    return this.byName.get(name)?.active ?? false;
  }

  allocated(name: string, delta: readonly number[]): void {
    const c = this.client(name);
    addInto(c.alloc, delta, 1);
    c.count++;
    this.changed(c);
  }

  unallocated(name: string, delta: readonly number[]): void {
    const c = this.client(name);
    addInto(c.alloc, delta, -1);
    this.changed(c);
  }

  allocation(name: string): readonly number[] {
    return this.client(name).alloc;
  }

  share(name: string): number {
    const c = this.client(name);
    return dominantShare(c.alloc, this.totals.milli) / c.weight;
  }

  clients(): string[] {
    return [...this.byName.keys()].sort();
  }

  abstract sort(): string[];
  abstract next(): string | undefined;
  abstract reset(): void;

  protected client(name: string): SorterClient {
    const c = this.byName.get(name);
    if (c === undefined) throw new InternalError(`sorter: unknown client '${name}'`);
    return c;
  }

  /** The client's allocation changed. */
  protected abstract changed(c: SorterClient): void;
  protected abstract weightChanged(c: SorterClient, old: number): void;
  protected abstract onActivate(c: SorterClient): void;
  protected abstract onDeactivate(c: SorterClient): void;
}

function checkWeight(weight: number): void {
  if (!Number.isFinite(weight) || weight <= 0) throw new InternalError(`sorter: weight must be positive, got ${weight}`);
}
