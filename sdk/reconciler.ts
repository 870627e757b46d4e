// Reconciliation, as Mesos advises: after every (re)subscription, ask explicitly for the state of
// every task the framework knows, retrying with truncated exponential backoff until each has been
// answered; then ask implicitly (all tasks) every `periodicMs`.
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';

export interface KnownTask {
  readonly taskId: string;
  readonly agentId: string;
}

export interface ReconcilerDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly initialMs: number;
  readonly maxMs: number;
  readonly periodicMs: number;
  /** Sends a Reconcile call (empty list = implicit). */
  readonly send: (tasks: readonly KnownTask[]) => Promise<void>;
}

export class Reconciler {
  /** Tasks the framework believes are live, by task id. */
  readonly #known = new Map<string, KnownTask>();
  #pending = new Set<string>();
  #attempt = 0;
  #retryTimer: TimerHandle | undefined;
  #periodicTimer: TimerHandle | undefined;
  #generation = 0;
  /** A round has begun (start() since the last stop()): newly asked-for tasks join it. */
  #active = false;
  #askQueued = false;

  constructor(private readonly deps: ReconcilerDeps) {}

  /**
   * Track a task and, once a round has begun, ask the master about it too — for tasks a framework
   * learns from its own store after it has subscribed. Tasks asked for in the same turn go in one call.
   */
  ask(task: KnownTask): void {
    this.track(task);
    if (!this.#active || this.#pending.has(task.taskId)) return;
    this.#pending.add(task.taskId);
    if (this.#askQueued) return;
    this.#askQueued = true;
    const generation = this.#generation;
    queueMicrotask(() => {
      this.#askQueued = false;
      if (generation !== this.#generation || this.#pending.size === 0) return;
      this.deps.clock.clearTimeout(this.#retryTimer);
      this.#attempt = 0;
      this.#explicit(generation);
    });
  }

  /** The framework learned (from an update, or its own store) that this task is live. */
  track(task: KnownTask): void {
    this.#known.set(task.taskId, task);
  }

  untrack(taskId: string): void {
    this.#known.delete(taskId);
    this.#pending.delete(taskId);
  }

  known(): KnownTask[] {
    return [...this.#known.values()];
  }

  /** An update for the task arrived: its state is confirmed. */
  confirmed(taskId: string): void {
    if (!this.#pending.delete(taskId)) return;
    if (this.#pending.size === 0) {
      this.#settle();
      return;
    }
    // Answers are still arriving: ask again only once they have stopped for a full interval,
    // rather than re-asking for thousands of tasks whose answers are already on their way.
    if (this.#retryTimer) {
      const generation = this.#generation;
      this.deps.clock.clearTimeout(this.#retryTimer);
      this.#retryTimer = this.deps.clock.setTimeout(() => this.#retry(generation), this.#currentDelay());
    }
  }

  #currentDelay(): number {
    return Math.min(this.deps.maxMs, this.deps.initialMs * 2 ** Math.max(0, this.#attempt - 1));
  }

  /** Start over after a (re)subscription. */
  start(): void {
    this.stop();
    this.#active = true;
    this.#generation += 1;
    this.#pending = new Set(this.#known.keys());
    this.#attempt = 0;
    if (this.#pending.size === 0) this.#settle();
    else this.#explicit(this.#generation);
  }

  /** True while an explicit round is waiting for answers. */
  get reconciling(): boolean {
    return this.#pending.size > 0;
  }

  stop(): void {
    this.#active = false;
    this.deps.clock.clearTimeout(this.#retryTimer);
    this.deps.clock.clearInterval(this.#periodicTimer);
    this.#retryTimer = undefined;
    this.#periodicTimer = undefined;
    this.#generation += 1;
  }

  #explicit(generation: number): void {
    if (generation !== this.#generation || this.#pending.size === 0) return;
    const tasks = [...this.#pending].map((id) => this.#known.get(id)).filter((t): t is KnownTask => t !== undefined);
    this.deps.send(tasks).catch((err: unknown) => this.deps.logger.warn({ err }, 'reconcile call failed'));
    const delay = Math.min(this.deps.maxMs, this.deps.initialMs * 2 ** this.#attempt);
    this.#attempt += 1;
    this.#retryTimer = this.deps.clock.setTimeout(() => this.#retry(generation), delay);
  }

  /**
   * The retry is due. After a busy spell, timers run before the I/O that piled up meanwhile — which
   * may hold the very answers the retry would ask for again — so read that first (a zero timer runs
   * after the next poll for I/O) and ask only if no answer came in.
   */
  #retry(generation: number): void {
    if (generation !== this.#generation) return;
    this.#retryTimer = this.deps.clock.setTimeout(() => this.#explicit(generation), 0);
  }

  #settle(): void {
    this.deps.clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    if (this.#periodicTimer) return;
    this.#periodicTimer = this.deps.clock.setInterval(() => {
      this.deps.send([]).catch((err: unknown) => this.deps.logger.warn({ err }, 'implicit reconcile failed'));
    }, this.deps.periodicMs);
  }
}
