// Matching pending tasks to offers: several tasks per offer, ports assigned, constraints honoured,
// and for every task left over the reason each agent turned it down.
//
//   offers ──► merge per (agent, allocation role) ──► AgentSlot[] (in order of first offer)
//   tasks  ──► TaskCompiler ──► TaskNeed[] (validated up front; errors name tasks[i]...)
//   for each task, in the order given:
//     feasibility, per agent, first failure wins:  capabilities ─► role ─► resources (scalars, ports) ─► constraints
//     GROUP_BY last: it compares the agent with the other agents that passed everything else
//     choice among feasible agents: first-fit | bin-pack (fullest after placing) | spread
//     take: reserved-for-role resources first, then unreserved; lowest free ports; tally the group
//   ──► { launches (per agent: offer ids + tasks), unplaced (task + per-agent reasons), declined }
//
// Deterministic: the same input gives the same output; ties go to the agent offered first.
// Speed: a task's feasibility is a few map lookups per agent (no strings are built unless the task
// ends up unplaced). Interchangeable tasks (same needs, role, group, constraints) share work: under
// first-fit, a cursor skips agents that already refused that kind of task (agents only fill up,
// and every constraint but GROUP_BY only gets stricter as a group grows); and a task identical to
// one that failed, with nothing placed in between, fails with the same reasons without a scan.

import { InvalidArgumentError } from '../core/errors.js';
import { Resources, UNRESERVED } from '../core/resources.js';
import type { Offer__Output } from '../proto/index.js';
import { PlacementTally, checkConstraint, fieldValue, type AgentFacts } from './constraints.js';
import { AgentSlot, type Taken } from './offer-slots.js';
import { TaskCompiler, type PendingTask, type TaskNeed } from './offer-tasks.js';

export type { PendingTask, PortRequest } from './offer-tasks.js';

/**
 * - `first-fit` (default): the first agent, in offer order, where the task fits. Cheapest; packs
 *   the early offers and declines the rest whole, which frees whole agents back to the cluster.
 * - `bin-pack` (best fit): the agent left with the least free cpus/mem after placing the task.
 * - `spread`: the agent running the fewest tasks of the task's group, then the one left emptiest.
 */
export type PlacementStrategy = 'first-fit' | 'bin-pack' | 'spread';
export const PLACEMENT_STRATEGIES: readonly PlacementStrategy[] = ['first-fit', 'bin-pack', 'spread'];

/** Where each group's tasks already run: a record or map by group, or a function of the group. */
export type PlacedSource =
  | Readonly<Record<string, Iterable<AgentFacts>>>
  | ReadonlyMap<string, Iterable<AgentFacts>>
  | ((group: string) => Iterable<AgentFacts> | undefined);

export interface MatchOptions {
  readonly strategy?: PlacementStrategy;
  /** The running tasks of each group, for constraints (tasks placed by this match are added). */
  readonly placed?: PlacedSource;
  /** The role for tasks without one on offers that name no allocation role. Default '*'. */
  readonly role?: string;
}

export interface Rejection {
  readonly agentId: string;
  readonly hostname: string;
  readonly reason: string;
}

export interface TaskPlacement<T> {
  readonly task: T;
  /** Concrete resources, with the roles they were taken from; ports included. */
  readonly resources: Resources;
  /** The host ports assigned, in the order the task asked for them. */
  readonly ports: readonly number[];
  readonly namedPorts: Readonly<Record<string, number>>;
}

/** Tasks to launch on one agent with one accept of `offerIds`. */
export interface Launch<T> {
  readonly agentId: string;
  readonly hostname: string;
  /** The offers' allocation role ('' when they name none). */
  readonly role: string;
  readonly offerIds: readonly string[];
  readonly offers: readonly Offer__Output[];
  readonly tasks: readonly TaskPlacement<T>[];
  /** What the tasks use in total. */
  readonly resources: Resources;
}

export interface Unplaced<T> {
  readonly task: T;
  /** One per agent offered, in offer order: why it could not take the task. */
  readonly reasons: readonly Rejection[];
}

export interface MatchResult<T> {
  readonly launches: readonly Launch<T>[];
  readonly unplaced: readonly Unplaced<T>[];
  /** Offers nothing was launched on, in offer order: decline them (see `declineFilter`). */
  readonly declined: readonly string[];
}

/** Match `tasks` (in priority order) against `offers`. Pure: reads its input, returns the plan. */
export function matchOffers<T extends PendingTask>(offers: readonly Offer__Output[], tasks: readonly T[], options: MatchOptions = {}): MatchResult<T> {
  const opts = compileMatchOptions(options);
  const slots = mergeOffers(offers);
  if (!Array.isArray(tasks)) throw new InvalidArgumentError('tasks', 'must be a list of tasks');
  const compiler = new TaskCompiler();
  const needs = tasks.map((t, i) => compiler.compile(t, `tasks[${i}]`));
  const matcher = new Matcher(slots, opts);
  const placements = new Map<AgentSlot, TaskPlacement<T>[]>();
  const unplaced: Unplaced<T>[] = [];
  needs.forEach((need, i) => {
    const task = tasks[i]!;
    const result = matcher.place(need);
    if (result.slot === undefined) {
      unplaced.push({ task, reasons: result.reasons });
      return;
    }
    const list = placements.get(result.slot) ?? [];
    if (list.length === 0) placements.set(result.slot, list);
    list.push({ task, ...result.taken });
  });
  const launches: Launch<T>[] = [];
  for (const slot of slots) {
    const list = placements.get(slot);
    if (list === undefined) continue;
    launches.push({
      agentId: slot.agentId,
      hostname: slot.hostname,
      role: slot.role,
      offerIds: slot.offers.map((o) => o.id),
      offers: slot.offers,
      tasks: list,
      resources: Resources.sum(list.map((p) => p.resources)),
    });
  }
  const used = new Set(launches.flatMap((l) => l.offerIds));
  return { launches, unplaced, declined: offers.map((o) => o.id).filter((id) => !used.has(id)) };
}

interface CompiledMatchOptions {
  readonly strategy: PlacementStrategy;
  readonly placed: PlacedSource | undefined;
  readonly role: string;
}

function compileMatchOptions(options: MatchOptions): CompiledMatchOptions {
  const strategy = options.strategy ?? 'first-fit';
  if (!PLACEMENT_STRATEGIES.includes(strategy)) {
    throw new InvalidArgumentError('options.strategy', `unknown strategy '${String(strategy)}' (expected one of ${PLACEMENT_STRATEGIES.join(', ')})`);
  }
  const role = options.role ?? UNRESERVED;
  if (typeof role !== 'string' || role === '') throw new InvalidArgumentError('options.role', 'must be a non-empty role name');
  const placed = options.placed;
  if (placed !== undefined && (typeof placed !== 'object' || placed === null) && typeof placed !== 'function') {
    throw new InvalidArgumentError('options.placed', 'must be a record or map by group, or a function of the group');
  }
  return { strategy, placed, role };
}

/** One slot per (agent, allocation role): a task's resources must come from offers of one role. */
function mergeOffers(offers: readonly Offer__Output[]): AgentSlot[] {
  if (!Array.isArray(offers)) throw new InvalidArgumentError('offers', 'must be a list of offers');
  const slots: AgentSlot[] = [];
  const byKey = new Map<string, AgentSlot>();
  const ids = new Set<string>();
  offers.forEach((offer, i) => {
    const field = `offers[${i}]`;
    if (typeof offer?.id !== 'string' || offer.id === '') throw new InvalidArgumentError(`${field}.id`, 'an offer needs an id');
    if (ids.has(offer.id)) throw new InvalidArgumentError(`${field}.id`, `offer '${offer.id}' is given twice`);
    if (typeof offer.agentId !== 'string' || offer.agentId === '') throw new InvalidArgumentError(`${field}.agentId`, 'an offer needs an agent id');
    ids.add(offer.id);
    const role = offer.allocationRole ?? '';
    const key = `${offer.agentId}\u0000${role}`;
    let slot = byKey.get(key);
    if (slot === undefined) {
      slot = new AgentSlot(offer.agentId, role, offer);
      byKey.set(key, slot);
      slots.push(slot);
    }
    slot.addOffer(offer, field);
  });
  return slots;
}

type Placed = { slot: AgentSlot; taken: Taken } | { slot: undefined; reasons: readonly Rejection[] };

/** GROUP_BY constraints are skipped (first pass), or checked with these zero-task values per field. */
type GroupByMode = 'skip' | ReadonlyMap<string, readonly string[]>;

class Matcher {
  #version = 0; // bumped on every placement: equal versions mean nothing changed
  readonly #cursor = new Map<string, number>();
  readonly #failed = new Map<string, { version: number; reasons: readonly Rejection[] }>();
  readonly #tallies = new Map<string, PlacementTally>();

  constructor(
    private readonly slots: readonly AgentSlot[],
    private readonly opts: CompiledMatchOptions,
  ) {}

  place(need: TaskNeed): Placed {
    const memo = this.#failed.get(need.key);
    if (memo !== undefined && memo.version === this.#version) return { slot: undefined, reasons: memo.reasons };
    const tally = this.#tally(need.group);
    const slot = this.#choose(need, tally);
    if (slot === undefined) {
      const reasons = this.#explain(need, tally);
      this.#failed.set(need.key, { version: this.#version, reasons });
      return { slot: undefined, reasons };
    }
    const taken = slot.take(need, this.#roleOf(slot, need));
    tally.add(slot.facts);
    this.#version++;
    return { slot, taken };
  }

  #choose(need: TaskNeed, tally: PlacementTally): AgentSlot | undefined {
    if (this.opts.strategy === 'first-fit' && !need.hasGroupBy) {
      for (let i = this.#cursor.get(need.key) ?? 0; i < this.slots.length; i++) {
        if (this.#reject(this.slots[i]!, need, tally, 'skip', false) === undefined) {
          this.#cursor.set(need.key, i);
          return this.slots[i];
        }
      }
      this.#cursor.set(need.key, this.slots.length);
      return undefined;
    }
    let candidates = this.slots.filter((s) => this.#reject(s, need, tally, 'skip', false) === undefined);
    if (need.hasGroupBy) {
      const zeros = zeroGroups(candidates, need, tally);
      candidates = candidates.filter((s) => this.#groupBy(s, need, tally, zeros, false) === undefined);
    }
    return this.#best(candidates, need, tally);
  }

  #best(candidates: readonly AgentSlot[], need: TaskNeed, tally: PlacementTally): AgentSlot | undefined {
    if (this.opts.strategy === 'first-fit' || candidates.length <= 1) return candidates[0];
    // Lower is better: bin-pack wants the least left free; spread the fewest of the group, then the most free.
    const spread = this.opts.strategy === 'spread';
    let best: AgentSlot | undefined;
    let best1 = Infinity;
    let best2 = Infinity;
    for (const s of candidates) {
      const free = s.freeAfter(need, this.#roleOf(s, need));
      const score1 = spread ? tally.count('hostname', s.hostname) : free;
      const score2 = spread ? -free : 0;
      if (score1 < best1 || (score1 === best1 && score2 < best2)) {
        best = s;
        best1 = score1;
        best2 = score2;
      }
    }
    return best;
  }

  #explain(need: TaskNeed, tally: PlacementTally): readonly Rejection[] {
    const zeros = need.hasGroupBy ? zeroGroups(this.slots.filter((s) => this.#reject(s, need, tally, 'skip', false) === undefined), need, tally) : 'skip';
    return Object.freeze(
      this.slots.map((s) => ({
        agentId: s.agentId,
        hostname: s.hostname,
        reason: this.#reject(s, need, tally, zeros, true) ?? 'another agent was preferred',
      })),
    );
  }

  /** The pipeline for one agent: undefined when it may take the task, else why not. */
  #reject(slot: AgentSlot, need: TaskNeed, tally: PlacementTally, groupBy: GroupByMode, explain: boolean): string | undefined {
    for (const c of need.capabilities) if (!slot.capabilities.has(c)) return explain ? missingCapability(c) : '';
    if (need.role !== undefined && slot.role !== '' && slot.role !== need.role) {
      return explain ? `offered to role ${slot.role}, the task runs as ${need.role}` : '';
    }
    const misfit = slot.misfit(need, this.#roleOf(slot, need), explain);
    if (misfit !== undefined) return misfit;
    for (const c of need.constraints) {
      if (c.operator === 'GROUP_BY') continue;
      const reason = checkConstraint(c, slot.facts, tally, undefined, explain);
      if (reason !== undefined) return reason;
    }
    return groupBy === 'skip' ? undefined : this.#groupBy(slot, need, tally, groupBy, explain);
  }

  #groupBy(slot: AgentSlot, need: TaskNeed, tally: PlacementTally, zeros: ReadonlyMap<string, readonly string[]>, explain: boolean): string | undefined {
    for (const c of need.constraints) {
      if (c.operator !== 'GROUP_BY') continue;
      const reason = checkConstraint(c, slot.facts, tally, zeros.get(c.field), explain);
      if (reason !== undefined) return reason;
    }
    return undefined;
  }

  #roleOf(slot: AgentSlot, need: TaskNeed): string {
    return need.role ?? (slot.role === '' ? this.opts.role : slot.role);
  }

  #tally(group: string): PlacementTally {
    let tally = this.#tallies.get(group);
    if (tally === undefined) {
      tally = new PlacementTally(placedFor(this.opts.placed, group));
      this.#tallies.set(group, tally);
    }
    return tally;
  }
}

/** Why an agent without capability `c` cannot take a task that needs it. */
export function missingCapability(c: string): string {
  return c === 'DOCKER' ? NO_CONTAINERS : `the agent lacks capability ${c}`;
}

/** The reason of an agent that runs no containers, for a task with an image. */
export const NO_CONTAINERS = 'runs no containers (image tasks need Docker)';

/**
 * For each GROUP_BY field: the smallest value, among agents that could otherwise take the task,
 * on which the group has no task yet. GROUP_BY treats it as a group of 0 tasks, so tasks go there
 * before piling onto a value that has some; agents that cannot take the task do not count, so a
 * full zone never holds the others back.
 */
function zeroGroups(candidates: readonly AgentSlot[], need: TaskNeed, tally: PlacementTally): ReadonlyMap<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const c of need.constraints) {
    if (c.operator !== 'GROUP_BY' || out.has(c.field)) continue;
    const counts = tally.counts(c.field);
    let least: string | undefined;
    for (const s of candidates) {
      const v = fieldValue(s.facts, c.field);
      if (v !== undefined && !counts.has(v) && (least === undefined || v < least)) least = v;
    }
    out.set(c.field, least === undefined ? [] : [least]);
  }
  return out;
}

function placedFor(source: PlacedSource | undefined, group: string): Iterable<AgentFacts> {
  if (source === undefined) return [];
  if (typeof source === 'function') return source(group) ?? [];
  if (source instanceof Map) return (source as ReadonlyMap<string, Iterable<AgentFacts>>).get(group) ?? [];
  const record = source as Readonly<Record<string, Iterable<AgentFacts>>>;
  return Object.hasOwn(record, group) ? record[group]! : [];
}
