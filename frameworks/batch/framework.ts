// The batch framework ('agora-batch'): the book of jobs, the supervisor, the launcher and the gang
// holds on the shared FrameworkShell, and the RunnableController API (kind JOB) over them. Every
// change — an API call, a status update, offers, a wake-up — runs in the shell's serial section.
//
//   startBatch ─► JobBook.load ─► FrameworkShell.start ─► subscribed: trackTask every live task
//                                                          (reconciled), forget held offers, replan
//   apply / trigger / suspend / delete ─► book.put ─► supervisor.replan ─► watch
//   offers ─► launcher   update ─► supervisor.update   rescind ─► holds   wake ─► replan + offer round
//
// Spec changes (Kubernetes makes most Job fields immutable): while a run is active, `task`,
// `completions`, `completionMode` and `gang` cannot change (InvalidArgumentError naming the field);
// parallelism, suspend, priority, backoffLimit, activeDeadlineSeconds, ttlSecondsAfterFinished and
// labels can. A changed run-defining field of a finished job starts a new run.
import { FailedPreconditionError, InvalidArgumentError, UnavailableError } from '../../core/errors.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { isTerminal } from '../../core/task-state.js';
import type { Workload } from '../../proto/index.js';
import { FrameworkShell } from '../shell.js';
import { WatchHub } from '../watch-hub.js';
import type { ApplyOptions, ApplyOutcome, WatchListener } from '../workload.js';
import type { WorkloadFigures } from '../workload-figures.js';
import { JobBook, type JobRecord } from './book.js';
import { Applies } from './applies.js';
import { GangHolds } from './holds.js';
import { JobLauncher } from './launcher.js';
import { BATCH_FRAMEWORK_NAME, compileBatchOptions, type BatchHandle, type BatchOptions, type CompiledBatchOptions } from './options.js';
import { planJob, type JobPlan } from './planner.js';
import { JobSupervisor } from './supervisor.js';
import { currentTemplate, validateJobSpec, type JobSpecDoc } from './spec.js';
import { workloadView } from './views.js';

// Fields a running job cannot change (what its tasks are and how many must succeed).
const IMMUTABLE_WHILE_ACTIVE = ['task', 'completions', 'completionMode', 'gang'] as const;
// Fields whose change makes a finished job run again; the rest (labels, priority, suspend, ttl) do not.
const RUN_DEFINING = [...IMMUTABLE_WHILE_ACTIVE, 'parallelism', 'backoffLimit', 'activeDeadlineSeconds'] as const;

export class BatchFramework implements BatchHandle {
  readonly kind = 'JOB' as const;
  #shell: FrameworkShell | undefined;
  readonly #hub: WatchHub;
  readonly #holds = new GangHolds();
  readonly #supervisor: JobSupervisor;
  readonly #launcher: JobLauncher;
  readonly #applies: Applies;
  readonly #role: string;
  readonly clock: Clock;
  readonly logger: Logger;

  private constructor(
    o: BatchOptions,
    private readonly c: CompiledBatchOptions,
    private readonly book: JobBook,
  ) {
    this.clock = o.clock ?? systemClock;
    this.logger = (o.logger ?? silentLogger()).child({ component: 'batch' });
    const { clock, logger } = this;
    this.#role = o.role || '*';
    this.#hub = new WatchHub('JOB', clock, logger);
    this.#supervisor = new JobSupervisor({
      book,
      holds: this.#holds,
      clock,
      logger,
      options: c,
      driver: () => this.#shell?.driver,
      wake: (at) => this.#shell?.wakeAt(at),
      publish: (names) => this.#publish(names),
      deleted: (record) => this.#hub.deleted(record.name, this.#view(record)),
      decline: (ids) => this.#declineNow(ids),
    });
    this.#applies = new Applies({ book, supervisor: this.#supervisor, now: () => this.#now(), change: changeOf, act: (fn) => this.#act(fn) });
    this.#launcher = new JobLauncher({ book, holds: this.#holds, supervisor: this.#supervisor, clock, logger, role: this.#role, options: c, ...(o.values ? { values: o.values } : {}) });
  }

  static async start(options: BatchOptions): Promise<BatchFramework> {
    const compiled = compileBatchOptions(options);
    const fw = new BatchFramework(options, compiled, await JobBook.load(options.state));
    const { clock, logger } = fw;
    // The handlers get the shell before the first subscription, so its first plan can set a wake-up.
    await FrameworkShell.start(
      // Partition-aware: a task whose agent stops answering is UNREACHABLE, not LOST — it may be
      // running still, and replacing it at once would run its index twice when the agent returns.
      { ...options, name: BATCH_FRAMEWORK_NAME, capabilities: ['PARTITION_AWARE'], role: fw.#role, clock, logger },
      (shell) => {
        fw.#shell = shell;
        return {
          subscribed: async (driver) => {
            fw.#holds.clear();
            fw.#supervisor.subscribed();
            for (const record of fw.book.records.values()) for (const t of record.run.tasks) if (!isTerminal(t.state)) driver.trackTask(t.taskId, t.agentId);
            await fw.#supervisor.replan();
          },
          offers: (driver, offers) => fw.#launcher.offers(driver, offers),
          update: (status) => fw.#supervisor.update(status),
          updates: (statuses) => fw.#supervisor.updates(statuses),
          rescind: async (offerId) => void fw.#holds.rescind(offerId),
          wake: async () => {
            await fw.#supervisor.replan();
            const driver = fw.#shell?.driver;
            if (driver !== undefined && fw.#holds.size > 0) await fw.#launcher.offers(driver, []);
          },
        };
      },
    );
    logger.info({ frameworkId: fw.#shell?.driver?.frameworkId, jobs: fw.book.records.size }, 'batch framework started');
    return fw;
  }

  /** An API call, in the serial section (UnavailableError before the shell runs). */
  #act<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#shell === undefined) return Promise.reject(new UnavailableError('the batch framework is starting'));
    return this.#shell.act(fn);
  }

  #declineNow(offerIds: readonly string[]): void {
    const driver = this.#shell?.driver;
    if (offerIds.length === 0 || driver === undefined || driver.state !== 'SUBSCRIBED') return;
    driver.decline(offerIds, { refuseSeconds: 0 }).catch((err: unknown) => this.logger.debug({ err, offers: offerIds.length }, 'decline failed; the offers time out instead'));
  }

  /** Publish the views of these jobs (every job when undefined). */
  #publish(names?: readonly string[]): void {
    for (const name of names ?? this.book.records.keys()) {
      const record = this.book.get(name);
      if (record !== undefined) this.#hub.publishLazy(name, () => this.#view(record));
    }
  }

  #view(record: JobRecord): Workload {
    return workloadView(record, this.#plan(record), this.#supervisor.reasons.get(record.name));
  }

  /** The job's latest plan (made now if the supervisor has none yet). */
  #plan(record: JobRecord): JobPlan {
    return this.#supervisor.plans.get(record.name) ?? planJob(record.spec, record.run, this.#now(), { backoff: this.c.retryBackoff, unreachableTimeoutMs: this.c.unreachableTimeoutMs });
  }

  /** Each job's figures for /metrics: its latest plan's phase and counts. */
  figures(): WorkloadFigures {
    return {
      kind: 'JOB',
      jobs: this.book.sorted().map((r) => {
        const p = this.#plan(r);
        return { name: r.name, phase: p.phase, completions: r.spec.completions, active: p.active, succeeded: p.succeeded, failed: p.failed };
      }),
    };
  }

  #now(): number {
    return this.clock.now();
  }

  // ---- RunnableController ----

  async apply(input: Record<string, unknown>, options: ApplyOptions = {}): Promise<ApplyOutcome> {
    const spec = validateJobSpec(input);
    if (spec.task.role !== '' && spec.task.role !== this.#role) {
      throw new InvalidArgumentError('task.role', `the batch framework runs as role '${this.#role}': omit role, or set it to '${this.#role}'`);
    }
    // Grouped with the applies that arrive meanwhile: one store transaction, one plan (applies.ts).
    return this.#applies.submit(spec, options.dryRun === true);
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
      await this.#supervisor.deleteJob(record, 'deleted on request');
      this.#hub.deleted(name, last);
      await this.#supervisor.replan([]);
    });
  }

  /** Run a finished job again: a fresh run (runs + 1). Refused while the job is still active. */
  async trigger(name: string): Promise<{ runId: string }> {
    return this.#act(async () => {
      const record = this.book.need(name);
      if (record.run.finishedAtMs === undefined) {
        const phase = this.#supervisor.plans.get(name)?.phase ?? 'JOB_PENDING';
        throw new FailedPreconditionError(`job ${name} is still active (${phase}): trigger runs a finished job again; delete it, or wait for it to finish`);
      }
      const now = this.#now();
      const next: JobRecord = { ...record, runs: record.runs + 1, updatedAtMs: now, run: { submittedAtMs: now, tasks: [] } };
      await this.book.put(next);
      this.#supervisor.forgetRun(name);
      await this.#supervisor.replan([name]);
      return { runId: `${name}.r${next.runs}` };
    });
  }

  async suspend(name: string, suspended: boolean): Promise<void> {
    if (typeof suspended !== 'boolean') throw new InvalidArgumentError('suspend', 'must be true or false');
    await this.#act(async () => {
      const record = this.book.need(name);
      if (record.spec.suspend === suspended) return;
      const spec: JobSpecDoc = Object.freeze({ ...record.spec, suspend: suspended });
      await this.book.put({ ...record, spec, version: record.version + 1, updatedAtMs: this.#now() });
      await this.#supervisor.replan([name]);
    });
  }

  watch(listener: WatchListener): () => void {
    return this.#hub.subscribe(listener);
  }

  async stop(): Promise<void> {
    await this.#shell?.stop();
    this.#hub.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

interface Change {
  readonly result: ApplyOutcome['result'];
  readonly record: JobRecord;
}

/** What applying `spec` does to the job (pure): create it, refuse, store a new version, or start a new run. */
export function changeOf(existing: JobRecord | undefined, spec: JobSpecDoc, now: number): Change {
  if (existing === undefined) {
    return { result: 'CREATED', record: { name: spec.name, version: 1, spec, createdAtMs: now, updatedAtMs: now, runs: 1, run: { submittedAtMs: now, tasks: [] } } };
  }
  // A job stored before jobs shared the common task template compares as validateJobSpec writes it now.
  const stored: JobSpecDoc = { ...existing.spec, task: currentTemplate(existing.spec.task) };
  if (JSON.stringify(stored) === JSON.stringify(spec)) return { result: 'UNCHANGED', record: existing };
  const differs = (field: keyof JobSpecDoc): boolean => JSON.stringify(stored[field]) !== JSON.stringify(spec[field]);
  const updated = { ...existing, spec, version: existing.version + 1, updatedAtMs: now };
  if (existing.run.finishedAtMs === undefined) {
    const locked = IMMUTABLE_WHILE_ACTIVE.find(differs);
    if (locked !== undefined) {
      throw new InvalidArgumentError(locked, `cannot change ${locked} of job ${spec.name} while it is active: wait for it to finish (or delete it), then apply; parallelism, suspend, priority, backoffLimit, activeDeadlineSeconds, ttlSecondsAfterFinished and labels may change`);
    }
    return { result: 'UPDATED', record: updated };
  }
  if (!RUN_DEFINING.some(differs)) return { result: 'UPDATED', record: updated };
  return { result: 'UPDATED', record: { ...updated, runs: existing.runs + 1, run: { submittedAtMs: now, tasks: [] } } };
}
