// One agent's offers during a match, merged: what is left, what a task in a given role may use,
// whether a task fits (with the reason when not), and taking a task's concrete resources.
//
// Taking resources prefers reservations: for each need, first what is reserved for the task's role
// itself, then for its ancestor roles (deepest first), then unreserved; so reserved capacity is
// used up before shared capacity, as Mesos operators expect.

import { countRanges, intersectRanges, rangesFromValues, subtractRanges, takeFromRanges, type Range } from '../core/ranges.js';
import { Resources, UNRESERVED, type Resource } from '../core/resources.js';
import { resourcesFromWire } from '../core/wire.js';
import type { Offer__Output } from '../proto/index.js';
import { agentFactsOf, type AgentFacts } from './constraints.js';
import type { TaskNeed } from './offer-tasks.js';

/** What a task in one role may use on the agent right now. */
interface Usable {
  readonly role: string;
  readonly resources: Resources;
  /** Scalar totals in milli-units. */
  readonly milli: ReadonlyMap<string, number>;
  readonly cpus: number;
  readonly mem: number;
  readonly ports: number;
  flat?: Resources;
}

/** A task's share of an agent: concrete resources (with the roles taken) and its ports in request order. */
export interface Taken {
  readonly resources: Resources;
  readonly ports: number[];
  readonly namedPorts: Record<string, number>;
}

export class AgentSlot {
  readonly offers: Offer__Output[] = [];
  readonly facts: AgentFacts;
  /** What the agent can run beyond commands (Offer.agent_capabilities), as its first offer says. */
  readonly capabilities: ReadonlySet<string>;
  #total: Resources = Resources.EMPTY;
  #remaining: Resources = Resources.EMPTY;
  #usable = new Map<string, Usable>();
  #last: Usable | undefined; // the last role asked about: almost always the only one
  #totalCpus = 0;
  #totalMem = 0;

  /** `role` is the offers' allocation role ('' when they do not say). */
  constructor(
    readonly agentId: string,
    readonly role: string,
    first: Offer__Output,
  ) {
    this.facts = agentFactsOf(first);
    this.capabilities = new Set(first.agentCapabilities ?? []);
  }

  get hostname(): string {
    return this.facts.hostname;
  }

  get remaining(): Resources {
    return this.#remaining;
  }

  addOffer(offer: Offer__Output, field: string): void {
    const r = resourcesFromWire(offer.resources, `${field}.resources`);
    this.offers.push(offer);
    this.#total = this.#total.add(r);
    this.#remaining = this.#remaining.add(r);
    this.#totalCpus = milliOf(this.#total, 'cpus');
    this.#totalMem = milliOf(this.#total, 'mem');
    this.#forget();
  }

  /** Why `need` does not fit in what `role` may use here, or undefined when it fits ('' unless `explain`). */
  misfit(need: TaskNeed, role: string, explain: boolean): string | undefined {
    const u = this.#usableFor(role);
    const names = need.scalarNames;
    for (let i = 0; i < names.length; i++) {
      const have = u.milli.get(names[i]!) ?? 0;
      const milli = need.scalarMilli[i]!;
      if (have < milli) return explain ? `insufficient ${names[i]}: need ${units(milli)}, offer has ${units(have)}` : '';
    }
    const wanted = need.portSlots.length;
    if (wanted > u.ports) return explain ? `insufficient ports: need ${wanted}, offer has ${u.ports}` : '';
    if (need.fixedPorts.length > 0) {
      const missing = need.fixedPorts.filter((p) => !holds(u.resources.ranges('ports'), p));
      if (missing.length > 0) return explain ? `port${missing.length === 1 ? '' : 's'} ${missing.join(', ')} not offered` : '';
    }
    if (!need.other.isEmpty()) {
      u.flat ??= u.resources.flatten();
      if (!u.flat.contains(need.other)) return explain ? `insufficient resources: missing ${need.other.missingFrom(u.flat)}` : '';
    }
    return undefined;
  }

  /** How full the agent would be after taking `need`: the mean free fraction of its scalars, 0..1. */
  freeAfter(need: TaskNeed, role: string): number {
    const u = this.#usableFor(role);
    let sum = 0;
    let n = 0;
    if (this.#totalCpus > 0) {
      sum += (u.cpus - need.cpus) / this.#totalCpus;
      n++;
    }
    if (this.#totalMem > 0) {
      sum += (u.mem - need.mem) / this.#totalMem;
      n++;
    }
    return n === 0 ? 0 : sum / n;
  }

  /** Take `need` (which must fit, see `misfit`) for a task in `role`. */
  take(need: TaskNeed, role: string): Taken {
    const u = this.#usableFor(role);
    const parts = preferenceOrder(u.resources, role).map((r) => ({ role: r, res: u.resources.reservedFor(r) }));
    const list: Resource[] = [];
    const ports = takePorts(parts, need, list);
    let resources: Resources;
    if (parts.length === 1) {
      // One role holds everything usable (the common case): the need, in that role.
      const only = parts[0]!.role;
      resources = only === UNRESERVED ? need.resources : need.resources.flatten(only);
    } else {
      resources = Resources.EMPTY;
      need.scalarNames.forEach((name, i) => takeScalar(parts, name, need.scalarMilli[i]!, list));
      for (const r of need.other.toList()) takeExact(parts, r, list);
    }
    if (list.length > 0) resources = resources.add(Resources.fromList(list));
    this.#remaining = this.#remaining.subtract(resources);
    this.#forget();
    return { resources, ...ports };
  }

  #usableFor(role: string): Usable {
    if (this.#last?.role === role) return this.#last;
    let u = this.#usable.get(role);
    if (u === undefined) {
      const resources = this.#remaining.allocatableTo(role);
      const milli = new Map<string, number>();
      for (const [name, v] of resources.scalars()) milli.set(name, Math.round(v * 1000));
      u = { role, resources, milli, cpus: milli.get('cpus') ?? 0, mem: milli.get('mem') ?? 0, ports: resources.count('ports') };
      this.#usable.set(role, u);
    }
    this.#last = u;
    return u;
  }

  #forget(): void {
    this.#usable.clear();
    this.#last = undefined;
  }
}

function milliOf(r: Resources, name: string): number {
  return Math.round(r.scalar(name) * 1000);
}

interface Part {
  readonly role: string;
  readonly res: Resources;
}

/** The task's own role first, then its ancestors deepest first, then unreserved. */
function preferenceOrder(usable: Resources, role: string): string[] {
  const depth = (r: string): number => (r === UNRESERVED ? -1 : r === role ? Number.MAX_SAFE_INTEGER : r.length);
  return usable.roles().sort((a, b) => depth(b) - depth(a) || (a < b ? -1 : a > b ? 1 : 0));
}

// Fixed ports from whichever role holds them (preferred role first); then the lowest free ports
// for the rest, reserved ones first. Returned in the order the task asked for them.
function takePorts(parts: readonly Part[], need: TaskNeed, list: Resource[]): Omit<Taken, 'resources'> {
  const byRole = new Map<string, number[]>();
  const free = parts.map((p) => ({ role: p.role, ranges: p.res.ranges('ports') as readonly Range[] }));
  for (const port of need.fixedPorts) {
    const part = free.find((f) => holds(f.ranges, port))!;
    push(byRole, part.role, port);
    part.ranges = subtractRanges(part.ranges, [{ begin: port, end: port }]);
  }
  const dynamic: number[] = [];
  for (const part of free) {
    const n = Math.min(need.dynamicPorts - dynamic.length, countRanges(part.ranges));
    if (n <= 0) continue;
    for (const port of takeFromRanges(part.ranges, n)!) {
      dynamic.push(port);
      push(byRole, part.role, port);
    }
  }
  for (const [role, values] of byRole) list.push({ name: 'ports', type: 'ranges', ranges: rangesFromValues(values), role });
  const ports: number[] = [];
  const namedPorts: Record<string, number> = {};
  let next = 0;
  for (const slot of need.portSlots) {
    const port = slot.number ?? dynamic[next++]!;
    ports.push(port);
    if (slot.name !== undefined) namedPorts[slot.name] = port;
  }
  return { ports, namedPorts };
}

function takeScalar(parts: readonly Part[], name: string, milli: number, list: Resource[]): void {
  let rest = milli;
  for (const p of parts) {
    const got = Math.min(rest, Math.round(p.res.scalar(name) * 1000));
    if (got > 0) list.push({ name, type: 'scalar', scalar: got / 1000, role: p.role });
    rest -= got;
    if (rest === 0) return;
  }
}

// Sets and non-port ranges the task names exactly: from the preferred role that holds each value.
function takeExact(parts: readonly Part[], want: Resource, list: Resource[]): void {
  if (want.type === 'set') {
    let rest = new Set(want.set ?? []);
    for (const p of parts) {
      const got = p.res.set(want.name).filter((x) => rest.has(x));
      if (got.length > 0) list.push({ name: want.name, type: 'set', set: got, role: p.role });
      rest = new Set([...rest].filter((x) => !got.includes(x)));
    }
  } else if (want.type === 'ranges') {
    let rest: readonly Range[] = want.ranges ?? [];
    for (const p of parts) {
      const got = intersectRanges(rest, p.res.ranges(want.name));
      if (got.length > 0) list.push({ name: want.name, type: 'ranges', ranges: got, role: p.role });
      rest = subtractRanges(rest, got);
    }
  }
}

function holds(ranges: readonly Range[], port: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    if (port < r.begin) hi = mid - 1;
    else if (port > r.end) lo = mid + 1;
    else return true;
  }
  return false;
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function units(milli: number): string {
  return String(milli / 1000);
}
