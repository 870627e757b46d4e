// Scalar kinds as small integers, so shares are computed from plain number arrays instead of
// Resources values. A vector holds integer milli-units by kind index (exact, like Resources), and
// grows as new kinds appear; a missing index means 0.
//
// Every scalar kind counts toward the dominant share (cpus, mem, disk, gpus and any custom scalar
// an agent advertises, as Mesos's sorter does); ranges (ports) and sets never do.
import type { Resources } from '../../core/resources.js';

/** Scalars in milli-units, by kind index. */
export type MilliVector = number[];

export class Kinds {
  readonly #index = new Map<string, number>();
  readonly #names: string[] = [];

  /** The index of a kind, registering it on first sight. */
  index(name: string): number {
    let i = this.#index.get(name);
    if (i === undefined) {
      i = this.#names.length;
      this.#index.set(name, i);
      this.#names.push(name);
    }
    return i;
  }

  get size(): number {
    return this.#names.length;
  }

  name(index: number): string | undefined {
    return this.#names[index];
  }

  /** The scalars of `resources` (summed across roles) as a vector. */
  vector(resources: Resources): MilliVector {
    const out: MilliVector = [];
    for (const [name, units] of resources.scalars()) {
      const i = this.index(name);
      while (out.length <= i) out.push(0);
      out[i] = Math.round(units * 1000);
    }
    return out;
  }

  /** A Map name → milli for reading a vector (tests, errors). */
  named(vector: readonly number[]): Map<string, number> {
    const out = new Map<string, number>();
    vector.forEach((v, i) => {
      if (v !== 0) out.set(this.#names[i] ?? `#${i}`, v);
    });
    return out;
  }
}

/** The cluster's total scalars, shared by every sorter; `version` moves whenever it changes. */
export interface ClusterTotals {
  readonly milli: MilliVector;
  version: number;
}

/** `target += sign × delta`, growing `target` as needed. */
export function addInto(target: MilliVector, delta: readonly number[], sign: 1 | -1 = 1): void {
  while (target.length < delta.length) target.push(0);
  for (let i = 0; i < delta.length; i++) {
    const d = delta[i]!;
    if (d !== 0) target[i] = target[i]! + sign * d;
  }
}

/** max over kinds of allocated ÷ total (kinds with no total are skipped). */
export function dominantShare(alloc: readonly number[], totals: readonly number[]): number {
  let max = 0;
  const n = Math.min(alloc.length, totals.length);
  for (let i = 0; i < n; i++) {
    const t = totals[i]!;
    if (t > 0) {
      const s = alloc[i]! / t;
      if (s > max) max = s;
    }
  }
  return max;
}

export function vectorsEqual(a: readonly number[], b: readonly number[]): boolean {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return false;
  return true;
}

export function isZero(v: readonly number[]): boolean {
  for (const x of v) if (x !== 0) return false;
  return true;
}
