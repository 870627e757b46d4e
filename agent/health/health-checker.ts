// Runs a task's health check (or readiness check) on a schedule and reports changes.
//
//   start ──delay──▶ check ──interval──▶ check ──interval──▶ …   (the next check is scheduled
//                      │                                          when the previous one ends:
//                      ▼                                          checks never overlap)
//        healthy ⇒ failures = 0; onResult(true) if it changed (or is the first result)
//        failing ⇒ ignored while inside the grace period and never yet healthy;
//                  else failures += 1; onResult(false) if it changed;
//                  failures == consecutive_failures ⇒ onFailed(), and checking stops
//
// The task manager reports onResult on RUNNING updates (`healthy`) and kills the task on
// onFailed (REASON_HEALTH_CHECK_FAILED, "health check failed"). A readiness check is the same
// checker with onResult read as `ready` and no onFailed. Time comes from an injected Clock.
import { systemClock, type Clock, type TimerHandle } from '../../core/clock.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { HealthCheck__Output } from '../../proto/index.js';
import { makeProbe, type HealthCheckTarget, type Probe, type ProbeResult } from './probes.js';

/** Mesos' defaults, in seconds (and a count). */
export const HEALTH_CHECK_DEFAULTS = Object.freeze({
  delaySeconds: 15,
  intervalSeconds: 10,
  timeoutSeconds: 20,
  consecutiveFailures: 3,
  gracePeriodSeconds: 10,
});

export interface HealthCheckSettings {
  readonly delayMs: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly consecutiveFailures: number;
  readonly gracePeriodMs: number;
}

export interface CheckOutcome extends ProbeResult {
  /** True when a failure was ignored (grace period, never healthy yet). */
  readonly ignored: boolean;
  readonly consecutiveFailures: number;
}

export interface HealthCheckerOptions {
  readonly check: HealthCheck__Output;
  /** The task: sandbox, env and ports (a ContainerSpec will do). */
  readonly target: HealthCheckTarget;
  readonly clock?: Clock;
  /** Where HTTP and TCP checks connect; default 127.0.0.1. */
  readonly host?: string;
  readonly log?: Logger;
  /** The first result and every change of health. */
  readonly onResult?: (healthy: boolean, message: string) => void;
  /** consecutive_failures failures in a row: the task should be killed. Checking has stopped. */
  readonly onFailed?: (message: string) => void;
  /** Every check's outcome (logs, metrics, tests). */
  readonly onCheck?: (outcome: CheckOutcome) => void;
}

export function healthCheckSettings(check: HealthCheck__Output): HealthCheckSettings {
  const d = HEALTH_CHECK_DEFAULTS;
  return {
    delayMs: (check.delaySeconds ?? d.delaySeconds) * 1000,
    intervalMs: (check.intervalSeconds ?? d.intervalSeconds) * 1000,
    timeoutMs: (check.timeoutSeconds ?? d.timeoutSeconds) * 1000,
    consecutiveFailures: Math.max(1, check.consecutiveFailures ?? d.consecutiveFailures),
    gracePeriodMs: (check.gracePeriodSeconds ?? d.gracePeriodSeconds) * 1000,
  };
}

export class HealthChecker {
  readonly settings: HealthCheckSettings;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly probe: Probe;
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private timer: TimerHandle | undefined;
  private inFlight: AbortController | undefined;
  private startedAt = 0;
  private everHealthy = false;
  private failures = 0;
  private current: boolean | undefined;

  constructor(private readonly options: HealthCheckerOptions) {
    this.settings = healthCheckSettings(options.check);
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? silentLogger();
    this.probe = makeProbe(options.check, options.target, options.host ?? '127.0.0.1');
  }

  /** The latest health: undefined until the first counted result. */
  get healthy(): boolean | undefined {
    return this.current;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  start(): this {
    if (this.state !== 'idle') return this;
    this.state = 'running';
    this.startedAt = this.clock.now();
    this.timer = this.clock.setTimeout(() => void this.runCheck(), this.settings.delayMs);
    return this;
  }

  stop(): void {
    this.state = 'stopped';
    this.clock.clearTimeout(this.timer);
    this.inFlight?.abort(new Error('health checking stopped'));
  }

  [Symbol.dispose](): void {
    this.stop();
  }

  private async runCheck(): Promise<void> {
    if (this.state !== 'running') return;
    const controller = new AbortController();
    this.inFlight = controller;
    const seconds = this.settings.timeoutMs / 1000;
    const timeout = this.clock.setTimeout(() => controller.abort(new Error(`timed out after ${seconds} s`)), this.settings.timeoutMs);
    const result = await this.probe(controller.signal).catch((err: Error) => ({ healthy: false, message: `health check error: ${err.message}` }));
    this.clock.clearTimeout(timeout);
    this.inFlight = undefined;
    if (this.state !== 'running') return;
    this.record(result);
    if (this.state === 'running') this.timer = this.clock.setTimeout(() => void this.runCheck(), this.settings.intervalMs);
  }

  private record(result: ProbeResult): void {
    const ignored = !result.healthy && !this.everHealthy && this.clock.now() - this.startedAt < this.settings.gracePeriodMs;
    if (result.healthy) {
      this.everHealthy = true;
      this.failures = 0;
    } else if (!ignored) {
      this.failures += 1;
    }
    this.options.onCheck?.({ ...result, ignored, consecutiveFailures: this.failures });
    if (ignored) return;
    if (this.current !== result.healthy) {
      this.current = result.healthy;
      this.log.info({ healthy: result.healthy, message: result.message }, 'health changed');
      this.options.onResult?.(result.healthy, result.message);
    }
    if (this.failures >= this.settings.consecutiveFailures) {
      this.log.warn({ failures: this.failures, message: result.message }, 'health check failed');
      this.stop();
      this.options.onFailed?.(result.message);
    }
  }
}

/** A started checker. */
export function startHealthChecker(options: HealthCheckerOptions): HealthChecker {
  return new HealthChecker(options).start();
}
