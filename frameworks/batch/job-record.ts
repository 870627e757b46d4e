// A batch job's record as the framework holds it: the spec with its version, and the current
// run with its tasks (book.ts persists it; job-layout.ts says how it is laid out in the store).
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
