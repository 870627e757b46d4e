// The building blocks of the resources algebra: the plain `Resource` shape, the compact internal
// entry, fixed-point scalars and the rules for names, roles and values.
//
// Scalars are fixed point with three decimals, as Mesos's Value::Scalar: every scalar is held as an
// integer count of milli-units (0.5 cpus = 500), rounded half up from its decimal text, so sums and
// differences are exact and never drift.

import { InvalidArgumentError } from './errors.js';
import { MAX_ROLE_LENGTH } from './ids.js';
import { type Ranges, type Range } from './ranges.js';

export type ResourceType = 'scalar' | 'ranges' | 'set';

/** The plain, wire-like form of one resource (see `Resources.toList` / `Resources.fromList`). */
export interface Resource {
  name: string;
  type: ResourceType;
  /** Units as a decimal number (0.5 cpus); rounded to 3 decimals on the way in. */
  scalar?: number;
  ranges?: Range[];
  set?: string[];
  /** undefined or '*' = unreserved; otherwise the role the resource is reserved for. */
  role?: string;
}

export const UNRESERVED = '*';

/** One resource inside a `Resources`: a name, a role ('*' when unreserved) and a non-empty value. */
export type Entry = ScalarEntry | RangesEntry | SetEntry;
export interface ScalarEntry {
  readonly type: 'scalar';
  readonly name: string;
  readonly role: string;
  readonly milli: number;
}
export interface RangesEntry {
  readonly type: 'ranges';
  readonly name: string;
  readonly role: string;
  readonly ranges: Ranges;
}
export interface SetEntry {
  readonly type: 'set';
  readonly name: string;
  readonly role: string;
  /** Sorted, no duplicates. */
  readonly items: readonly string[];
}

export function entryKey(name: string, role: string): string {
  return role === UNRESERVED ? name : `${name}(${role})`;
}

/** Entries whose value is zero or empty are never stored (Mesos drops empty resources too). */
export function isEmptyEntry(e: Entry): boolean {
  switch (e.type) {
    case 'scalar':
      return e.milli === 0;
    case 'ranges':
      return e.ranges.length === 0;
    case 'set':
      return e.items.length === 0;
  }
}

// ---- names, roles and per-name rules ----

export const NAME_PATTERN = /^[a-z][a-z0-9_.-]*$/;
// Mesos roles: '*' or path segments of [A-Za-z0-9_.-], a segment not '.' or '..' nor starting with '-'.
const ROLE_SEGMENT = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/;

export function isValidRole(role: string): boolean {
  if (role === UNRESERVED) return true;
  if (typeof role !== 'string' || role.length === 0 || role.length > MAX_ROLE_LENGTH) return false;
  for (const seg of role.split('/')) {
    if (!ROLE_SEGMENT.test(seg) || seg === '.' || seg === '..') return false;
  }
  return true;
}

/** Well-known names have a fixed type, as the Mesos agent insists. */
export const KNOWN_TYPES: Readonly<Record<string, ResourceType>> = Object.freeze({
  cpus: 'scalar',
  mem: 'scalar',
  disk: 'scalar',
  gpus: 'scalar',
  ports: 'ranges',
});

/** Canonical order: these first, then other names alphabetically. */
export const NAME_ORDER: Readonly<Record<string, number>> = Object.freeze({ cpus: 0, mem: 1, disk: 2, gpus: 3 });

export function compareNames(a: string, b: string): number {
  const ra = NAME_ORDER[a] ?? 4;
  const rb = NAME_ORDER[b] ?? 4;
  if (ra !== rb) return ra - rb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Unreserved first, then roles alphabetically; inside a role, names in canonical order. */
export function compareEntries(a: Entry, b: Entry): number {
  if (a.role !== b.role) {
    if (a.role === UNRESERVED) return -1;
    if (b.role === UNRESERVED) return 1;
    return a.role < b.role ? -1 : 1;
  }
  return compareNames(a.name, b.name);
}

/** A set item: no whitespace and none of the characters the text form uses as syntax. */
export const SET_ITEM_PATTERN = /^[^\s,;:{}[\]()]+$/;

export const MAX_PORT = 65535;
/** Largest scalar in units whose milli-units stay an exact integer in a double. */
export const MAX_SCALAR = Math.floor(Number.MAX_SAFE_INTEGER / 1000);

/** Per-name value rules shared by the parser and `fromList`; returns a problem or undefined. */
export function checkRangeBound(name: string, value: number): string | undefined {
  if (!Number.isFinite(value)) return `range bound ${value} of '${name}' must be finite`;
  if (!Number.isInteger(value)) return `range bound ${value} of '${name}' must be an integer`;
  if (value < 0) return `range bound ${value} of '${name}' must not be negative`;
  if (name === 'ports' && value > MAX_PORT) return `port ${value} is out of range 0..${MAX_PORT}`;
  if (value > Number.MAX_SAFE_INTEGER) return `range bound ${value} of '${name}' is too large`;
  return undefined;
}

export function checkScalarMilli(name: string, milli: number): string | undefined {
  if (name === 'gpus' && milli % 1000 !== 0) return `'gpus' must be a whole number, got ${formatMilli(milli)}`;
  return undefined;
}

// ---- fixed point ----

const DECIMAL = /^(\d*)(?:\.(\d*))?$/;

/**
 * Milli-units from decimal text (`"0.1"` → 100), rounding half up at the fourth decimal. Returns a
 * problem string for text that is not a plain non-negative decimal.
 */
export function decimalTextToMilli(text: string): number | string {
  const m = DECIMAL.exec(text);
  if (m === null || text === '' || text === '.') {
    if (/^[+-]?(nan|inf(inity)?)$/i.test(text)) return `'${text}' is not finite`;
    const rest = text.slice(1);
    if (text.startsWith('-') && rest !== '' && rest !== '.' && DECIMAL.test(rest)) return `'${text}' is negative`;
    return `'${text}' is not a number`;
  }
  const intPart = m[1] ?? '';
  const frac = m[2] ?? '';
  const whole = intPart === '' ? 0 : Number(intPart);
  if (whole > MAX_SCALAR) return `'${text}' is too large (max ${MAX_SCALAR})`;
  let milli = whole * 1000 + Number((frac + '000').slice(0, 3));
  if (frac.length > 3 && frac.charCodeAt(3) >= 53 /* '5' */) milli += 1;
  if (milli > MAX_SCALAR * 1000) return `'${text}' is too large (max ${MAX_SCALAR})`;
  return milli;
}

/**
 * Milli-units from a number of units. Rounds the number's shortest decimal form (what a person
 * typed: 1.0005 → 1001), not its binary value, so results match the text parser.
 */
export function unitsToMilli(units: number): number | string {
  if (typeof units !== 'number' || Number.isNaN(units)) return `${String(units)} is not a number`;
  if (!Number.isFinite(units)) return `${units} is not finite`;
  if (units < 0) return `${units} is negative`;
  const text = String(units);
  if (text.includes('e')) {
    // Only tiny (< 1e-6, rounds to 0) or huge (>= 1e21, too large) numbers print with an exponent.
    const milli = Math.round(units * 1000);
    return milli > MAX_SCALAR * 1000 ? `${units} is too large (max ${MAX_SCALAR})` : milli;
  }
  return decimalTextToMilli(text);
}

export function milliToUnits(milli: number): number {
  return milli / 1000;
}

/** `1500` → `"1.5"`, `4000` → `"4"`, `1` → `"0.001"`. */
export function formatMilli(milli: number): string {
  const whole = Math.floor(milli / 1000);
  const frac = milli - whole * 1000;
  if (frac === 0) return String(whole);
  return `${whole}.${String(frac).padStart(3, '0').replace(/0+$/, '')}`;
}

export function invalid(field: string, message: string, details?: Record<string, unknown>): InvalidArgumentError {
  return new InvalidArgumentError(field, message, details);
}
