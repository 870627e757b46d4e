// Arithmetic on single entries with the same name and role. Scalars add as integers (milli-units);
// ranges and sets add as unions, as Mesos's Value::Ranges and Value::Set do, so adding a port that
// is already present does not count it twice.

import { addRanges, containsRanges, rangesEqual, subtractRanges } from './ranges.js';
import type { Entry } from './resources-values.js';

/** `a + b`; undefined when the two have different types. */
export function addEntry(a: Entry, b: Entry): Entry | undefined {
  if (a.type === 'scalar') {
    return b.type === 'scalar' ? { type: 'scalar', name: a.name, role: a.role, milli: a.milli + b.milli } : undefined;
  }
  if (a.type === 'ranges') {
    return b.type === 'ranges' ? { type: 'ranges', name: a.name, role: a.role, ranges: addRanges(a.ranges, b.ranges) } : undefined;
  }
  return b.type === 'set' ? { type: 'set', name: a.name, role: a.role, items: unionSorted(a.items, b.items) } : undefined;
}

/** Whether `b` fits in `a`. */
export function containsEntry(a: Entry, b: Entry): boolean {
  if (a.type === 'scalar') return b.type === 'scalar' && a.milli >= b.milli;
  if (a.type === 'ranges') return b.type === 'ranges' && containsRanges(a.ranges, b.ranges);
  return b.type === 'set' && isSubsetSorted(b.items, a.items);
}

/** `a - b`, which the caller has checked with `containsEntry`; may be empty. */
export function subtractEntry(a: Entry, b: Entry): Entry {
  if (a.type === 'scalar' && b.type === 'scalar') return { type: 'scalar', name: a.name, role: a.role, milli: a.milli - b.milli };
  if (a.type === 'ranges' && b.type === 'ranges') {
    return { type: 'ranges', name: a.name, role: a.role, ranges: subtractRanges(a.ranges, b.ranges) };
  }
  if (a.type === 'set' && b.type === 'set') {
    const drop = new Set(b.items);
    return { type: 'set', name: a.name, role: a.role, items: a.items.filter((x) => !drop.has(x)) };
  }
  throw new TypeError(`cannot subtract ${b.type} from ${a.type}`);
}

export function entriesEqual(a: Entry, b: Entry): boolean {
  if (a.name !== b.name || a.role !== b.role) return false;
  if (a.type === 'scalar') return b.type === 'scalar' && a.milli === b.milli;
  if (a.type === 'ranges') return b.type === 'ranges' && rangesEqual(a.ranges, b.ranges);
  return b.type === 'set' && a.items.length === b.items.length && a.items.every((x, i) => x === b.items[i]);
}

/** The same value under another role. */
export function withRole(e: Entry, role: string): Entry {
  return e.role === role ? e : { ...e, role };
}

function unionSorted(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x < y)) {
      out.push(x!);
      i++;
    } else if (x === undefined || y < x) {
      out.push(y);
      j++;
    } else {
      out.push(x);
      i++;
      j++;
    }
  }
  return out;
}

function isSubsetSorted(sub: readonly string[], sup: readonly string[]): boolean {
  let j = 0;
  for (const x of sub) {
    while (j < sup.length && sup[j]! < x) j++;
    if (sup[j] !== x) return false;
    j++;
  }
  return true;
}
