// Placement constraints as Marathon spells them: `{ field, operator, value? }`, the array form
// `["hostname", "UNIQUE"]`, the CLI form `"rack:CLUSTER:r1"` and the wire `Constraint`. Everything
// is parsed and validated here once, into frozen `Constraint` values with their regex or number
// compiled; `constraints.ts` evaluates them. Errors name the input (`constraints[1].value`).
//
// LIKE and UNLIKE patterns come from users, so they run on RE2 (re2js), whose matching time is
// linear in the value whatever the pattern: `(.*.*.*.*.*)*Z` blocked a backtracking engine for
// seconds per evaluation. RE2 refuses what it cannot do in linear time (backreferences,
// lookaround); patterns are bounded in length and in compiled size, and each compiled pattern
// remembers its verdicts for the values it has seen (hostnames, racks), so a placement pass over
// thousands of agents matches each distinct value once.

import { RE2JS } from 're2js';
import { InvalidArgumentError } from '../core/errors.js';

/** The operators, as Marathon defines them (plus IS, which the wire contract has). */
export const CONSTRAINT_OPERATORS = ['UNIQUE', 'CLUSTER', 'GROUP_BY', 'MAX_PER', 'LIKE', 'UNLIKE', 'IS'] as const;
export type ConstraintOperator = (typeof CONSTRAINT_OPERATORS)[number];

/** A validated constraint. `value` is absent when the operator takes none or none was given. */
export interface Constraint {
  readonly field: string;
  readonly operator: ConstraintOperator;
  readonly value?: string;
}

/** What callers may pass: an object (domain or wire), `[field, operator, value?]`, or `"field:OPERATOR[:value]"`. */
export type ConstraintInput =
  | Constraint
  | { readonly field?: string; readonly operator?: string | number; readonly value?: string | number | null }
  | readonly (string | number)[]
  | string;

/** A LIKE / UNLIKE pattern is at most this many characters. */
export const MAX_PATTERN_LENGTH = 1024;
/** …and compiles to at most this many RE2 instructions (`[a-z]{1000}` is 1002; real ones are tens). */
export const MAX_PATTERN_PROGRAM = 2000;
/** A constraint's field (hostname or an attribute name) and value are at most this many characters. */
export const MAX_CONSTRAINT_TEXT = 1024;

/** A compiled full-match pattern: linear-time matching, with a bounded memory of its verdicts. */
export interface ConstraintPattern {
  /** Whether the whole of `value` matches (Marathon uses Java's String.matches). */
  test(value: string): boolean;
}

/** The compiled form of a parsed constraint: its full-match pattern or its number. @internal */
export interface CompiledConstraint {
  readonly regex?: ConstraintPattern;
  readonly count?: number;
}

const COMPILED = new WeakMap<Constraint, CompiledConstraint>();
const PARSED_LISTS = new WeakMap<object, readonly Constraint[]>();
const NO_CONSTRAINTS: readonly Constraint[] = Object.freeze([]);

// Wire enum numbers, in the order of proto/agora/v1/workload.proto (0 = unspecified).
const BY_NUMBER: readonly (ConstraintOperator | undefined)[] = [undefined, ...CONSTRAINT_OPERATORS];
const TAKES_NO_VALUE: ReadonlySet<ConstraintOperator> = new Set(['UNIQUE']);
const NEEDS_VALUE: ReadonlySet<ConstraintOperator> = new Set(['MAX_PER', 'LIKE', 'UNLIKE', 'IS']);

/**
 * Parse and validate a list of constraints. Lists already parsed (the same array) are returned
 * from a cache, so calling this per task or per evaluation is cheap.
 */
export function parseConstraints(input: unknown, field = 'constraints'): readonly Constraint[] {
  if (input === undefined || input === null) return NO_CONSTRAINTS;
  if (!Array.isArray(input)) throw new InvalidArgumentError(field, 'must be a list of constraints');
  const cached = PARSED_LISTS.get(input);
  if (cached !== undefined) return cached;
  const list = Object.freeze(input.map((c: unknown, i) => parseConstraint(c, `${field}[${i}]`)));
  PARSED_LISTS.set(input, list);
  return list;
}

/** Parse and validate one constraint; `field` names it in errors (`constraints[0]`). */
export function parseConstraint(input: unknown, field = 'constraint'): Constraint {
  if (typeof input === 'object' && input !== null && COMPILED.has(input as Constraint)) return input as Constraint;
  const raw = rawParts(input, field);
  const name = raw.field;
  if (typeof name !== 'string' || name.trim() === '') throw new InvalidArgumentError(`${field}.field`, 'must be a non-empty string (hostname or an attribute name)');
  if (name.length > MAX_CONSTRAINT_TEXT) throw new InvalidArgumentError(`${field}.field`, `is ${name.length} characters long; at most ${MAX_CONSTRAINT_TEXT}`);
  const operator = operatorOf(raw.operator, `${field}.operator`);
  const value = valueOf(raw.value, `${field}.value`);
  const compiled = compile(operator, value, `${field}.value`);
  const constraint: Constraint = Object.freeze(value === undefined ? { field: name.trim(), operator } : { field: name.trim(), operator, value });
  COMPILED.set(constraint, compiled);
  return constraint;
}

/** The compiled regex or number of a constraint (parsing it first if needed). @internal */
export function compiledOf(c: Constraint): CompiledConstraint {
  const known = COMPILED.get(c);
  if (known !== undefined) return known;
  return COMPILED.get(parseConstraint(c))!;
}

/** `rack CLUSTER r1`: how reasons and logs name a constraint. */
export function formatConstraint(c: Constraint): string {
  return c.value === undefined ? `${c.field} ${c.operator}` : `${c.field} ${c.operator} ${c.value}`;
}

interface RawParts {
  field: unknown;
  operator: unknown;
  value: unknown;
}

function rawParts(input: unknown, field: string): RawParts {
  if (typeof input === 'string') {
    // "rack:CLUSTER:r1" — the value may itself hold colons (a regex), so split twice only.
    const first = input.indexOf(':');
    const second = first < 0 ? -1 : input.indexOf(':', first + 1);
    if (first < 0) throw new InvalidArgumentError(field, `expected field:OPERATOR[:value], got '${input}'`);
    return second < 0
      ? { field: input.slice(0, first), operator: input.slice(first + 1), value: undefined }
      : { field: input.slice(0, first), operator: input.slice(first + 1, second), value: input.slice(second + 1) };
  }
  if (Array.isArray(input)) {
    if (input.length < 2 || input.length > 3) {
      throw new InvalidArgumentError(field, `expected [field, operator] or [field, operator, value], got ${input.length} item(s)`);
    }
    return { field: input[0], operator: input[1], value: input[2] };
  }
  if (typeof input === 'object' && input !== null) {
    const o = input as Record<string, unknown>;
    return { field: o.field, operator: o.operator, value: o.value };
  }
  throw new InvalidArgumentError(field, 'expected {field, operator, value?}, [field, operator, value?] or "field:OPERATOR:value"');
}

function operatorOf(raw: unknown, field: string): ConstraintOperator {
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) throw new InvalidArgumentError(field, `is required: one of ${CONSTRAINT_OPERATORS.join(', ')}`);
  let op: ConstraintOperator | undefined;
  if (typeof raw === 'number') op = BY_NUMBER[raw];
  else if (typeof raw === 'string') op = CONSTRAINT_OPERATORS.find((o) => o === raw.trim().toUpperCase());
  if (op === undefined) throw new InvalidArgumentError(field, `unknown operator ${typeof raw === 'string' || typeof raw === 'number' ? `'${String(raw).slice(0, 64)}'` : `of type ${raw === null ? 'null' : typeof raw}`} (expected one of ${CONSTRAINT_OPERATORS.join(', ')})`);
  return op;
}

// Absent, null and '' all mean "no value" (the wire sends '' for an unset string).
function valueOf(raw: unknown, field: string): string | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  if (typeof raw !== 'string') throw new InvalidArgumentError(field, `must be a string, got ${Array.isArray(raw) ? 'a list' : typeof raw === 'object' ? 'an object' : typeof raw}`);
  if (raw.length > MAX_CONSTRAINT_TEXT) throw new InvalidArgumentError(field, `is ${raw.length} characters long; at most ${MAX_CONSTRAINT_TEXT}`);
  return raw;
}

function compile(op: ConstraintOperator, value: string | undefined, field: string): CompiledConstraint {
  if (value !== undefined && TAKES_NO_VALUE.has(op)) throw new InvalidArgumentError(field, `${op} takes no value, got '${value}'`);
  if (value === undefined) {
    if (NEEDS_VALUE.has(op)) throw new InvalidArgumentError(field, `${op} needs a value`);
    return {};
  }
  switch (op) {
    case 'MAX_PER':
      return { count: positiveInteger(value, field, `${op} takes the maximum number of tasks per value`) };
    case 'GROUP_BY':
      return { count: positiveInteger(value, field, `${op} takes the minimum number of groups`) };
    case 'LIKE':
    case 'UNLIKE':
      return { regex: fullMatch(value, field) };
    default:
      return {};
  }
}

function positiveInteger(value: string, field: string, what: string): number {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(field, `must be a positive integer (${what}), got '${value}'`);
  return n;
}

// Marathon uses Java's String.matches: the whole value must match, not a substring.
function fullMatch(pattern: string, field: string): ConstraintPattern {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new InvalidArgumentError(field, `the pattern is ${pattern.length} characters long; at most ${MAX_PATTERN_LENGTH}`);
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (err) {
    const why = (err as Error).message.replace(/^error parsing regexp: /, '');
    throw new InvalidArgumentError(field, `invalid regular expression '${pattern}': ${why} (patterns use RE2 syntax and match in linear time: no backreferences or lookaround)`);
  }
  if (re.programSize() > MAX_PATTERN_PROGRAM) {
    throw new InvalidArgumentError(field, `'${pattern}' is too complex (${re.programSize()} RE2 instructions; at most ${MAX_PATTERN_PROGRAM}): use smaller repeat counts`);
  }
  return new RememberingPattern(re);
}

/** How many values one pattern remembers its verdict for (then it starts afresh). */
const REMEMBERED_VALUES = 4096;

class RememberingPattern implements ConstraintPattern {
  readonly #re: RE2JS;
  readonly #seen = new Map<string, boolean>();

  constructor(re: RE2JS) {
    this.#re = re;
  }

  test(value: string): boolean {
    let verdict = this.#seen.get(value);
    if (verdict === undefined) {
      verdict = this.#re.testExact(value);
      if (this.#seen.size >= REMEMBERED_VALUES) this.#seen.clear();
      this.#seen.set(value, verdict);
    }
    return verdict;
  }
}
