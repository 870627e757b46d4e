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
import { recordChange } from './record-change.js';

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

  /**
   * A record as a plan left it: written when something durable changed (record-change.ts); a move
   * of the active deployment's progress alone is only kept here, and written with the next change
   * (every plan, after a restart too, works the progress out again from the tasks).
   */
  async save(record: ServiceRecord): Promise<void> {
    const change = recordChange(this.records.get(record.name), record);
    if (change === 'durable') await this.put(record);
    // Tasks and owners are as before: only the deployment's progress differs.
    else if (change === 'progress') this.records.set(record.name, record);
  }

  /** The service's tasks with what updates said about them. */
  tasksOf(record: ServiceRecord): TaskView[] {
    return Object.values(record.tasks).map((t) => this.#merged(t, this.runtime.get(t.taskId) ?? UNCONFIRMED));
  }

  /** One task of the service with what updates said about it (tasksOf for one, without building the rest). */
  taskView(record: ServiceRecord, taskId: string): TaskView | undefined {
    const task = record.tasks[taskId];
    return task === undefined ? undefined : this.#merged(task, this.runtime.get(taskId) ?? UNCONFIRMED);
  }

  // Both halves are immutable: a task's view is made again only when one of them was replaced, so
  // a plan of a thousand tasks does not copy a thousand objects after every update.
  readonly #views = new WeakMap<ServiceRecord['tasks'][string], { readonly runtime: TaskRuntime; readonly view: TaskView }>();

  #merged(task: ServiceRecord['tasks'][string], runtime: TaskRuntime): TaskView {
    const cached = this.#views.get(task);
    if (cached?.runtime === runtime) return cached.view;
    const view = { ...task, ...runtime };
    this.#views.set(task, { runtime, view });
    return view;
  }

  protected override forget(taskId: string): void {
    super.forget(taskId);
    this.runtime.delete(taskId);
  }
}
