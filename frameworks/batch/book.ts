// The batch framework's book: every job's record — its spec (with a version), and its current run
// (JobState: tasks with index, attempt, state and times; started/finished; phase) — persisted in
// FrameworkState, and which job owns which task. In the store a job is a head node and its tasks in
// shards (job-layout.ts), so no node outgrows ZooKeeper's limit and an update rewrites only the
// shards it touched; the head is written with compare-and-set on every write, so a stale leader
// cannot overwrite what a newer one wrote (its write fails UNAVAILABLE, as record-book.ts's).
//
//   FrameworkState  /…/frameworks/agora-batch/state/
//     framework         { id }     the framework id (FrameworkShell)
//     jobs/<name>       JobHead    spec, version, runs, the current run's timestamps and phase
//     jobs/<name>/t<k>  JobShard   the run's tasks k·100 … k·100+99, in launch order
//
// A task is written here (STAGING) before it is launched, so a leader that dies between the two
// leaves a task the next one reconciles rather than launches again. Jobs stored whole (layout 1)
// are rewritten in this layout when a leader loads the book.
import { AgoraError, UnavailableError } from '../../core/errors.js';
import type { Op } from '../../core/store/index.js';
import type { FrameworkState } from '../../sdk/state.js';
import { RecordBook, type RecordKind } from '../record-book.js';
import { changedShards, headOf, isOldLayout, joinRecord, MULTI_BUDGET_BYTES, planShardWrites, replaceTasks, shardIndex, shardKey, type JobHead, type JobShard, type ShardOp } from './job-layout.js';
import type { JobRecord, JobTaskEntry } from './job-record.js';

export type { JobRecord, JobRun, JobTaskEntry } from './job-record.js';

const JOB: RecordKind<JobRecord> = { dir: 'jobs', noun: 'job', framework: 'batch', resource: 'job', taskIds: (r) => r.run.tasks.map((t) => t.taskId) };

/** What the book knows of a job's nodes. */
interface Stored {
  /** The head's version (the compare-and-set guard). */
  version: number;
  /** The head as last written, serialized (a write that changes nothing is skipped). */
  head: string;
  /** Shard indexes that exist. */
  readonly shards: Set<number>;
  /** Shards a failed write may have left unlike memory: rewritten by the next write. */
  readonly unsynced: Set<number>;
  /** `head` is also the head of the record in memory (false after a write failed part-way). */
  headIsMemory: boolean;
}

function stored0(version: number, head: string, shards: Iterable<number> = []): Stored {
  return { version, head, shards: new Set(shards), unsynced: new Set(), headIsMemory: true };
}

/** Read a job as stored, in either layout (tests and tools; the book keeps its own copy). */
export async function readJobRecord(state: FrameworkState, name: string): Promise<JobRecord | undefined> {
  const head = await state.get<JobHead | JobRecord>(`jobs/${name}`);
  if (head === undefined) return undefined;
  if (isOldLayout(head.value)) return head.value as JobRecord;
  return joinRecord(head.value as JobHead, await readShards(state, name));
}

async function readShards(state: FrameworkState, name: string): Promise<Map<number, JobShard>> {
  const shards = new Map<number, JobShard>();
  const children = (await state.list(`jobs/${name}`)).map((c) => shardIndex(c)).filter((k): k is number => k !== undefined);
  const read = await Promise.all(children.map(async (k) => [k, await state.get<JobShard>(shardKey(name, k))] as const));
  for (const [k, shard] of read) if (shard !== undefined) shards.set(k, shard.value);
  return shards;
}

export class JobBook extends RecordBook<JobRecord> {
  readonly #stored = new Map<string, Stored>();
  /** job → task id → its position in run.tasks. */
  readonly #slots = new Map<string, Map<string, number>>();

  private constructor(state: FrameworkState) {
    super(state, JOB);
  }

  /** Read every job; a job in layout 1 is rewritten in layout 2 (the caller leads). */
  static async load(state: FrameworkState): Promise<JobBook> {
    const book = new JobBook(state);
    for (const name of await state.list('jobs')) await book.#loadJob(name);
    return book;
  }

  async #loadJob(name: string): Promise<void> {
    const entry = await this.state.get<JobHead | JobRecord>(`jobs/${name}`);
    if (entry === undefined) return;
    if (isOldLayout(entry.value)) {
      await this.#migrate(entry.value as JobRecord, entry.version);
      return;
    }
    const shards = await readShards(this.state, name);
    const record = joinRecord(entry.value as JobHead, shards);
    this.#stored.set(name, stored0(entry.version, JSON.stringify(headOf(record)), shards.keys()));
    this.#index(undefined, record);
  }

  /**
   * Layout 1 → 2: the shards first (each transaction checks the old head is unchanged; leftovers of
   * an earlier attempt are deleted), the head last, so a migration cut short leaves layout 1 whole.
   */
  async #migrate(record: JobRecord, version: number): Promise<void> {
    const name = record.name;
    const leftovers = (await this.state.list(`jobs/${name}`)).map((c) => shardIndex(c)).filter((k): k is number => k !== undefined);
    const all = new Set(changedShards(undefined, record));
    const chunks = planShardWrites(record, new Set(), all);
    const check: Op = { op: 'check', path: this.#path(`jobs/${name}`), version };
    try {
      if (leftovers.length > 0) await this.state.store.multi([check, ...leftovers.map((k): Op => ({ op: 'delete', path: this.#path(shardKey(name, k)) }))]);
      for (const chunk of chunks) await this.state.store.multi([check, ...chunk.map((o) => this.#shardOp(name, o))]);
      const head = headOf(record);
      const next = await this.state.compareAndSet(`jobs/${name}`, head, version);
      this.#stored.set(name, stored0(next, JSON.stringify(head), chunks.flat().map((o) => o.k)));
    } catch (err) {
      throw this.#staleOr(name, err);
    }
    this.#index(undefined, record);
  }

  /** Persist a record (only when it changed: its head, or the shards of tasks that changed), then make it the book's. */
  override async put(record: JobRecord): Promise<void> {
    const name = record.name;
    const stored = this.#stored.get(name);
    const head = headOf(record);
    const headJson = JSON.stringify(head);
    if (stored === undefined) {
      if (record.run.tasks.length > 0) throw new Error(`job ${name}: a new job is stored without tasks`);
      try {
        const version = await this.state.create(`jobs/${name}`, head);
        this.#stored.set(name, stored0(version, headJson));
      } catch (err) {
        throw this.#staleOr(name, err);
      }
      this.#index(this.records.get(name), record);
      return;
    }
    await this.#persist(record, stored, changedShards(this.records.get(name), record), headJson);
  }

  /**
   * Write `record` given the shards whose tasks changed and its head (serialized): the shards to
   * rewrite (and those a failed write left unsynced) with the head, or nothing when neither changed.
   */
  async #persist(record: JobRecord, stored: Stored, rewrite: Set<number>, headJson: string): Promise<void> {
    const before = this.records.get(record.name);
    for (const k of stored.unsynced) rewrite.add(k);
    const chunks = planShardWrites(record, stored.shards, rewrite);
    if (chunks.length > 0 || headJson !== stored.head) await this.#write(record.name, stored, headJson, chunks.length === 0 ? [[]] : chunks, rewrite);
    this.#index(before, record);
  }

  /**
   * Store several new jobs (no tasks yet) in one transaction per MULTI_BUDGET_BYTES; a group the
   * store refuses is written job by job, so each job gets its own outcome. Returns, per record,
   * undefined when stored or the error that refused it.
   */
  async createMany(records: readonly JobRecord[]): Promise<unknown[]> {
    const out: unknown[] = records.map(() => undefined);
    let group: number[] = [];
    let bytes = 0;
    const flush = async (): Promise<void> => {
      const members = group;
      group = [];
      bytes = 0;
      if (members.length === 0) return;
      const heads = members.map((i) => headOf(records[i]!));
      try {
        await this.state.store.multi(heads.map((h): Op => ({ op: 'create', path: this.#path(`jobs/${h.name}`), data: Buffer.from(JSON.stringify(h)) })));
      } catch {
        for (const i of members) out[i] = await this.put(records[i]!).then(() => undefined, (err: unknown) => err);
        return;
      }
      members.forEach((i, n) => {
        this.#stored.set(records[i]!.name, stored0(0, JSON.stringify(heads[n])));
        this.#index(undefined, records[i]!);
      });
    };
    for (const [i, record] of records.entries()) {
      if (this.#stored.has(record.name) || record.run.tasks.length > 0) {
        out[i] = await this.put(record).then(() => undefined, (err: unknown) => err);
        continue;
      }
      const size = JSON.stringify(headOf(record)).length;
      if (group.length > 0 && bytes + size > MULTI_BUDGET_BYTES) await flush();
      group.push(i);
      bytes += size;
    }
    await flush();
    return out;
  }

  /**
   * Each transaction: the head (compare-and-set; set even when unchanged, so every write bumps its
   * version and a stale instance's next write fails) and a chunk of shards.
   */
  async #write(name: string, stored: Stored, headJson: string, chunks: readonly ShardOp[][], rewrite: ReadonlySet<number>): Promise<void> {
    const headData = Buffer.from(headJson);
    try {
      for (const chunk of chunks) {
        const results = await this.state.store.multi([{ op: 'set', path: this.#path(`jobs/${name}`), data: headData, version: stored.version }, ...chunk.map((o) => this.#shardOp(name, o))]);
        const first = results[0];
        if (first?.op === 'set') stored.version = first.stat.version;
        stored.head = headJson;
        for (const o of chunk) {
          if (o.op === 'delete') stored.shards.delete(o.k);
          else stored.shards.add(o.k);
        }
      }
      stored.unsynced.clear();
      stored.headIsMemory = true;
    } catch (err) {
      // Memory keeps the record from before this write: the shards it wrote hold the new tasks,
      // the others the old ones, so every shard it was to write is rewritten next time.
      for (const k of rewrite) stored.unsynced.add(k);
      stored.headIsMemory = false;
      throw this.#staleOr(name, err);
    }
  }

  #shardOp(name: string, o: ShardOp): Op {
    const path = this.#path(shardKey(name, o.k));
    if (o.op === 'delete') return { op: 'delete', path };
    if (o.op === 'create') return { op: 'create', path, data: o.data! };
    return { op: 'set', path, data: o.data! };
  }

  #path(key: string): string {
    return `${this.state.root}/${key}`;
  }

  override async remove(name: string): Promise<JobRecord | undefined> {
    const record = this.records.get(name);
    if (record === undefined) return undefined;
    try {
      // Only the head's version this instance last read or wrote: a stale leader cannot delete
      // what a newer one has written since.
      await this.state.delete(`jobs/${name}`, this.#stored.get(name)?.version ?? -1);
    } catch (err) {
      throw this.#staleOr(name, err);
    }
    this.#stored.delete(name);
    this.#slots.delete(name);
    this.records.delete(name);
    for (const t of record.run.tasks) this.forget(t.taskId);
    return record;
  }

  /** Change one task of a job (persisted); a no-op when the job or task is gone. */
  async updateTask(name: string, taskId: string, fn: (t: JobTaskEntry) => JobTaskEntry): Promise<JobRecord | undefined> {
    return this.updateTasks(name, new Map([[taskId, fn]]));
  }

  /**
   * Change several tasks of a job in one write; tasks the job does not hold are left out. The cost
   * is the changed tasks and the shards they are in: the head is the one last written (a change of
   * tasks leaves it as it was), and no other task is looked at.
   */
  async updateTasks(name: string, changes: ReadonlyMap<string, (t: JobTaskEntry) => JobTaskEntry>): Promise<JobRecord | undefined> {
    const record = this.records.get(name);
    const stored = this.#stored.get(name);
    if (record === undefined || stored === undefined) return undefined;
    const bySlot = new Map<number, JobTaskEntry>();
    for (const [taskId, fn] of changes) {
      const slot = this.slotOf(name, taskId);
      if (slot !== undefined) bySlot.set(slot, fn(bySlot.get(slot) ?? record.run.tasks[slot]!));
    }
    if (bySlot.size === 0) return undefined;
    const { tasks, shards } = replaceTasks(record.run.tasks, bySlot);
    if (tasks === record.run.tasks) return record;
    const next = { ...record, run: { ...record.run, tasks } };
    await this.#persist(next, stored, shards, stored.headIsMemory ? stored.head : JSON.stringify(headOf(next)));
    return next;
  }

  /** The task's position in its job's run.tasks, or undefined. */
  slotOf(name: string, taskId: string): number | undefined {
    const slots = this.#slots.get(name);
    const slot = slots?.get(taskId);
    return slot !== undefined && this.records.get(name)?.run.tasks[slot]?.taskId === taskId ? slot : undefined;
  }

  /** The task of a job, by id (O(1)). */
  task(name: string, taskId: string): JobTaskEntry | undefined {
    const slot = this.slotOf(name, taskId);
    return slot === undefined ? undefined : this.records.get(name)?.run.tasks[slot];
  }

  #index(before: JobRecord | undefined, record: JobRecord): void {
    const name = record.name;
    const tasks = record.run.tasks;
    let slots = this.#slots.get(name);
    const sameRun = before !== undefined && before.runs === record.runs && slots !== undefined && tasks.length >= before.run.tasks.length;
    if (!sameRun || slots === undefined) {
      if (before !== undefined) for (const t of before.run.tasks) this.forget(t.taskId);
      slots = new Map();
      this.#slots.set(name, slots);
    }
    for (let i = sameRun ? before.run.tasks.length : 0; i < tasks.length; i++) {
      slots.set(tasks[i]!.taskId, i);
      this.owner.set(tasks[i]!.taskId, name);
    }
    this.records.set(name, record);
  }

  #staleOr(name: string, err: unknown): unknown {
    if (!(err instanceof AgoraError) || (err.code !== 'AGORA_BAD_VERSION' && err.code !== 'AGORA_NODE_EXISTS')) return err;
    return new UnavailableError(`job ${name} was changed by another instance of the batch framework; this one is stale`, { cause: err });
  }
}
