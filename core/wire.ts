// Conversions between wire messages (proto/) and domain values (core/) that every service needs:
// resources and attributes. One place, so the edges agree.
import type { Attribute, Attribute__Output, Resource as WireResource, Resource__Output } from '../proto/index.js';
import { InvalidArgumentError } from './errors.js';
import { formatRanges } from './ranges.js';
import { Resources, UNRESERVED, type Resource } from './resources.js';

const TYPE_FROM_WIRE: Record<string, Resource['type'] | undefined> = { SCALAR: 'scalar', RANGES: 'ranges', SET: 'set' };

/** Wire resources → Resources; bad entries are InvalidArgumentErrors naming `field[i]`. */
export function resourcesFromWire(list: readonly (WireResource | Resource__Output)[] | undefined, field = 'resources'): Resources {
  if (!list || list.length === 0) return Resources.EMPTY;
  const domain: Resource[] = list.map((r, i) => {
    const type = TYPE_FROM_WIRE[String(r.type ?? 'SCALAR')];
    if (!type) throw new InvalidArgumentError(`${field}[${i}].type`, `unsupported resource type '${String(r.type)}'`);
    const role = r.role === undefined || r.role === '' ? undefined : r.role;
    const base = { name: r.name ?? '', type, ...(role === undefined ? {} : { role }) };
    if (type === 'scalar') return { ...base, scalar: Number(r.scalar ?? 0) };
    if (type === 'ranges') return { ...base, ranges: (r.ranges ?? []).map((x) => ({ begin: Number(x.begin ?? 0), end: Number(x.end ?? 0) })) };
    return { ...base, set: [...(r.set ?? [])] };
  });
  return Resources.fromList(domain, field);
}

/** Parsed resources by their wire form (see resourcesFromWireCached). */
const parsedFromWire = new Map<string, Resources>();
const MAX_PARSED_FROM_WIRE = 4096;

/**
 * resourcesFromWire, remembered by the list's wire form: a failover adopts thousands of tasks,
 * mostly alike (Resources are immutable, so one value serves them all). The key holds everything
 * resourcesFromWire reads, in order: keep the two together.
 */
export function resourcesFromWireCached(list: readonly Resource__Output[], field = 'resources'): Resources {
  let key = '';
  for (const r of list) {
    key += `${r.name}\u0000${String(r.type)}\u0000${r.role ?? ''}\u0000${r.scalar}\u0000`;
    for (const x of r.ranges ?? []) key += `${x.begin}-${x.end},`;
    key += `\u0000${(r.set ?? []).join('\u0001')}\u0002`;
  }
  let parsed = parsedFromWire.get(key);
  if (!parsed) {
    parsed = resourcesFromWire(list, field);
    if (parsedFromWire.size >= MAX_PARSED_FROM_WIRE) parsedFromWire.clear();
    parsedFromWire.set(key, parsed);
  }
  return parsed;
}

/** Resources → wire resources. */
export function resourcesToWire(resources: Resources): WireResource[] {
  return resources.toList().map((r) => {
    const out: WireResource = { name: r.name, type: r.type === 'scalar' ? 'SCALAR' : r.type === 'ranges' ? 'RANGES' : 'SET' };
    if (r.role !== undefined && r.role !== UNRESERVED) {
      out.role = r.role;
      out.reservation = { role: r.role };
    }
    if (r.type === 'scalar') out.scalar = r.scalar ?? 0;
    else if (r.type === 'ranges') out.ranges = (r.ranges ?? []).map((x) => ({ begin: x.begin, end: x.end }));
    else out.set = [...(r.set ?? [])];
    return out;
  });
}

/** Attributes as plain text values (`rack` → `r1`), the form constraints and operators read. */
export type Attributes = Readonly<Record<string, string>>;

/** Parse `rack:r1;zone:a` (the agent's --attributes flag). */
export function parseAttributes(text: string, field = 'attributes'): Attributes {
  const out: Record<string, string> = {};
  for (const [i, part] of text.split(';').entries()) {
    const item = part.trim();
    if (item === '') continue;
    const colon = item.indexOf(':');
    if (colon <= 0) throw new InvalidArgumentError(field, `expected name:value, got '${item}' (item ${i + 1})`);
    const name = item.slice(0, colon).trim();
    const value = item.slice(colon + 1).trim();
    if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(name)) throw new InvalidArgumentError(field, `bad attribute name '${name}'`);
    if (value === '') throw new InvalidArgumentError(field, `attribute '${name}' has no value`);
    if (Object.hasOwn(out, name)) throw new InvalidArgumentError(field, `attribute '${name}' is given twice`);
    out[name] = value;
  }
  return Object.freeze(out);
}

export function attributesToWire(attributes: Attributes): Attribute[] {
  return Object.entries(attributes).map(([name, value]) => {
    const n = Number(value);
    return value.trim() !== '' && Number.isFinite(n) ? { name, type: 'SCALAR', scalar: n, text: value } : { name, type: 'TEXT', text: value };
  });
}

export function attributesFromWire(list: readonly (Attribute | Attribute__Output)[] | undefined): Attributes {
  const out: Record<string, string> = {};
  for (const a of list ?? []) {
    if (!a.name) continue;
    if (a.text) out[a.name] = a.text;
    else if (a.type === 'SCALAR') out[a.name] = String(a.scalar ?? 0);
    else if (a.type === 'RANGES') out[a.name] = `[${formatRanges((a.ranges ?? []).map((r) => ({ begin: Number(r.begin), end: Number(r.end) })))}]`;
    else if (a.type === 'SET') out[a.name] = `{${(a.set ?? []).join(',')}}`;
  }
  return Object.freeze(out);
}
