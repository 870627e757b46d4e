// The pure parts of `agora get`'s kubectl flags: -o (wide, json, yaml, name, jsonpath=TEMPLATE),
// -l/--selector (label selectors), --sort-by (a JSONPath to one field). Each bad value is
// INVALID_ARGUMENT naming its flag (exit 2). Paths are evaluated by jsonpath-plus on what
// `-o json` prints for each object.
//
//   -l 'tier=web,env!=prod,canary,!legacy'   every requirement must hold (AND)
//   -l 'env in (prod,staging),tier notin (db)' set-based, as kubectl's
//   -o jsonpath='{.items[*].name}'            kubectl's template: text and {expressions}
//   --sort-by=.status.createdAtMs             or {.status.createdAtMs}; numbers sort as numbers
import { JSONPath } from 'jsonpath-plus';
import { InvalidArgumentError } from '../../core/errors.js';

export type GetOutput = { readonly kind: 'table' | 'wide' | 'json' | 'yaml' | 'name' } | { readonly kind: 'jsonpath'; readonly template: JsonPathTemplate };

export function parseGetOutput(value: string | undefined): GetOutput {
  if (value === undefined) return { kind: 'table' };
  if (value === 'wide' || value === 'json' || value === 'yaml' || value === 'name') return { kind: value };
  const jsonpath = /^jsonpath=(.*)$/s.exec(value);
  if (jsonpath) return { kind: 'jsonpath', template: parseJsonPathTemplate(jsonpath[1] ?? '', '-o jsonpath') };
  throw new InvalidArgumentError('-o', `expected wide, json, yaml, name or jsonpath=TEMPLATE, got '${value}'`);
}

// ---- label selectors ---------------------------------------------------------------------------

export type Requirement =
  | { readonly op: 'eq' | 'ne'; readonly key: string; readonly value: string }
  | { readonly op: 'exists' | 'absent'; readonly key: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] };

const KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,251}[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;

/**
 * `key=value,key!=value,key,!key` (also `key==value`), and `key in (a,b)`, `key notin (a,b)` →
 * requirements, all of which must hold.
 */
export function parseSelector(text: string, flag = '-l'): Requirement[] {
  if (text.trim() === '') throw new InvalidArgumentError(flag, 'is empty: expected key=value, key!=value, key, !key, key in (a,b) or key notin (a,b), separated by commas');
  return splitRequirements(text, flag).map((raw) => {
    const part = raw.trim();
    const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(part);
    if (set) {
      const key = set[1] ?? '';
      if (!KEY.test(key)) throw new InvalidArgumentError(flag, `'${part}': '${key}' is not a label key (letters, digits, '.', '_', '-', '/')`);
      const values = (set[3] ?? '').split(',').map((v) => v.trim());
      const bad = values.find((v) => v === '' || !VALUE.test(v));
      if (bad !== undefined) throw new InvalidArgumentError(flag, `'${part}': ${bad === '' ? 'an empty value' : `'${bad}' is not a label value`} in the set (letters, digits, '.', '_', '-', at most 63)`);
      return { op: set[2] === 'in' ? 'in' : 'notin', key, values };
    }
    const m = /^(!?)([^=!]*)(?:(==|=|!=)(.*))?$/.exec(part);
    const key = m?.[2]?.trim() ?? '';
    if (!m || !KEY.test(key)) throw new InvalidArgumentError(flag, `'${part}' is not a requirement: expected key=value, key!=value, key, !key, key in (a,b) or key notin (a,b) (keys: letters, digits, '.', '_', '-', '/')`);
    const [, not, , op, value] = m;
    if (op === undefined) return { op: not ? 'absent' : 'exists', key };
    if (not) throw new InvalidArgumentError(flag, `'${part}': '!' goes only before a bare key (!key)`);
    const v = (value ?? '').trim();
    if (!VALUE.test(v)) throw new InvalidArgumentError(flag, `'${part}': '${v}' is not a label value (letters, digits, '.', '_', '-', at most 63)`);
    return { op: op === '!=' ? 'ne' : 'eq', key, value: v };
  });
}

/** The selector's requirements: split at the commas outside a set's parentheses. */
function splitRequirements(text: string, flag: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '(') depth += 1;
    else if (c === ')') depth -= 1;
    if (depth < 0 || depth > 1) throw new InvalidArgumentError(flag, `'${text}': unbalanced parentheses`);
    if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw new InvalidArgumentError(flag, `'${text}': unbalanced parentheses`);
  parts.push(text.slice(start));
  return parts;
}

/** Do these labels satisfy every requirement? (`key!=v` holds for a missing key, as in kubectl.) */
export function selects(requirements: readonly Requirement[], labels: Readonly<Record<string, string>>): boolean {
  return requirements.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'absent':
        return !has;
      case 'eq':
        return has && labels[r.key] === r.value;
      case 'ne':
        return !has || labels[r.key] !== r.value;
      case 'in':
        return has && r.values.includes(labels[r.key] ?? '');
      case 'notin':
        return !has || !r.values.includes(labels[r.key] ?? '');
    }
  });
}

// ---- JSONPath -------------------------------------------------------------------------------------

/** kubectl's template: literal text and {expressions}, each a JSONPath relative to the object. */
export type JsonPathTemplate = readonly ({ readonly text: string } | { readonly path: string })[];

export function parseJsonPathTemplate(template: string, flag: string): JsonPathTemplate {
  const parts: ({ text: string } | { path: string })[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open === -1) {
      parts.push({ text: unescape(template.slice(i)) });
      break;
    }
    if (open > i) parts.push({ text: unescape(template.slice(i, open)) });
    const close = closing(template, open);
    if (close === -1) throw new InvalidArgumentError(flag, `unclosed '{' at character ${open + 1} of '${template}'`);
    parts.push({ path: jsonPath(template.slice(open + 1, close), flag) });
    i = close + 1;
  }
  if (!parts.some((p) => 'path' in p)) throw new InvalidArgumentError(flag, `'${template}' has no {expression} (e.g. '{.items[*].name}')`);
  return parts;
}

/** `.a.b`, `a.b`, `$.a` or `{.a}` → `$.a.b`, for --sort-by. */
export function parseSortBy(text: string): string {
  const inner = /^\{(.*)\}$/s.exec(text.trim())?.[1] ?? text.trim();
  if (inner === '') throw new InvalidArgumentError('--sort-by', 'is empty: expected a field path such as .name or {.status.createdAtMs}');
  return jsonPath(inner, '--sort-by');
}

function closing(text: string, open: number): number {
  let quote: string | undefined;
  for (let i = open + 1; i < text.length; i += 1) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '}') return i;
  }
  return -1;
}

function unescape(text: string): string {
  return text.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
}

/** One expression, checked: brackets and quotes balanced, no kubectl-only range/end. */
function jsonPath(expression: string, flag: string): string {
  const e = expression.trim();
  if (/^(range|end)\b/.test(e)) throw new InvalidArgumentError(flag, `{${e}} (range … end) is not supported: use {.items[*].field}`);
  if (e === '' || !/^[.$[@a-zA-Z_]/.test(e)) throw new InvalidArgumentError(flag, `'{${e}}' is not a JSONPath expression (e.g. {.items[*].name})`);
  let depth = 0;
  let quote: string | undefined;
  for (const c of e) {
    if (quote) {
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '(') depth += 1;
    else if (c === ']' || c === ')') depth -= 1;
    if (depth < 0) break;
  }
  if (depth !== 0 || quote) throw new InvalidArgumentError(flag, `'{${e}}' has unbalanced brackets or quotes`);
  const path = e.startsWith('$') ? e : e.startsWith('.') || e.startsWith('[') ? `$${e}` : `$.${e}`;
  evaluate(path, {}, flag); // a syntax error shows now, not per object
  return path;
}

/** Every value `path` finds in `json`. */
export function evaluate(path: string, json: unknown, flag: string): unknown[] {
  try {
    return JSONPath({ path, json: json as object, wrap: true, eval: 'safe' }) as unknown[];
  } catch (err) {
    throw new InvalidArgumentError(flag, `'${path}': ${(err as Error).message}`);
  }
}

/** The template applied to one value: kubectl joins several results with spaces; objects print as JSON. */
export function renderJsonPath(template: JsonPathTemplate, json: unknown): string {
  return template
    .map((p) => ('text' in p ? p.text : evaluate(p.path, json, '-o jsonpath').map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))).join(' ')))
    .join('');
}

/** Sort `rows` by the value `path` finds in each one's view (numbers numerically; missing last; stable). */
export function sortByPath<T>(rows: readonly T[], path: string, view: (row: T) => unknown): T[] {
  const keyed = rows.map((row, i) => ({ row, i, key: evaluate(path, view(row), '--sort-by')[0] }));
  keyed.sort((a, b) => compareKeys(a.key, b.key) || a.i - b.i);
  return keyed.map((k) => k.row);
}

function compareKeys(a: unknown, b: unknown): number {
  const missing = (v: unknown): boolean => v === undefined || v === null;
  if (missing(a) || missing(b)) return missing(a) === missing(b) ? 0 : missing(a) ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const [x, y] = [typeof a === 'object' ? JSON.stringify(a) : String(a), typeof b === 'object' ? JSON.stringify(b) : String(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}
