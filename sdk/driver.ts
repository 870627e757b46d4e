// The scheduler driver: one framework's connection to the leading master. It subscribes (and
// resubscribes with its id), follows the leader, watches heartbeats, reconnects with jittered
// backoff, hands typed events to the framework's handlers one at a time, acknowledges updates after
// their handler resolves, and reconciles after every subscription.
//
//   discovery ─► SchedulerClient.Subscribe ─► events (in order) ─► handlers
//        ▲              │ error / end / silent                    │ update resolved
//        └── backoff ◄──┘                                          └─► AckBatcher ─(next turn)─► AcknowledgeBatch
import * as grpc from '@grpc/grpc-js';
import { type TimerHandle } from '../core/clock.js';
import { NotLeaderError, TimeoutError, type AgoraError } from '../core/errors.js';
import { fromGrpcError, STREAM_ID_METADATA_KEY, unaryCall } from '../core/grpc.js';
import { backoffDelay } from '../core/random.js';
import { redactStoreUrl } from '../core/store/credentials.js';
import { isTerminal } from '../core/task-state.js';
import {
  SchedulerClient,
  type Ack__Output,
  type Event__Output,
  type MasterInfo__Output,
  type Offer__Output,
  type TaskStatus__Output,
} from '../proto/index.js';
import { discoverMasters, type MasterDiscovery } from './discovery.js';
import { AuthenticationRefusedError, DriverStoppedError, FrameworkRemovedError, MasterUnreachableError, NotSubscribedError } from './errors.js';
import { compileDriverOptions, frameworkInfoOf, type CompiledDriverOptions, type DriverOptions } from './options.js';
import { ClientLedger } from './client-ledger.js';
import { SubscriptionWaiters } from './waiters.js';
import { EventQueue } from './event-queue.js';
import { plainReason } from './log-reason.js';
import { Reconciler } from './reconciler.js';
import { AckBatcher } from './ack-batcher.js';
import { SchedulerCalls } from './calls.js';
import { sdkStatus, type TaskStatus } from './types.js';
import { dispatchAgentEvent, type AgentHandlers } from './agent-events.js';
import { Recovery, type RecoverOptions, type RecoveryReport } from './recovery.js';
import type { DriverState, SchedulerDriver } from './driver-api.js';

/**
 * The event stream's flow-control window: with HTTP/2's default (64 KiB) a burst — reconciliation
 * answers for thousands of tasks, a large offers event — stalls every 64 KiB until the master, busy
 * with the very work that produces the burst, reads our window update. Channelz (gRPC's own
 * introspection) is off: it costs work on every call and nothing reads it.
 */
const CHANNEL_OPTIONS: grpc.ChannelOptions = { 'grpc-node.flow_control_window': 16 * 1024 * 1024, 'grpc.enable_channelz': 0 };

/** The most status updates handed to one `updates` call. */
export const MAX_UPDATE_BATCH = 1000;

/** After "not the leader, no leader known": ask again this soon, at most this many times in a row. */
const NOT_LEADER_RETRY_MS = 100;
const NOT_LEADER_FAST_RETRIES = 50;

export type { DriverState, SchedulerDriver } from './driver-api.js';

type Awaitable = void | Promise<void>;

/**
 * The framework's side. Every handler gets the driver first (as Mesos's `registered(driver, …)`),
 * and none runs before `FrameworkDriver.start()` has resolved: events that arrive earlier wait.
 * Handlers run one at a time, in the order the events arrived.
 */
export interface FrameworkHandlers extends AgentHandlers<SchedulerDriver> {
  subscribed?(driver: SchedulerDriver, event: { frameworkId: string; masterInfo: MasterInfo__Output | null; resubscribed: boolean }): Awaitable;
  offers?(driver: SchedulerDriver, offers: Offer__Output[]): Awaitable;
  rescind?(driver: SchedulerDriver, offerId: string): Awaitable;
  /** A task status. Acknowledged (when it has a uuid) after this resolves, unless autoAcknowledge is off. */
  update?(driver: SchedulerDriver, status: TaskStatus): Awaitable;
  /**
   * Task statuses that arrived together, in order (at most MAX_UPDATE_BATCH): when given, called
   * instead of `update`, so a framework can persist them in one write. Each is acknowledged after
   * this resolves (none if it rejects: the agents send them again).
   */
  updates?(driver: SchedulerDriver, statuses: TaskStatus[]): Awaitable;
  failure?(driver: SchedulerDriver, event: { agentId: string; executorId: string; status?: number }): Awaitable;
  message?(driver: SchedulerDriver, event: { agentId: string; executorId: string; data: Buffer }): Awaitable;
  /** The driver failed for good (the master refused the framework, or no master answered); `closed` rejects with the same error. */
  error?(driver: SchedulerDriver, error: AgoraError): Awaitable;
  disconnected?(driver: SchedulerDriver, reason: string): Awaitable;
}

export interface StartOptions {
  /** Give up (and stop) if not subscribed within this long (default 60 s). */
  readonly waitSubscribedMs?: number;
  /** Aborted before the subscription: the driver stops and start() rejects (its owner is going away). */
  readonly signal?: AbortSignal;
}

export class FrameworkDriver extends SchedulerCalls implements SchedulerDriver {
  #state: DriverState = 'INITIALIZED';
  #frameworkId: string | undefined;
  /** The current subscription's id: every call carries it. */
  #streamId = '';
  #masterInfo: MasterInfo__Output | null = null;
  #address: string | undefined;
  #client: SchedulerClient | undefined;
  #stream: grpc.ClientReadableStream<Event__Output> | undefined;
  /** The handlers' queue: one at a time, in order, opened when start() resolves (or the driver stops). */
  readonly #events: EventQueue<TaskStatus__Output>;
  /** Automatic acknowledgements, sent together on the next turn of the event loop. */
  readonly #acks: AckBatcher;
  #lastEventAt = 0;
  #heartbeatMs = 15_000;
  #watchdog: TimerHandle | undefined;
  #reconnectTimer: TimerHandle | undefined;
  #attempt = 0;
  /** Consecutive quick retries after "not the leader" with no leader named. */
  #notLeaderRetries = 0;
  /** teardown() was asked for: the master's "framework removed" that follows is expected. */
  #tearingDown = false;
  #everSubscribed = false;
  #unwatchDiscovery: (() => void) | undefined;
  /** Failed connection attempts in a row (reset by a subscription); bounded by reconnect.initialAttempts / maxAttempts. */
  #failures = 0;
  /** Why the driver failed for good (rejects `closed` and every later waitSubscribed). */
  #fatal: AgoraError | undefined;
  /** stop()'s (or a failure's) release of every timer, stream and connection; once. */
  #releasing: Promise<void> | undefined;
  /**
   * A ref'd Node timer held from start to stop: the SDK's clock timers are unref'd (they must not
   * keep a finished process alive), so without it Node exits while the driver waits to reconnect.
   */
  #keepAlive: NodeJS.Timeout | undefined = setInterval(() => undefined, 2 ** 30);
  #settleClosed!: (err?: AgoraError) => void;
  /**
   * Settles when the driver is done for good: resolves after stop() (or a teardown()), rejects with
   * FrameworkRemovedError, AuthenticationRefusedError or MasterUnreachableError when it failed — as
   * Temporal's `worker.run()`. `await driver.closed` is the framework's main loop.
   */
  readonly closed: Promise<void>;
  /** Offers held and updates not yet acknowledged: calls are checked against them (client-checks.ts). */
  readonly #ledger = new ClientLedger();
  readonly #waiters: SubscriptionWaiters;
  readonly reconciler: Reconciler;
  /** recover(): its round, and the offers held meanwhile (recovery.ts). */
  readonly #recovery: Recovery;

  private constructor(
    readonly options: CompiledDriverOptions,
    private readonly handlers: FrameworkHandlers,
    private readonly discovery: MasterDiscovery,
  ) {
    super();
    this.#waiters = new SubscriptionWaiters(options.clock);
    this.#events = new EventQueue(MAX_UPDATE_BATCH, (err) => options.logger.error({ err }, 'event handler failed'));
    this.closed = new Promise<void>((resolve, reject) => {
      this.#settleClosed = (err) => (err ? reject(err) : resolve());
    });
    // Handled here too: a framework that never awaits `closed` must not crash on its rejection
    // (the error also reaches handlers.error, the logger and pending waitSubscribed calls).
    this.closed.catch(() => undefined);
    this.#frameworkId = options.framework.id;
    this.reconciler = new Reconciler({
      clock: options.clock,
      logger: options.logger,
      initialMs: options.reconcileInitialMs,
      maxMs: options.reconcileMaxMs,
      periodicMs: options.reconcilePeriodicMs,
      send: (tasks) => this.reconcile(tasks),
    });
    this.#recovery = new Recovery({
      clock: options.clock,
      logger: options.logger,
      reconciler: this.reconciler,
      implicit: () => this.reconcile([]),
      waitSubscribed: () => this.waitSubscribed(2 ** 31),
      closed: this.closed,
      ended: () => this.#endedError(),
      deliver: (offers, stream) => this.#events.push(() => this.#offers(offers, stream as grpc.ClientReadableStream<Event__Output>)),
    });
    this.#acks = new AckBatcher({ send: (statuses) => this.acknowledgeBatch(statuses), active: () => this.#state === 'SUBSCRIBED', logger: options.logger });
  }

  /** Connect and subscribe; resolves once SUBSCRIBED arrives (or rejects, having stopped). */
  static async start(options: DriverOptions, handlers: FrameworkHandlers = {}, start: StartOptions = {}): Promise<FrameworkDriver> {
    const compiled = compileDriverOptions(options);
    const discovery = await discoverMasters(compiled.master, compiled.cluster);
    const driver = new FrameworkDriver(compiled, handlers, discovery);
    driver.#unwatchDiscovery = discovery.onChange(() => driver.#leaderChanged());
    const subscribed = driver.waitSubscribed(start.waitSubscribedMs ?? 60_000);
    const abandon = (): void => void driver.stop();
    start.signal?.addEventListener('abort', abandon, { once: true });
    if (start.signal?.aborted) abandon();
    else driver.#connect();
    try {
      await subscribed;
    } catch (err) {
      await driver.stop();
      throw err;
    } finally {
      start.signal?.removeEventListener('abort', abandon);
    }
    // The handlers run from the next turn of the event loop on: after the code awaiting start()
    // has its driver (a microtask would run them before that code resumes).
    setImmediate(() => driver.#events.open());
    return driver;
  }

  get state(): DriverState {
    return this.#state;
  }

  get frameworkId(): string | undefined {
    return this.#frameworkId;
  }

  get masterInfo(): MasterInfo__Output | null {
    return this.#masterInfo;
  }

  /** The master address currently used. */
  get masterAddress(): string | undefined {
    return this.#address;
  }

  /** Resolves when the driver is (again) subscribed. */
  waitSubscribed(timeoutMs = 60_000): Promise<void> {
    if (this.#state === 'SUBSCRIBED') return Promise.resolve();
    if (this.#state === 'STOPPED' || this.#state === 'FAILED') return Promise.reject(this.#endedError());
    return this.#waiters.wait(timeoutMs, () => new TimeoutError(`not subscribed to a master within ${timeoutMs} ms (master: ${redactStoreUrl(String(this.options.master))})`));
  }

  /** Tell the driver about a task the framework believes is live (e.g. from its own store), for reconciliation. */
  trackTask(taskId: string, agentId: string): void {
    // Once subscribed, the task joins the explicit reconciliation (retried until answered).
    this.reconciler.ask({ taskId, agentId });
  }

  /**
   * After a restart: reconcile the tasks the framework's own state knows (explicitly) and all its
   * tasks (implicitly), and report which run, which ended, and which the state forgot. Offers are
   * held until it settles unless `holdOffers` is false. See recovery.ts and sdk/README.md.
   */
  recover(known: Iterable<{ taskId: string; agentId?: string }>, options?: RecoverOptions): Promise<RecoveryReport> {
    return this.#recovery.recover(known, options);
  }

  /** Close the connection. The framework stays registered until its failover timeout (use teardown() to remove it). */
  async stop(): Promise<void> {
    if (this.#state !== 'FAILED') this.#state = 'STOPPED';
    this.#settleClosed();
    await this.#release();
  }

  /** Everything the driver holds, let go: afterwards nothing of it keeps the process alive. */
  #release(): Promise<void> {
    this.#releasing ??= (async () => {
      clearInterval(this.#keepAlive);
      this.#keepAlive = undefined;
      this.#events.open();
      this.#unwatchDiscovery?.();
      this.#closeStream();
      this.options.clock.clearTimeout(this.#reconnectTimer);
      this.reconciler.stop();
      this.#client?.close();
      this.#client = undefined;
      this.#waiters.rejectAll(this.#endedError());
      await this.discovery.close();
      await this.#events.drained();
    })();
    return this.#releasing;
  }

  /** What a stopped or failed driver answers: its fatal error, or that it was stopped. */
  #endedError(): AgoraError {
    return this.#fatal ?? new DriverStoppedError(this.options.framework.name, this.#state);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  // ---- connection ----

  #connect(): void {
    if (this.#state === 'STOPPED' || this.#state === 'FAILED') return;
    this.#state = 'CONNECTING';
    // A leader that cannot vouch for its lease must not subscribe: another may lead already, and a
    // new subscription with the framework's id would take the framework from it.
    if (!this.options.mayConnect()) {
      this.#scheduleReconnect('the framework may not subscribe now: its leader cannot vouch for its lease', undefined, false);
      return;
    }
    const address = this.discovery.current();
    if (address === undefined) {
      this.#scheduleReconnect('no leading master is known yet');
      return;
    }
    if (this.#address !== address || !this.#client) {
      this.#client?.close();
      this.#client = new SchedulerClient(address, this.options.channel, CHANNEL_OPTIONS);
      this.#address = address;
    }
    const frameworkInfo = frameworkInfoOf(this.options, this.#frameworkId);
    const stream = this.#client.Subscribe({ frameworkInfo, suppressedRoles: [...this.options.suppressedRoles] });
    this.#stream = stream;
    this.#lastEventAt = this.options.clock.now();
    stream.on('data', (event: Event__Output) => {
      if (this.#stream !== stream) return;
      this.#lastEventAt = this.options.clock.now();
      // A refusal ends the subscription for good, and the master closes the stream right after it.
      // It is acted on as it arrives, not behind busy handlers: otherwise the stream's end would be
      // seen first, the driver would subscribe again with the id and take the framework back from
      // the subscription that replaced it — two subscribers taking it from each other.
      if (event.type === 'subscribed') {
        this.#subscribedArrived(event);
        return;
      }
      if (event.type === 'error') {
        const message = event.error?.message ?? 'the master refused the framework';
        this.#fail(new FrameworkRemovedError(message), message);
        return;
      }
      if (event.type === 'update' && event.update?.status && this.#recovery.observe(event.update.status)) return;
      this.#enqueue(event, stream);
    });
    stream.on('error', (err: unknown) => {
      if (this.#stream !== stream) return;
      this.#streamFailed(fromGrpcError(err), address);
    });
    stream.on('end', () => {
      if (this.#stream !== stream) return;
      this.#disconnected('the master closed the stream', address);
    });
  }

  #streamFailed(err: AgoraError, address: string): void {
    if (err.code === 'AGORA_CANCELLED') return;
    if (err instanceof NotLeaderError && err.leader && err.leader !== address) {
      this.discovery.redirect(err.leader);
      this.#disconnected(`${address} is not the leader; following it to ${err.leader}`, address, true);
      return;
    }
    // Refusals that asking again cannot change: bad framework info, a removed id, credentials the
    // master does not accept, or a principal that may not register (in these roles, or this id).
    if (err.code === 'AGORA_UNAUTHENTICATED' || err.code === 'AGORA_PERMISSION_DENIED') {
      this.#fail(new AuthenticationRefusedError(err), err.message);
      return;
    }
    if (['AGORA_FAILED_PRECONDITION', 'AGORA_INVALID_ARGUMENT', 'AGORA_NOT_FOUND'].includes(err.code)) {
      this.#fail(new FrameworkRemovedError(err.message), err.message);
      return;
    }
    this.discovery.failed(address);
    // "Not the leader" naming no leader: a master just elected and still reading its registry (or
    // an election under way). It is ready within moments, so ask again soon, for a while, rather
    // than after a backoff that grew while the old leader was unreachable.
    if (err instanceof NotLeaderError && this.#notLeaderRetries < NOT_LEADER_FAST_RETRIES) {
      this.#notLeaderRetries += 1;
      this.#disconnected(err.message, address, false, Math.min(NOT_LEADER_RETRY_MS, this.options.reconnectInitialMs));
      return;
    }
    this.#disconnected(err.message, address);
  }

  #disconnected(reason: string, address: string | undefined, immediately = false, delayMs?: number): void {
    if (this.#state === 'STOPPED' || this.#state === 'FAILED') return;
    this.#closeStream();
    const wasSubscribed = this.#state === 'SUBSCRIBED';
    this.#state = 'DISCONNECTED';
    this.reconciler.stop();
    // Once per outage at warn; each failed attempt after it only at debug, with gRPC's wrapping cut.
    if (wasSubscribed) this.options.logger.warn({ reason: plainReason(reason), master: address }, 'disconnected from master');
    else this.options.logger.debug({ reason: plainReason(reason), master: address }, 'connection attempt failed');
    if (wasSubscribed) void this.#events.opened.then(() => this.handlers.disconnected?.(this, reason)).catch(() => undefined);
    if (immediately) this.#connect();
    else this.#scheduleReconnect(reason, delayMs);
  }

  /** Try again after a backoff; `counts`: this was a failed attempt (toward reconnect.initialAttempts / maxAttempts). */
  #scheduleReconnect(reason: string, fixedDelayMs?: number, counts = true): void {
    this.options.clock.clearTimeout(this.#reconnectTimer);
    if (counts) {
      this.#failures += 1;
      const limit = this.#everSubscribed ? this.options.reconnectMaxAttempts : this.options.reconnectInitialAttempts;
      if (this.#failures >= limit) {
        this.#fail(new MasterUnreachableError(redactStoreUrl(String(this.options.master)), this.#failures, reason), reason);
        return;
      }
    }
    let delay = fixedDelayMs;
    if (delay === undefined) {
      delay = backoffDelay(this.options.random, this.#attempt, this.options.reconnectInitialMs, this.options.reconnectMaxMs);
      this.#attempt += 1;
    }
    this.options.logger.debug({ delayMs: Math.round(delay) }, 'reconnecting');
    this.#state = 'DISCONNECTED';
    this.#reconnectTimer = this.options.clock.setTimeout(() => this.#connect(), delay);
  }

  #leaderChanged(): void {
    const next = this.discovery.current();
    if (this.#state === 'STOPPED' || this.#state === 'FAILED' || next === this.#address) return;
    if (this.#state === 'CONNECTING' || this.#state === 'SUBSCRIBED') this.#disconnected(`leader moved to ${next ?? 'nobody'}`, this.#address, next !== undefined);
    else if (next !== undefined) {
      this.options.clock.clearTimeout(this.#reconnectTimer);
      this.#connect();
    }
  }

  #closeStream(): void {
    this.options.clock.clearInterval(this.#watchdog);
    this.#watchdog = undefined;
    const stream = this.#stream;
    this.#stream = undefined;
    stream?.cancel();
  }

  /** Remove the framework (see SchedulerCalls.teardown); the driver then stops as FAILED. */
  override async teardown(): Promise<void> {
    this.#tearingDown = true;
    try {
      await super.teardown();
    } catch (err) {
      this.#tearingDown = false;
      throw err;
    }
  }

  /** The driver is done for good: `closed` rejects with `err` (resolves after a teardown), everything is released. */
  #fail(err: AgoraError, message: string): void {
    if (this.#state === 'STOPPED' || this.#state === 'FAILED') return;
    if (this.#tearingDown) this.options.logger.info({ message }, 'the framework was torn down');
    else this.options.logger.error({ message: err.message }, 'the driver gave up');
    this.#state = 'FAILED';
    if (!this.#tearingDown) this.#fatal = err;
    // Waiters get the typed error before the release would answer them "stopped".
    this.#waiters.rejectAll(this.#endedError());
    this.#settleClosed(this.#fatal);
    void this.#release();
    const reported = this.#fatal ?? err;
    void this.#events.opened.then(() => this.handlers.error?.(this, reported)).catch(() => undefined);
  }

  #startWatchdog(): void {
    this.options.clock.clearInterval(this.#watchdog);
    const limit = this.#heartbeatMs * this.options.heartbeatMisses;
    this.#watchdog = this.options.clock.setInterval(() => {
      if (this.options.clock.now() - this.#lastEventAt > limit) this.#disconnected(`no heartbeat for ${limit} ms`, this.#address);
    }, Math.max(10, Math.round(this.#heartbeatMs / 2)));
  }

  // ---- events ----

  /**
   * SUBSCRIBED, acted on as it arrives (start() resolves on it, before any handler may run); its
   * handler is queued behind the events before it.
   */
  #subscribedArrived(event: Event__Output): void {
    const s = event.subscribed;
    if (!s || this.#state === 'STOPPED' || this.#state === 'FAILED') return;
    const resubscribed = this.#everSubscribed;
    this.#frameworkId = s.frameworkId;
    this.#streamId = s.streamId;
    this.#masterInfo = s.masterInfo;
    this.#heartbeatMs = Math.max(1, s.heartbeatIntervalSeconds * 1000);
    this.#state = 'SUBSCRIBED';
    this.#attempt = 0;
    this.#failures = 0;
    this.#notLeaderRetries = 0;
    this.#everSubscribed = true;
    this.#startWatchdog();
    this.options.logger.info({ frameworkId: s.frameworkId, master: this.#address, resubscribed }, 'subscribed');
    this.#waiters.resolveAll();
    this.reconciler.start();
    this.#recovery.resubscribed();
    this.#ledger.resubscribed();
    const info = { frameworkId: s.frameworkId, masterInfo: s.masterInfo, resubscribed };
    this.#events.push(async () => {
      if (this.#state !== 'STOPPED' && this.#state !== 'FAILED') await this.handlers.subscribed?.(this, info);
    });
  }

  /** Queue an event for the handlers; an update joins the updates queued just before it (when the framework takes batches). */
  #enqueue(event: Event__Output, stream: grpc.ClientReadableStream<Event__Output>): void {
    const status = event.type === 'update' ? event.update?.status : undefined;
    if (status && this.handlers.updates) this.#events.pushBatched(status, (batch) => this.#updates(batch));
    else this.#events.push(() => this.#handle(event, stream));
  }

  async #handle(event: Event__Output, stream: grpc.ClientReadableStream<Event__Output>): Promise<void> {
    if (this.#state === 'STOPPED' || this.#state === 'FAILED') return;
    switch (event.type) {
      case 'offers':
        if (!this.#recovery.hold(event.offers?.offers ?? [], stream)) await this.#offers(event.offers?.offers ?? [], stream);
        return;
      case 'rescind':
        if (this.#recovery.dropHeld(event.rescind?.offerId ?? '')) return; // held, never seen by the framework
        this.#ledger.offersGone([event.rescind?.offerId ?? '']);
        await this.handlers.rescind?.(this, event.rescind?.offerId ?? '');
        return;
      case 'update':
        if (event.update?.status) await this.#update(event.update.status);
        return;
      case 'failure': {
        const f = event.failure;
        if (f) await this.handlers.failure?.(this, { agentId: f.agentId, executorId: f.executorId, ...(f.status === undefined ? {} : { status: f.status }) });
        return;
      }
      case 'message': {
        const m = event.message;
        if (m) await this.handlers.message?.(this, { agentId: m.agentId, executorId: m.executorId, data: m.data });
        return;
      }
      case 'subscribed': // handled on arrival (#subscribedArrived)
      case 'error': // handled on arrival (#connect)
        return;
      default:
        await dispatchAgentEvent(this, this.handlers, event);
        return; // else a heartbeat: only refreshes the watchdog
    }
  }

  async #offers(offers: Offer__Output[], stream: grpc.ClientReadableStream<Event__Output>): Promise<void> {
    // Offers die with the subscription they came on (as Mesos drops offers while its driver is
    // disconnected): ones still queued when the stream failed are not handed to the framework.
    if (stream !== this.#stream || this.#state === 'STOPPED' || this.#state === 'FAILED') {
      this.options.logger.debug({ offers: offers.length }, 'offers from a closed subscription dropped');
      return;
    }
    this.#ledger.offered(offers);
    await this.handlers.offers?.(this, offers);
  }

  async #update(wire: TaskStatus__Output): Promise<void> {
    const status = this.#checked(wire);
    if (!status) return;
    this.#track(status);
    await this.handlers.update?.(this, status);
    this.#acknowledge(status);
  }

  async #updates(wire: TaskStatus__Output[]): Promise<void> {
    if (this.#state === 'STOPPED' || this.#state === 'FAILED') return;
    const batch = wire.map((s) => this.#checked(s)).filter((s): s is TaskStatus => s !== undefined);
    if (batch.length === 0) return;
    for (const status of batch) this.#track(status);
    await this.handlers.updates?.(this, batch);
    for (const status of batch) this.#acknowledge(status);
  }

  /** The status as handlers take it; one without a task state (a master bug) is logged and not acknowledged. */
  #checked(wire: TaskStatus__Output): TaskStatus | undefined {
    const status = sdkStatus(wire);
    if (!status) this.options.logger.error({ taskId: wire.taskId, state: wire.state }, 'a status without a task state; ignored');
    else this.#ledger.received(status);
    return status;
  }

  #track(status: TaskStatus): void {
    const state = status.state;
    if (isTerminal(state) || state === 'TASK_UNKNOWN') this.reconciler.untrack(status.taskId);
    else this.reconciler.track({ taskId: status.taskId, agentId: status.agentId });
    this.reconciler.confirmed(status.taskId);
  }

  #acknowledge(status: TaskStatus__Output): void {
    // Once the handler is done; not awaited: the next event need not wait for the round trip.
    if (status.uuid && this.options.autoAcknowledge && this.#state === 'SUBSCRIBED') this.#acks.due(status);
  }

  // ---- calls (SchedulerCalls) ----

  protected override offerAgent(offerId: string): string | undefined {
    return this.#ledger.agentOf(offerId);
  }

  protected override receivedUpdate(status: { taskId: string; uuid: string }): boolean {
    return this.#ledger.isReceived(status);
  }

  protected override acknowledgedUpdate(status: { uuid: string }): void {
    this.#ledger.acknowledged(status);
  }

  override async accept(...args: Parameters<SchedulerCalls['accept']>): Promise<void> {
    await super.accept(...args);
    this.#ledger.offersGone(args[0]);
  }

  override async decline(...args: Parameters<SchedulerCalls['decline']>): Promise<void> {
    await super.decline(...args);
    this.#ledger.offersGone(args[0]);
  }

  protected override callContext(): { client: SchedulerClient; frameworkId: string; deadline: Date; metadata: grpc.Metadata } {
    if (this.#state === 'STOPPED' || this.#state === 'FAILED') throw new DriverStoppedError(this.options.framework.name, this.#state);
    if (this.#state !== 'SUBSCRIBED' || !this.#client || !this.#frameworkId) throw new NotSubscribedError(this.#state);
    const metadata = new grpc.Metadata();
    metadata.set(STREAM_ID_METADATA_KEY, this.#streamId);
    return { client: this.#client, frameworkId: this.#frameworkId, deadline: new Date(Date.now() + this.options.callTimeoutMs), metadata };
  }

  protected override async run(call: (callback: grpc.requestCallback<Ack__Output>) => unknown): Promise<void> {
    await this.ask<Ack__Output>(call);
  }

  protected override async ask<T>(call: (callback: grpc.requestCallback<T>) => unknown): Promise<T> {
    try {
      return await unaryCall<T>(call);
    } catch (err) {
      if (err instanceof NotLeaderError && err.leader) {
        this.discovery.redirect(err.leader);
        this.#disconnected(`calls go to ${err.leader}, the leader`, this.#address, true);
      }
      throw err;
    }
  }
}
