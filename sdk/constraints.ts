// Evaluating placement constraints with Marathon's semantics, against one agent and the tasks of
// the same app/group already placed (running, plus those placed earlier in the same round).
//
//   parseConstraints (constraint-spec) ──► Constraint[] ─┐
//   placed tasks ──► PlacementTally (counts per field) ──┼──► checkConstraint / evaluate ──► ok | reason
//   agent { hostname, attributes } ──────────────────────┘
//
// The field `hostname` is the agent's hostname; any other field is an agent attribute (with
// `agent_id`, `region` and `zone` falling back to the agent's id and fault domain). An agent that
// lacks the attribute passes only UNLIKE, as in Marathon. Placed tasks that lack the attribute
// count for nothing but CLUSTER (which wants every task on the same value).

import type { Offer__Output } from '../proto/index.js';
import { attributesFromWire } from '../core/wire.js';
import { compiledOf, formatConstraint, parseConstraints, type Constraint, type ConstraintInput } from './constraint-spec.js';

export * from './constraint-spec.js';

/** What constraints look at: an agent, or where a task runs (the agent it runs on). */
export interface AgentFacts {
  readonly hostname: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly agentId?: string;
  readonly region?: string;
  readonly zone?: string;
}

export type Verdict = { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly constraint: Constraint };

/** For GROUP_BY: the values of a field known to exist (e.g. seen in offers), as groups of 0 tasks. */
export type KnownValues = Readonly<Record<string, Iterable<string>>>;

export interface EvaluateOptions {
  readonly knownValues?: KnownValues;
}

const OK: Verdict = Object.freeze({ ok: true });

/** The facts of the agent behind an offer. */
export function agentFactsOf(offer: Offer__Output): AgentFacts {
  return {
    agentId: offer.agentId,
    hostname: offer.hostname,
    attributes: attributesFromWire(offer.attributes),
    ...(offer.domain?.region ? { region: offer.domain.region } : {}),
    ...(offer.domain?.zone ? { zone: offer.domain.zone } : {}),
  };
}

/** The value of `field` on an agent, or undefined when it has none. */
export function fieldValue(agent: AgentFacts, field: string): string | undefined {
  if (field === 'hostname') return agent.hostname;
  if (Object.hasOwn(agent.attributes, field)) return agent.attributes[field];
  if (field === 'agent_id') return agent.agentId || undefined;
  if (field === 'region') return agent.region || undefined;
  if (field === 'zone') return agent.zone || undefined;
  return undefined;
}

interface FieldCounts {
  readonly counts: Map<string, number>;
  missing: number;
  /** The value with the fewest tasks (the smallest such value), cached until the next add. */
  least?: readonly [string, number] | undefined;
}

/**
 * The tasks of one group placed so far, counted per value of each field a constraint asks about.
 * Counts are built on first use per field and kept up to date by `add`, so checking an agent is a
 * few map lookups however many tasks the group has.
 */
export class PlacementTally {
  readonly #placed: AgentFacts[] = [];
  readonly #fields = new Map<string, FieldCounts>();

  constructor(placed: Iterable<AgentFacts> = []) {
    for (const p of placed) this.#placed.push(p);
  }

  get size(): number {
    return this.#placed.length;
  }

  /** Record one more task of the group, on `agent`. */
  add(agent: AgentFacts): void {
    this.#placed.push(agent);
    for (const [field, fc] of this.#fields) bump(fc, fieldValue(agent, field));
  }

  /** How many tasks run where `field` is `value`. */
  count(field: string, value: string): number {
    return this.#get(field).counts.get(value) ?? 0;
  }

  /** Task counts per value of `field` (values with at least one task). */
  counts(field: string): ReadonlyMap<string, number> {
    return this.#get(field).counts;
  }

  /** The value of `field` with the fewest tasks (ties: the smallest value); undefined when none. */
  least(field: string): readonly [string, number] | undefined {
    const fc = this.#get(field);
    if (fc.least === undefined && fc.counts.size > 0) {
      let best: [string, number] | undefined;
      for (const [k, n] of fc.counts) if (best === undefined || n < best[1] || (n === best[1] && k < best[0])) best = [k, n];
      fc.least = best;
    }
    return fc.least;
  }

  /** How many tasks run on agents without `field`. */
  missing(field: string): number {
    return this.#get(field).missing;
  }

  #get(field: string): FieldCounts {
    let fc = this.#fields.get(field);
    if (fc === undefined) {
      fc = { counts: new Map(), missing: 0 };
      for (const p of this.#placed) bump(fc, fieldValue(p, field));
      this.#fields.set(field, fc);
    }
    return fc;
  }
}

function bump(fc: FieldCounts, value: string | undefined): void {
  if (value === undefined) fc.missing++;
  else {
    fc.counts.set(value, (fc.counts.get(value) ?? 0) + 1);
    fc.least = undefined;
  }
}

/**
 * Whether `agent` may take one more task of a group whose tasks already run on `placed`.
 * The reason of the first constraint that fails names it: "hostname UNIQUE: a task already runs on host a1".
 */
export function evaluate(
  constraints: readonly ConstraintInput[],
  agent: AgentFacts,
  placed: Iterable<AgentFacts> | PlacementTally,
  options: EvaluateOptions = {},
): Verdict {
  const list = parseConstraints(constraints);
  if (list.length === 0) return OK;
  const tally = placed instanceof PlacementTally ? placed : new PlacementTally(placed);
  for (const c of list) {
    const reason = checkConstraint(c, agent, tally, options.knownValues?.[c.field]);
    if (reason !== undefined) return { ok: false, reason, constraint: c };
  }
  return OK;
}

/**
 * One constraint against one agent: undefined when it passes, else the reason. With `explain`
 * false the reason is '' (no text is built), for hot loops that only need the decision.
 * `known` lists values of the field that exist with no tasks yet (GROUP_BY only).
 */
export function checkConstraint(
  c: Constraint,
  agent: AgentFacts,
  tally: PlacementTally,
  known?: Iterable<string>,
  explain = true,
): string | undefined {
  const value = fieldValue(agent, c.field);
  if (value === undefined) {
    if (c.operator === 'UNLIKE') return undefined;
    return explain ? `${formatConstraint(c)}: agent has no attribute ${c.field}` : '';
  }
  switch (c.operator) {
    case 'UNIQUE':
      return unique(c, value, tally, explain);
    case 'CLUSTER':
      return cluster(c, value, tally, explain);
    case 'GROUP_BY':
      return groupBy(c, value, tally, known, explain);
    case 'MAX_PER': {
      const n = tally.count(c.field, value);
      if (n < compiledOf(c).count!) return undefined;
      return explain ? `${formatConstraint(c)}: ${where(c.field, value)} already has ${tasks(n)}` : '';
    }
    case 'LIKE':
      return compiledOf(c).regex!.test(value) ? undefined : agentHas(c, value, explain);
    case 'UNLIKE':
      return compiledOf(c).regex!.test(value) ? agentHas(c, value, explain) : undefined;
    case 'IS':
      return value === c.value ? undefined : agentHas(c, value, explain);
  }
}

function unique(c: Constraint, value: string, tally: PlacementTally, explain: boolean): string | undefined {
  const n = tally.count(c.field, value);
  if (n === 0) return undefined;
  if (!explain) return '';
  return `${formatConstraint(c)}: ${n === 1 ? 'a task already runs' : `${n} tasks already run`} on ${where(c.field, value)}`;
}

// With a value: only agents whose field equals it. Without: every task on the value of the first.
function cluster(c: Constraint, value: string, tally: PlacementTally, explain: boolean): string | undefined {
  if (c.value !== undefined && value !== c.value) return agentHas(c, value, explain);
  if (tally.size === 0 || tally.count(c.field, value) === tally.size) return undefined;
  if (!explain) return '';
  const other = firstKey(tally.counts(c.field), (v) => v !== value);
  const elsewhere = other === undefined ? `agents without ${c.field}` : where(c.field, other);
  return `${formatConstraint(c)}: tasks already run on ${elsewhere}, agent ${describe(c.field, value)}`;
}

// Marathon: an agent whose value has no task yet always passes; otherwise its value must hold the
// fewest tasks, and (with a minimum) tasks must already cover at least that many values. Known
// values (seen in offers) join as groups of 0, so tasks spread onto them first.
function groupBy(c: Constraint, value: string, tally: PlacementTally, known: Iterable<string> | undefined, explain: boolean): string | undefined {
  const counts = tally.counts(c.field);
  const own = counts.get(value) ?? 0;
  if (own === 0) return undefined;
  const minimum = compiledOf(c).count;
  if (minimum !== undefined && counts.size < minimum) {
    if (!explain) return '';
    return `${formatConstraint(c)}: tasks cover ${counts.size} of at least ${minimum} ${c.field} values and ${where(c.field, value)} already has ${tasks(own)}`;
  }
  const fewest = tally.least(c.field);
  let least = fewest === undefined ? value : fewest[0];
  let leastCount = fewest === undefined ? own : fewest[1];
  if (known !== undefined) {
    for (const k of known) {
      if (counts.has(k) || (leastCount === 0 && k >= least)) continue;
      least = k;
      leastCount = 0;
    }
  }
  if (own <= leastCount) return undefined;
  if (!explain) return '';
  return `${formatConstraint(c)}: ${where(c.field, value)} has ${tasks(own)}, ${where(c.field, least)} has ${leastCount}`;
}

function agentHas(c: Constraint, value: string, explain: boolean): string {
  return explain ? `${formatConstraint(c)}: agent ${describe(c.field, value)}` : '';
}

function where(field: string, value: string): string {
  return field === 'hostname' ? `host ${value}` : `${field}=${value}`;
}

function describe(field: string, value: string): string {
  return field === 'hostname' ? `is host ${value}` : `has ${field}=${value}`;
}

function tasks(n: number): string {
  return n === 1 ? '1 task' : `${n} tasks`;
}

function firstKey(map: ReadonlyMap<string, number>, keep: (k: string) => boolean): string | undefined {
  let best: string | undefined;
  for (const k of map.keys()) if (keep(k) && (best === undefined || k < best)) best = k;
  return best;
}
