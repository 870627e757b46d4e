// Conversion between the plain `Resource` list (wire and JSON form) and internal entries, with the
// same rules as the text parser; errors name the list element (`resources[2].ranges[0]`).

import { normalizeRanges, type Range } from './ranges.js';
import {
  KNOWN_TYPES,
  NAME_PATTERN,
  SET_ITEM_PATTERN,
  UNRESERVED,
  checkRangeBound,
  checkScalarMilli,
  invalid,
  isValidRole,
  milliToUnits,
  unitsToMilli,
  type Entry,
  type Resource,
  type ResourceType,
} from './resources-values.js';

/** Entries for each element of the list, in order; zero-valued ones are kept. */
export function entriesFromList(list: Iterable<Resource>, field: string): Entry[] {
  if (list === null || typeof list !== 'object' || !(Symbol.iterator in list)) {
    throw invalid(field, 'expected a list of resources');
  }
  const out: Entry[] = [];
  const types = new Map<string, ResourceType>();
  let i = 0;
  for (const r of list) {
    const at = `${field}[${i}]`;
    const e = entryFromResource(r, at);
    const seen = types.get(e.name);
    if (seen !== undefined && seen !== e.type) throw invalid(`${at}.type`, `'${e.name}' is used as both ${seen} and ${e.type}`);
    types.set(e.name, e.type);
    out.push(e);
    i++;
  }
  return out;
}

function entryFromResource(r: Resource, at: string): Entry {
  if (r === null || typeof r !== 'object') throw invalid(at, 'expected a resource object');
  const { name, type } = r;
  if (typeof name !== 'string' || name === '') throw invalid(`${at}.name`, 'empty resource name');
  if (!NAME_PATTERN.test(name)) throw invalid(`${at}.name`, `invalid resource name '${name}' (expected [a-z][a-z0-9_.-]*)`);
  const role = r.role === undefined || r.role === null ? UNRESERVED : r.role;
  if (typeof role !== 'string' || !isValidRole(role)) throw invalid(`${at}.role`, `invalid role '${String(role)}' for '${name}'`);
  if (type !== 'scalar' && type !== 'ranges' && type !== 'set') {
    throw invalid(`${at}.type`, `type of '${name}' must be scalar, ranges or set, got '${String(type)}'`);
  }
  const known = KNOWN_TYPES[name];
  if (known !== undefined && known !== type) throw invalid(`${at}.type`, `'${name}' must be ${known}, not ${type}`);
  switch (type) {
    case 'scalar': {
      if (r.scalar === undefined) throw invalid(`${at}.scalar`, `missing value for '${name}'`);
      const milli = unitsToMilli(r.scalar);
      if (typeof milli === 'string') throw invalid(`${at}.scalar`, `bad scalar for '${name}': ${milli}`);
      const problem = checkScalarMilli(name, milli);
      if (problem !== undefined) throw invalid(`${at}.scalar`, problem);
      return { type, name, role, milli };
    }
    case 'ranges':
      return { type, name, role, ranges: rangesFromList(name, r.ranges, `${at}.ranges`) };
    case 'set':
      return { type, name, role, items: setFromList(name, r.set, `${at}.set`) };
  }
}

function rangesFromList(name: string, ranges: unknown, at: string): Range[] {
  if (!Array.isArray(ranges)) throw invalid(at, `missing value for '${name}'`);
  const out: Range[] = [];
  ranges.forEach((r: unknown, j) => {
    const { begin, end } = (r ?? {}) as { begin?: unknown; end?: unknown };
    if (typeof begin !== 'number' || typeof end !== 'number') throw invalid(`${at}[${j}]`, `range of '${name}' needs numeric begin and end`);
    const problem = checkRangeBound(name, begin) ?? checkRangeBound(name, end);
    if (problem !== undefined) throw invalid(`${at}[${j}]`, problem);
    if (begin > end) throw invalid(`${at}[${j}]`, `range ${begin}-${end} of '${name}' has begin > end`);
    out.push({ begin, end });
  });
  return normalizeRanges(out);
}

function setFromList(name: string, set: unknown, at: string): string[] {
  if (!Array.isArray(set)) throw invalid(at, `missing value for '${name}'`);
  const seen = new Set<string>();
  set.forEach((item: unknown, j) => {
    if (typeof item !== 'string' || !SET_ITEM_PATTERN.test(item)) {
      throw invalid(`${at}[${j}]`, `bad item '${String(item)}' in the set '${name}'`);
    }
    if (seen.has(item)) throw invalid(`${at}[${j}]`, `duplicate item '${item}' in the set '${name}'`);
    seen.add(item);
  });
  return [...seen].sort();
}

/** The plain form of one entry; arrays are fresh copies, the role is omitted when unreserved. */
export function entryToResource(e: Entry): Resource {
  const r: Resource = { name: e.name, type: e.type };
  switch (e.type) {
    case 'scalar':
      r.scalar = milliToUnits(e.milli);
      break;
    case 'ranges':
      r.ranges = e.ranges.map((x) => ({ begin: x.begin, end: x.end }));
      break;
    case 'set':
      r.set = e.items.slice();
      break;
  }
  if (e.role !== UNRESERVED) r.role = e.role;
  return r;
}
