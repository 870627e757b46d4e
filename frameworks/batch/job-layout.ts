// How a job is laid out in the store (pure: records in, nodes and write plans out). No ZooKeeper
// node may outgrow its 1 MB limit (jute.maxbuffer), however many tasks a job runs, and a status
// update must not rewrite the whole job. So a job is a small head node and its run's tasks in
// shards of SHARD_TASKS consecutive tasks (launch order), each a child of the head:
//
//   jobs/<name>        JobHead   layout 2: spec, version, runs, the run's timestamps and phase
//   jobs/<name>/t<k>   JobShard  tasks k·SHARD_TASKS … (k+1)·SHARD_TASKS − 1 of run `run`
//
// A task's message is kept to MAX_MESSAGE characters, so a shard stays far below the limit (a task
// entry is at most ~2 KB: ids and hostnames are bounded). A write sets the head (its version is the
// compare-and-set guard against a stale leader) and only the shards whose tasks changed; writes
// larger than MULTI_BUDGET_BYTES go in several transactions, each setting the head (a ZooKeeper
// transaction is one request, under the same limit).
//
// Layout 1 (before): jobs/<name> held the whole JobRecord, tasks included. It is read and
// rewritten in layout 2 when a leader loads the book (book.ts).
import type { JobRecord, JobRun, JobTaskEntry } from './job-record.js';

export const LAYOUT = 2;
/** Tasks per shard node. */
export const SHARD_TASKS = 100;
/** A task's stored message is cut to this many characters. */
export const MAX_MESSAGE = 1024;
/** Bytes of shard data per transaction (half of ZooKeeper's default 1 MB request limit). */
export const MULTI_BUDGET_BYTES = 512 * 1024;

export type RunHead = Omit<JobRun, 'tasks'>;

export interface JobHead extends Omit<JobRecord, 'run'> {
  readonly layout: typeof LAYOUT;
  readonly run: RunHead;
  /** Tasks in the run (shards: ceil(taskCount / SHARD_TASKS)). */
  readonly taskCount: number;
}

export interface JobShard {
  /** The run its tasks belong to (a shard left from an earlier run is ignored). */
  readonly run: number;
  readonly tasks: readonly JobTaskEntry[];
}

/** A layout-1 record (the whole job in one node) rather than a layout-2 head. */
export function isOldLayout(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { layout?: unknown }).layout !== LAYOUT;
}

export function headOf(record: JobRecord): JobHead {
  const { tasks, ...run } = record.run;
  return { ...record, layout: LAYOUT, run, taskCount: tasks.length };
}

export function shardCount(taskCount: number): number {
  return Math.ceil(taskCount / SHARD_TASKS);
}

export function shardKey(name: string, k: number): string {
  return `jobs/${name}/t${k}`;
}

/** The shard index of a child name (`t12` → 12), or undefined for anything else. */
export function shardIndex(child: string): number | undefined {
  const m = /^t(0|[1-9][0-9]{0,8})$/.exec(child);
  return m ? Number(m[1]) : undefined;
}

export function shardOf(record: JobRecord, k: number): JobShard {
  const tasks = record.run.tasks.slice(k * SHARD_TASKS, (k + 1) * SHARD_TASKS).map(trimMessage);
  return { run: record.runs, tasks };
}

function trimMessage(t: JobTaskEntry): JobTaskEntry {
  return t.message !== undefined && t.message.length > MAX_MESSAGE ? { ...t, message: `${t.message.slice(0, MAX_MESSAGE - 1)}…` } : t;
}

/** The record from its head and its shards (by index; shards of another run are left out). */
export function joinRecord(head: JobHead, shards: ReadonlyMap<number, JobShard>): JobRecord {
  const { layout: _layout, taskCount: _count, run, ...rest } = head;
  const tasks: JobTaskEntry[] = [];
  for (const k of [...shards.keys()].sort((a, b) => a - b)) {
    const shard = shards.get(k)!;
    if (shard.run === head.runs) tasks.push(...shard.tasks);
  }
  return { ...rest, run: { ...run, tasks } };
}

/**
 * The shards to write for `next`: those holding a task that is not the same object as in
 * `before` (tasks are immutable, so identity says "changed"), all of them when the run changed.
 * The same tasks array (a change of the head only) costs nothing.
 */
export function changedShards(before: JobRecord | undefined, next: JobRecord): Set<number> {
  const out = new Set<number>();
  const a = before?.runs === next.runs ? before.run.tasks : [];
  const b = next.run.tasks;
  if (a === b) return out;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) out.add(Math.floor(i / SHARD_TASKS));
  return out;
}

/** The shard a task's position in the run falls in. */
export function shardOfSlot(slot: number): number {
  return Math.floor(slot / SHARD_TASKS);
}

/**
 * `tasks` with the entries at the given positions replaced, and the shards that now differ: what
 * a batch of status updates does to a run, in time proportional to the changes (and one copy of
 * the array's references) rather than a comparison of every task. An entry that is the same
 * object as before changes nothing; positions outside the run are ignored.
 */
export function replaceTasks(tasks: readonly JobTaskEntry[], changes: ReadonlyMap<number, JobTaskEntry>): { tasks: readonly JobTaskEntry[]; shards: Set<number> } {
  const shards = new Set<number>();
  let next: JobTaskEntry[] | undefined;
  for (const [slot, entry] of changes) {
    if (!Number.isInteger(slot) || slot < 0 || slot >= tasks.length || tasks[slot] === entry) continue;
    next ??= tasks.slice();
    next[slot] = entry;
    shards.add(shardOfSlot(slot));
  }
  return { tasks: next ?? tasks, shards };
}

/** One shard operation of a write: set or create it with its data, or delete it. */
export interface ShardOp {
  readonly k: number;
  readonly op: 'create' | 'set' | 'delete';
  readonly data?: Buffer;
}

/**
 * What writing `next` does to the shards, given those that exist and those to rewrite: creates and
 * sets in ascending order, then deletes of shards past the end in descending order (so a write cut
 * short leaves no gap), grouped into transactions of at most MULTI_BUDGET_BYTES of data.
 */
export function planShardWrites(next: JobRecord, existing: ReadonlySet<number>, rewrite: ReadonlySet<number>): ShardOp[][] {
  const count = shardCount(next.run.tasks.length);
  const ops: ShardOp[] = [];
  for (const k of [...rewrite].filter((k) => k < count).sort((a, b) => a - b)) {
    ops.push({ k, op: existing.has(k) ? 'set' : 'create', data: Buffer.from(JSON.stringify(shardOf(next, k))) });
  }
  for (const k of [...existing].filter((k) => k >= count).sort((a, b) => b - a)) ops.push({ k, op: 'delete' });
  const chunks: ShardOp[][] = [];
  let chunk: ShardOp[] = [];
  let bytes = 0;
  for (const op of ops) {
    const size = op.data?.length ?? 0;
    if (chunk.length > 0 && bytes + size > MULTI_BUDGET_BYTES) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(op);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
