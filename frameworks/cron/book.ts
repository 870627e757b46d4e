// The cron framework's book: every cron job's record, persisted in its FrameworkState (one key per
// job, compare-and-set, so a stale leader cannot overwrite what a newer one wrote: the shared
// frameworks/record-book.ts), and which job owns which task. A record holds the new runs and
// lastScheduleTime together, so one write persists a plan before anything is launched.
//
//   FrameworkState  /…/frameworks/agora-cron/state/
//     framework          { id }           the framework id (frameworks/shell.ts)
//     cronjobs/<name>    CronJobRecord    spec, version, lastScheduleTime, runs and their tasks
import type { FrameworkState } from '../../sdk/state.js';
import { RecordBook, type RecordKind } from '../record-book.js';
import type { CronJobRecord } from './model.js';

const CRON_JOB: RecordKind<CronJobRecord> = {
  dir: 'cronjobs',
  noun: 'cron job',
  framework: 'cron',
  resource: 'cronjob',
  taskIds: (r) => r.runs.flatMap((run) => run.tasks.map((t) => t.taskId)),
};

export class CronBook extends RecordBook<CronJobRecord> {
  private constructor(state: FrameworkState) {
    super(state, CRON_JOB);
  }

  static async load(state: FrameworkState): Promise<CronBook> {
    const book = new CronBook(state);
    await book.loadRecords();
    return book;
  }
}
