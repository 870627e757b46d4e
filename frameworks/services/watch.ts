// Watch events: after every change the framework hands each service's views here, and listeners get
// ADDED / MODIFIED / DELETED (the workload), ENDPOINTS (the full new list) and DEPLOYMENT_PROGRESS
// (the latest deployment) — each only when what it carries changed since the last event.
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Deployment, Endpoint, WatchEvent, Workload } from '../../proto/index.js';
import type { WatchListener } from '../workload.js';

interface Seen {
  workload: string;
  endpoints: string;
  deployment: string;
}

export class WatchHub {
  readonly #listeners = new Set<WatchListener>();
  readonly #seen = new Map<string, Seen>();

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  subscribe(listener: WatchListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(name: string, workload: Workload, endpoints: Endpoint[], deployment: Deployment | undefined): void {
    const prev = this.#seen.get(name);
    const next: Seen = { workload: JSON.stringify(workload), endpoints: JSON.stringify(endpoints), deployment: JSON.stringify(deployment ?? null) };
    this.#seen.set(name, next);
    if (prev === undefined) this.#emit({ type: 'ADDED', name, object: workload });
    else if (prev.workload !== next.workload) this.#emit({ type: 'MODIFIED', name, object: workload });
    if ((prev?.endpoints ?? '[]') !== next.endpoints) this.#emit({ type: 'ENDPOINTS', name, endpoints });
    if (deployment !== undefined && prev?.deployment !== next.deployment) this.#emit({ type: 'DEPLOYMENT_PROGRESS', name, deployment });
  }

  deleted(name: string, workload: Workload): void {
    if (!this.#seen.delete(name)) return;
    this.#emit({ type: 'DELETED', name, object: workload });
  }

  clear(): void {
    this.#listeners.clear();
  }

  #emit(event: Omit<WatchEvent, 'kind' | 'timestampMs'>): void {
    const full: WatchEvent = { ...event, kind: 'SERVICE', timestampMs: this.clock.now() };
    for (const listener of this.#listeners) {
      try {
        listener(full);
      } catch (err) {
        this.logger.warn({ err }, 'watch listener failed');
      }
    }
  }
}
