// Resources: the immutable value the master, the allocator, the agents and the SDK trade in.
//
//   parse / fromList ──► Resources { Map<key, Entry> } ──► add / subtract / contains / ... ──► format / toList
//      (resources-parse, resources-list)      (resources-entry for per-entry math, ranges for range math)
//
// A Resources maps `name` (unreserved) or `name(role)` to one compact entry: a scalar in integer
// milli-units, normalized ranges, or a sorted set. Empty entries are never stored, so `cpus:0` is
// the empty value. Roles are kept apart everywhere: unreserved cpus never satisfy `cpus(prod)`.
// Instances are never mutated; derived facts (totals, text) are computed once, on first use.
// A name has one type: parse and fromList reject `x:1;x(r):[1-2]`, and add rejects a type clash on
// the same name and role (cpus, mem, disk, gpus are always scalar and ports always ranges).

import { FailedPreconditionError } from './errors.js';
import { addRanges, countRanges, formatRanges, intersectRanges, rangesFromValues, subtractRanges, takeFromRanges, type Range } from './ranges.js';
import { addEntry, containsEntry, entriesEqual, subtractEntry, withRole } from './resources-entry.js';
import { entriesFromList, entryToResource } from './resources-list.js';
import { parseEntries } from './resources-parse.js';
import {
  MAX_PORT,
  UNRESERVED,
  compareEntries,
  entryKey,
  formatMilli,
  invalid,
  isEmptyEntry,
  isValidRole,
  milliToUnits,
  type Entry,
  type Resource,
} from './resources-values.js';

export type { Range, Ranges } from './ranges.js';
export type { Resource, ResourceType } from './resources-values.js';
export { UNRESERVED } from './resources-values.js';

/** Thrown by `subtract` when the subtrahend is not contained; `details.missing` is its text. */
export class InsufficientResourcesError extends FailedPreconditionError {
  constructor(have: Resources, need: Resources) {
    const missing = need.missingFrom(have);
    super(`insufficient resources: need ${need.format()}, have ${have.format()}; missing ${missing}`, {
      details: { have: have.format(), need: need.format(), missing },
    });
  }
}

export class Resources {
  // A getter, not a static field: tsc's emit for a static field that constructs its own class
  // (with static private members) runs before the class binding exists, and crashes dist/.
  static #empty: Resources | undefined;
  static get EMPTY(): Resources {
    return (Resources.#empty ??= new Resources(new Map()));
  }

  readonly #entries: ReadonlyMap<string, Entry>;
  #totals: Map<string, number> | undefined; // name → milli-units across roles, for scalars
  #units: Map<string, number> | undefined; // the same in units
  #text: string | undefined;

  private constructor(entries: Map<string, Entry>) {
    this.#entries = entries;
  }

  // ---- construction ----

  /** Parse `cpus:4;mem:8192;ports:[31000-32000];cpus(prod):2`. */
  static parse(text: string, field = 'resources'): Resources {
    return Resources.#build(parseEntries(text, field), field);
  }

  static fromList(list: Iterable<Resource>, field = 'resources'): Resources {
    return Resources.#build(entriesFromList(list, field), field);
  }

  /** `{ cpus: 1, mem: 128 }` → unreserved (or `role`) scalars; names follow the usual rules. */
  static fromScalars(scalars: Readonly<Record<string, number>>, role: string = UNRESERVED, field = 'resources'): Resources {
    const list: Resource[] = Object.entries(scalars).map(([name, scalar]) => ({ name, type: 'scalar', scalar, role }));
    return Resources.fromList(list, field);
  }

  /** The sum of many values, with one intermediate map instead of one per addition. */
  static sum(values: Iterable<Resources>): Resources {
    const map = new Map<string, Entry>();
    for (const r of values) for (const [key, e] of r.#entries) mergeInto(map, key, e);
    return map.size === 0 ? Resources.EMPTY : new Resources(map);
  }

  /** See `validateTaskResources`. */
  static forTask(input: string | readonly Resource[] | Resources, field = 'resources'): Resources {
    if (input instanceof Resources) {
      if (input.isEmpty()) throw invalid(field, 'a task must ask for some resources');
      return input;
    }
    if (Array.isArray(input)) checkListScalars(input as readonly Resource[], field);
    const entries = typeof input === 'string' ? parseEntries(input, field) : entriesFromList(input as readonly Resource[], field);
    for (const e of entries) {
      if (!isEmptyEntry(e)) continue;
      if (e.type === 'scalar') throw invalid(`${field}.${e.name}`, 'must be positive (at least 0.001)');
      throw invalid(`${field}.${e.name}`, 'must not be empty');
    }
    const result = Resources.#build(entries, field);
    if (result.isEmpty()) throw invalid(field, 'a task must ask for some resources');
    return result;
  }

  static #build(entries: Iterable<Entry>, field: string): Resources {
    const map = new Map<string, Entry>();
    for (const e of entries) {
      if (!isEmptyEntry(e)) mergeInto(map, entryKey(e.name, e.role), e, field);
    }
    return map.size === 0 ? Resources.EMPTY : new Resources(map);
  }

  // ---- arithmetic ----

  add(other: Resources): Resources {
    if (other.#entries.size === 0) return this;
    if (this.#entries.size === 0) return other;
    const map = new Map(this.#entries);
    for (const [key, e] of other.#entries) mergeInto(map, key, e);
    return new Resources(map);
  }

  /** `this - other`; throws InsufficientResourcesError unless `this.contains(other)`. */
  subtract(other: Resources): Resources {
    const result = this.subtractOrUndefined(other);
    if (result === undefined) throw new InsufficientResourcesError(this, other);
    return result;
  }

  /** `this - other`, or undefined when `other` is not contained in `this`. */
  subtractOrUndefined(other: Resources): Resources | undefined {
    if (other.#entries.size === 0) return this;
    if (!this.contains(other)) return undefined;
    const map = new Map(this.#entries);
    for (const [key, e] of other.#entries) {
      const left = subtractEntry(map.get(key)!, e);
      if (isEmptyEntry(left)) map.delete(key);
      else map.set(key, left);
    }
    return map.size === 0 ? Resources.EMPTY : new Resources(map);
  }

  /** Whether every resource of `other` (same name, same role) is here. */
  contains(other: Resources): boolean {
    if (other.#entries.size > this.#entries.size) return false;
    for (const [key, e] of other.#entries) {
      const mine = this.#entries.get(key);
      if (mine === undefined || !containsEntry(mine, e)) return false;
    }
    return true;
  }

  equals(other: Resources): boolean {
    if (this === other) return true;
    if (other.#entries.size !== this.#entries.size) return false;
    for (const [key, e] of other.#entries) {
      const mine = this.#entries.get(key);
      if (mine === undefined || !entriesEqual(mine, e)) return false;
    }
    return true;
  }

  isEmpty(): boolean {
    return this.#entries.size === 0;
  }

  // ---- reading ----

  /** Total of a scalar across roles, in units (0 when absent). */
  scalar(name: string): number {
    return milliToUnits(this.#scalarTotals().get(name) ?? 0);
  }

  /** Totals of every scalar across roles, in units; the allocator's view. Cached; do not mutate. */
  scalars(): ReadonlyMap<string, number> {
    if (this.#units === undefined) {
      const units = new Map<string, number>();
      for (const [name, milli] of this.#scalarTotals()) units.set(name, milliToUnits(milli));
      this.#units = units;
    }
    return this.#units;
  }

  /** Union of a range resource across roles. */
  ranges(name: string): Range[] {
    let out: Range[] = [];
    for (const e of this.#entries.values()) if (e.type === 'ranges' && e.name === name) out = addRanges(out, e.ranges);
    return out;
  }

  /** Union of a set resource across roles, sorted. */
  set(name: string): string[] {
    const out = new Set<string>();
    for (const e of this.#entries.values()) if (e.type === 'set' && e.name === name) for (const x of e.items) out.add(x);
    return [...out].sort();
  }

  /** How many values a range resource holds across roles (e.g. ports). */
  count(name = 'ports'): number {
    return countRanges(this.ranges(name));
  }

  names(): string[] {
    return [...new Set(this.#sorted().map((e) => e.name))];
  }

  /** Roles present, '*' (unreserved) first, then alphabetically. */
  roles(): string[] {
    return [...new Set(this.#sorted().map((e) => e.role))];
  }

  // ---- roles and selection ----

  /** Everything moved to one role: unreserved by default (Mesos `flatten`), or `role`. */
  flatten(role: string = UNRESERVED): Resources {
    if (!isValidRole(role)) throw invalid('role', `invalid role '${role}'`);
    const map = new Map<string, Entry>();
    for (const e of this.#entries.values()) mergeInto(map, entryKey(e.name, role), withRole(e, role));
    return map.size === 0 ? Resources.EMPTY : new Resources(map);
  }

  /** Only what is reserved for exactly `role` ('*' gives the unreserved part). */
  reservedFor(role: string): Resources {
    return this.#where((e) => e.role === role);
  }

  unreserved(): Resources {
    return this.reservedFor(UNRESERVED);
  }

  /** Everything reserved for some role. */
  reserved(): Resources {
    return this.#where((e) => e.role !== UNRESERVED);
  }

  /** Parts by role, '*' (unreserved) first. */
  splitByRole(): Map<string, Resources> {
    const out = new Map<string, Resources>();
    for (const role of this.roles()) out.set(role, this.reservedFor(role));
    return out;
  }

  /** What a framework in `role` may use: unreserved, reserved for `role`, or for an ancestor of it (`a` for `a/b`). */
  allocatableTo(role: string): Resources {
    return this.#where((e) => e.role === UNRESERVED || e.role === role || role.startsWith(e.role + '/'));
  }

  /** Only the named resources. */
  filter(names: Iterable<string>): Resources {
    const keep = names instanceof Set ? (names as ReadonlySet<string>) : new Set(names);
    return this.#where((e) => keep.has(e.name));
  }

  /** Only the resources the predicate keeps (it sees the plain form). */
  filterBy(predicate: (resource: Resource) => boolean): Resources {
    return this.#where((e) => predicate(entryToResource(e)));
  }

  // ---- ports ----

  /**
   * The lowest `n` ports (unreserved first, then by role), as the port numbers and as resources
   * carrying their roles, ready to subtract from an offer; undefined when there are fewer than `n`.
   */
  takePorts(n: number, name = 'ports'): { ports: number[]; resources: Resources } | undefined {
    if (!Number.isInteger(n) || n < 0) throw invalid('ports', `port count must be a non-negative integer, got ${n}`);
    const map = new Map<string, Entry>();
    const ports: number[] = [];
    for (const e of this.#sorted()) {
      if (ports.length === n) break;
      if (e.type !== 'ranges' || e.name !== name) continue;
      const taken = takeFromRanges(e.ranges, Math.min(n - ports.length, countRanges(e.ranges)))!;
      ports.push(...taken);
      map.set(entryKey(name, e.role), { ...e, ranges: rangesFromValues(taken) });
    }
    if (ports.length < n) return undefined;
    return { ports, resources: map.size === 0 ? Resources.EMPTY : new Resources(map) };
  }

  /** Exactly these ports, from whichever role holds each; undefined when one is not available. */
  pickPorts(wanted: Iterable<number>, name = 'ports'): { ports: number[]; resources: Resources } | undefined {
    const ports = [...new Set(wanted)];
    for (const p of ports) {
      if (!Number.isInteger(p) || p < 0 || p > MAX_PORT) throw invalid('ports', `port ${p} is out of range 0..${MAX_PORT}`);
    }
    let rest = rangesFromValues(ports);
    const map = new Map<string, Entry>();
    for (const e of this.#sorted()) {
      if (e.type !== 'ranges' || e.name !== name || rest.length === 0) continue;
      const got = intersectRanges(e.ranges, rest);
      if (got.length === 0) continue;
      map.set(entryKey(name, e.role), { ...e, ranges: got });
      rest = subtractRanges(rest, got);
    }
    if (rest.length > 0) return undefined;
    return { ports, resources: map.size === 0 ? Resources.EMPTY : new Resources(map) };
  }

  // ---- output ----

  /** Plain resources in canonical order (see `format`). */
  toList(): Resource[] {
    return this.#sorted().map(entryToResource);
  }

  toJSON(): Resource[] {
    return this.toList();
  }

  /** Canonical text: unreserved first, then by role; inside, cpus, mem, disk, gpus, then by name. */
  format(): string {
    if (this.#text === undefined) this.#text = this.#sorted().map(formatEntry).join(';');
    return this.#text;
  }

  toString(): string {
    return this.format();
  }

  /** The part of `this` that `have` lacks, as text (for error messages). @internal */
  missingFrom(have: Resources): string {
    const parts: string[] = [];
    for (const e of this.#sorted()) {
      const mine = have.#entries.get(entryKey(e.name, e.role));
      if (mine === undefined || mine.type !== e.type) parts.push(formatEntry(e));
      else if (!containsEntry(mine, e)) parts.push(formatEntry(subtractEntry(e, mine)));
    }
    return parts.join(';');
  }

  // ---- internals ----

  #sorted(): Entry[] {
    return [...this.#entries.values()].sort(compareEntries);
  }

  #where(keep: (e: Entry) => boolean): Resources {
    const map = new Map<string, Entry>();
    for (const [key, e] of this.#entries) if (keep(e)) map.set(key, e);
    if (map.size === this.#entries.size) return this;
    return map.size === 0 ? Resources.EMPTY : new Resources(map);
  }

  #scalarTotals(): Map<string, number> {
    if (this.#totals === undefined) {
      const totals = new Map<string, number>();
      for (const e of this.#entries.values()) if (e.type === 'scalar') totals.set(e.name, (totals.get(e.name) ?? 0) + e.milli);
      this.#totals = totals;
    }
    return this.#totals;
  }
}

/** Scalar totals across roles, in units: the allocator's fast accessor. */
export function scalarsOf(resources: Resources): ReadonlyMap<string, number> {
  return resources.scalars();
}

/** Shorthand for `Resources.parse`. */
export function parseResources(text: string, field = 'resources'): Resources {
  return Resources.parse(text, field);
}

/**
 * Check the resources a task asks for: every scalar positive and finite (at least 0.001 after
 * rounding), every range or set non-empty, and something asked for at all. Errors name the
 * resource (`resources.cpus`). Returns the value.
 */
export function validateTaskResources(input: string | readonly Resource[] | Resources, field = 'resources'): Resources {
  return Resources.forTask(input, field);
}

function mergeInto(map: Map<string, Entry>, key: string, e: Entry, field = 'resources'): void {
  const mine = map.get(key);
  if (mine === undefined) {
    map.set(key, e);
    return;
  }
  const sum = addEntry(mine, e);
  if (sum === undefined) throw invalid(field, `'${e.name}' is used as both ${mine.type} and ${e.type}`);
  map.set(key, sum);
}

function formatEntry(e: Entry): string {
  const key = entryKey(e.name, e.role);
  switch (e.type) {
    case 'scalar':
      return `${key}:${formatMilli(e.milli)}`;
    case 'ranges':
      return `${key}:${formatRanges(e.ranges)}`;
    case 'set':
      return `${key}:{${e.items.join(',')}}`;
  }
}

function checkListScalars(list: readonly Resource[], field: string): void {
  for (const r of list) {
    if (r?.type !== 'scalar' || typeof r.name !== 'string') continue;
    const v = r.scalar;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`${field}.${r.name}`, `must be a finite number, got ${String(v)}`);
    if (v <= 0) throw invalid(`${field}.${r.name}`, `must be positive, got ${v}`);
  }
}
