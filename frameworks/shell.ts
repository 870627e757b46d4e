// The part every built-in framework (services, cron, batch) shares: its FrameworkDriver
// (subscribing with the id kept in its FrameworkState, afresh if the master removed it), one serial
// section through which every change passes — an API call, a status update, offers, a timer — one
// wake-up timer at the earliest moment the policy asked for, and an optional periodic tick. An
// offer round that throws gives its offers back.
//
//   FrameworkShell.start(options, (shell) => handlers)   (handlers may keep the shell: wakeAt works
//                                                          already in the first `subscribed`)
//      ├─ framework id ◄── state key 'framework' ──► FrameworkDriver.start (with it, else afresh)
//      ├─ subscribed ─► handlers.subscribed(driver)     (track + reconcile known tasks, plan)
//      ├─ offers     ─► handlers.offers(driver, offers) ┐
//      ├─ update     ─► handlers.update(status)         ├─ serial: one at a time, in order
//      ├─ wakeAt(t)  ─► handlers.wake() at t            │
//      ├─ tickMs     ─► handlers.tick(), if given       ┘
//      └─ act(fn)    ─► API calls (UnavailableError unless running)
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { UnavailableError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { FrameworkCapability, Offer__Output, TaskStatus__Output } from '../proto/index.js';
import { FrameworkDriver } from '../sdk/driver.js';
import { FrameworkRemovedError } from '../sdk/errors.js';
import type { FrameworkOptions } from './framework-options.js';

const WEEK_SECONDS = 7 * 24 * 3600;
const FRAMEWORK_KEY = 'framework';
/** The longest single sleep of the wake-up timer (a day). */
const MAX_SLEEP_MS = 24 * 3600 * 1000;

export interface ShellOptions extends FrameworkOptions {
  /** The framework's name with the master. */
  readonly name: string;
  /** With a `tick` handler: how often it runs, once started (default 1000 ms). */
  readonly tickMs?: number;
  /** FrameworkInfo capabilities (e.g. PARTITION_AWARE: TASK_UNREACHABLE rather than TASK_LOST). */
  readonly capabilities?: readonly FrameworkCapability[];
}

export interface ShellHandlers {
  /**
   * After every subscription (the first and each resubscription), in the serial section: track
   * the tasks the framework knows (driver.trackTask) so they are reconciled, then plan.
   */
  subscribed(driver: FrameworkDriver): Promise<void>;
  offers(driver: FrameworkDriver, offers: readonly Offer__Output[]): Promise<void>;
  update(status: TaskStatus__Output): Promise<void>;
  /** Updates that arrived together, in order (optional; else `update` for each): acknowledged once it resolves. */
  updates?(statuses: readonly TaskStatus__Output[]): Promise<void>;
  /** An offer the framework still holds was taken back by the master (optional). */
  rescind?(offerId: string): Promise<void>;
  /** The moment asked for with wakeAt() has come. */
  wake(): Promise<void>;
  /** Periodic, every `tickMs` from the end of start() until stop() (optional). */
  tick?(): Promise<void>;
}

type Lifecycle = 'STARTING' | 'RUNNING' | 'STOPPING' | 'STOPPED';

export class FrameworkShell {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly role: string;
  #lifecycle: Lifecycle = 'STARTING';
  #driver: FrameworkDriver | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #ready!: Promise<void>;
  #markReady!: () => void;
  #wake: { at: number; timer: TimerHandle } | undefined;
  #tick: TimerHandle | undefined;
  private readonly handlers: ShellHandlers;

  private constructor(
    private readonly o: ShellOptions,
    handlers: ShellHandlers | ((shell: FrameworkShell) => ShellHandlers),
  ) {
    this.clock = o.clock ?? systemClock;
    this.logger = o.logger ?? silentLogger();
    this.role = o.role || '*';
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
    this.handlers = typeof handlers === 'function' ? handlers(this) : handlers;
  }

  /**
   * Subscribe and run the first `subscribed` handler; throws (and cleans up) when that fails.
   * Given a function, the shell calls it with itself before subscribing, so the handlers can hold
   * the shell — wakeAt() asked for during the first `subscribed` is kept, not lost.
   */
  static async start(options: ShellOptions, handlers: ShellHandlers | ((shell: FrameworkShell) => ShellHandlers)): Promise<FrameworkShell> {
    const shell = new FrameworkShell(options, handlers);
    try {
      await shell.#connect();
    } catch (err) {
      await shell.stop();
      throw err;
    }
    shell.#lifecycle = 'RUNNING';
    shell.#startTick();
    return shell;
  }

  /** The driver, from the first subscription on (one driver for the shell's life: it resubscribes itself). */
  get driver(): FrameworkDriver | undefined {
    return this.#driver;
  }

  get running(): boolean {
    return this.#lifecycle === 'RUNNING';
  }

  /** An API call: refused unless running, then run in the serial section. */
  act<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#lifecycle !== 'RUNNING') return Promise.reject(new UnavailableError(`the ${this.o.name} framework is ${this.#lifecycle.toLowerCase()}`));
    return this.#serial(fn);
  }

  /** Call handlers.wake() at `at` (epoch ms) — or earlier, if an earlier wake-up is already set. */
  wakeAt(at: number): void {
    if (this.#lifecycle === 'STOPPING' || this.#lifecycle === 'STOPPED') return;
    // Timers cannot span more than ~24.8 days (Node fires at once past 2^31-1 ms): wake up at
    // most MAX_SLEEP_MS from now; the handler plans again and asks for the rest.
    const due = Math.min(at, this.clock.now() + MAX_SLEEP_MS);
    if (this.#wake !== undefined && this.#wake.at <= due) return;
    this.clock.clearTimeout(this.#wake?.timer);
    const timer = this.clock.setTimeout(() => {
      this.#wake = undefined;
      void this.#gate(() => this.handlers.wake()).catch((err: unknown) => this.logger.error({ err }, 'wake-up failed'));
    }, Math.max(0, due - this.clock.now()));
    this.#wake = { at: due, timer };
  }

  /** Stop intake, let the running step finish, close the driver. The framework stays registered. */
  async stop(): Promise<void> {
    if (this.#lifecycle === 'STOPPING' || this.#lifecycle === 'STOPPED') return;
    this.#lifecycle = 'STOPPING';
    this.clock.clearInterval(this.#tick);
    this.clock.clearTimeout(this.#wake?.timer);
    this.#wake = undefined;
    this.#markReady();
    await this.#queue;
    await this.#driver?.stop();
    this.#lifecycle = 'STOPPED';
  }

  #startTick(): void {
    const tick = this.handlers.tick?.bind(this.handlers);
    if (tick === undefined) return;
    const run = (): void => void this.#gate(tick).catch((err: unknown) => this.logger.error({ err }, 'tick failed'));
    this.#tick = this.clock.setInterval(run, this.o.tickMs ?? 1000);
  }

  async #connect(): Promise<void> {
    const stored = await this.o.state.get<{ id?: string }>(FRAMEWORK_KEY);
    const id = stored?.value.id || undefined;
    let driver: FrameworkDriver;
    try {
      driver = await this.#startDriver(id);
    } catch (err) {
      if (!(err instanceof FrameworkRemovedError) || id === undefined) throw err;
      this.logger.warn({ frameworkId: id, message: err.message }, 'the master removed this framework; subscribing afresh');
      driver = await this.#startDriver(undefined);
    }
    this.#driver = driver;
    // Queued before the handlers waiting on #ready, so the first plan precedes the first offers.
    const first = this.#serial(() => this.#afterSubscribe(driver));
    this.#markReady();
    await first;
  }

  #startDriver(id: string | undefined): Promise<FrameworkDriver> {
    const { o, clock, logger, role } = this;
    return FrameworkDriver.start(
      {
        ...o.driver,
        // Bounded by waitSubscribedMs instead: a frameworks host may start before its masters.
        reconnect: { initialAttempts: Infinity, ...o.driver?.reconnect },
        ...o.access,
        master: o.master,
        ...(o.cluster ? { cluster: o.cluster } : {}),
        framework: {
          name: o.name,
          ...(id ? { id } : {}),
          roles: [role],
          ...(o.taskUser ? { user: o.taskUser } : {}),
          failoverTimeoutSeconds: WEEK_SECONDS,
          checkpoint: true,
          ...(o.capabilities ? { capabilities: [...o.capabilities] } : {}),
          ...(o.apiUrl ? { apiUrl: o.apiUrl } : {}),
        },
        clock,
        logger,
      },
      {
        subscribed: (_driver, e) => (e.resubscribed ? this.#gate(() => this.#afterSubscribe(this.#driver!)) : undefined),
        offers: (_driver, offers) => this.#gate(() => this.#offerRound(offers)),
        update: (_driver, status) => this.#gateUpdate(() => this.handlers.update(status)),
        ...(this.handlers.updates ? { updates: (_driver, statuses: TaskStatus__Output[]) => this.#gateUpdate(() => this.handlers.updates!(statuses)) } : {}),
        rescind: (_driver, offerId) => (this.handlers.rescind ? this.#gate(() => this.handlers.rescind!(offerId)) : undefined),
        error: (_driver, err) => {
          logger.error({ message: err.message }, `the master refused the ${o.name} framework`);
          o.onRefused?.(err.message);
        },
      },
      { waitSubscribedMs: o.waitSubscribedMs ?? 60_000, ...(o.signal ? { signal: o.signal } : {}) },
    );
  }

  async #afterSubscribe(driver: FrameworkDriver): Promise<void> {
    const id = driver.frameworkId!;
    const stored = await this.o.state.get<{ id?: string }>(FRAMEWORK_KEY);
    if (stored?.value.id !== id) await this.o.state.set(FRAMEWORK_KEY, { id });
    await this.handlers.subscribed(driver);
  }

  /**
   * One round of offers. A round that fails (a store write, a bug) gives its offers back at once,
   * rather than holding them from everyone until the master's offer timeout (a minute by default).
   */
  async #offerRound(offers: readonly Offer__Output[]): Promise<void> {
    const driver = this.#driver!;
    try {
      await this.handlers.offers(driver, offers);
    } catch (err) {
      this.logger.error({ err, offers: offers.length }, 'offer round failed; its offers go back');
      // One call per offer: a decline naming an offer the round had already used is refused whole.
      await Promise.allSettled(offers.map((o) => driver.decline([o.id])));
    }
  }

  /** Run in the serial section once the driver is there; nothing after stop(). */
  async #gate<T>(fn: () => Promise<T>): Promise<T | undefined> {
    await this.#ready;
    if (this.#lifecycle === 'STOPPING' || this.#lifecycle === 'STOPPED') return undefined;
    return this.#serial(fn);
  }

  /**
   * As #gate, for status updates: one the stopping shell does not handle is refused, so the driver
   * does not acknowledge it (the agent sends it again, to whichever instance leads then).
   */
  async #gateUpdate(fn: () => Promise<void>): Promise<void> {
    let handled = false;
    await this.#gate(async () => {
      await fn();
      handled = true;
    });
    if (!handled) throw new UnavailableError(`the ${this.o.name} framework is stopping: the update is left unacknowledged`);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
