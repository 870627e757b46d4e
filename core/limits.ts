// Bounds on the durations users may ask for. The clock already waits in steps, so no delay can
// fire early (core/clock.ts); these bounds refuse what cannot be meant — negative, NaN, infinite,
// or longer than anyone would wait — with the field named, before anything is stored or sent.
//
//   grace periods (kill, drain)              ≤ 1 day   Kubernetes' terminationGracePeriodSeconds
//                                                      and Mesos's KillPolicy have no maximum, but
//                                                      a task that needs a day to stop is stuck;
//                                                      a day also stays inside one Node timer
//   health-check delay, interval, timeout    ≤ 1 day
//   retry backoff (base and cap)             ≤ 1 day
//   lifetimes (max completion time,          ≤ 1 year  Mesos caps refuse_seconds at 365 days the
//   failover timeout, deadlines, TTLs)                 same way; longer is "never", which is what
//                                                      leaving the field out means
import { InvalidArgumentError } from './errors.js';

const DAY_SECONDS = 24 * 3600;

/** Kill and drain grace periods. */
export const MAX_GRACE_SECONDS = DAY_SECONDS;
/** Health and readiness check delay, interval, timeout and grace. */
export const MAX_CHECK_SECONDS = DAY_SECONDS;
/** Retry backoff: the first delay and the cap. */
export const MAX_BACKOFF_SECONDS = DAY_SECONDS;
/** Lifetimes: max completion time, failover timeout, deadlines, time-to-live. */
export const MAX_LIFETIME_SECONDS = 365 * DAY_SECONDS;

export interface SecondsRule {
  /** The largest value allowed. */
  readonly max: number;
  /** Refuse 0 too (an interval of 0 would spin). */
  readonly positive?: boolean;
}

/** Is `value` a number of seconds within `rule`? Returns it, or throws naming `field`. */
export function checkSeconds(value: unknown, field: string, rule: SecondsRule): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidArgumentError(field, `must be a finite number of seconds, got ${describeNumber(value)}`);
  }
  if (rule.positive ? value <= 0 : value < 0) {
    throw new InvalidArgumentError(field, `must be ${rule.positive ? 'greater than 0' : 'at least 0'} seconds, got ${value}`);
  }
  if (value > rule.max) throw new InvalidArgumentError(field, `must be at most ${rule.max} seconds (${describeSeconds(rule.max)}), got ${value}`);
  return value;
}

/** Like checkSeconds, for optional fields: absent (undefined or null) stays absent. */
export function optionalSeconds(value: unknown, field: string, rule: SecondsRule): number | undefined {
  return value === undefined || value === null ? undefined : checkSeconds(value, field, rule);
}

/** `86400` → `1 day`, `31536000` → `365 days`. */
export function describeSeconds(seconds: number): string {
  if (seconds % DAY_SECONDS === 0) return seconds === DAY_SECONDS ? '1 day' : `${seconds / DAY_SECONDS} days`;
  return `${seconds} s`;
}

function describeNumber(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  if (value === null) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? 'a list' : 'an object';
  return String(value);
}

/** Acknowledgements in one AcknowledgeBatch call (about 100 bytes each on the wire). */
export const MAX_ACKNOWLEDGEMENTS_PER_CALL = 10_000;
