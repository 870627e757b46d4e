// What a framework's code sees of its driver: the calls it makes and the little it reads. The
// handlers are typed on this interface, not on the FrameworkDriver class, so a framework's handlers
// can be unit-tested with another implementation of it (agora/sdk/testing's FakeDriver) and no
// master. FrameworkDriver implements it; a type check in the kit's tests keeps FakeDriver in step.
import type { KillPolicy, Offer__Output, Operation } from '../proto/index.js';
import type { AckTarget, AcknowledgementRefused, CallFilters } from './calls.js';
import type { RecoverOptions, RecoveryReport } from './recovery.js';
import type { TaskSpec } from './types.js';

/** Where the driver's connection stands (see FrameworkDriver). */
export type DriverState = 'INITIALIZED' | 'CONNECTING' | 'SUBSCRIBED' | 'DISCONNECTED' | 'STOPPED' | 'FAILED';

/** An offer as the calls take it: the offer, or its id. */
export type OfferRef = string | Offer__Output;

export interface SchedulerDriver {
  readonly state: DriverState;
  readonly frameworkId: string | undefined;

  /** Use offers (all on one agent) for these operations; what they don't use is declined with `filters`. */
  accept(offers: readonly OfferRef[], operations: readonly Operation[], filters?: CallFilters): Promise<void>;
  /** Launch tasks on offers of one agent. */
  launch(offers: readonly OfferRef[], tasks: readonly TaskSpec[], filters?: CallFilters): Promise<void>;
  /** Launch tasks together, all or none, on one agent. */
  launchGroup(offers: readonly OfferRef[], tasks: readonly TaskSpec[], filters?: CallFilters, executorId?: string): Promise<void>;
  decline(offers: readonly OfferRef[], filters?: CallFilters): Promise<void>;
  /** Offers again for these roles (all when empty), and clears refuse filters. */
  revive(roles?: readonly string[]): Promise<void>;
  /** No offers for these roles (all when empty) until revive. */
  suppress(roles?: readonly string[]): Promise<void>;
  kill(taskId: string, agentId?: string, killPolicy?: KillPolicy): Promise<void>;
  /** Acknowledge an update (only needed with autoAcknowledge off). */
  acknowledge(status: AckTarget): Promise<void>;
  /** Acknowledge many updates; resolves with those refused (none: all applied). */
  acknowledgeBatch(statuses: readonly AckTarget[]): Promise<AcknowledgementRefused[]>;
  /** Ask for task states: the listed tasks (explicit) or, with none, every task (implicit). */
  reconcile(tasks?: readonly { taskId: string; agentId?: string }[]): Promise<void>;
  message(agentId: string, executorId: string, data: Buffer): Promise<void>;
  /** Remove the framework: the master kills all its tasks and forgets it. */
  teardown(): Promise<void>;
  /**
   * After a restart: ask the master about the tasks the framework remembers and about every task of
   * it, and report what runs, what ended, and what the framework forgot (recovery.ts). Offers are
   * held until it settles unless `holdOffers` is false.
   */
  recover(known: Iterable<{ taskId: string; agentId?: string }>, options?: RecoverOptions): Promise<RecoveryReport>;
  /** Tell the driver about a task the framework believes is live, for reconciliation. */
  trackTask(taskId: string, agentId: string): void;
  /** Resolves when the driver is (again) subscribed. */
  waitSubscribed(timeoutMs?: number): Promise<void>;
  /** Close the connection (the framework stays registered until its failover timeout). */
  stop(): Promise<void>;
}
