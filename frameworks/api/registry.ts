// The controllers this instance serves right now, by kind. The frameworks host fills it when it
// is elected and empties it when it loses leadership; the Jobs API routes every call through it.
// Kinds without a controller answer FAILED_PRECONDITION ("kind CronJob is not served yet").
import { FailedPreconditionError } from '../../core/errors.js';
import type { RunnableController, ServiceController, WorkloadController, WorkloadKind } from '../workload.js';
import { namesOf, WORKLOAD_KINDS } from './kinds.js';

export class ControllerRegistry {
  readonly #controllers = new Map<WorkloadKind, WorkloadController>();
  readonly #onClear = new Set<() => void>();
  readonly #onSet = new Set<(kind: WorkloadKind) => void>();

  set(controller: WorkloadController): void {
    this.#controllers.set(controller.kind, controller);
    for (const listener of [...this.#onSet]) listener(controller.kind);
  }

  /** Called each time a controller is set (the host was elected); returns an unsubscribe. */
  onSet(listener: (kind: WorkloadKind) => void): () => void {
    this.#onSet.add(listener);
    return () => this.#onSet.delete(listener);
  }

  /** Drop every controller (leadership lost); open watches end. */
  clear(): void {
    this.#controllers.clear();
    for (const listener of [...this.#onClear]) listener();
  }

  /** Called once when the registry is cleared; returns an unsubscribe. */
  onClear(listener: () => void): () => void {
    this.#onClear.add(listener);
    return () => this.#onClear.delete(listener);
  }

  /** The kinds served now, in the canonical order. */
  kinds(): WorkloadKind[] {
    return WORKLOAD_KINDS.filter((k) => this.#controllers.has(k));
  }

  has(kind: WorkloadKind): boolean {
    return this.#controllers.has(kind);
  }

  get(kind: WorkloadKind): WorkloadController {
    const controller = this.#controllers.get(kind);
    if (!controller) throw new FailedPreconditionError(`kind ${namesOf(kind).document} is not served yet`, { field: 'kind' });
    return controller;
  }

  service(): ServiceController {
    return this.get('SERVICE') as ServiceController;
  }

  runnable(kind: 'CRONJOB' | 'JOB'): RunnableController {
    return this.get(kind) as RunnableController;
  }
}
