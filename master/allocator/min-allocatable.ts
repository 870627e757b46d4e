// Mesos's --min_allocatable_resources: an agent's free resources (as a role sees them) are worth
// offering only if they hold at least one of these quantities ("cpus:0.01|mem:32" = any-of).
// Quantities ignore reservations: `cpus(prod):1` satisfies `cpus:0.01`. An empty list means any
// non-empty offer will do.
import { InvalidArgumentError } from '../../core/errors.js';
import { Resources } from '../../core/resources.js';
import type { Kinds } from './kinds.js';

interface Minimum {
  readonly scalars: ReadonlyArray<readonly [string, number]>;
  /** The non-scalar part, flattened (unreserved), when there is one. */
  readonly rest: Resources | undefined;
}

export class MinAllocatable {
  readonly #minimums: readonly Minimum[];

  constructor(list: readonly Resources[]) {
    if (!Array.isArray(list)) throw new InvalidArgumentError('minAllocatable', 'must be an array of Resources');
    this.#minimums = list.map((r, i) => {
      if (!(r instanceof Resources)) throw new InvalidArgumentError(`minAllocatable[${i}]`, 'must be a Resources value');
      const scalarNames = new Set(r.scalars().keys());
      const rest = r.filterBy((x) => !scalarNames.has(x.name)).flatten();
      return { scalars: [...r.scalars()], rest: rest.isEmpty() ? undefined : rest };
    });
  }

  /**
   * False when scalars `milli` (by kind index) cannot meet any minimum whatever else comes along;
   * lets quota trimming skip building an offer that would be thrown away.
   */
  couldAllow(milli: readonly number[], kinds: Kinds): boolean {
    if (this.#minimums.length === 0) return true;
    for (const m of this.#minimums) {
      let ok = true;
      for (const [name, units] of m.scalars) {
        if ((milli[kinds.index(name)] ?? 0) < Math.round(units * 1000)) {
          ok = false;
          break;
        }
      }
      if (ok) return true;
    }
    return false;
  }

  allows(offer: Resources): boolean {
    if (offer.isEmpty()) return false;
    if (this.#minimums.length === 0) return true;
    const have = offer.scalars();
    for (const m of this.#minimums) {
      let ok = true;
      for (const [name, units] of m.scalars) {
        if ((have.get(name) ?? 0) < units) {
          ok = false;
          break;
        }
      }
      if (ok && (m.rest === undefined || offer.flatten().contains(m.rest))) return true;
    }
    return false;
  }
}
