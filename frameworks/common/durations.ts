// Duration options the built-in frameworks share, checked one way (a bad value names its field),
// and the one default for how long a task whose agent stopped answering keeps its place.
import { InvalidArgumentError } from '../../core/errors.js';

/**
 * How long a batch or cron task whose agent stopped answering (TASK_UNREACHABLE) keeps its index or
 * its run before it is given up and replaced: Kubernetes' default toleration of an unreachable node.
 * (Services have their own per-spec `unreachableStrategy`.)
 */
export const UNREACHABLE_TIMEOUT_MS = 300_000;

/** A duration option in milliseconds: `fallback` when absent; anything but a finite number ≥ 0 is refused naming `field`. */
export function msOption(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new InvalidArgumentError(field, `must be a non-negative number of milliseconds, got ${String(value)}`);
  return value;
}
