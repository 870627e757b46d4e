// The services framework ('agora-services'): the book of services, the supervisor and the
// launcher on the shared FrameworkShell (frameworks/shell.ts: driver with the stored framework id,
// one serial section, one wake-up timer, a periodic tick), and the ServiceController API over them.
// Every change — an API call, a status update, offers, a timer — runs in the shell's serial section,
// one at a time, so the book and the plans never interleave.
//
//   startServices ─► ServiceBook.load (FrameworkState) ─► FrameworkShell.start
//        └─► subscribed: track + reconcile every known task, implicit reconcile, replan
//   API (apply, scale, …) ─► deployments.ts (pure) ─► book.put ─► supervisor.replan ─► watch
//   offers ─► owed plan, launcher   update ─► supervisor.update ─► plan owed (plan-debt.ts) ─► one replan soon
//   wake-up ─► replan   tick ─► kill retries + replan   get/list/endpoints ─► pay an owed plan, read
import { performance } from 'node:perf_hooks';
import { systemClock, type Clock } from '../../core/clock.js';
import { InvalidArgumentError, NotFoundError, UnavailableError } from '../../core/errors.js';
import { shortId } from '../../core/ids.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { Deployment, Endpoint, Workload } from '../../proto/index.js';
import type { FrameworkDriver } from '../../sdk/driver.js';
import { FrameworkShell, type ShellHandlers } from '../shell.js';
import { killRetryMsOf } from '../common/kill-tracker.js';
import type { ApplyOptions, ApplyOutcome, WatchListener } from '../workload.js';
import type { WorkloadFigures } from '../workload-figures.js';
import { decideScale, recordDecision, type AutoscaleDecision, type Recommendation, type TaskSample } from './autoscale.js';
import { AutoscaleLoop, DEFAULT_AUTOSCALE_INTERVAL_MS, type AutoscaleTarget } from './autoscaler.js';
import { ServiceBook } from './book.js';
import * as change from './deployments.js';
import { ServiceLauncher } from './launcher.js';
import { PlanDebt } from './plan-debt.js';
import { activeDeployment, specOf, type ServiceRecord, type TaskView } from './model.js';
import { SERVICES_FRAMEWORK_NAME, type ServicesHandle, type ServicesOptions } from './options.js';
import { isLive } from './planner.js';
import { ServiceSupervisor } from './supervisor.js';
import { checkServicePort, servicePortWarnings } from './service-port.js';
import { parseServiceSpec } from './spec.js';
import { deploymentView, endpointsOf, serviceFigures, workloadView } from './views.js';
import { ServiceWatchHub } from './watch.js';

const MAX_INSTANCES = 10_000;

/** The tasks an autoscaler averages over: running, not being stopped. */
function runningOf(tasks: readonly TaskView[]): TaskView[] {
  return tasks.filter((t) => isLive(t) && t.state === 'TASK_RUNNING' && t.killRequestedAtMs === undefined);
}

interface Compiled {
  readonly options: ServicesOptions;
  readonly role: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly tickMs: number;
  readonly backoffResetMs: number;
  readonly killRetryMs: number;
  readonly autoscaleIntervalMs: number;
}

function compile(options: ServicesOptions): Compiled {
  if (!options?.state) throw new InvalidArgumentError('state', 'the services framework needs its FrameworkState');
  const tickMs = options.tickMs ?? 1000;
  if (!Number.isFinite(tickMs) || tickMs <= 0) throw new InvalidArgumentError('tickMs', `must be a positive number, got ${tickMs}`);
  const reset = options.backoffResetSeconds ?? 60;
  if (!Number.isFinite(reset) || reset < 0) throw new InvalidArgumentError('backoffResetSeconds', `must be ≥ 0, got ${reset}`);
  const autoscaleIntervalMs = options.autoscaleIntervalMs ?? DEFAULT_AUTOSCALE_INTERVAL_MS;
  if (!Number.isFinite(autoscaleIntervalMs) || autoscaleIntervalMs <= 0) throw new InvalidArgumentError('autoscaleIntervalMs', `must be a positive number, got ${autoscaleIntervalMs}`);
  const logger = (options.logger ?? silentLogger()).child({ component: 'services' });
  const clock = options.clock ?? systemClock;
  return { options, role: options.role || '*', clock, logger, tickMs, backoffResetMs: reset * 1000, killRetryMs: killRetryMsOf(options.killRetryMs), autoscaleIntervalMs };
}

export class ServicesFramework implements ServicesHandle {
  readonly kind = 'SERVICE' as const;
  #shell: FrameworkShell | undefined;
  readonly #hub: ServiceWatchHub;
  readonly #supervisor: ServiceSupervisor;
  readonly #launcher: ServiceLauncher;
  readonly #debt: PlanDebt;
  /** The autoscaler's recent recommendations per service (in memory: a new leader starts afresh). */
  readonly #recommendations = new Map<string, readonly Recommendation[]>();
  #autoscaler: AutoscaleLoop | undefined;

  private constructor(
    private readonly o: Compiled,
    private readonly book: ServiceBook,
  ) {
    this.#hub = new ServiceWatchHub(o.clock, o.logger);
    this.#debt = new PlanDebt({
      schedule: (run, delayMs) => (delayMs > 0 ? setTimeout(run, delayMs) : setImmediate(run)),
      pay: () => void this.#payDebt().catch((err: unknown) => o.logger.warn({ err }, 'plan after status updates failed')),
      now: () => performance.now(),
    });
    this.#supervisor = new ServiceSupervisor({
      book,
      clock: o.clock,
      logger: o.logger,
      role: o.role,
      backoffResetMs: o.backoffResetMs,
      killRetryMs: o.killRetryMs,
      driver: () => this.#shell?.driver,
      wake: (at) => this.#shell?.wakeAt(at),
      publish: () => this.#publish(),
      debt: this.#debt,
    });
    this.#launcher = new ServiceLauncher({ book, supervisor: this.#supervisor, clock: o.clock, logger: o.logger, role: o.role, ...(o.options.values ? { values: o.options.values } : {}) });
  }

  static async start(options: ServicesOptions): Promise<ServicesFramework> {
    const o = compile(options);
    const fw = new ServicesFramework(o, await ServiceBook.load(options.state));
    // The shell hands itself over before subscribing: the first plan's wake-up reaches it.
    await FrameworkShell.start({ ...options, name: SERVICES_FRAMEWORK_NAME, capabilities: ['PARTITION_AWARE'], role: o.role, clock: o.clock, logger: o.logger, tickMs: o.tickMs }, (shell) => {
      fw.#shell = shell;
      return fw.#handlers();
    });
    const measure = options.measureUsage;
    if (measure !== undefined) {
      fw.#autoscaler = new AutoscaleLoop({ intervalMs: o.autoscaleIntervalMs, clock: o.clock, logger: o.logger, measure, targets: () => fw.autoscaled(), decide: (name, samples) => fw.autoscale(name, samples) });
      fw.#autoscaler.start();
    }
    o.logger.info({ frameworkId: fw.#shell?.driver?.frameworkId, services: fw.book.records.size }, 'services framework started');
    return fw;
  }

  #handlers(): ShellHandlers {
    return {
      subscribed: (driver) => this.#subscribed(driver),
      // Offers are matched against a plan that has seen every update (an owed plan is made first).
      offers: async (driver, offers) => {
        await this.#supervisor.payDebt();
        await this.#launcher.offers(driver, offers);
      },
      update: (status) => this.#supervisor.update(status),
      updates: (statuses) => this.#supervisor.updates(statuses),
      wake: () => this.#supervisor.replan(),
      tick: () => this.#supervisor.tick(),
    };
  }

  /** After each subscription (the shell has stored the id): reconcile every task the book knows, and plan. */
  async #subscribed(driver: FrameworkDriver): Promise<void> {
    this.#supervisor.subscribed();
    // Explicit reconciliation of every task the book knows, retried by the driver until answered.
    for (const record of this.book.records.values()) for (const t of Object.values(record.tasks)) driver.trackTask(t.taskId, t.agentId);
    driver.reconcile([]).catch((err: unknown) => this.o.logger.warn({ err }, 'implicit reconcile failed')); // finds tasks no service owns
    await this.#supervisor.replan();
  }

  #publish(): void {
    for (const record of this.book.records.values()) {
      // No watcher: no view (a service's view of its thousand tasks is built for nobody otherwise).
      if (!this.#hub.listening) {
        this.#hub.unseen(record.name);
        continue;
      }
      const tasks = this.book.tasksOf(record);
      const latest = record.deployments.at(-1);
      this.#hub.publish(record.name, this.#view(record), endpointsOf(record, tasks), latest && deploymentView(latest, record, tasks));
    }
  }

  // ---- ServiceController ----

  async apply(spec: Record<string, unknown>, options: ApplyOptions = {}): Promise<ApplyOutcome> {
    const parsed = parseServiceSpec(spec);
    if (parsed.role !== '' && parsed.role !== this.o.role) {
      throw new InvalidArgumentError('role', `the services framework runs as role '${this.o.role}': omit role, or set it to '${this.o.role}'`);
    }
    return this.#act(async () => {
      const existing = this.book.records.get(parsed.name);
      checkServicePort(parsed, this.book.records.values());
      const out = change.applySpec(existing, parsed, this.#ctx(existing, parsed.name));
      if (!options.dryRun && out.result !== 'UNCHANGED') await this.#commit(out.record);
      // A dry run started nothing: no deployment to follow.
      const deploymentId = options.dryRun ? undefined : out.deployment?.id;
      const warnings = servicePortWarnings(parsed);
      return { kind: 'SERVICE', name: parsed.name, version: out.record.version, result: out.result, ...(deploymentId ? { deploymentId } : {}), ...(warnings.length ? { warnings } : {}) };
    });
  }

  async get(name: string): Promise<Workload> {
    return this.#read(() => this.#view(this.book.need(name)));
  }

  async list(): Promise<Workload[]> {
    return this.#read(() => this.book.sorted().map((r) => this.#view(r)));
  }

  async delete(name: string): Promise<void> {
    await this.#act(async () => {
      const record = this.book.need(name);
      const tasks = this.book.tasksOf(record);
      const last = this.#view(record);
      await this.book.remove(name);
      this.#supervisor.notes.delete(name);
      this.#supervisor.restarts.delete(name);
      for (const t of tasks.filter(isLive)) this.#supervisor.killOrphan(t.taskId, t.agentId, this.#graceOf(record, t.version));
      this.#hub.deleted(name, last);
      this.o.logger.info({ service: name, tasks: tasks.length }, 'service deleted');
      await this.#supervisor.replan();
    });
  }

  async scale(name: string, instances: number): Promise<Deployment> {
    if (typeof instances !== 'number' || !Number.isInteger(instances) || instances < 0 || instances > MAX_INSTANCES) {
      throw new InvalidArgumentError('instances', `must be a whole number from 0 to ${MAX_INSTANCES}, got ${String(instances)}`);
    }
    return this.#deploy(name, (r, ctx) => change.scale(r, instances, ctx));
  }

  /** Services with `autoscale`, and the agents of their RUNNING tasks: what the autoscaler measures. */
  autoscaled(): AutoscaleTarget[] {
    return this.book.sorted().flatMap((r) => {
      if (specOf(r, r.version)?.autoscale === undefined) return [];
      return [{ name: r.name, tasks: runningOf(this.book.tasksOf(r)).map((t) => ({ taskId: t.taskId, agentId: t.agentId })) }];
    });
  }

  /**
   * One autoscaling round for a service, from its tasks' samples (by task id): decide (autoscale.ts)
   * and, if the count changes, scale as `agora scale` does, recording the decision on the service.
   */
  async autoscale(name: string, samples: ReadonlyMap<string, TaskSample>): Promise<AutoscaleDecision | undefined> {
    return this.#act(async () => {
      const record = this.book.get(name);
      const spec = record && specOf(record, record.version)?.autoscale;
      if (record === undefined || spec === undefined) {
        this.#recommendations.delete(name);
        return undefined;
      }
      const now = this.o.clock.now();
      const running = runningOf(this.book.tasksOf(record));
      const out = decideScale({
        spec,
        current: record.instances,
        samples: running.map((t) => samples.get(t.taskId) ?? {}),
        deploying: activeDeployment(record) !== undefined,
        now,
        recommendations: this.#recommendations.get(name) ?? [],
      });
      this.#recommendations.set(name, out.recommendations);
      if (out.to === undefined) return undefined;
      const decision: AutoscaleDecision = { at: now, from: record.instances, to: out.to, reason: out.reason };
      const scaled = change.scale(record, out.to, this.#ctx(record, name)).record;
      await this.#commit({ ...scaled, autoscaleDecisions: recordDecision(record.autoscaleDecisions ?? [], decision) });
      this.o.logger.info({ service: name, from: decision.from, to: decision.to, reason: decision.reason }, 'service autoscaled');
      return decision;
    });
  }

  async rollback(name: string, toVersion?: string): Promise<Deployment> {
    return this.#deploy(name, (r, ctx) => change.rollback(r, toVersion || undefined, ctx));
  }

  async restart(name: string): Promise<Deployment> {
    return this.#deploy(name, (r, ctx) => change.restart(r, ctx));
  }

  async killTasks(name: string, taskIds: readonly string[], scale: boolean): Promise<Deployment> {
    if (!Array.isArray(taskIds) || taskIds.length === 0) throw new InvalidArgumentError('taskIds', 'name at least one task');
    return this.#deploy(name, (r, ctx) => {
      const out = change.killTasks(r, taskIds, scale, ctx);
      for (const id of out.kill) this.#supervisor.killTask(r, id, scale ? 'killed and scaled down on request' : 'killed on request');
      return out;
    });
  }

  async promote(name: string): Promise<Deployment> {
    return this.#deploy(name, (r, ctx) => change.promote(r, ctx.now));
  }

  async abort(name: string): Promise<Deployment> {
    return this.#deploy(name, (r, ctx) => change.abort(r, ctx.now));
  }

  async endpoints(name: string): Promise<Endpoint[]> {
    return this.#read(() => {
      const record = this.book.need(name);
      return endpointsOf(record, this.book.tasksOf(record));
    });
  }

  watch(listener: WatchListener): () => void {
    return this.#hub.subscribe(listener);
  }

  /** Each service's figures for /metrics, as the book holds them now (no plan is made for a scrape). */
  figures(): WorkloadFigures {
    const restarts = this.#supervisor.restarts;
    return { kind: 'SERVICE', services: this.book.sorted().map((r) => serviceFigures(r, this.book.tasksOf(r), restarts.get(r.name) ?? 0)) };
  }

  /** Stop intake, let the running step finish, close the driver. The framework stays registered. */
  async stop(): Promise<void> {
    const shell = this.#shell;
    this.#autoscaler?.stop();
    if (shell === undefined || !shell.running) return;
    await shell.stop();
    this.#hub.clear();
    this.o.logger.info('services framework stopped');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  // ---- helpers ----

  /** The plan status updates owe, in the serial section (nothing once the shell stops: the next leader plans). */
  async #payDebt(): Promise<void> {
    if (this.#shell?.running !== true) return;
    await this.#shell.act(() => this.#supervisor.payDebt());
  }

  /**
   * A read. While status updates owe a plan, it is made first and the read follows in the same
   * step of the serial section, so a read never sees a service between an update and its plan.
   */
  async #read<T>(fn: () => T): Promise<T> {
    const shell = this.#shell;
    if (!this.#debt.owed || shell?.running !== true) return fn();
    return shell.act(async () => {
      await this.#supervisor.payDebt();
      return fn();
    });
  }

  /** An API call, in the serial section (UnavailableError unless running). */
  async #act<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#shell === undefined) throw new UnavailableError('the services framework is starting');
    return this.#shell.act(fn);
  }

  /** Run a deployment-making change and return the deployment as it stands after planning. */
  async #deploy(name: string, fn: (r: ServiceRecord, ctx: change.Context) => change.Outcome): Promise<Deployment> {
    return this.#act(async () => {
      const record = this.book.need(name);
      const out = fn(record, this.#ctx(record, name));
      // A rollback brings back an older spec, and with it maybe a port another service took since.
      checkServicePort(specOf(out.record, out.record.version)!, this.book.records.values());
      await this.#commit(out.record);
      const now = this.book.need(name);
      const dep = now.deployments.find((d) => d.id === out.deployment?.id) ?? now.deployments.at(-1);
      if (dep === undefined) throw new NotFoundError('deployment', name);
      return deploymentView(dep, now, this.book.tasksOf(now));
    });
  }

  async #commit(record: ServiceRecord): Promise<void> {
    await this.book.put(record);
    await this.#supervisor.replan();
  }

  #ctx(record: ServiceRecord | undefined, name: string): change.Context {
    return { now: this.o.clock.now(), tasks: record ? this.book.tasksOf(record) : [], newId: () => `${name}-${shortId(8)}` };
  }

  #view(record: ServiceRecord): Workload {
    return workloadView(record, this.book.tasksOf(record), this.#supervisor.notes.get(record.name));
  }

  #graceOf(record: ServiceRecord, version: string): number {
    return record.versions.find((v) => v.version === version)?.spec.killGracePeriodSeconds ?? 5;
  }
}
