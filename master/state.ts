// The master's state and the small actions every part of it shares: tasks move only through the
// core state table, offers are made from the allocator's decisions and recovered exactly once,
// events go to frameworks and observers. Agents (agent-*.ts), frameworks (frameworks.ts) and accepts
// (accept.ts) are built on these actions.
import type { Clock, TimerHandle } from '../core/clock.js';
import { IdMinter, newUuid } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import { isTerminal, canTransition, type TaskState } from '../core/task-state.js';
import { resourcesToWire } from '../core/wire.js';
import type { Event, MasterInfo, MasterMessage, Offer, TaskStatus } from '../proto/index.js';
import type { Allocator, OfferDecision } from './allocator/types.js';
import { MasterEvents, type MasterEvent } from './events.js';
import type { AgentRecord, FrameworkRecord, OfferRecord, TaskRecord } from './model.js';
import type { MasterOptions } from './options.js';
import { AwaitedAcknowledgements } from './awaited-acks.js';
import { OwedAnswers } from './owed-answers.js';
import { MasterRecords } from './records.js';
import { recordStatus, seedHistory } from './task-history.js';
import { TimeSlices } from './time-slices.js';
import type { Registry } from './registry.js';

export interface MasterStats {
  allocationRuns: number;
  lastAllocationMs: number;
  offersSent: number;
  offersRescinded: number;
  tasksLaunched: number;
  statusUpdates: number;
  observeAllocation?: (seconds: number) => void;
}

export class MasterState extends MasterRecords {
  /** Reconciliation asks to answer once the agents are back (reconciliation.ts). */
  readonly owed = new OwedAnswers();
  /** Updates relayed to frameworks and not yet acknowledged (acknowledgements.ts checks against them). */
  readonly awaited = new AwaitedAcknowledgements();
  /** (Re-)registrations run in time slices, so a storm of them does not hold back everything else. */
  readonly slices = new TimeSlices();
  readonly events = new MasterEvents();
  readonly stats: MasterStats = { allocationRuns: 0, lastAllocationMs: 0, offersSent: 0, offersRescinded: 0, tasksLaunched: 0, statusUpdates: 0 };
  weights: Record<string, number> = {};
  quota: Record<string, { guarantee: string; limit?: string }> = {};
  readonly ids: IdMinter;
  /** Offers are made only while this is true (leading, recovered). */
  offering = false;
  /** May this master act as leader right now (elected, store session fresh)? Set by Master. */
  canAct: () => boolean = () => true;
  #allocationTimer: TimerHandle | undefined;
  #pendingAgents: Set<string> | 'all' | undefined;

  constructor(
    readonly options: MasterOptions,
    readonly clock: Clock,
    readonly logger: Logger,
    readonly allocator: Allocator,
    readonly registry: Registry,
    readonly masterInfo: MasterInfo,
  ) {
    super();
    this.ids = new IdMinter(masterInfo.id ?? 'm');
  }

  now(): number {
    return this.clock.now();
  }

  emit(event: MasterEvent): void {
    this.events.emit({ ...event, timestampMs: this.now() });
  }

  // ---- frameworks ----

  sendEvent(frameworkId: string, event: Event): boolean {
    if (!this.canAct()) return false;
    const framework = this.framework(frameworkId);
    if (!framework?.stream) return false;
    framework.stream.send(event);
    return true;
  }

  sendToAgent(agentId: string, message: MasterMessage): boolean {
    if (!this.canAct()) return false;
    const agent = this.agent(agentId);
    if (!agent?.link || agent.state !== 'connected') return false;
    agent.link.send(message);
    return true;
  }

  /** Frameworks that are not partition-aware see LOST instead of UNREACHABLE / GONE. */
  stateForFramework(framework: FrameworkRecord | undefined, state: TaskState): TaskState {
    if (framework?.partitionAware) return state;
    return state === 'TASK_UNREACHABLE' || state === 'TASK_GONE' ? 'TASK_LOST' : state;
  }

  forwardStatus(frameworkId: string, status: TaskStatus): boolean {
    const framework = this.framework(frameworkId);
    const state = this.stateForFramework(framework, status.state as TaskState);
    const agentIp = this.agent(status.agentId ?? '')?.info.ip ?? '';
    return this.sendEvent(frameworkId, { update: { status: { ...status, state, agentIp } } });
  }

  // ---- tasks ----

  addTask(task: TaskRecord): void {
    this.indexTask(task);
    seedHistory(task);
    this.emit({ type: 'TASK_ADDED', frameworkId: task.frameworkId, taskId: task.taskId, agentId: task.agentId, state: task.state });
  }

  /**
   * Move a task to the status's state if the table allows it. Resources go back to the allocator
   * on the first terminal state (exactly once). Returns false when the move is illegal.
   */
  applyStatus(task: TaskRecord, status: TaskStatus): boolean {
    const to = status.state as TaskState;
    const from = task.state;
    // A repeat of the current state refreshes the status (health, message) unless the task is over.
    if (from === to ? isTerminal(from) : !canTransition(from, to)) {
      if (from !== to) this.logger.warn({ frameworkId: task.frameworkId, taskId: task.taskId, from, to }, 'illegal task transition ignored');
      return false;
    }
    seedHistory(task);
    task.state = to;
    task.status = status;
    task.updatedAtMs = this.now();
    recordStatus(task, status);
    if (to === 'TASK_UNREACHABLE') this.releaseTaskResources(task, false);
    if (isTerminal(to)) {
      this.releaseTaskResources(task, true);
      this.completeTask(task);
    }
    if (from !== to) {
      this.emit({
        type: 'TASK_UPDATED',
        frameworkId: task.frameworkId,
        taskId: task.taskId,
        agentId: task.agentId,
        state: to,
        previous: from,
        ...(status.reason && status.reason !== 'REASON_UNSPECIFIED' ? { reason: String(status.reason) } : {}),
      });
    }
    return true;
  }

  /** Give a task's resources back (to the agent's free pool when `recover`, else just forget them). */
  releaseTaskResources(task: TaskRecord, recover: boolean): void {
    if (!task.holdsResources) return;
    task.holdsResources = false;
    const agent = this.agent(task.agentId);
    if (recover && agent && agent.state !== 'unreachable' && this.allocator.agent(task.agentId)) {
      this.allocator.recover(task.frameworkId, task.agentId, task.role, task.resources);
      this.requestAllocation([task.agentId]);
    }
  }

  completeTask(task: TaskRecord): void {
    if (!this.unindexTask(task)) return;
    this.addCompleted(task);
  }

  /** Remember a task that is over (bounded per framework; see also `unacknowledged`). */
  addCompleted(task: TaskRecord): void {
    const framework = this.framework(task.frameworkId);
    if (!framework) return;
    seedHistory(task);
    framework.completed.push(task);
    const excess = framework.completed.length - this.options.maxCompletedTasksPerFramework;
    if (excess > 0) framework.completed.splice(0, excess);
  }

  /** A status made by the master (no uuid: nothing to acknowledge). */
  masterStatus(task: Pick<TaskRecord, 'taskId' | 'agentId'>, state: TaskState, reason: string, message: string): TaskStatus {
    return {
      taskId: task.taskId,
      agentId: task.agentId,
      state,
      reason: reason as TaskStatus['reason'],
      message,
      source: 'SOURCE_MASTER',
      uuid: '',
      timestampMs: this.now(),
    };
  }

  // ---- offers ----

  makeOffers(decisions: readonly OfferDecision[]): void {
    const byFramework = new Map<string, Offer[]>();
    for (const d of decisions) {
      const framework = this.framework(d.frameworkId);
      const agent = this.agent(d.agentId);
      if (!framework?.stream || !agent || agent.state !== 'connected') {
        this.allocator.recover(d.frameworkId, d.agentId, d.role, d.resources);
        continue;
      }
      const offer: OfferRecord = { id: newUuid(), frameworkId: d.frameworkId, agentId: d.agentId, role: d.role, resources: d.resources, createdAtMs: this.now(), timer: undefined };
      if (this.options.offerTimeout > 0) offer.timer = this.clock.setTimeout(() => this.#offerTimedOut(offer), this.options.offerTimeout);
      this.holdOffer(offer);
      let list = byFramework.get(d.frameworkId);
      if (!list) byFramework.set(d.frameworkId, (list = []));
      list.push(this.offerToWire(offer, agent));
    }
    for (const [frameworkId, offers] of byFramework) {
      this.stats.offersSent += offers.length;
      this.sendEvent(frameworkId, { offers: { offers } });
    }
  }

  offerToWire(offer: OfferRecord, agent: AgentRecord): Offer {
    return {
      id: offer.id,
      frameworkId: offer.frameworkId,
      agentId: offer.agentId,
      hostname: agent.hostname,
      resources: resourcesToWire(offer.resources),
      attributes: agent.info.attributes,
      agentHttpAddress: agent.httpAddress,
      allocationRole: offer.role,
      agentIp: agent.info.ip,
      agentCapabilities: agent.info.capabilities ?? [],
    };
  }

  /** Forget an offer that was used or declined; its resources are the caller's business. */
  takeOffer(offerId: string): OfferRecord | undefined {
    const offer = this.releaseOffer(offerId);
    if (offer) this.clock.clearTimeout(offer.timer);
    return offer;
  }

  /**
   * Withdraw an offer: tell the framework and give the resources back — with `refuseMs`, a filter
   * that keeps them from this framework for that long (as if it had declined them).
   */
  rescindOffer(offerId: string, why: string, refuseMs?: number): void {
    const offer = this.takeOffer(offerId);
    if (!offer) return;
    this.stats.offersRescinded += 1;
    this.logger.debug({ offerId, frameworkId: offer.frameworkId, agentId: offer.agentId, why }, 'offer rescinded');
    this.sendEvent(offer.frameworkId, { rescind: { offerId } });
    if (this.allocator.agent(offer.agentId)) {
      const filter = refuseMs === undefined || refuseMs <= 0 ? undefined : { refuseMs, now: this.now() };
      this.allocator.recover(offer.frameworkId, offer.agentId, offer.role, offer.resources, filter);
    }
    this.requestAllocation([offer.agentId]);
  }

  /**
   * Held past --offer-timeout: an implicit decline. The resources go back with the default decline
   * filter on the holder, so the allocation run this triggers offers them to someone else first.
   */
  #offerTimedOut(offer: OfferRecord): void {
    this.logger.info({ offerId: offer.id, frameworkId: offer.frameworkId, agentId: offer.agentId, heldMs: this.now() - offer.createdAtMs }, 'offer timed out');
    this.rescindOffer(offer.id, 'offer timed out', this.options.refuseSeconds);
  }

  rescindOffersWhere(predicate: (offer: OfferRecord) => boolean, why: string): void {
    for (const offer of [...this.outstandingOffers()]) if (predicate(offer)) this.rescindOffer(offer.id, why);
  }

  // ---- allocation ----

  /** Ask for an allocation run soon; requests are coalesced into one pending run. */
  requestAllocation(agentIds?: readonly string[]): void {
    if (agentIds === undefined) this.#pendingAgents = 'all';
    else if (this.#pendingAgents !== 'all') {
      this.#pendingAgents ??= new Set();
      for (const id of agentIds) this.#pendingAgents.add(id);
    }
    if (this.#allocationTimer) return;
    this.#allocationTimer = this.clock.setTimeout(() => {
      this.#allocationTimer = undefined;
      const pending = this.#pendingAgents;
      this.#pendingAgents = undefined;
      this.runAllocation(pending === 'all' ? undefined : pending);
    }, 0);
  }

  runAllocation(agentIds?: Iterable<string>): void {
    if (!this.offering || !this.canAct()) return;
    // An agent may have left the allocator (unreachable, removed) after the run was requested.
    const known = agentIds === undefined ? undefined : [...agentIds].filter((id) => this.allocator.agent(id) !== undefined);
    if (known?.length === 0) return;
    const started = performance.now();
    const decisions = this.allocator.allocate(this.now(), known);
    const ms = performance.now() - started;
    this.stats.allocationRuns += 1;
    this.stats.lastAllocationMs = ms;
    this.stats.observeAllocation?.(ms / 1000);
    if (decisions.length > 0) this.makeOffers(decisions);
  }

  cancelAllocation(): void {
    this.clock.clearTimeout(this.#allocationTimer);
    this.#allocationTimer = undefined;
    this.#pendingAgents = undefined;
  }
}
