// Quota during one allocation pass (Mesos's two stages, with its headroom rule).
//
//   consumed(R)  = allocated to R (reserved or not) + R's reservations still free
//   unsat(R)     = max(0, guarantee(R) − consumed(R))                 per scalar kind
//   required     = Σ over roles with a guarantee of unsat(R)           the headroom to keep
//   headroom     = unreserved free scalars on active agents
//   surplus      = max(0, headroom − required)
//
// Stage 1 offers to roles with unsat > 0 only: reserved resources in full, unreserved scalars of
// each guaranteed kind up to unsat(R), other unreserved scalar kinds up to surplus. Stage 2 offers
// to every role: reserved resources in full, unreserved scalars up to surplus + unsat(R) (what R
// takes toward its own guarantee does not eat into the headroom kept for others). In both, a
// limit caps everything the role holds (reserved or not); reserved scalars are kept before
// unreserved ones when trimming. Non-scalars (ports) ride along unless trimming removed every
// scalar, in which case nothing is offered (ports alone run nothing).
import { Resources, type Resource } from '../../core/resources.js';
import { addInto, type MilliVector } from './kinds.js';
import type { Ledger } from './ledger.js';

export type Stage = 1 | 2;

export class QuotaPass {
  readonly #ledger: Ledger;
  readonly #guarantee = new Map<string, MilliVector>();
  readonly #limit = new Map<string, MilliVector>();
  readonly #reservedFree = new Map<string, MilliVector>();
  readonly #headroom: MilliVector = [];
  #required: MilliVector = [];

  /** Undefined when no role has a quota: the pass then skips all of this. */
  static create(ledger: Ledger): QuotaPass | undefined {
    return ledger.quotas.size === 0 ? undefined : new QuotaPass(ledger);
  }

  private constructor(ledger: Ledger) {
    this.#ledger = ledger;
    const kinds = ledger.kinds;
    for (const [role, spec] of ledger.quotas) {
      if (spec.guarantee.size > 0) {
        this.#guarantee.set(role, toVector(spec.guarantee, (n) => kinds.index(n), 0));
        this.#reservedFree.set(role, []);
      }
      if (spec.limit !== undefined) this.#limit.set(role, toVector(spec.limit, (n) => kinds.index(n), Infinity));
    }
    for (const agent of ledger.agents.values()) {
      if (!agent.active) continue;
      addInto(this.#headroom, agent.reserved ? kinds.vector(agent.available.unreserved()) : ledger.vectorOn(agent, agent.available));
      if (!agent.reserved) continue;
      for (const [role, free] of this.#reservedFree) addInto(free, kinds.vector(agent.available.reservedFor(role)));
    }
    this.#recompute();
  }

  hasUnsatisfied(): boolean {
    for (const role of this.#guarantee.keys()) if (this.unsatisfied(role)) return true;
    return false;
  }

  unsatisfied(role: string): boolean {
    const g = this.#guarantee.get(role);
    if (g === undefined) return false;
    for (let k = 0; k < g.length; k++) if (this.#unsat(role, g, k) > 0) return true;
    return false;
  }

  /**
   * What of `available` (already restricted to what `role` may use) `role` may be offered now.
   * `worth` sees the scalars a cut would keep, so a cut that would be thrown away is not built;
   * `all` is the scalar vector of `available`; `reserved` says whether it may hold reservations.
   */
  trim(
    role: string,
    available: Resources,
    stage: Stage,
    worth: (milli: readonly number[]) => boolean,
    all: readonly number[],
    reserved: boolean,
  ): Resources {
    const n = this.#ledger.kinds.size;
    const g = this.#guarantee.get(role);
    const lim = this.#limit.get(role);
    const alloc = this.#ledger.roleSorter.has(role) ? this.#ledger.roleSorter.allocation(role) : [];
    const unresCap: number[] = [];
    const totalCap: number[] = [];
    for (let k = 0; k < n; k++) {
      const unsat = g === undefined ? 0 : this.#unsat(role, g, k);
      const surplus = Math.max(0, (this.#headroom[k] ?? 0) - (this.#required[k] ?? 0));
      unresCap.push(stage === 1 && (g?.[k] ?? 0) > 0 ? unsat : surplus + unsat);
      totalCap.push(lim === undefined ? Infinity : Math.max(0, (lim[k] ?? Infinity) - (alloc[k] ?? 0)));
    }
    const kinds = this.#ledger.kinds;
    const unreserved = reserved ? available.unreserved() : available;
    const unres = unreserved === available ? all : kinds.vector(unreserved);
    let fits = true;
    let some = false; // can any scalar be offered at all?
    const take: number[] = []; // the scalars a cut would keep
    for (let k = 0; k < n; k++) {
      const u = unres[k] ?? 0;
      const r = (all[k] ?? 0) - u;
      if (u > unresCap[k]! || u + r > totalCap[k]!) fits = false;
      const keepR = Math.min(r, totalCap[k]!);
      const keepU = Math.min(u, unresCap[k]!, totalCap[k]! - keepR);
      take.push(keepR + keepU);
      if (keepR + keepU > 0) some = true;
    }
    if (fits) return available;
    if (!some || !worth(take)) return Resources.EMPTY;
    return this.#cut(available, unresCap, totalCap);
  }

  /** Account for `offer` having been granted to `role`. */
  onGrant(role: string, offer: Resources, vec: readonly number[], reserved: boolean): void {
    const kinds = this.#ledger.kinds;
    const unres = reserved ? offer.unreserved() : offer;
    addInto(this.#headroom, unres === offer ? vec : kinds.vector(unres), -1);
    if (unres !== offer) {
      for (const [q, free] of this.#reservedFree) {
        const r = offer.reservedFor(q);
        if (!r.isEmpty()) addInto(free, kinds.vector(r), -1);
      }
    }
    if (this.#guarantee.has(role) || unres !== offer) this.#recompute();
  }

  #unsat(role: string, g: MilliVector, k: number): number {
    const gk = g[k] ?? 0;
    if (gk === 0) return 0;
    const alloc = this.#ledger.roleSorter.has(role) ? (this.#ledger.roleSorter.allocation(role)[k] ?? 0) : 0;
    const free = this.#reservedFree.get(role)?.[k] ?? 0;
    return Math.max(0, gk - alloc - free);
  }

  #recompute(): void {
    const required: MilliVector = [];
    for (const [role, g] of this.#guarantee) {
      for (let k = 0; k < g.length; k++) {
        while (required.length <= k) required.push(0);
        required[k] = required[k]! + this.#unsat(role, g, k);
      }
    }
    this.#required = required;
  }

  #cut(available: Resources, unresCap: number[], totalCap: number[]): Resources {
    const kinds = this.#ledger.kinds;
    const list = available.toList();
    const isUnres = (r: Resource): boolean => r.role === undefined || r.role === '*';
    const ordered = [...list.filter((r) => !isUnres(r)), ...list.filter(isUnres)];
    const out: Resource[] = [];
    let scalars = 0;
    for (const r of ordered) {
      if (r.type !== 'scalar') {
        out.push(r);
        continue;
      }
      const k = kinds.index(r.name);
      const unres = isUnres(r);
      const cap = Math.min(totalCap[k] ?? Infinity, unres ? (unresCap[k] ?? Infinity) : Infinity);
      const take = Math.min(Math.round((r.scalar ?? 0) * 1000), cap);
      if (take <= 0) continue;
      totalCap[k] = (totalCap[k] ?? Infinity) - take;
      if (unres) unresCap[k] = (unresCap[k] ?? Infinity) - take;
      out.push({ ...r, scalar: take / 1000 });
      scalars++;
    }
    return scalars === 0 ? Resources.EMPTY : Resources.fromList(out);
  }
}

function toVector(map: ReadonlyMap<string, number>, index: (name: string) => number, fill: number): MilliVector {
  const out: MilliVector = [];
  for (const [name, milli] of map) {
    const i = index(name);
    while (out.length <= i) out.push(fill);
    out[i] = milli;
  }
  return out;
}
