// The watch hub every framework shares: after every change a framework hands each workload's view
// here, and listeners get ADDED / MODIFIED / DELETED (of the framework's kind, stamped with the
// clock's time) — ADDED the first time, MODIFIED only when the view changed, DELETED once.
// A framework with more to tell (services: ENDPOINTS, DEPLOYMENT_PROGRESS) sends it through emit().
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { WatchEvent, Workload } from '../proto/index.js';
import type { WatchListener } from './workload.js';

export class WatchHub {
  readonly #listeners = new Set<WatchListener>();
  /** name → the view last published, serialized. */
  readonly #seen = new Map<string, string>();

  constructor(
    private readonly kind: NonNullable<WatchEvent['kind']>,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  subscribe(listener: WatchListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** ADDED the first time a name is published, MODIFIED when its view changed, nothing otherwise. */
  publish(name: string, workload: Workload): void {
    const prev = this.#seen.get(name);
    const next = JSON.stringify(workload);
    if (prev === next) return;
    this.#seen.set(name, next);
    this.emit({ type: prev === undefined ? 'ADDED' : 'MODIFIED', name, object: workload });
  }

  /**
   * As publish, but the view is made only while someone listens: a framework whose views are
   * large (a job's thousands of tasks) does not build them for nobody. With no listener the name
   * counts as published with a view unlike any, so the next publish to a listener is MODIFIED.
   */
  publishLazy(name: string, view: () => Workload): void {
    if (this.listening) this.publish(name, view());
    else this.unseen(name);
  }

  /** Someone listens: views published now are sent. */
  get listening(): boolean {
    return this.#listeners.size > 0;
  }

  /** A view of `name` went unpublished (nobody listened): the next one published is MODIFIED, whatever it is. */
  unseen(name: string): void {
    this.#seen.set(name, '');
  }

  /** DELETED with the last view, once; false when the name was never published (or already deleted). */
  deleted(name: string, workload: Workload): boolean {
    if (!this.#seen.delete(name)) return false;
    this.emit({ type: 'DELETED', name, object: workload });
    return true;
  }

  clear(): void {
    this.#listeners.clear();
  }

  /** Send one event to every listener; a listener that throws is logged and the others still get it. */
  emit(event: Omit<WatchEvent, 'kind' | 'timestampMs'>): void {
    const full: WatchEvent = { ...event, kind: this.kind, timestampMs: this.clock.now() };
    for (const listener of this.#listeners) {
      try {
        listener(full);
      } catch (err) {
        this.logger.warn({ err }, 'watch listener failed');
      }
    }
  }
}
