// The cron framework's book: every cron job's record, persisted in its FrameworkState (one key per
// job, compare-and-set, so a stale leader cannot overwrite what a newer one wrote), and which job
// owns which task. A record holds the new runs and lastScheduleTime together, so one write
// persists a plan before anything is launched.
//
//   FrameworkState  /…/frameworks/agora-cron/state/
//     framework          { id }           the framework id (frameworks/shell.ts)
//     cronjobs/<name>    CronJobRecord    spec, version, lastScheduleTime, runs and their tasks
import { AgoraError, UnavailableError } from '../../core/errors.js';
import type { FrameworkState } from '../../sdk/state.js';
import type { CronJobRecord } from './model.js';

const CRONJOBS = 'cronjobs';

export class CronBook {
  readonly records = new Map<string, CronJobRecord>();
  /** task id → cron job name. */
  readonly owner = new Map<string, string>();
  readonly #versions = new Map<string, number>();

  private constructor(private readonly state: FrameworkState) {}

  static async load(state: FrameworkState): Promise<CronBook> {
    const book = new CronBook(state);
    for (const name of await state.list(CRONJOBS)) {
      const entry = await state.get<CronJobRecord>(`${CRONJOBS}/${name}`);
      if (entry === undefined) continue;
      book.#versions.set(name, entry.version);
      book.#index(entry.value);
    }
    return book;
  }

  /** Persist a record (only when it changed), then make it the book's. */
  async put(record: CronJobRecord): Promise<void> {
    const before = this.records.get(record.name);
    if (before !== undefined && JSON.stringify(before) === JSON.stringify(record)) return;
    const key = `${CRONJOBS}/${record.name}`;
    const version = this.#versions.get(record.name);
    try {
      const next = version === undefined ? await this.state.create(key, record) : await this.state.compareAndSet(key, record, version);
      this.#versions.set(record.name, next);
    } catch (err) {
      if (err instanceof AgoraError && (err.code === 'AGORA_BAD_VERSION' || err.code === 'AGORA_NODE_EXISTS')) {
        throw new UnavailableError(`cron job ${record.name} was changed by another instance of the cron framework; this one is stale`, { cause: err });
      }
      throw err;
    }
    if (before !== undefined) for (const run of before.runs) for (const t of run.tasks) this.owner.delete(t.taskId);
    this.#index(record);
  }

  async remove(name: string): Promise<CronJobRecord | undefined> {
    const record = this.records.get(name);
    if (record === undefined) return undefined;
    await this.state.delete(`${CRONJOBS}/${name}`);
    this.#versions.delete(name);
    this.records.delete(name);
    for (const run of record.runs) for (const t of run.tasks) this.owner.delete(t.taskId);
    return record;
  }

  #index(record: CronJobRecord): void {
    this.records.set(record.name, record);
    for (const run of record.runs) for (const t of run.tasks) this.owner.set(t.taskId, record.name);
  }
}
