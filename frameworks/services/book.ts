// The services framework's book: every service's record (persisted in FrameworkState, one key per
// service, written with compare-and-set so a stale leader cannot overwrite a newer one: the shared
// frameworks/record-book.ts), what status updates said about each task (in memory), and which
// service owns which task.
//
//   FrameworkState  /…/frameworks/agora-services/state/
//     framework          { id }            the framework id (kept by frameworks/shell.ts, not here)
//     services/<name>    ServiceRecord     spec versions, deployments, tasks (id, version, agent, ports)
import type { FrameworkState } from '../../sdk/state.js';
import { RecordBook, type RecordKind } from '../record-book.js';
import type { ServiceRecord, TaskRuntime, TaskView } from './model.js';

/** A task the book has not heard about since this process started: adopted, waiting for reconciliation. */
export const UNCONFIRMED: TaskRuntime = Object.freeze({ state: 'TASK_STAGING', confirmed: false, startedAtMs: 0, message: 'waiting for reconciliation' });

const SERVICE: RecordKind<ServiceRecord> = { dir: 'services', noun: 'service', framework: 'services', resource: 'service', taskIds: (r) => Object.keys(r.tasks) };

export class ServiceBook extends RecordBook<ServiceRecord> {
  readonly runtime = new Map<string, TaskRuntime>();

  private constructor(state: FrameworkState) {
    super(state, SERVICE);
  }

  static async load(state: FrameworkState): Promise<ServiceBook> {
    const book = new ServiceBook(state);
    await book.loadRecords();
    return book;
  }

  /** The service's tasks with what updates said about them. */
  tasksOf(record: ServiceRecord): TaskView[] {
    return Object.values(record.tasks).map((t) => ({ ...t, ...(this.runtime.get(t.taskId) ?? UNCONFIRMED) }));
  }

  protected override forget(taskId: string): void {
    super.forget(taskId);
    this.runtime.delete(taskId);
  }
}
