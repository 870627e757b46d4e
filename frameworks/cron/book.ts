// The cron framework's book: every cron job's record, persisted in its FrameworkState (one key per
// job, compare-and-set, so a stale leader cannot overwrite what a newer one wrote: the shared
// frameworks/record-book.ts), and which job owns which task. A record holds the new runs and
// lastScheduleTime together, so one write persists a plan before anything is launched.
//
// Every write passes here, so the book also sees each run end for good, whichever path ended it
// (a task's end, an active deadline, an unreachable task given up, a late success): it stamps the
// record's lastFailedMs, and counts outcomes and skipped times per job for /metrics (since this
// framework started; a deleted job's count goes with it).
//
//   FrameworkState  /…/frameworks/agora-cron/state/
//     framework          { id }           the framework id (frameworks/shell.ts)
//     cronjobs/<name>    CronJobRecord    spec, version, lastScheduleTime, runs and their tasks
import type { FrameworkState } from '../../sdk/state.js';
import { RecordBook, type RecordKind } from '../record-book.js';
import type { CronJobRecord, RunRecord } from './model.js';
import { activeRuns } from './planner.js';

const CRON_JOB: RecordKind<CronJobRecord> = {
  dir: 'cronjobs',
  noun: 'cron job',
  framework: 'cron',
  resource: 'cronjob',
  taskIds: (r) => r.runs.flatMap((run) => run.tasks.map((t) => t.taskId)),
};

export interface RunTally {
  succeeded: number;
  failed: number;
  skipped: number;
}

export class CronBook extends RecordBook<CronJobRecord> {
  /** Runs ended for good and scheduled times skipped, per job, since this book was loaded. */
  readonly tally = new Map<string, RunTally>();

  private constructor(state: FrameworkState) {
    super(state, CRON_JOB);
  }

  static async load(state: FrameworkState): Promise<CronBook> {
    const book = new CronBook(state);
    await book.loadRecords();
    return book;
  }

  override async put(record: CronJobRecord): Promise<void> {
    const before = this.records.get(record.name);
    const ended = endedForGood(before, record);
    const failedAt = Math.max(0, ...ended.filter((e) => e.outcome === 'failed').map((e) => e.at));
    const next = failedAt > (record.lastFailedMs ?? 0) ? { ...record, lastFailedMs: failedAt } : record;
    await super.put(next);
    const tally = this.tally.get(record.name) ?? { succeeded: 0, failed: 0, skipped: 0 };
    for (const e of ended) tally[e.outcome] += 1;
    for (const s of record.skipped) if (!before?.skipped.includes(s)) tally.skipped += s.count;
    this.tally.set(record.name, tally);
  }

  override async remove(name: string): Promise<CronJobRecord | undefined> {
    const removed = await super.remove(name);
    this.tally.delete(name);
    return removed;
  }
}

type Outcome = 'succeeded' | 'failed';

/** A run's outcome once it is final: succeeded, or failed with no retry to come. */
function outcomeOf(record: CronJobRecord, run: RunRecord): Outcome | undefined {
  if (run.state === 'succeeded') return 'succeeded';
  if (run.state === 'failed' && activeRuns(record.spec, [run]).length === 0) return 'failed';
  return undefined;
}

/** Runs whose final outcome is new in `after` (a late success turns a failed run into a succeeded one: counted again, as a success). */
function endedForGood(before: CronJobRecord | undefined, after: CronJobRecord): { outcome: Outcome; at: number }[] {
  const was = new Map((before?.runs ?? []).map((r) => [r.id, before ? outcomeOf(before, r) : undefined]));
  const out: { outcome: Outcome; at: number }[] = [];
  for (const run of after.runs) {
    const outcome = outcomeOf(after, run);
    if (outcome !== undefined && was.get(run.id) !== outcome) out.push({ outcome, at: run.finishedAt ?? after.updatedAtMs });
  }
  return out;
}
