// The batch framework's book: every job's record — its spec (with a version), and its current run
// (JobState: tasks with index, attempt, state and times; started/finished; phase) — persisted in
// FrameworkState, one key per job, written with compare-and-set so a stale leader cannot overwrite
// a newer one; plus which job owns which task.
//
//   FrameworkState  /…/frameworks/agora-batch/state/
//     framework      { id }      the framework id (FrameworkShell)
//     jobs/<name>    JobRecord   spec, version, runs, the current run and its tasks
//
// A task is written here (STAGING) before it is launched, so a leader that dies between the two
// leaves a task the next one reconciles rather than launches again.
import { AgoraError, UnavailableError } from '../../core/errors.js';
import type { FrameworkState } from '../../sdk/state.js';
import type { JobState, JobTaskRecord } from './planner.js';
import type { JobSpecDoc } from './spec.js';

const JOBS = 'jobs';

/** A task as persisted: what the planner reads, plus where it ran and what it said. */
export interface JobTaskEntry extends JobTaskRecord {
  readonly agentId: string;
  readonly hostname: string;
  /** When it was first reported RUNNING (a task never RUNNING that is lost never ran: voided). */
  readonly runningAtMs?: number;
  readonly exitCode?: number;
  readonly message?: string;
}

export interface JobRun extends JobState {
  readonly tasks: readonly JobTaskEntry[];
}

export interface JobRecord {
  readonly name: string;
  /** 1, 2, …: bumped on every spec change (shown as v1, v2). */
  readonly version: number;
  readonly spec: JobSpecDoc;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  /** Runs so far, the current one included (trigger starts another). */
  readonly runs: number;
  readonly run: JobRun;
}

export class JobBook {
  readonly records = new Map<string, JobRecord>();
  /** task id → job name. */
  readonly owner = new Map<string, string>();
  readonly #versions = new Map<string, number>();

  private constructor(private readonly state: FrameworkState) {}

  static async load(state: FrameworkState): Promise<JobBook> {
    const book = new JobBook(state);
    for (const name of await state.list(JOBS)) {
      const entry = await state.get<JobRecord>(`${JOBS}/${name}`);
      if (entry === undefined) continue;
      book.#versions.set(name, entry.version);
      book.#index(entry.value);
    }
    return book;
  }

  get(name: string): JobRecord | undefined {
    return this.records.get(name);
  }

  /** Persist a record (only when it changed), then make it the book's. */
  async put(record: JobRecord): Promise<void> {
    const before = this.records.get(record.name);
    if (before !== undefined && JSON.stringify(before) === JSON.stringify(record)) return;
    const key = `${JOBS}/${record.name}`;
    const version = this.#versions.get(record.name);
    try {
      const next = version === undefined ? await this.state.create(key, record) : await this.state.compareAndSet(key, record, version);
      this.#versions.set(record.name, next);
    } catch (err) {
      if (err instanceof AgoraError && (err.code === 'AGORA_BAD_VERSION' || err.code === 'AGORA_NODE_EXISTS')) {
        throw new UnavailableError(`job ${record.name} was changed by another instance of the batch framework; this one is stale`, { cause: err });
      }
      throw err;
    }
    if (before !== undefined) {
      const kept = new Set(record.run.tasks.map((t) => t.taskId));
      for (const t of before.run.tasks) if (!kept.has(t.taskId)) this.owner.delete(t.taskId);
    }
    this.#index(record);
  }

  /** Change one task of a job (persisted); a no-op when the job or task is gone. */
  async updateTask(name: string, taskId: string, fn: (t: JobTaskEntry) => JobTaskEntry): Promise<JobRecord | undefined> {
    const record = this.records.get(name);
    if (record === undefined || !record.run.tasks.some((t) => t.taskId === taskId)) return undefined;
    const next = { ...record, run: { ...record.run, tasks: record.run.tasks.map((t) => (t.taskId === taskId ? fn(t) : t)) } };
    await this.put(next);
    return next;
  }

  async remove(name: string): Promise<JobRecord | undefined> {
    const record = this.records.get(name);
    if (record === undefined) return undefined;
    await this.state.delete(`${JOBS}/${name}`);
    this.#versions.delete(name);
    this.records.delete(name);
    for (const t of record.run.tasks) this.owner.delete(t.taskId);
    return record;
  }

  #index(record: JobRecord): void {
    this.records.set(record.name, record);
    for (const t of record.run.tasks) this.owner.set(t.taskId, record.name);
  }
}
