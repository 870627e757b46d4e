// Autoscaling a service (Kubernetes' HPA rule), as pure functions on plain numbers: the spec's
// `autoscale` block, and the decision from measured utilisation. No I/O, no timers: the caller
// passes the clock's `now` and the samples, and keeps the returned history.
import { InvalidArgumentError } from '../../core/errors.js';
import { numberAt, objectAt, onlyKeys } from '../common/spec-fields.js';

/** A service's `autoscale`: bounds, targets (fractions of the task's allocation) and windows. */
export interface AutoscaleSpec {
  readonly min: number;
  readonly max: number;
  readonly targetCpuUtilization?: number;
  readonly targetMemoryUtilization?: number;
  readonly scaleDownStabilizationSeconds: number;
  readonly scaleUpStabilizationSeconds: number;
}

export const AUTOSCALE_DEFAULTS = Object.freeze({ scaleDownStabilizationSeconds: 300, scaleUpStabilizationSeconds: 0 });
/** HPA's tolerance: no change while the measured ÷ target ratio is within 10 % of 1. */
export const AUTOSCALE_TOLERANCE = 0.1;
/** The bound on `autoscale.max` (the same as `instances`). */
export const MAX_AUTOSCALE_INSTANCES = 10_000;
/** The longest stabilisation window: one hour. */
export const MAX_STABILIZATION_SECONDS = 3600;
/** How many decisions a service keeps. */
export const AUTOSCALE_HISTORY = 10;

const KEYS = ['min', 'max', 'targetCpuUtilization', 'targetMemoryUtilization', 'scaleDownStabilizationSeconds', 'scaleUpStabilizationSeconds'];

/** Validate `autoscale` (absent = no autoscaling). Every error names the field. */
export function parseAutoscale(value: unknown): AutoscaleSpec | undefined {
  const doc = objectAt(value, 'autoscale');
  if (doc === undefined) return undefined;
  onlyKeys(doc, KEYS, 'autoscale');
  const min = numberAt(doc['min'], 'autoscale.min', { min: 1, integer: true, max: MAX_AUTOSCALE_INSTANCES });
  if (min === undefined) throw new InvalidArgumentError('autoscale.min', 'is required (a whole number, at least 1)');
  const max = numberAt(doc['max'], 'autoscale.max', { min: 1, integer: true, max: MAX_AUTOSCALE_INSTANCES });
  if (max === undefined) throw new InvalidArgumentError('autoscale.max', `is required (a whole number from min to ${MAX_AUTOSCALE_INSTANCES})`);
  if (max < min) throw new InvalidArgumentError('autoscale.max', `must be at least autoscale.min (${min}), got ${max}`);
  const target = (key: string): number | undefined => numberAt(doc[key], `autoscale.${key}`, { min: 0, exclusive: true, max: 1 });
  const cpu = target('targetCpuUtilization');
  const mem = target('targetMemoryUtilization');
  if (cpu === undefined && mem === undefined) {
    throw new InvalidArgumentError('autoscale.targetCpuUtilization', 'at least one of targetCpuUtilization and targetMemoryUtilization is required (a fraction of the allocation, 0 < t ≤ 1)');
  }
  const window = (key: 'scaleDownStabilizationSeconds' | 'scaleUpStabilizationSeconds'): number =>
    numberAt(doc[key], `autoscale.${key}`, { min: 0, max: MAX_STABILIZATION_SECONDS }) ?? AUTOSCALE_DEFAULTS[key];
  return {
    min,
    max,
    ...(cpu !== undefined ? { targetCpuUtilization: cpu } : {}),
    ...(mem !== undefined ? { targetMemoryUtilization: mem } : {}),
    scaleDownStabilizationSeconds: window('scaleDownStabilizationSeconds'),
    scaleUpStabilizationSeconds: window('scaleUpStabilizationSeconds'),
  };
}

/** `instances` clamped into the autoscale bounds (the starting count). */
export function clampInstances(instances: number, a: AutoscaleSpec | undefined): number {
  return a === undefined ? instances : Math.min(a.max, Math.max(a.min, instances));
}

/** One RUNNING task's last sample: utilisation as a fraction of its allocation; undefined = no sample yet. */
export interface TaskSample {
  readonly cpu?: number;
  readonly memory?: number;
}

/** A recommendation made at a time (kept for the stabilisation windows). */
export interface Recommendation {
  readonly at: number;
  readonly instances: number;
}

/** A decision recorded on the service. */
export interface AutoscaleDecision {
  /** Unix ms. */
  readonly at: number;
  readonly from: number;
  readonly to: number;
  readonly reason: string;
}

export interface AutoscaleInput {
  readonly spec: AutoscaleSpec;
  /** The service's current `instances`. */
  readonly current: number;
  readonly samples: readonly TaskSample[];
  readonly deploying: boolean;
  /** Unix ms (the injected clock). */
  readonly now: number;
  /** Earlier recommendations, oldest first. */
  readonly recommendations: readonly Recommendation[];
}

export interface AutoscaleOutcome {
  /** The new instance count, or undefined: nothing to change. */
  readonly to?: number;
  /** Why (also when nothing changes). */
  readonly reason: string;
  /** The recommendations to keep for next time (within the longer window). */
  readonly recommendations: readonly Recommendation[];
}

const round2 = (n: number): string => n.toFixed(2);

/**
 * HPA's rule: per metric desired = ceil(current × measured ÷ target) (no change while
 * |measured ÷ target − 1| ≤ 10 %), the largest of the metrics, clamped to [min, max]; then scale
 * down only to the highest recommendation of the last scaleDownStabilizationSeconds and up only to
 * the lowest of the last scaleUpStabilizationSeconds. Tasks without a sample are left out.
 */
export function decideScale(input: AutoscaleInput): AutoscaleOutcome {
  const { spec, current, now } = input;
  const windowMs = Math.max(spec.scaleDownStabilizationSeconds, spec.scaleUpStabilizationSeconds) * 1000;
  const kept = input.recommendations.filter((r) => now - r.at <= windowMs);
  if (input.deploying) return { reason: 'a deployment is in progress', recommendations: kept };
  const parts: string[] = [];
  let raw: number | undefined;
  const metrics: Array<['cpu' | 'memory', number | undefined]> = [['cpu', spec.targetCpuUtilization], ['memory', spec.targetMemoryUtilization]];
  for (const [metric, target] of metrics) {
    if (target === undefined) continue;
    const values = input.samples.map((s) => s[metric]).filter((v): v is number => v !== undefined && Number.isFinite(v));
    if (values.length === 0) continue;
    const measured = values.reduce((a, b) => a + b, 0) / values.length;
    const ratio = measured / target;
    const desired = Math.abs(ratio - 1) <= AUTOSCALE_TOLERANCE ? current : Math.ceil(current * ratio);
    const within = desired === current && ratio !== 1 && Math.abs(ratio - 1) <= AUTOSCALE_TOLERANCE ? ' (within tolerance)' : '';
    parts.push(`${metric} ${round2(measured)} of ${round2(target)} target over ${values.length} task${values.length === 1 ? '' : 's'} → ${desired}${within}`);
    raw = raw === undefined ? desired : Math.max(raw, desired);
  }
  if (raw === undefined) return { reason: 'no task has a sample yet', recommendations: kept };
  let reason = parts.join(', ');
  let recommended = raw;
  if (recommended > spec.max) {
    recommended = spec.max;
    reason += `; clamped to max ${spec.max}`;
  } else if (recommended < spec.min) {
    recommended = spec.min;
    reason += `; clamped to min ${spec.min}`;
  }
  const recommendations = [...kept, { at: now, instances: recommended }];
  let to = recommended;
  if (to < current) {
    const since = now - spec.scaleDownStabilizationSeconds * 1000;
    const highest = Math.max(...recommendations.filter((r) => r.at >= since).map((r) => r.instances));
    if (highest > to) {
      to = Math.min(current, highest);
      reason += `; held at ${to} by the highest recommendation of the last ${spec.scaleDownStabilizationSeconds} s`;
    }
  } else if (to > current) {
    const since = now - spec.scaleUpStabilizationSeconds * 1000;
    const lowest = Math.min(...recommendations.filter((r) => r.at >= since).map((r) => r.instances));
    if (lowest < to) {
      to = Math.max(current, lowest);
      reason += `; held at ${to} by the lowest recommendation of the last ${spec.scaleUpStabilizationSeconds} s`;
    }
  }
  return to === current ? { reason, recommendations } : { to, reason, recommendations };
}

/** Append a decision, keeping the last AUTOSCALE_HISTORY. */
export function recordDecision(history: readonly AutoscaleDecision[], d: AutoscaleDecision): AutoscaleDecision[] {
  return [...history, d].slice(-AUTOSCALE_HISTORY);
}
