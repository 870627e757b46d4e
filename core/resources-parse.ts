// The text form of resources, as Mesos's `--resources` flag:
//
//   cpus:4; mem:8192; disk:10000; gpus:1; ports:[31000-32000, 33000-33010]
//   cpus(prod):2; mem(prod):1024; zones:{a,b,c}
//
// Items are separated by ';' (empty items are skipped, so a trailing ';' is fine); whitespace is
// allowed around every separator. A value is a scalar (decimal, rounded half up to 3 places), ranges
// in brackets (`[80]` is `[80-80]`; overlapping ranges are merged) or a set in braces. Errors are
// InvalidArgumentError on the caller's field and say what is wrong, where (0-based character
// position) and in which fragment.

import { normalizeRanges, type Range } from './ranges.js';
import {
  KNOWN_TYPES,
  NAME_PATTERN,
  SET_ITEM_PATTERN,
  UNRESERVED,
  checkRangeBound,
  checkScalarMilli,
  decimalTextToMilli,
  invalid,
  isValidRole,
  type Entry,
  type ResourceType,
} from './resources-values.js';

class Cursor {
  constructor(
    readonly field: string,
    readonly text: string,
  ) {}

  fail(problem: string, position: number, fragment: string): never {
    throw invalid(this.field, `${problem} (at position ${position} in '${fragment}')`, { position, fragment });
  }
}

/** Parse resource text into its items, in order; zero-valued items are kept. */
export function parseEntries(text: string, field = 'resources'): Entry[] {
  if (typeof text !== 'string') throw invalid(field, `expected resource text, got ${typeof text}`);
  const cur: Cursor = new Cursor(field, text);
  const out: Entry[] = [];
  const types = new Map<string, ResourceType>();
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf(';', start);
    if (end < 0) end = text.length;
    const raw = text.slice(start, end);
    const lead = raw.length - raw.trimStart().length;
    const item = raw.trim();
    if (item !== '') {
      const entry = parseItem(cur, item, start + lead);
      const seen = types.get(entry.name);
      if (seen !== undefined && seen !== entry.type) {
        cur.fail(`'${entry.name}' is used as both ${seen} and ${entry.type}`, start + lead, item);
      }
      types.set(entry.name, entry.type);
      out.push(entry);
    }
    start = end + 1;
  }
  return out;
}

function parseItem(cur: Cursor, item: string, position: number): Entry {
  let i = 0;
  while (i < item.length && !isNameEnd(item.charCodeAt(i))) i++;
  const name = item.slice(0, i);
  if (name === '') cur.fail('empty resource name', position, item);
  if (!NAME_PATTERN.test(name)) cur.fail(`invalid resource name '${name}' (expected [a-z][a-z0-9_.-]*)`, position, item);
  i = skipSpace(item, i);

  let role = UNRESERVED;
  if (item[i] === '(') {
    const close = item.indexOf(')', i);
    if (close < 0) cur.fail(`unclosed '(' in the role of '${name}'`, position + i, item);
    role = item.slice(i + 1, close).trim();
    if (!isValidRole(role)) cur.fail(`invalid role '${role}' for '${name}'`, position + i, item);
    i = skipSpace(item, close + 1);
  }

  if (i >= item.length) cur.fail(`missing value for '${name}'`, position + i, item);
  if (item[i] !== ':') cur.fail(`expected ':' after '${name}', found '${item[i]}'`, position + i, item);
  const valueStart = skipSpace(item, i + 1);
  const value = item.slice(valueStart);
  const at = position + valueStart;
  if (value === '') cur.fail(`missing value for '${name}'`, at, item);

  const known = KNOWN_TYPES[name];
  const type: ResourceType = value[0] === '[' ? 'ranges' : value[0] === '{' ? 'set' : 'scalar';
  if (known !== undefined && known !== type) cur.fail(`'${name}' must be ${known}, not ${type}`, at, item);

  switch (type) {
    case 'ranges':
      return { type, name, role, ranges: parseRanges(cur, name, value, at, item) };
    case 'set':
      return { type, name, role, items: parseSet(cur, name, value, at, item) };
    case 'scalar': {
      const milli = decimalTextToMilli(value);
      if (typeof milli === 'string') cur.fail(`bad scalar for '${name}': ${milli}`, at, item);
      const problem = checkScalarMilli(name, milli);
      if (problem !== undefined) cur.fail(problem, at, item);
      return { type, name, role, milli };
    }
  }
}

function parseRanges(cur: Cursor, name: string, value: string, at: number, item: string): Range[] {
  if (value[value.length - 1] !== ']') cur.fail(`unclosed '[' in the value of '${name}'`, at, item);
  const inner = value.slice(1, -1);
  if (inner.trim() === '') return [];
  const ranges: Range[] = [];
  let offset = 1;
  for (const part of inner.split(',')) {
    const p = part.trim();
    const pos = at + offset + (part.length - part.trimStart().length);
    offset += part.length + 1;
    if (p === '') cur.fail(`empty range in '${name}'`, pos, item);
    const dash = p.indexOf('-', 1);
    const begin = parseBound(cur, name, dash < 0 ? p : p.slice(0, dash).trim(), pos, item);
    const end = dash < 0 ? begin : parseBound(cur, name, p.slice(dash + 1).trim(), pos, item);
    if (begin > end) cur.fail(`range ${begin}-${end} of '${name}' has begin > end`, pos, item);
    ranges.push({ begin, end });
  }
  return normalizeRanges(ranges);
}

function parseBound(cur: Cursor, name: string, text: string, pos: number, item: string): number {
  let value: number;
  if (/^\d+$/.test(text)) value = Number(text);
  else if (/^-\d+(\.\d*)?$/.test(text)) cur.fail(`range bound ${text} of '${name}' must not be negative`, pos, item);
  else if (/^\d*\.\d*$/.test(text) && text !== '.') cur.fail(`range bound ${text} of '${name}' must be an integer`, pos, item);
  else cur.fail(`bad range bound '${text}' in '${name}'`, pos, item);
  const problem = checkRangeBound(name, value);
  if (problem !== undefined) cur.fail(problem, pos, item);
  return value;
}

function parseSet(cur: Cursor, name: string, value: string, at: number, item: string): string[] {
  if (value[value.length - 1] !== '}') cur.fail(`unclosed '{' in the value of '${name}'`, at, item);
  const inner = value.slice(1, -1);
  if (inner.trim() === '') return [];
  const seen = new Set<string>();
  let offset = 1;
  for (const part of inner.split(',')) {
    const p = part.trim();
    const pos = at + offset + (part.length - part.trimStart().length);
    offset += part.length + 1;
    if (p === '') cur.fail(`empty item in the set '${name}'`, pos, item);
    if (!SET_ITEM_PATTERN.test(p)) cur.fail(`bad item '${p}' in the set '${name}'`, pos, item);
    if (seen.has(p)) cur.fail(`duplicate item '${p}' in the set '${name}'`, pos, item);
    seen.add(p);
  }
  return [...seen].sort();
}

function isNameEnd(c: number): boolean {
  // ':' '(' and whitespace end a name; anything else is checked against NAME_PATTERN.
  return c === 58 || c === 40 || c === 32 || c === 9 || c === 10 || c === 13;
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && /\s/.test(s[i]!)) i++;
  return i;
}
