// The chaos run's flags: parsed, checked and frozen once; a bad flag names itself. Pure.
//
//   npm run chaos -- [--duration 4m] [--seed N] [--fault-interval 3s] [--kill-weight 1]
//                    [--stop-weight 1] [--zk-weight 0.5] [--hold-max 4s] [--converge-timeout 90s]
//                    [--min-capacity 0.99] [--instances 4] [--batch-indexes 0] [--keep]
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../../core/errors.js';
import { parseDuration } from '../../core/options.js';

export interface ChaosOptions {
  /** How long faults are injected (the workloads start before and converge after). */
  readonly durationMs: number;
  /** Seeds the fault schedule; printed so that a run can be replayed. */
  readonly seed: number;
  /** Mean time between two faults (each gap is uniform in [0.5, 1.5] × this). */
  readonly faultIntervalMs: number;
  /** Relative weights of SIGKILL (process restarted by the supervisor), SIGSTOP (then SIGCONT) and a ZooKeeper node stopped. */
  readonly killWeight: number;
  readonly stopWeight: number;
  readonly zkWeight: number;
  /** Longest SIGSTOP and longest ZooKeeper node outage (each is uniform in [0.3, 1] × this). */
  readonly holdMaxMs: number;
  /** After the chaos, how long the cluster has to converge before it is judged. */
  readonly convergeTimeoutMs: number;
  /** The least share of capacity probes that must find the minimum healthy instances. */
  readonly minCapacity: number;
  /** The service's instance count. */
  readonly instances: number;
  /** The Indexed batch job's completions; 0: enough to run through most of the chaos. */
  readonly batchIndexes: number;
  /** Keep the run directory (logs, ledgers, work dirs) afterwards. */
  readonly keep: boolean;
}

export const DEFAULT_OPTIONS: ChaosOptions = Object.freeze({
  durationMs: 4 * 60_000,
  seed: 1,
  faultIntervalMs: 3_000,
  killWeight: 1,
  stopWeight: 1,
  zkWeight: 0.5,
  holdMaxMs: 4_000,
  convergeTimeoutMs: 90_000,
  minCapacity: 0.99,
  instances: 4,
  batchIndexes: 0,
  keep: false,
});

/** Options from argv (a random seed when none is given). */
export function parseChaosArgs(argv: readonly string[], randomSeed: () => number = () => Math.floor(Math.random() * 2 ** 31)): ChaosOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: 'string' },
      seed: { type: 'string' },
      'fault-interval': { type: 'string' },
      'kill-weight': { type: 'string' },
      'stop-weight': { type: 'string' },
      'zk-weight': { type: 'string' },
      'hold-max': { type: 'string' },
      'converge-timeout': { type: 'string' },
      'min-capacity': { type: 'string' },
      instances: { type: 'string' },
      'batch-indexes': { type: 'string' },
      keep: { type: 'boolean' },
    },
    strict: true,
  });
  const d = DEFAULT_OPTIONS;
  const dur = (raw: string | undefined, flag: string, fallback: number): number => (raw === undefined ? fallback : parseDuration(raw, flag));
  return compileChaosOptions({
    durationMs: dur(values.duration, '--duration', d.durationMs),
    seed: values.seed === undefined ? randomSeed() : integer(values.seed, '--seed', 0, 2 ** 32 - 1),
    faultIntervalMs: dur(values['fault-interval'], '--fault-interval', d.faultIntervalMs),
    killWeight: values['kill-weight'] === undefined ? d.killWeight : number(values['kill-weight'], '--kill-weight'),
    stopWeight: values['stop-weight'] === undefined ? d.stopWeight : number(values['stop-weight'], '--stop-weight'),
    zkWeight: values['zk-weight'] === undefined ? d.zkWeight : number(values['zk-weight'], '--zk-weight'),
    holdMaxMs: dur(values['hold-max'], '--hold-max', d.holdMaxMs),
    convergeTimeoutMs: dur(values['converge-timeout'], '--converge-timeout', d.convergeTimeoutMs),
    minCapacity: values['min-capacity'] === undefined ? d.minCapacity : number(values['min-capacity'], '--min-capacity'),
    instances: values.instances === undefined ? d.instances : integer(values.instances, '--instances', 1, 20),
    batchIndexes: values['batch-indexes'] === undefined ? d.batchIndexes : integer(values['batch-indexes'], '--batch-indexes', 0, 1000),
    keep: values.keep ?? false,
  });
}

/** Checks a whole set of options (also what the CI test passes) and freezes it. */
export function compileChaosOptions(o: ChaosOptions): ChaosOptions {
  if (o.durationMs < 5_000 || o.durationMs > 3_600_000) throw new InvalidArgumentError('--duration', `must be between 5s and 1h, got ${o.durationMs} ms`);
  if (o.faultIntervalMs < 200) throw new InvalidArgumentError('--fault-interval', `must be at least 200ms, got ${o.faultIntervalMs} ms`);
  for (const [flag, w] of [['--kill-weight', o.killWeight], ['--stop-weight', o.stopWeight], ['--zk-weight', o.zkWeight]] as const) {
    if (!(w >= 0) || !Number.isFinite(w)) throw new InvalidArgumentError(flag, `must be a number ≥ 0, got ${w}`);
  }
  if (o.killWeight + o.stopWeight + o.zkWeight <= 0) throw new InvalidArgumentError('--kill-weight', 'at least one of --kill-weight, --stop-weight and --zk-weight must be above 0');
  if (o.holdMaxMs < 100 || o.holdMaxMs > 60_000) throw new InvalidArgumentError('--hold-max', `must be between 100ms and 1m, got ${o.holdMaxMs} ms`);
  if (o.convergeTimeoutMs < 1_000) throw new InvalidArgumentError('--converge-timeout', `must be at least 1s, got ${o.convergeTimeoutMs} ms`);
  if (!(o.minCapacity >= 0 && o.minCapacity <= 1)) throw new InvalidArgumentError('--min-capacity', `must be a share between 0 and 1, got ${o.minCapacity}`);
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 2 ** 32 - 1) throw new InvalidArgumentError('--seed', `must be an integer in [0, 2^32), got ${o.seed}`);
  return Object.freeze({ ...o });
}

function number(raw: string, flag: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(flag, `must be a number, got '${raw}'`);
  return n;
}

function integer(raw: string, flag: string, min: number, max: number): number {
  const n = number(raw, flag);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(flag, `must be an integer in [${min}, ${max}], got '${raw}'`);
  return n;
}
