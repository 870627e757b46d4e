// The services framework's book: every service's record (persisted in FrameworkState, one key per
// service, written with compare-and-set so a stale leader cannot overwrite a newer one), what
// status updates said about each task (in memory), and which service owns which task.
//
//   FrameworkState  /…/frameworks/agora-services/state/
//     framework          { id }            the framework id, to resubscribe as the same framework
//     services/<name>    ServiceRecord     spec versions, deployments, tasks (id, version, agent, ports)
import { AgoraError, UnavailableError } from '../../core/errors.js';
import type { FrameworkState } from '../../sdk/state.js';
import type { ServiceRecord, TaskRuntime, TaskView } from './model.js';

const SERVICES = 'services';
const FRAMEWORK = 'framework';

/** A task the book has not heard about since this process started: adopted, waiting for reconciliation. */
export const UNCONFIRMED: TaskRuntime = Object.freeze({ state: 'TASK_STAGING', confirmed: false, startedAtMs: 0, message: 'waiting for reconciliation' });

export class ServiceBook {
  readonly records = new Map<string, ServiceRecord>();
  readonly runtime = new Map<string, TaskRuntime>();
  /** task id → service name. */
  readonly owner = new Map<string, string>();
  readonly #versions = new Map<string, number>();
  #frameworkId: string | undefined;

  private constructor(private readonly state: FrameworkState) {}

  static async load(state: FrameworkState): Promise<ServiceBook> {
    const book = new ServiceBook(state);
    const fw = await state.get<{ id?: string }>(FRAMEWORK);
    book.#frameworkId = fw?.value.id || undefined;
    for (const name of await state.list(SERVICES)) {
      const entry = await state.get<ServiceRecord>(`${SERVICES}/${name}`);
      if (entry === undefined) continue;
      book.#versions.set(name, entry.version);
      book.#index(entry.value);
    }
    return book;
  }

  get frameworkId(): string | undefined {
    return this.#frameworkId;
  }

  async setFrameworkId(id: string): Promise<void> {
    if (id === this.#frameworkId) return;
    await this.state.set(FRAMEWORK, { id });
    this.#frameworkId = id;
  }

  /** The service's tasks with what updates said about them. */
  tasksOf(record: ServiceRecord): TaskView[] {
    return Object.values(record.tasks).map((t) => ({ ...t, ...(this.runtime.get(t.taskId) ?? UNCONFIRMED) }));
  }

  /** Persist a record (only when it changed), then make it the book's. */
  async put(record: ServiceRecord): Promise<void> {
    const before = this.records.get(record.name);
    if (before !== undefined && JSON.stringify(before) === JSON.stringify(record)) return;
    const key = `${SERVICES}/${record.name}`;
    const version = this.#versions.get(record.name);
    try {
      const next = version === undefined ? await this.state.create(key, record) : await this.state.compareAndSet(key, record, version);
      this.#versions.set(record.name, next);
    } catch (err) {
      if (err instanceof AgoraError && (err.code === 'AGORA_BAD_VERSION' || err.code === 'AGORA_NODE_EXISTS')) {
        throw new UnavailableError(`service ${record.name} was changed by another instance of the services framework; this one is stale`, { cause: err });
      }
      throw err;
    }
    if (before !== undefined) for (const id of Object.keys(before.tasks)) if (record.tasks[id] === undefined) this.#forget(id);
    this.#index(record);
  }

  async remove(name: string): Promise<ServiceRecord | undefined> {
    const record = this.records.get(name);
    if (record === undefined) return undefined;
    await this.state.delete(`${SERVICES}/${name}`);
    this.#versions.delete(name);
    this.records.delete(name);
    for (const id of Object.keys(record.tasks)) this.#forget(id);
    return record;
  }

  #index(record: ServiceRecord): void {
    this.records.set(record.name, record);
    for (const id of Object.keys(record.tasks)) this.owner.set(id, record.name);
  }

  #forget(taskId: string): void {
    this.owner.delete(taskId);
    this.runtime.delete(taskId);
  }
}
