// The batch framework's options, as its host (`agora frameworks`, `agora up`) passes them, compiled
// once into a frozen object. Every duration is an option so integration tests run in seconds; the
// host uses the defaults (Kubernetes' retry backoff, gang.ts' hold and cool-down).
import { InvalidArgumentError } from '../../core/errors.js';
import type { PlacementStrategy } from '../../sdk/offers.js';
import type { FrameworkState } from '../../sdk/state.js';
import type { FrameworkOptions } from '../framework-options.js';
import type { RunnableController } from '../workload.js';
import type { ReportsFigures } from '../workload-figures.js';
import { GANG_DEFAULTS } from './gang.js';
import { RETRY_BACKOFF, type RetryBackoff } from './planner.js';
import { msOption as ms, UNREACHABLE_TIMEOUT_MS } from '../common/durations.js';
import { killRetryMsOf } from '../common/kill-tracker.js';

/** The name the batch framework registers with (and its state lives under). */
export const BATCH_FRAMEWORK_NAME = 'agora-batch';

export interface BatchOptions extends FrameworkOptions {
  /** This framework's state (job specs, runs and their tasks); shared by its instances. */
  readonly state: FrameworkState;
  /** The role tasks run as unless their spec names one (default '*'). */
  readonly role?: string;
  /** Retries wait initialMs × 2^(n-1), at most maxMs (default 10 s, 6 min: Kubernetes). */
  readonly retryBackoff?: Partial<RetryBackoff>;
  /** A gang job gives its held offers back after maxHoldMs (30 s) and holds none for coolDownMs (60 s). */
  readonly gang?: { readonly maxHoldMs?: number; readonly coolDownMs?: number };
  /** Where a job's tasks go among the offers (default first-fit: see README). */
  readonly placement?: PlacementStrategy;
}

export interface CompiledBatchOptions {
  readonly retryBackoff: RetryBackoff;
  readonly maxHoldMs: number;
  readonly coolDownMs: number;
  readonly placement: PlacementStrategy;
  readonly killRetryMs: number;
  readonly unreachableTimeoutMs: number;
}

export type BatchHandle = RunnableController & ReportsFigures & {
  readonly kind: 'JOB';
  /** Stop acting: close the driver (the framework stays registered; its tasks keep running). */
  stop(): Promise<void>;
};

export function compileBatchOptions(o: BatchOptions): Readonly<CompiledBatchOptions> {
  if (!o?.state) throw new InvalidArgumentError('state', 'the batch framework needs its FrameworkState');
  const placement = o.placement ?? 'first-fit';
  if (!['first-fit', 'bin-pack', 'spread'].includes(placement)) throw new InvalidArgumentError('placement', `must be first-fit, bin-pack or spread, got ${String(placement)}`);
  return Object.freeze({
    retryBackoff: Object.freeze({
      initialMs: ms(o.retryBackoff?.initialMs, RETRY_BACKOFF.initialMs, 'retryBackoff.initialMs'),
      maxMs: ms(o.retryBackoff?.maxMs, RETRY_BACKOFF.maxMs, 'retryBackoff.maxMs'),
    }),
    maxHoldMs: ms(o.gang?.maxHoldMs, GANG_DEFAULTS.maxHoldMs, 'gang.maxHoldMs'),
    coolDownMs: ms(o.gang?.coolDownMs, GANG_DEFAULTS.coolDownMs, 'gang.coolDownMs'),
    placement,
    killRetryMs: killRetryMsOf(o.killRetryMs),
    unreachableTimeoutMs: ms(o.unreachableTimeoutMs, UNREACHABLE_TIMEOUT_MS, 'unreachableTimeoutMs'),
  });
}
