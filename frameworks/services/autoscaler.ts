// The autoscaling loop: every `autoscaleIntervalMs`, the services with `autoscale` and their
// RUNNING tasks, measured by the host's reader (frameworks/task-usage.ts: the agents'
// /api/v1/containers), then one decision per service (autoscale.ts) applied as `agora scale` is.
// Measuring runs outside the framework's serial section; each decision runs inside it.
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { AutoscaleDecision, TaskSample } from './autoscale.js';

/** A service the autoscaler measures: its RUNNING tasks and where they run. */
export interface AutoscaleTarget {
  readonly name: string;
  readonly tasks: readonly { readonly taskId: string; readonly agentId: string }[];
}

/** Reads the samples of the targets' tasks, by task id. */
export type MeasureUsage = (targets: readonly AutoscaleTarget[]) => Promise<ReadonlyMap<string, TaskSample>>;

export const DEFAULT_AUTOSCALE_INTERVAL_MS = 15_000;

export interface AutoscaleLoopOptions {
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly measure: MeasureUsage;
  readonly targets: () => AutoscaleTarget[];
  readonly decide: (name: string, samples: ReadonlyMap<string, TaskSample>) => Promise<AutoscaleDecision | undefined>;
}

export class AutoscaleLoop {
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(private readonly o: AutoscaleLoopOptions) {}

  start(): void {
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    this.o.clock.clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.o.clock.setTimeout(() => {
      void this.round()
        .catch((err: unknown) => this.o.logger.warn({ err }, 'autoscaling round failed'))
        .finally(() => this.#schedule());
    }, this.o.intervalMs);
  }

  /** One round: measure every autoscaled service, then decide for each. */
  async round(): Promise<void> {
    const targets = this.o.targets();
    if (targets.length === 0) return;
    const samples = await this.o.measure(targets);
    for (const t of targets) {
      if (this.#stopped) return;
      await this.o.decide(t.name, samples);
    }
  }
}
