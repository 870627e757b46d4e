// The cron framework ('agora-cron'): the RunnableController for kind CronJob, on the shared
// FrameworkShell (frameworks/shell.ts: driver with the stored framework id, one serial section,
// one wake-up timer). The book persists every plan before the supervisor acts on it, and every
// launch before the launcher makes it, so restarts and failovers neither skip nor double a run.
//
//   startCron ─► CronBook.load ─► FrameworkShell.start ─► subscribed: track + reconcile, replan
//   apply / trigger / suspend / delete ─► shell.act ─► book.put ─► supervisor.replan ─► watch
//   offers ─► launcher   updates ─► supervisor.update   wake-up ─► supervisor.replan
import { systemClock, type Clock } from '../../core/clock.js';
import { InvalidArgumentError, UnavailableError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { Workload } from '../../proto/index.js';
import type { FrameworkOptions } from '../framework-options.js';
import { killRetryMsOf } from '../common/kill-tracker.js';
import { msOption, UNREACHABLE_TIMEOUT_MS } from '../common/durations.js';
import { FrameworkShell } from '../shell.js';
import { WatchHub } from '../watch-hub.js';
import type { ApplyOptions, ApplyOutcome, RunnableController, WatchListener } from '../workload.js';
import { CronBook } from './book.js';
import { CronLauncher } from './launcher.js';
import { liveTasks, nextVersion, type CronJobRecord } from './model.js';
import { initialState } from './planner.js';
import { manualRun } from './runs.js';
import { CronSupervisor } from './supervisor.js';
import { validateCronJobSpec, type CronJobSpec } from './spec.js';
import { cronFigures, workloadView } from './views.js';
import type { WorkloadFigures } from '../workload-figures.js';
import type { ValueResolver } from '../common/value-refs.js';

export const CRON_FRAMEWORK_NAME = 'agora-cron';

/** The host's options (frameworks/framework-options.ts); a spec may name only `role` (default '*'). */
export type CronOptions = FrameworkOptions;

export class CronFramework implements RunnableController {
  readonly kind = 'CRONJOB' as const;
  readonly #hub: WatchHub;
  readonly #supervisor: CronSupervisor;
  readonly #launcher: CronLauncher;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #shell: FrameworkShell | undefined;

  private constructor(
    private readonly book: CronBook,
    readonly role: string,
    clock: Clock,
    logger: Logger,
    killRetryMs: number,
    unreachableTimeoutMs: number,
    values?: ValueResolver,
  ) {
    this.#clock = clock;
    this.#logger = logger;
    this.#hub = new WatchHub('CRONJOB', clock, logger);
    this.#supervisor = new CronSupervisor({
      book,
      clock,
      logger,
      role,
      killRetryMs,
      unreachableTimeoutMs,
      driver: () => this.#shell?.driver,
      wake: (at) => this.#shell?.wakeAt(at),
      publish: () => this.#publish(),
    });
    this.#launcher = new CronLauncher({
      book,
      clock,
      logger,
      role,
      ...(values ? { values } : {}),
      pending: () => this.#supervisor.pending,
      declinedIdle: () => this.#supervisor.declinedIdle(),
      replan: () => this.#supervisor.replan(),
    });
  }

  static async start(options: CronOptions): Promise<CronFramework> {
    if (!options?.state) throw new InvalidArgumentError('state', 'the cron framework needs its FrameworkState');
    const logger = (options.logger ?? silentLogger()).child({ component: 'cron' });
    const clock = options.clock ?? systemClock;
    const killRetryMs = killRetryMsOf(options.killRetryMs);
    const timeout = msOption(options.unreachableTimeoutMs, UNREACHABLE_TIMEOUT_MS, 'unreachableTimeoutMs');
    const fw = new CronFramework(await CronBook.load(options.state), options.role || '*', clock, logger, killRetryMs, timeout, options.values);
    // The shell hands itself over before subscribing: the first plan's wake-up reaches it.
    await FrameworkShell.start(
      // Partition-aware: a task whose agent stops answering is UNREACHABLE, not LOST — it may still
      // run, so its run stays active rather than failing (and being retried, or overlapping the next).
      { ...options, name: CRON_FRAMEWORK_NAME, capabilities: ['PARTITION_AWARE'], role: fw.role, clock, logger },
      (shell) => {
        fw.#shell = shell;
        return {
          subscribed: (driver) => fw.#supervisor.subscribed(driver),
          offers: (driver, offers) => fw.#launcher.offers(driver, offers),
          update: (status) => fw.#supervisor.update(status),
          wake: () => fw.#supervisor.replan(),
        };
      },
    );
    logger.info({ cronjobs: fw.book.records.size }, 'cron framework started');
    return fw;
  }

  // ---- RunnableController ----

  async apply(doc: Record<string, unknown>, options: ApplyOptions = {}): Promise<ApplyOutcome> {
    const spec = validateCronJobSpec(doc);
    if (spec.task.role !== '' && spec.task.role !== this.role) {
      throw new InvalidArgumentError('task.role', `the cron framework runs as role '${this.role}': omit role, or set it to '${this.role}'`);
    }
    return this.#act(async () => {
      this.#checkCycle(spec);
      const existing = this.book.records.get(spec.name);
      const now = this.#clock.now();
      if (existing !== undefined && JSON.stringify(existing.spec) === JSON.stringify(spec)) {
        return { kind: 'CRONJOB', name: spec.name, version: existing.version, result: 'UNCHANGED' };
      }
      const version = nextVersion(existing?.version);
      const result = existing === undefined ? 'CREATED' : 'UPDATED';
      if (!options.dryRun) {
        const state = initialState(now);
        const base: CronJobRecord = existing ?? { name: spec.name, spec, version, createdAtMs: now, updatedAtMs: now, lastScheduleTime: state.lastScheduleTime, lastSuccessfulMs: 0, runs: [], skipped: [] };
        await this.book.put({ ...base, spec, version, updatedAtMs: now });
        this.#logger.info({ cronjob: spec.name, version, result }, 'cron job applied');
        await this.#supervisor.replan();
      }
      return { kind: 'CRONJOB', name: spec.name, version, result };
    });
  }

  async get(name: string): Promise<Workload> {
    return this.#view(this.book.need(name));
  }

  async list(): Promise<Workload[]> {
    return this.book.sorted().map((r) => this.#view(r));
  }

  async delete(name: string): Promise<void> {
    await this.#act(async () => {
      const record = this.book.need(name);
      const last = this.#view(record);
      await this.book.remove(name);
      for (const run of record.runs) for (const t of liveTasks(run)) this.#supervisor.killTask(t.taskId, t.agentId, record.spec.task.killGracePeriodSeconds, 'its cron job was deleted');
      this.#hub.deleted(name, last);
      this.#logger.info({ cronjob: name }, 'cron job deleted');
      await this.#supervisor.replan();
    });
  }

  /**
   * Start a run now, like `kubectl create job --from=cronjob/NAME`: it ignores the concurrency
   * policy and suspend, and scheduled runs do not count it as active; retries, the active
   * deadline and the history limits apply to it.
   */
  async trigger(name: string): Promise<{ runId: string }> {
    return this.#act(async () => {
      const record = this.book.need(name);
      const run = manualRun(record, this.#clock.now());
      await this.book.put({ ...record, runs: [...record.runs, run] });
      this.#logger.info({ cronjob: name, runId: run.id }, 'run started by hand');
      await this.#supervisor.replan();
      return { runId: run.id };
    });
  }

  async suspend(name: string, suspended: boolean): Promise<void> {
    if (typeof suspended !== 'boolean') throw new InvalidArgumentError('suspend', 'must be true or false');
    await this.#act(async () => {
      const record = this.book.need(name);
      if (record.spec.suspend === suspended) return;
      const spec = Object.freeze({ ...record.spec, suspend: suspended });
      await this.book.put({ ...record, spec, version: nextVersion(record.version), updatedAtMs: this.#clock.now() });
      this.#logger.info({ cronjob: name, suspended }, suspended ? 'cron job suspended' : 'cron job resumed');
      await this.#supervisor.replan();
    });
  }

  watch(listener: WatchListener): () => void {
    return this.#hub.subscribe(listener);
  }

  /** Each cron job's figures for /metrics, from the book as it is now. */
  figures(): WorkloadFigures {
    const now = this.#clock.now();
    return { kind: 'CRONJOB', cronjobs: this.book.sorted().map((r) => cronFigures(r, now, this.book.tally.get(r.name))) };
  }

  async stop(): Promise<void> {
    await this.#shell?.stop();
    this.#hub.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  // ---- helpers ----

  #act<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#shell === undefined) return Promise.reject(new UnavailableError('the cron framework is starting'));
    return this.#shell.act(fn);
  }

  #view(record: CronJobRecord): Workload {
    return workloadView(record, this.#clock.now(), this.#launcher.unplaced.get(record.name));
  }

  #publish(): void {
    for (const record of this.book.records.values()) this.#hub.publish(record.name, this.#view(record));
  }

  /** `after` may not lead back to the job itself through other jobs' `after`. */
  #checkCycle(spec: CronJobSpec): void {
    const afterOf = (name: string): readonly string[] => (name === spec.name ? spec.after : (this.book.records.get(name)?.spec.after ?? []));
    const path: string[] = [];
    const visit = (name: string): void => {
      if (path.includes(name)) {
        const i = spec.after.indexOf(path[1] ?? name);
        throw new InvalidArgumentError(i >= 0 ? `after[${i}]` : 'after', `a dependency cycle: ${[...path, name].join(' → ')}`);
      }
      path.push(name);
      for (const parent of afterOf(name)) visit(parent);
      path.pop();
    };
    visit(spec.name);
  }
}
