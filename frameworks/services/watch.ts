// Watch events for services: the shared hub (frameworks/watch-hub.ts) sends ADDED / MODIFIED /
// DELETED of the workload; on top of it this sends ENDPOINTS (the full new list) and
// DEPLOYMENT_PROGRESS (the latest deployment) — each only when what it carries changed since the
// last event.
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Deployment, Endpoint, Workload } from '../../proto/index.js';
import { WatchHub } from '../watch-hub.js';
import type { WatchListener } from '../workload.js';

interface Seen {
  endpoints: string;
  deployment: string;
}

export class ServiceWatchHub {
  readonly #hub: WatchHub;
  readonly #seen = new Map<string, Seen>();

  constructor(clock: Clock, logger: Logger) {
    this.#hub = new WatchHub('SERVICE', clock, logger);
  }

  subscribe(listener: WatchListener): () => void {
    return this.#hub.subscribe(listener);
  }

  publish(name: string, workload: Workload, endpoints: Endpoint[], deployment: Deployment | undefined): void {
    const prev = this.#seen.get(name);
    const next: Seen = { endpoints: JSON.stringify(endpoints), deployment: JSON.stringify(deployment ?? null) };
    this.#seen.set(name, next);
    this.#hub.publish(name, workload);
    if ((prev?.endpoints ?? '[]') !== next.endpoints) this.#hub.emit({ type: 'ENDPOINTS', name, endpoints });
    if (deployment !== undefined && prev?.deployment !== next.deployment) this.#hub.emit({ type: 'DEPLOYMENT_PROGRESS', name, deployment });
  }

  /** Someone listens (without listeners a framework need not build views). */
  get listening(): boolean {
    return this.#hub.listening;
  }

  /** The views of `name` went unpublished: the next publish sends all three. */
  unseen(name: string): void {
    this.#seen.set(name, { endpoints: '', deployment: '' });
    this.#hub.unseen(name);
  }

  deleted(name: string, workload: Workload): void {
    this.#seen.delete(name);
    this.#hub.deleted(name, workload);
  }

  clear(): void {
    this.#hub.clear();
  }
}
