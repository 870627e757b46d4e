// Seeded generators of hostile input for the fuzz tests (test/integration/fuzz-*.test.ts), on
// fast-check: numbers at the edges, strings that break things (unicode, NUL, very long), values of
// the wrong type, deep nesting, one-field-at-a-time mutations of a valid spec, and request bodies
// that are truncated, duplicated, mis-typed or mis-encoded. Pure: no I/O.
//
//   const settings = fuzzSettings({ runs: 300, budgetMs: 10_000 });   // AGORA_FUZZ_SEED, _RUNS, …
//   fc.sample(mutation(VALID_SPEC), { seed: settings.seed, numRuns: 3 });
//   bodyOf(value)      → { body, contentType, note }: the value as JSON/YAML, or broken on purpose
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';

// ---- settings -----------------------------------------------------------------------------------

export interface FuzzSettings {
  /** fast-check's seed: AGORA_FUZZ_SEED, else a fixed one so CI runs the same cases every time. */
  readonly seed: number;
  /** Cases per property (AGORA_FUZZ_RUNS). */
  readonly runs: number;
  /** A property stops generating after this long (AGORA_FUZZ_BUDGET_MS); shrinking included. */
  readonly budgetMs: number;
  /** AGORA_FUZZ_SEEDS=n: survey mode — seeds seed … seed+n−1, every failure collected, none shrunk. */
  readonly seeds: number;
}

export const DEFAULT_FUZZ_SEED = 16;

export function fuzzSettings(defaults: { runs: number; budgetMs: number }, env: NodeJS.ProcessEnv = process.env): FuzzSettings {
  const int = (name: string, def: number, min: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    if (raw === 'random' && name === 'AGORA_FUZZ_SEED') return Math.floor(Math.random() * 2 ** 31);
    if (!/^-?\d+$/.test(raw) || Number(raw) < min) throw new Error(`${name} must be an integer ≥ ${min} (or 'random' for the seed), got '${raw}'`);
    return Number(raw);
  };
  const seeds = int('AGORA_FUZZ_SEEDS', 0, 0);
  return Object.freeze({
    seed: int('AGORA_FUZZ_SEED', DEFAULT_FUZZ_SEED, -(2 ** 31)),
    runs: int('AGORA_FUZZ_RUNS', defaults.runs, 1),
    // A survey runs every seed to its end; the budget bounds CI.
    budgetMs: int('AGORA_FUZZ_BUDGET_MS', seeds > 0 ? 10 * 60_000 : defaults.budgetMs, 100),
    seeds,
  });
}

// ---- numbers ------------------------------------------------------------------------------------

/** Numbers JSON can carry that sit on an edge: signs, fractions, int32/uint32/2^53, timer limits, overflow. */
export const EDGE_NUMBERS: readonly number[] = [
  0, -0, 1, -1, 0.5, -0.5, 1.5, 0.1, 1e-7, 5e-324, -5e-324, 1e308, -1e308, Number.MAX_VALUE,
  2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 2 ** 64, 1e21,
  // seconds around what a timer holds (2^31 ms), a month, a century
  2147483.647, 2147483.648, 2592000, 3.2e9,
];

/** Numbers as text: what a query parameter or a YAML scalar may carry (NaN and Infinity only travel so). */
export const NUMERIC_TEXTS: readonly string[] = [
  'NaN', 'Infinity', '-Infinity', '-0', '0x10', '0b1', '0o7', '1e3', '1E400', '-1e400', '1_000', ' 1', '1 ', '+1', '01', '1.0', '.5',
  '5.', '١٢', '１２', '9007199254740993', '99999999999999999999999999', '-1', '1.5', '0.0000001', '1/0', '', 'null', 'true', '[]',
];

export function edgeNumber(): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...EDGE_NUMBERS) },
    { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
    { weight: 1, arbitrary: fc.integer({ min: -(2 ** 31), max: 2 ** 31 }) },
  );
}

export function numericText(): fc.Arbitrary<string> {
  return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...NUMERIC_TEXTS) }, { weight: 1, arbitrary: edgeNumber().map((n) => String(n)) });
}

// ---- strings ------------------------------------------------------------------------------------

/** Strings that trip parsers, paths, logs and terminals. */
export const HOSTILE_STRINGS: readonly string[] = [
  '', ' ', '\t\n', '\u202Eevil\u202C', 'مرحبا بالعالم', 'שלום', `e${'\u0301'.repeat(64)}`, 'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇',
  '👩‍👩‍👧‍👦', '🏳️‍🌈', '\u{1F600}', '\uD800', '\uDFFF', 'a\uD83Db', '\u0000', 'a\u0000b', '\u0007\u001b[31m', 'x\r\nX-Injected: 1',
  '\u200B', '\uFEFF', '../../../../etc/passwd', '/etc/passwd', '..', '.', '//', '%2e%2e%2f', 'a/b', '..\\..\\', '%s%s%n',
  '${jndi:ldap://x}', '<script>alert(1)</script>', "'; DROP TABLE x; --", '{{7*7}}', '__proto__', 'constructor', 'prototype',
  'toString', 'hasOwnProperty', '(.*.*.*.*.*)*Z', '(a+)+$', '[', '* * * * * * *', '@every 1s', 'kind', '-', '*', 'nobody', 'root',
];

/**
 * Very long strings, of a few shapes (ASCII, multi-byte, digits). `url`: lengths that mostly fit in
 * a request line (Node's limit on the request head is 16 KiB), and now and then one that does not.
 */
export function longString(where: 'body' | 'url' = 'body'): fc.Arbitrary<string> {
  const lengths = where === 'url' ? [256, 256, 1000, 1000, 2000, 20_000] : [256, 4096, 65_536, 300_000];
  return fc.tuple(fc.constantFrom(...lengths), fc.constantFrom('a', 'é', '😀', '9', 'a/', '\u0301')).map(([n, unit]) => unit.repeat(Math.ceil(n / unit.length)));
}

export function hostileString(where: 'body' | 'url' = 'body'): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
    { weight: 1, arbitrary: longString(where) },
    { weight: 1, arbitrary: numericText() },
  );
}

// ---- values of the wrong type -------------------------------------------------------------------

/** Nested garbage: anything JSON can say, with hostile leaves and keys, a few levels deep. */
export function hostileValue(): fc.Arbitrary<unknown> {
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      { weight: 3, arbitrary: fc.constant(null) },
      { weight: 2, arbitrary: fc.constantFrom<unknown>(true, false, [], {}) },
      { weight: 3, arbitrary: edgeNumber() },
      { weight: 3, arbitrary: hostileString() },
      { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
      { weight: 1, arbitrary: fc.dictionary(hostileString(), tie('value'), { maxKeys: 3 }) },
      { weight: 1, arbitrary: deepValue() },
    ),
  }));
  return value;
}

/** A value nested `depth` levels ([[[…]]] or {"a":{"a":…}}), built without recursion. */
export function nested(depth: number, shape: 'array' | 'object', leaf: unknown = 1): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = shape === 'array' ? [v] : { a: v };
  return v;
}

export function deepValue(): fc.Arbitrary<unknown> {
  return fc.tuple(fc.constantFrom(32, 256, 1000), fc.constantFrom<'array' | 'object'>('array', 'object')).map(([d, s]) => nested(d, s));
}

// ---- mutations of a valid spec, one field at a time ----------------------------------------------

export type Path = readonly (string | number)[];

/** Every path in `value` that names something: objects' keys and arrays' items, at any depth. */
export function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return entries.flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
}

const DELETE = Symbol('delete');

/** A copy of `value` with the thing at `path` replaced (or deleted). */
export function setPath(value: unknown, path: Path, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...(value as unknown[])];
    const next = setPath(copy[head as number], rest, replacement);
    if (next === DELETE) copy.splice(head as number, 1);
    else copy[head as number] = next;
    return copy;
  }
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const next = setPath(copy[head as string], rest, replacement);
  if (next === DELETE) delete copy[head as string];
  else copy[head as string] = next;
  return copy;
}

export function getPath(value: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, k) => (v === null || typeof v !== 'object' ? undefined : (v as Record<string | number, unknown>)[k]), value);
}

export interface Mutation {
  readonly spec: unknown;
  /** e.g. `resources.cpus ← -1` */
  readonly note: string;
}

/** `spec` with one field changed: deleted, nulled, of the wrong type, at an edge, or given an unknown sibling. */
export function mutation(spec: unknown): fc.Arbitrary<Mutation> {
  const paths = pathsOf(spec);
  const replacement = fc.oneof(
    { weight: 1, arbitrary: fc.constant<unknown>(DELETE) },
    { weight: 1, arbitrary: fc.constant<unknown>(null) },
    { weight: 3, arbitrary: edgeNumber() },
    { weight: 2, arbitrary: numericText() },
    { weight: 3, arbitrary: hostileString() },
    { weight: 2, arbitrary: hostileValue() },
  );
  const sibling = fc.tuple(hostileString(), hostileValue());
  return fc.tuple(fc.nat({ max: paths.length - 1 }), fc.oneof({ weight: 5, arbitrary: replacement.map((r) => ({ r })) }, { weight: 1, arbitrary: sibling.map(([k, v]) => ({ k, v })) })).map(([i, change]) => {
    const path = paths[i] ?? [];
    if ('r' in change) {
      const note = `${path.join('.')} ${change.r === DELETE ? 'deleted' : `← ${describe(change.r)}`}`;
      return { spec: setPath(spec, path, change.r), note };
    }
    const parent = path.slice(0, -1);
    const container = getPath(spec, parent);
    if (container === null || typeof container !== 'object' || Array.isArray(container)) return { spec: setPath(spec, path, change.v), note: `${path.join('.')} ← ${describe(change.v)}` };
    return { spec: setPath(spec, [...parent, change.k], change.v), note: `${[...parent, describe(change.k)].join('.')} added ← ${describe(change.v)}` };
  });
}

// ---- request bodies -----------------------------------------------------------------------------

export interface Body {
  readonly body: string | Uint8Array | undefined;
  /** undefined: no content-type header at all. */
  readonly contentType: string | undefined;
  readonly note: string;
}

const CONTENT_TYPES: readonly (string | undefined)[] = [
  undefined, '', 'application/xml', 'text/html', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/octet-stream',
  'application/json; charset=utf-16', 'application/json; charset=latin1', 'APPLICATION/JSON', 'application/json, text/plain', 'application/vnd.api+json',
  'application/yaml', 'text/plain', 'application/json;;', '*/*', 'application/json; boundary="', 'x'.repeat(2000),
];

/** Bodies that are not what they say: broken text, deep nesting, alias bombs, prototype keys. */
export const BROKEN_BODIES: readonly string[] = [
  '{', '}', '[', '{"a":', '{"a":1,}', "{'a':1}", 'nul', 'undefined', 'NaN', '{"a":NaN}', '{"a":1e999}', '"\\ud800"', '"\\u0000"',
  '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', '---\n...\n---\n', 'a: [1, 2', 'a: &x [*x]', ': :', '- - - -',
  '\t\tkind: Service', 'kind: !!js/function "x"', '!!binary x', 'a: *nope', '%YAML 9.9\n---\na: 1', '\uFEFF{}', '{"a":"\u0000"}',
  `a: &a ["x","x","x","x","x","x","x","x","x"]\n${Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`).join('\n')}\n`,
];

function deepText(): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(1000, 20_000, 200_000), fc.constantFrom('json-array', 'json-object', 'yaml-flow', 'yaml-block', 'open')).map(([d, shape]) => {
    switch (shape) {
      case 'json-array':
        return `${'['.repeat(d)}${']'.repeat(d)}`;
      case 'json-object':
        return `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`;
      case 'yaml-flow':
        return `a: ${'['.repeat(d)}${']'.repeat(d)}`;
      case 'yaml-block':
        return Array.from({ length: Math.min(d, 5000) }, (_, i) => `${' '.repeat(i)}a:`).join('\n');
      default:
        return '['.repeat(d);
    }
  });
}

const NEGATIVE_ZERO = '\u0000-0\u0000';

/** JSON text of `value`, keeping −0 (JSON.stringify writes it as 0). */
export function toJson(value: unknown): string {
  const text = JSON.stringify(value, (_k, v: unknown) => (Object.is(v, -0) ? NEGATIVE_ZERO : v)) ?? 'null';
  return text.replaceAll(JSON.stringify(NEGATIVE_ZERO), '-0');
}

/** Insert `"key": value,` at the start of a JSON object's text: the key is then given twice. */
function duplicateKey(json: string, value: unknown): string {
  const m = /^\{"((?:[^"\\]|\\.)*)":/.exec(json);
  if (!m) return json;
  return `{"${m[1]}":${toJson(value)},${json.slice(1)}`;
}

/**
 * `value` sent as a body: mostly well-formed JSON (so the input reaches validation), else as
 * YAML, truncated, with a key given twice, mis-labelled, mis-encoded, or replaced by broken text.
 */
export function bodyOf(value: unknown, options: { yaml?: boolean } = {}): fc.Arbitrary<Body> {
  const json = toJson(value);
  const variants: fc.WeightedArbitrary<Body>[] = [
    { weight: 12, arbitrary: fc.constant({ body: json, contentType: 'application/json', note: 'json' }) },
    { weight: 1, arbitrary: fc.nat({ max: Math.max(0, json.length - 1) }).map((n) => ({ body: json.slice(0, n), contentType: 'application/json', note: `json truncated at ${n}` })) },
    { weight: 1, arbitrary: hostileValue().map((v) => ({ body: duplicateKey(json, v), contentType: 'application/json', note: 'json, first key given twice' })) },
    { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES).map((ct) => ({ body: json, contentType: ct, note: `json as ${describe(ct)}` })) },
    { weight: 1, arbitrary: fc.constant({ body: Buffer.from(`\uFEFF${json}`, 'utf16le'), contentType: 'application/json', note: 'json in UTF-16' }) },
    { weight: 1, arbitrary: fc.constantFrom(...BROKEN_BODIES).map((b) => ({ body: b, contentType: options.yaml ? 'application/yaml' : 'application/json', note: `broken: ${describe(b)}` })) },
    { weight: 1, arbitrary: deepText().map((b) => ({ body: b, contentType: b.startsWith('a') ? 'application/yaml' : 'application/json', note: `nested ${b.length} chars` })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => ({ body: b, contentType: 'application/json', note: `bytes ${Buffer.from(b).toString('hex')}` })) },
    { weight: 1, arbitrary: fc.constant({ body: undefined, contentType: 'application/json', note: 'no body' }) },
  ];
  if (options.yaml) {
    variants.push({ weight: 4, arbitrary: fc.constant({ body: safeYaml(value), contentType: 'application/yaml', note: 'yaml' }) });
    variants.push({ weight: 1, arbitrary: fc.nat({ max: 400 }).map((n) => ({ body: safeYaml(value).slice(0, n), contentType: 'application/yaml', note: `yaml truncated at ${n}` })) });
  }
  return fc.oneof(...variants);
}

function safeYaml(value: unknown): string {
  try {
    return toYaml(value);
  } catch {
    return toJson(value);
  }
}

/** A list of `item`s, now and then with a null or other garbage among them. */
export function listOf(item: fc.Arbitrary<unknown>, maxLength = 4): fc.Arbitrary<unknown[]> {
  return fc.array(fc.oneof({ weight: 4, arbitrary: item }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: hostileValue() }), { maxLength });
}

/** An object body to validate, almost always a JSON object: `fields` mixed with garbage. */
export function objectOf(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const entries = Object.entries(fields);
  const withValid = fc.record(Object.fromEntries(entries.map(([k, a]) => [k, fc.oneof({ weight: 3, arbitrary: a }, { weight: 1, arbitrary: hostileValue() })])), { requiredKeys: [] });
  return fc.oneof({ weight: 8, arbitrary: withValid }, { weight: 1, arbitrary: hostileValue() });
}

// ---- protobuf -----------------------------------------------------------------------------------

function varint(n: bigint): number[] {
  const out: number[] = [];
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) b |= 0x80;
    out.push(b);
  } while (n > 0n);
  return out;
}

/**
 * Bytes that are not a valid message: noise, or fields with wrong wire types, varints that never
 * end or run past 64 bits, lengths longer than what follows, groups, and wire types 6 and 7.
 */
export function protobufGarbage(): fc.Arbitrary<Uint8Array> {
  const field = fc.tuple(fc.constantFrom(1, 2, 3, 4, 5, 6, 13, 19, 536_870_911), fc.nat({ max: 7 }), fc.uint8Array({ maxLength: 12 }), fc.nat({ max: 2 ** 20 })).map(([no, wire, bytes, claimed]) => {
    const key = varint((BigInt(no) << 3n) | BigInt(wire));
    switch (wire) {
      case 0:
        return [...key, ...[...bytes].map((b) => b | 0x80), ...(bytes.length % 2 === 0 ? [0x01] : [])];
      case 2:
        return [...key, ...varint(BigInt(bytes.length % 3 === 0 ? claimed : bytes.length)), ...bytes];
      default:
        return [...key, ...bytes];
    }
  });
  return fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 64 }),
    fc.array(field, { minLength: 1, maxLength: 6 }).map((fields) => Uint8Array.from(fields.flat())),
  );
}

// ---- URLs ---------------------------------------------------------------------------------------

/** A path segment, percent-encoded from UTF-8 bytes (a lone surrogate becomes U+FFFD), or raw and broken. */
export function segment(valid: readonly string[] = []): fc.Arbitrary<string> {
  const encode = (s: string): string => [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
  const arbs: fc.WeightedArbitrary<string>[] = [
    { weight: 4, arbitrary: hostileString('url').filter((s) => s !== '').map(encode) },
    { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%FF', '%C0%AF', '%E2%82', '%00', '%2F', '%2e%2e', '..%2F..%2F', ';', '%3B', '~', '*') },
  ];
  if (valid.length > 0) arbs.push({ weight: 3, arbitrary: fc.constantFrom(...valid).map(encode) });
  return fc.oneof(...arbs);
}

/** A query string from parameters: each absent, given once, or given several times. */
export function query(params: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  const one = (name: string, arb: fc.Arbitrary<string>): fc.Arbitrary<string[]> =>
    fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 4, arbitrary: arb.map((v) => [v]) }, { weight: 1, arbitrary: fc.array(arb, { minLength: 2, maxLength: 3 }) }).map((vs) => vs.map((v) => `${name}=${encodeQuery(v)}`));
  return fc.tuple(...Object.entries(params).map(([n, a]) => one(n, a))).map((parts) => {
    const all = parts.flat();
    return all.length === 0 ? '' : `?${all.join('&')}`;
  });
}

function encodeQuery(v: string): string {
  return [...Buffer.from(v, 'utf8')].map((b) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

// ---- reports ------------------------------------------------------------------------------------

/** A short printable form of any value for reports: long strings summarised, control characters escaped. */
export function describe(v: unknown, max = 120): string {
  if (v === DELETE) return '<deleted>';
  if (typeof v === 'string' && v.length > max) {
    const unit = [...new Set(v)].slice(0, 3).join('');
    return `<${v.length} chars of ${JSON.stringify(unit)}…>`;
  }
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  let text: string;
  try {
    text = typeof v === 'string' ? JSON.stringify(v) : Object.is(v, -0) ? '-0' : (JSON.stringify(v) ?? String(v));
  } catch {
    text = String(v);
  }
  return text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
}
