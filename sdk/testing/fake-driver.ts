// A driver with no master, for unit tests of a framework's handlers. It takes the calls the real
// FrameworkDriver takes (SchedulerDriver), refuses what the real one refuses before sending (the
// same client checks: a task on another agent than its offers', an acknowledgement of an update it
// never delivered, any call while not subscribed), records the rest, and delivers events to the
// handlers as the real one does (one at a time, acknowledging an update after its handler).
//
//   const driver = new FakeDriver();
//   await driver.deliverOffers(handlers, [offer({ resources: 'cpus:2;mem:1024' })]);
//   expect(driver.launched.map((t) => t.name)).toEqual(['web']);
//   driver.failNext('launch', new UnavailableError('master gone'));
import { InvalidArgumentError, type AgoraError } from '../../core/errors.js';
import type { KillPolicy, MasterInfo__Output, Offer__Output, Operation, TaskInfo } from '../../proto/index.js';
import type { AckTarget, AcknowledgementRefused, CallFilters } from '../calls.js';
import { asLaunchField, checkAccept, unknownUpdate } from '../client-checks.js';
import { ClientLedger } from '../client-ledger.js';
import type { DriverState, OfferRef, SchedulerDriver } from '../driver-api.js';
import type { FrameworkHandlers } from '../driver.js';
import { DriverStoppedError, NotSubscribedError } from '../errors.js';
import { isTerminal } from '../../core/task-state.js';
import { status } from './builders.js';
import { checkKnown, checkTimeout, type RecoverOptions, type RecoveryReport } from '../recovery.js';
import { taskSpecToWire, type Agent, type AgentDrainChange, type AgentRemoval, type TaskStatus, type TaskSpec } from '../types.js';

/** The calls of SchedulerDriver that go to the master (and can be told to fail). */
export type FakeCallName = 'accept' | 'launch' | 'launchGroup' | 'decline' | 'revive' | 'suppress' | 'kill' | 'acknowledge' | 'acknowledgeBatch' | 'reconcile' | 'recover' | 'message' | 'teardown';

/** One call, as the framework made it (arguments as given). */
export interface FakeCall {
  readonly method: FakeCallName | 'trackTask' | 'stop';
  readonly args: readonly unknown[];
}

export interface FakeDriverOptions {
  /** Default `framework-1`. */
  readonly frameworkId?: string;
  /** Default 'SUBSCRIBED'; set `driver.state` to move it later. */
  readonly state?: DriverState;
  /** Acknowledge each delivered update after its handler resolves, as the real driver does (default true). */
  readonly autoAcknowledge?: boolean;
}

function offerIdsOf(offers: readonly OfferRef[]): string[] {
  return offers.map((o) => (typeof o === 'string' ? o : o.id));
}

export class FakeDriver implements SchedulerDriver {
  state: DriverState;
  frameworkId: string | undefined;
  /** Every call, in order, with its arguments (refused and failed ones too). */
  readonly calls: FakeCall[] = [];
  /** Tasks of successful launches and accepts (launch and launchGroup operations), in wire form. */
  readonly launched: TaskInfo[] = [];
  /** Offer ids used by successful accepts (launch, launchGroup, accept). */
  readonly accepted: string[] = [];
  /** Offer ids given back by successful declines. */
  readonly declined: string[] = [];
  /** Task ids of successful kills. */
  readonly killed: string[] = [];
  /** Updates acknowledged (by the framework, or automatically after an update handler). */
  readonly acknowledged: AckTarget[] = [];
  /** The task lists of successful reconcile calls ([] = implicit). */
  readonly reconciled: Array<readonly { taskId: string; agentId?: string }[]> = [];
  /** Role lists of successful suppress / revive calls ([] = all roles). */
  readonly suppressed: Array<readonly string[]> = [];
  readonly revived: Array<readonly string[]> = [];
  /**
   * What the master knows of this framework's tasks (latest status each), for recover(): set it in
   * a test to play a restart. Known tasks found here live are `running`; found ended, or absent, are
   * `ended` (absent: TASK_GONE, as the master answers for a task it never heard of); live ones not
   * known are `forgotten`.
   */
  masterTasks: TaskStatus[] = [];
  /** Tasks handed to trackTask. */
  readonly tracked: Array<{ taskId: string; agentId: string }> = [];
  /** Settles as the real driver's does: resolves after stop() or teardown(). */
  readonly closed: Promise<void>;
  readonly #autoAcknowledge: boolean;
  readonly #ledger = new ClientLedger();
  readonly #failures: Array<{ method: FakeCallName; error: AgoraError }> = [];
  #close!: () => void;

  constructor(options: FakeDriverOptions = {}) {
    this.state = options.state ?? 'SUBSCRIBED';
    this.frameworkId = options.frameworkId ?? 'framework-1';
    this.#autoAcknowledge = options.autoAcknowledge ?? true;
    this.closed = new Promise((resolve) => (this.#close = resolve));
  }

  /** The next call of `method` rejects with `error` (and changes nothing); queued, one per call. */
  failNext(method: FakeCallName, error: AgoraError): this {
    this.#failures.push({ method, error });
    return this;
  }

  /** Forget what was recorded (not the offers held or updates delivered). */
  clear(): void {
    for (const list of [this.calls, this.launched, this.accepted, this.declined, this.killed, this.acknowledged, this.reconciled, this.suppressed, this.revived, this.tracked]) {
      list.length = 0;
    }
  }

  // ---- events, delivered to the framework's handlers ----

  /** SUBSCRIBED, as after start() (or a resubscription). */
  async deliverSubscribed(handlers: FrameworkHandlers, event: { resubscribed?: boolean; masterInfo?: MasterInfo__Output | null } = {}): Promise<void> {
    this.#ledger.resubscribed();
    await handlers.subscribed?.(this, { frameworkId: this.frameworkId ?? '', masterInfo: event.masterInfo ?? null, resubscribed: event.resubscribed ?? false });
  }

  /** An OFFERS event: the driver holds them until they are used, declined or rescinded. */
  async deliverOffers(handlers: FrameworkHandlers, offers: readonly Offer__Output[]): Promise<void> {
    this.#ledger.offered(offers);
    await handlers.offers?.(this, [...offers]);
  }

  async deliverRescind(handlers: FrameworkHandlers, offerId: string): Promise<void> {
    this.#ledger.offersGone([offerId]);
    await handlers.rescind?.(this, offerId);
  }

  /**
   * Status updates, as the real driver hands them: all to `updates` when the handlers have it, else
   * one by one to `update`; each with a uuid acknowledged after its handler resolved (not when it
   * rejected), unless autoAcknowledge is off.
   */
  async deliverUpdates(handlers: FrameworkHandlers, statuses: readonly TaskStatus[]): Promise<void> {
    for (const s of statuses) this.#ledger.received(s);
    if (handlers.updates) {
      await handlers.updates(this, [...statuses]);
      for (const s of statuses) this.#autoAck(s);
      return;
    }
    for (const s of statuses) {
      await handlers.update?.(this, s);
      this.#autoAck(s);
    }
  }

  async deliverUpdate(handlers: FrameworkHandlers, status: TaskStatus): Promise<void> {
    await this.deliverUpdates(handlers, [status]);
  }

  /** AGENT_ADDED (for a framework subscribed with `agentEvents: true`). */
  async deliverAgentAdded(handlers: FrameworkHandlers, agent: Agent): Promise<void> {
    await handlers.agentAdded?.(this, agent);
  }

  async deliverAgentRemoved(handlers: FrameworkHandlers, event: AgentRemoval): Promise<void> {
    await handlers.agentRemoved?.(this, event);
  }

  async deliverAgentDraining(handlers: FrameworkHandlers, event: AgentDrainChange): Promise<void> {
    await handlers.agentDraining?.(this, event);
  }

  async deliverDisconnected(handlers: FrameworkHandlers, reason = 'the master closed the stream'): Promise<void> {
    this.state = 'DISCONNECTED';
    await handlers.disconnected?.(this, reason);
  }

  async deliverError(handlers: FrameworkHandlers, error: AgoraError): Promise<void> {
    this.state = 'FAILED';
    this.#close();
    await handlers.error?.(this, error);
  }

  #autoAck(status: TaskStatus): void {
    if (!this.#autoAcknowledge || !status.uuid || this.state !== 'SUBSCRIBED') return;
    this.acknowledged.push({ agentId: status.agentId, taskId: status.taskId, uuid: status.uuid });
    this.#ledger.acknowledged(status);
  }

  // ---- calls (SchedulerDriver) ----

  /** Record the call, then refuse it as the real driver would (stopped, not subscribed, told to fail). */
  #begin(method: FakeCallName, args: readonly unknown[]): void {
    this.calls.push({ method, args });
    if (this.state === 'STOPPED' || this.state === 'FAILED') throw new DriverStoppedError('fake', this.state);
    if (this.state !== 'SUBSCRIBED') throw new NotSubscribedError(this.state);
    const i = this.#failures.findIndex((f) => f.method === method);
    if (i >= 0) throw this.#failures.splice(i, 1)[0]!.error;
  }

  async accept(offers: readonly OfferRef[], operations: readonly Operation[], filters?: CallFilters): Promise<void> {
    this.#begin('accept', [offers, operations, filters]);
    this.#accept(offers, operations);
  }

  #accept(offers: readonly OfferRef[], operations: readonly Operation[]): void {
    checkAccept(offers, operations, (id) => this.#ledger.agentOf(id));
    for (const op of operations) this.launched.push(...(op.launch?.taskInfos ?? []), ...(op.launchGroup?.taskGroup?.tasks ?? []));
    this.accepted.push(...offerIdsOf(offers));
    this.#ledger.offersGone(offers);
  }

  async launch(offers: readonly OfferRef[], tasks: readonly TaskSpec[], filters?: CallFilters): Promise<void> {
    this.#begin('launch', [offers, tasks, filters]);
    if (tasks.length === 0) throw new InvalidArgumentError('tasks', 'at least one task is required (use decline to give offers back)');
    this.#launching(() => this.#accept(offers, [{ launch: { taskInfos: tasks.map(taskSpecToWire) } }]));
  }

  async launchGroup(offers: readonly OfferRef[], tasks: readonly TaskSpec[], filters?: CallFilters, executorId = ''): Promise<void> {
    this.#begin('launchGroup', [offers, tasks, filters, executorId]);
    this.#launching(() => this.#accept(offers, [{ launchGroup: { executorId, taskGroup: { tasks: tasks.map(taskSpecToWire) } } }]));
  }

  /** A refused launch names `tasks[j]…`, as the real driver's does. */
  #launching(accept: () => void): void {
    try {
      accept();
    } catch (err) {
      throw asLaunchField(err);
    }
  }

  async decline(offers: readonly OfferRef[], filters?: CallFilters): Promise<void> {
    this.#begin('decline', [offers, filters]);
    this.declined.push(...offerIdsOf(offers));
    this.#ledger.offersGone(offers);
  }

  async revive(roles: readonly string[] = []): Promise<void> {
    this.#begin('revive', [roles]);
    this.revived.push([...roles]);
  }

  async suppress(roles: readonly string[] = []): Promise<void> {
    this.#begin('suppress', [roles]);
    this.suppressed.push([...roles]);
  }

  async kill(taskId: string, agentId = '', killPolicy?: KillPolicy): Promise<void> {
    this.#begin('kill', [taskId, agentId, killPolicy]);
    this.killed.push(taskId);
  }

  async acknowledge(status: AckTarget): Promise<void> {
    this.#begin('acknowledge', [status]);
    if (!this.#ledger.isReceived(status)) throw unknownUpdate('uuid', status);
    this.acknowledged.push({ agentId: status.agentId, taskId: status.taskId, uuid: status.uuid });
    this.#ledger.acknowledged(status);
  }

  async acknowledgeBatch(statuses: readonly AckTarget[]): Promise<AcknowledgementRefused[]> {
    this.#begin('acknowledgeBatch', [statuses]);
    const refused: AcknowledgementRefused[] = [];
    statuses.forEach((status, index) => {
      if (!this.#ledger.isReceived(status)) {
        const err = unknownUpdate(`acknowledgements[${index}].uuid`, status);
        refused.push({ index, taskId: status.taskId, field: err.field ?? '', code: err.code, message: err.message });
        return;
      }
      this.acknowledged.push({ agentId: status.agentId, taskId: status.taskId, uuid: status.uuid });
      this.#ledger.acknowledged(status);
    });
    return refused;
  }

  async reconcile(tasks: readonly { taskId: string; agentId?: string }[] = []): Promise<void> {
    this.#begin('reconcile', [tasks]);
    this.reconciled.push([...tasks]);
  }

  async message(agentId: string, executorId: string, data: Buffer): Promise<void> {
    this.#begin('message', [agentId, executorId, data]);
  }

  /** As the real driver: the framework is removed and the driver ends (FAILED, `closed` resolved). */
  async teardown(): Promise<void> {
    this.#begin('teardown', []);
    this.state = 'FAILED';
    this.#close();
  }

  /** The report from `masterTasks`, at once (no offers to hold: the test delivers them). Input checked as the real one checks it. */
  async recover(known: Iterable<{ taskId: string; agentId?: string }>, options: RecoverOptions = {}): Promise<RecoveryReport> {
    const tasks = checkKnown(known);
    checkTimeout(options.timeoutMs);
    this.#begin('recover', [[...tasks].map(([taskId, agentId]) => ({ taskId, agentId })), options]);
    const onMaster = new Map(this.masterTasks.map((s) => [s.taskId, s]));
    const report: { running: TaskStatus[]; ended: TaskStatus[]; forgotten: TaskStatus[] } = { running: [], ended: [], forgotten: [] };
    for (const [taskId, agentId] of tasks) {
      this.tracked.push({ taskId, agentId });
      const status = onMaster.get(taskId);
      if (status !== undefined && !isTerminal(status.state)) report.running.push(status);
      else report.ended.push(status ?? goneStatus(taskId, agentId));
    }
    for (const status of this.masterTasks) if (!tasks.has(status.taskId) && !isTerminal(status.state)) report.forgotten.push(status);
    return report;
  }

  trackTask(taskId: string, agentId: string): void {
    this.calls.push({ method: 'trackTask', args: [taskId, agentId] });
    this.tracked.push({ taskId, agentId });
  }

  async waitSubscribed(): Promise<void> {
    if (this.state === 'SUBSCRIBED') return;
    throw this.state === 'STOPPED' || this.state === 'FAILED' ? new DriverStoppedError('fake', this.state) : new NotSubscribedError(this.state);
  }

  async stop(): Promise<void> {
    this.calls.push({ method: 'stop', args: [] });
    if (this.state !== 'FAILED') this.state = 'STOPPED';
    this.#close();
  }
}

/** What the master answers for a task it never heard of (no uuid: nothing to acknowledge). */
function goneStatus(taskId: string, agentId: string): TaskStatus {
  return { ...status({ taskId, agentId, state: 'TASK_GONE', reason: 'REASON_RECONCILIATION', source: 'SOURCE_MASTER', message: 'the master knows nothing of this task' }), uuid: '' };
}
