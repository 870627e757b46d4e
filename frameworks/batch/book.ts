// The batch framework's book: every job's record — its spec (with a version), and its current run
// (JobState: tasks with index, attempt, state and times; started/finished; phase) — persisted in
// FrameworkState, one key per job, written with compare-and-set so a stale leader cannot overwrite
// a newer one (the shared frameworks/record-book.ts); plus which job owns which task.
//
//   FrameworkState  /…/frameworks/agora-batch/state/
//     framework      { id }      the framework id (FrameworkShell)
//     jobs/<name>    JobRecord   spec, version, runs, the current run and its tasks
//
// A task is written here (STAGING) before it is launched, so a leader that dies between the two
// leaves a task the next one reconciles rather than launches again.
import type { FrameworkState } from '../../sdk/state.js';
import { RecordBook, type RecordKind } from '../record-book.js';
import type { JobState, JobTaskRecord } from './planner.js';
import type { JobSpecDoc } from './spec.js';

/** A task as persisted: what the planner reads, plus where it ran and what it said. */
export interface JobTaskEntry extends JobTaskRecord {
  readonly agentId: string;
  readonly hostname: string;
  /** When it was first reported RUNNING (a task never RUNNING that is lost never ran: voided). */
  readonly runningAtMs?: number;
  readonly exitCode?: number;
  readonly message?: string;
  /**
   * Its end is the master's inference (LOST, GONE, UNKNOWN from SOURCE_MASTER; sdk/task-ends.ts):
   * the agent's own end, if it comes, replaces it.
   */
  readonly inferred?: boolean;
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

const JOB: RecordKind<JobRecord> = { dir: 'jobs', noun: 'job', framework: 'batch', resource: 'job', taskIds: (r) => r.run.tasks.map((t) => t.taskId) };

export class JobBook extends RecordBook<JobRecord> {
  private constructor(state: FrameworkState) {
    super(state, JOB);
  }

  static async load(state: FrameworkState): Promise<JobBook> {
    const book = new JobBook(state);
    await book.loadRecords();
    return book;
  }

  /** Change one task of a job (persisted); a no-op when the job or task is gone. */
  async updateTask(name: string, taskId: string, fn: (t: JobTaskEntry) => JobTaskEntry): Promise<JobRecord | undefined> {
    const record = this.records.get(name);
    if (record === undefined || !record.run.tasks.some((t) => t.taskId === taskId)) return undefined;
    const next = { ...record, run: { ...record.run, tasks: record.run.tasks.map((t) => (t.taskId === taskId ? fn(t) : t)) } };
    await this.put(next);
    return next;
  }
}
