// The part every framework's book shares: records persisted in FrameworkState, one key per record
// (`<dir>/<name>`), written with compare-and-set so a stale leader cannot overwrite what a newer one
// wrote (its write fails UNAVAILABLE: "… this one is stale"), and which record owns which task.
// Each book (services/book.ts, cron/book.ts, batch/book.ts) extends it with its record type and
// says where a record's task ids are.
import { AgoraError, NotFoundError, UnavailableError } from '../core/errors.js';
import type { FrameworkState } from '../sdk/state.js';

export interface RecordKind<T> {
  /** The state directory of the records (`services`, `cronjobs`, `jobs`). */
  readonly dir: string;
  /** What a record is called in errors: "service", "cron job", "job". */
  readonly noun: string;
  /** The framework's name in errors: "services", "cron", "batch". */
  readonly framework: string;
  /** What NOT_FOUND calls a record: "service", "cronjob", "job". */
  readonly resource: string;
  /** The ids of the tasks a record holds. */
  readonly taskIds: (record: T) => Iterable<string>;
}

export abstract class RecordBook<T extends { readonly name: string }> {
  readonly records = new Map<string, T>();
  /** task id → record name. */
  readonly owner = new Map<string, string>();
  readonly #versions = new Map<string, number>();

  protected constructor(
    protected readonly state: FrameworkState,
    private readonly kind: RecordKind<T>,
  ) {}

  /** Read every record (for a book's static load). */
  protected async loadRecords(): Promise<void> {
    const { dir } = this.kind;
    for (const name of await this.state.list(dir)) {
      const entry = await this.state.get<T>(`${dir}/${name}`);
      if (entry === undefined) continue;
      this.#versions.set(name, entry.version);
      this.#index(entry.value);
    }
  }

  get(name: string): T | undefined {
    return this.records.get(name);
  }

  /** The record, or NotFoundError (a name that is no string, from a request, is not found either). */
  need(name: string): T {
    const record = typeof name === 'string' ? this.records.get(name) : undefined;
    if (record === undefined) throw new NotFoundError(this.kind.resource, String(name));
    return record;
  }

  /** Every record, by name (the order the API lists them in). */
  sorted(): T[] {
    return [...this.records.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Persist a record (only when it changed), then make it the book's. */
  async put(record: T): Promise<void> {
    const before = this.records.get(record.name);
    if (before !== undefined && JSON.stringify(before) === JSON.stringify(record)) return;
    const key = `${this.kind.dir}/${record.name}`;
    const version = this.#versions.get(record.name);
    try {
      const next = version === undefined ? await this.state.create(key, record) : await this.state.compareAndSet(key, record, version);
      this.#versions.set(record.name, next);
    } catch (err) {
      throw this.#staleOr(record.name, err);
    }
    if (before !== undefined) {
      const kept = new Set(this.kind.taskIds(record));
      for (const id of this.kind.taskIds(before)) if (!kept.has(id)) this.forget(id);
    }
    this.#index(record);
  }

  async remove(name: string): Promise<T | undefined> {
    const record = this.records.get(name);
    if (record === undefined) return undefined;
    try {
      // As put(): only the version this instance last read or wrote, so a stale leader cannot
      // delete what a newer one has written since.
      await this.state.delete(`${this.kind.dir}/${name}`, this.#versions.get(name) ?? -1);
    } catch (err) {
      throw this.#staleOr(name, err);
    }
    this.#versions.delete(name);
    this.records.delete(name);
    for (const id of this.kind.taskIds(record)) this.forget(id);
    return record;
  }

  /** A task its record no longer holds; a book that keeps more per task forgets that too. */
  protected forget(taskId: string): void {
    this.owner.delete(taskId);
  }

  /** A write refused because another instance wrote the record since: UNAVAILABLE, naming it; any other error as it is. */
  #staleOr(name: string, err: unknown): unknown {
    if (!(err instanceof AgoraError) || (err.code !== 'AGORA_BAD_VERSION' && err.code !== 'AGORA_NODE_EXISTS')) return err;
    const { noun, framework } = this.kind;
    return new UnavailableError(`${noun} ${name} was changed by another instance of the ${framework} framework; this one is stale`, { cause: err });
  }

  #index(record: T): void {
    this.records.set(record.name, record);
    for (const id of this.kind.taskIds(record)) this.owner.set(id, record.name);
  }
}
