// Gang scheduling: a gang job's group (`parallelism` tasks of one shape) launches all together or
// not at all. Offers arrive a few at a time, so the framework holds them until together they cover
// the whole group — but never for long, and never for a group the cluster could not hold at all,
// so a gang job cannot starve everyone else (Mesos frameworks that hoard offers do exactly that).
//
//   held offers (with the time each arrived), group, now, cluster total, cool-down
//     ──► matchOffers(held, group) with zero unplaced?        ──► accept: launch every task, release the rest
//     ──► group > the cluster's total, or a task fits no agent ──► release, with the reason
//     ──► in cool-down (released recently)                     ──► release: do not hold again yet
//     ──► oldest held offer older than maxHoldMs               ──► release, start the cool-down
//     ──► else                                                 ──► hold (and say how much is covered)
import { Resources } from '../../core/resources.js';
import type { Offer__Output } from '../../proto/index.js';
import { matchOffers, type Launch, type MatchOptions, type PendingTask } from '../../sdk/offers.js';

export interface HeldOffer {
  readonly offer: Offer__Output;
  /** When the framework received it. */
  readonly receivedAtMs: number;
}

export interface GangOptions {
  /** Give every held offer back once the oldest has been held this long. Default 30 s. */
  readonly maxHoldMs?: number;
  /** After a release, hold nothing for this long (offers go to other frameworks). Default 60 s. */
  readonly coolDownMs?: number;
  /** What the whole cluster has (agents' total resources), when known: a bigger gang never fits. */
  readonly clusterTotal?: Resources;
  /** The biggest single agent, when known: a task bigger than it never fits. */
  readonly largestAgent?: Resources;
  readonly match?: MatchOptions;
}

/** What the framework remembers about one gang between offer rounds. */
export interface GangMemory {
  /** Hold nothing before this time (set from a release). */
  readonly coolDownUntilMs?: number;
}

export type GangDecision<T extends PendingTask> =
  | {
      readonly action: 'accept';
      /** Every task of the group, placed on the held offers: launch these, all of them. */
      readonly launches: readonly Launch<T>[];
      /** Held offers the group does not use. */
      readonly release: readonly string[];
      readonly reason: string;
    }
  | { readonly action: 'hold'; readonly covered: number; readonly reason: string; readonly wakeAtMs?: number }
  | {
      readonly action: 'release';
      readonly release: readonly string[];
      readonly reason: string;
      /** Remember this (GangMemory) and hold nothing before it. */
      readonly coolDownUntilMs: number;
      /** The group can never fit: the job should say so (pending reason) rather than wait quietly. */
      readonly impossible: boolean;
    };

export const GANG_DEFAULTS = Object.freeze({ maxHoldMs: 30_000, coolDownMs: 60_000 });

/** Decide, for one gang group, what to do with the offers held for it. Pure. */
export function decideGang<T extends PendingTask>(
  group: readonly T[],
  held: readonly HeldOffer[],
  now: number,
  options: GangOptions = {},
  memory: GangMemory = {},
): GangDecision<T> {
  const maxHoldMs = options.maxHoldMs ?? GANG_DEFAULTS.maxHoldMs;
  const coolDownMs = options.coolDownMs ?? GANG_DEFAULTS.coolDownMs;
  const ids = held.map((h) => h.offer.id);
  const release = (reason: string, impossible: boolean, coolDown = true): GangDecision<T> => ({
    action: 'release',
    release: ids,
    reason,
    coolDownUntilMs: coolDown ? now + coolDownMs : (memory.coolDownUntilMs ?? now),
    impossible,
  });
  const never = neverFits(group, options);
  if (never !== undefined) return release(never, true);
  const plan = matchOffers(
    held.map((h) => h.offer),
    group,
    options.match,
  );
  const covered = group.length - plan.unplaced.length;
  if (group.length > 0 && plan.unplaced.length === 0) {
    return { action: 'accept', launches: plan.launches, release: plan.declined, reason: `${describeGang(group, held.length, covered)}: launching all ${group.length}` };
  }
  const summary = describeGang(group, held.length, covered);
  if (memory.coolDownUntilMs !== undefined && now < memory.coolDownUntilMs) {
    return release(`${summary}; cooling down until ${new Date(memory.coolDownUntilMs).toISOString()} after a release`, false, false);
  }
  if (held.length === 0) return { action: 'hold', covered: 0, reason: summary };
  const since = Math.min(...held.map((h) => h.receivedAtMs));
  if (now - since >= maxHoldMs) return release(`${summary}; released after holding ${Math.round((now - since) / 1000)} s`, false);
  return { action: 'hold', covered, reason: summary, wakeAtMs: since + maxHoldMs };
}

/** "gang of 4 needs 4 × (cpus:1;mem:128); holding 2 offers covering 2" */
export function describeGang(group: readonly PendingTask[], heldOffers: number, covered: number): string {
  const shapes = [...new Set(group.map((t) => shapeText(t.resources)))];
  const need = shapes.length === 1 ? `${group.length} × (${shapes[0]})` : shapes.map((s) => `(${s})`).join(' + ');
  return `gang of ${group.length} needs ${need}; holding ${heldOffers} offer${heldOffers === 1 ? '' : 's'} covering ${covered}`;
}

/** Why the group can never be placed on this cluster, or undefined when it might. */
export function neverFits(group: readonly PendingTask[], options: Pick<GangOptions, 'clusterTotal' | 'largestAgent'>): string | undefined {
  if (group.length === 0) return undefined;
  const needs = group.map((t) => (typeof t.resources === 'string' ? Resources.parse(t.resources) : t.resources).flatten());
  const largest = options.largestAgent?.flatten();
  if (largest !== undefined) {
    const big = needs.find((n) => !largest.contains(n));
    if (big !== undefined) return `gang of ${group.length} can never run: one task needs ${big.format()}, the largest agent has ${largest.format()}`;
  }
  const total = options.clusterTotal?.flatten();
  if (total !== undefined) {
    const sum = Resources.sum(needs);
    if (!total.contains(sum)) return `gang of ${group.length} can never run: it needs ${sum.format()} in all, the cluster has ${total.format()}`;
  }
  return undefined;
}

function shapeText(resources: Resources | string): string {
  return typeof resources === 'string' ? resources : resources.format();
}
