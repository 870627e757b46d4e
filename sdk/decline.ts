// How long to refuse declined offers.
//
// A decline carries a filter: "do not offer me these resources again for refuse_seconds". The
// choice is a trade-off between this framework's latency and everyone else's share:
//
// - While the framework still has tasks waiting (they did not fit, or a constraint wants another
//   agent), it must see offers again soon: a short filter, Mesos's default of 5 s.
// - When it has nothing to launch, a short filter is harmful. The allocator keeps offering the
//   declined resources back every few seconds, and while they sit in this framework's offers no
//   other framework can get them; with many idle frameworks, busy ones starve. Marathon learnt
//   this and moved its idle decline to 120 s. (A framework with nothing to do for a long time
//   should also SUPPRESS offers, and REVIVE when work arrives; a revive clears these filters.)
//
// Both durations are options, validated once.

import { InvalidArgumentError } from '../core/errors.js';

/** Mesos's default refuse_seconds: used while tasks are waiting. */
export const PENDING_REFUSE_SECONDS = 5;
/** Marathon's decline for frameworks with nothing to launch. */
export const IDLE_REFUSE_SECONDS = 120;

export interface DeclinePolicyOptions {
  /** refuse_seconds while tasks are waiting. Default 5. */
  readonly pendingSeconds?: number;
  /** refuse_seconds when nothing is waiting. Default 120. */
  readonly idleSeconds?: number;
}

export interface DeclineFilterOptions extends DeclinePolicyOptions {
  /** Whether the framework still has tasks it could not place. */
  readonly hasPendingWork: boolean;
}

/** The filter to pass to `decline` (or `accept`, for the unused part of the offers). */
export interface DeclineFilter {
  readonly refuseSeconds: number;
}

export interface DeclinePolicy {
  readonly pendingSeconds: number;
  readonly idleSeconds: number;
  filter(hasPendingWork: boolean): DeclineFilter;
}

/** Validate the durations once and get a policy to ask for each decline's filter. */
export function declinePolicy(options: DeclinePolicyOptions = {}): DeclinePolicy {
  const pendingSeconds = seconds(options.pendingSeconds, PENDING_REFUSE_SECONDS, 'pendingSeconds');
  const idleSeconds = seconds(options.idleSeconds, IDLE_REFUSE_SECONDS, 'idleSeconds');
  const pending: DeclineFilter = Object.freeze({ refuseSeconds: pendingSeconds });
  const idle: DeclineFilter = Object.freeze({ refuseSeconds: idleSeconds });
  return Object.freeze({ pendingSeconds, idleSeconds, filter: (hasPendingWork: boolean) => (hasPendingWork ? pending : idle) });
}

/** `{ refuseSeconds }`: short while tasks wait, long when there is nothing to launch. */
export function declineFilter(options: DeclineFilterOptions): DeclineFilter {
  if (typeof options?.hasPendingWork !== 'boolean') throw new InvalidArgumentError('hasPendingWork', 'must be true or false');
  return declinePolicy(options).filter(options.hasPendingWork);
}

function seconds(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(field, `must be a non-negative number of seconds, got ${String(value)}`);
  }
  return value;
}
