// Kills the framework has asked for and not yet seen answered, for services, cron and batch alike.
// A kill is answered by a terminal update of its task; one not answered within the task's grace
// period and `retryMs` more (`killRetryMs`, one option for the three, default 10 s) is sent again,
// and after every (re)subscription every unanswered kill is sent again at the next `retry` (the
// master may have lost it with the connection). A kill sent while the driver is not subscribed is
// kept, and sent at the next retry. Orphans — tasks no record owns — are tracked the same way.
//
//   kill(task) ──► driver.kill ──► sentAtMs ──► (no terminal update by sentAtMs + grace + retryMs)
//                                      ▲                         │
//                                      └──────── retry(now) ◄────┘        ended(task) ──► forgotten
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { FrameworkDriver } from '../../sdk/driver.js';
import { msOption } from './durations.js';

/** A kill not answered within the grace period and this much more is sent again. */
export const DEFAULT_KILL_RETRY_MS = 10_000;

/** The `killRetryMs` option, checked (a bad value names itself). */
export function killRetryMsOf(value: number | undefined): number {
  return msOption(value, DEFAULT_KILL_RETRY_MS, 'killRetryMs');
}

export interface KillTrackerDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly driver: () => FrameworkDriver | undefined;
  /** `killRetryMs`: how long past the grace period a kill waits for its answer. */
  readonly retryMs: number;
}

interface Kill {
  readonly agentId: string;
  readonly graceSeconds: number;
  sentAtMs: number;
}

export class KillTracker {
  readonly #kills = new Map<string, Kill>();

  constructor(private readonly deps: KillTrackerDeps) {}

  /** Ask the master to kill a task (with its grace period), and keep asking until it ends. */
  kill(taskId: string, agentId: string, graceSeconds: number, reason: string): void {
    this.deps.logger.info({ taskId, reason }, 'killing task');
    this.#kills.set(taskId, { agentId, graceSeconds, sentAtMs: this.deps.clock.now() });
    this.#send(taskId, agentId, graceSeconds);
  }

  /** Is a kill of this task waiting for its answer? */
  has(taskId: string): boolean {
    return this.#kills.has(taskId);
  }

  /** The task ended (or is unknown to the master): its kill is answered. */
  ended(taskId: string): void {
    this.#kills.delete(taskId);
  }

  /** After a (re)subscription: every unanswered kill goes again at the next retry. */
  subscribed(): void {
    for (const k of this.#kills.values()) k.sentAtMs = -Infinity;
  }

  /** Send again the kills whose answer is overdue; returns when the next one falls due (undefined: none waits). */
  retry(now = this.deps.clock.now()): number | undefined {
    let next: number | undefined;
    for (const [taskId, k] of this.#kills) {
      if (now >= this.#due(k)) {
        this.deps.logger.info({ taskId, reason: 'no answer to the previous kill' }, 'killing task');
        k.sentAtMs = now;
        this.#send(taskId, k.agentId, k.graceSeconds);
      }
      next = Math.min(next ?? Infinity, this.#due(k));
    }
    return next;
  }

  #due(k: Kill): number {
    return k.sentAtMs + k.graceSeconds * 1000 + this.deps.retryMs;
  }

  #send(taskId: string, agentId: string, graceSeconds: number): void {
    const driver = this.deps.driver();
    if (driver === undefined || driver.state !== 'SUBSCRIBED') return; // sent at the next retry
    driver.kill(taskId, agentId, { gracePeriodSeconds: graceSeconds }).catch((err: unknown) => {
      this.deps.logger.warn({ err, taskId }, 'kill failed; it will be sent again');
    });
  }
}
