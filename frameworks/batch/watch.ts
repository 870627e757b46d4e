// Watch events for jobs: after every change the framework hands each job's view here, and listeners
// get ADDED / MODIFIED / DELETED — each only when the workload changed since the last event.
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { WatchEvent, Workload } from '../../proto/index.js';
import type { WatchListener } from '../workload.js';

export class JobWatchHub {
  readonly #listeners = new Set<WatchListener>();
  readonly #seen = new Map<string, string>();

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  subscribe(listener: WatchListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(name: string, workload: Workload): void {
    const prev = this.#seen.get(name);
    const next = JSON.stringify(workload);
    this.#seen.set(name, next);
    if (prev === undefined) this.#emit({ type: 'ADDED', name, object: workload });
    else if (prev !== next) this.#emit({ type: 'MODIFIED', name, object: workload });
  }

  deleted(name: string, workload: Workload): void {
    if (!this.#seen.delete(name)) return;
    this.#emit({ type: 'DELETED', name, object: workload });
  }

  clear(): void {
    this.#listeners.clear();
  }

  #emit(event: Omit<WatchEvent, 'kind' | 'timestampMs'>): void {
    const full: WatchEvent = { ...event, kind: 'JOB', timestampMs: this.clock.now() };
    for (const listener of this.#listeners) {
      try {
        listener(full);
      } catch (err) {
        this.logger.warn({ err }, 'watch listener failed');
      }
    }
  }
}
