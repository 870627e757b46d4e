// How a batch job is laid out in the store (frameworks/batch/job-layout.ts): a head and shards of
// SHARD_TASKS tasks; a write rewrites only the shards whose tasks changed, in transactions of
// bounded size; shards of another run are not the job's.
import { describe, expect, it } from 'vitest';
import type { JobRecord, JobTaskEntry } from '../../frameworks/batch/book.js';
import { changeOf } from '../../frameworks/batch/framework.js';
import { changedShards, headOf, isOldLayout, joinRecord, MAX_MESSAGE, MULTI_BUDGET_BYTES, planShardWrites, replaceTasks, SHARD_TASKS, shardIndex, shardOf, shardOfSlot, type JobShard } from '../../frameworks/batch/job-layout.js';
import { validateJobSpec } from '../../frameworks/batch/spec.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const spec = validateJobSpec({ name: 'j', completions: 1000, parallelism: 1000, task: { command: 'true', resources: { cpus: 0.1, mem: 16 } } });

function task(i: number, extra: Partial<JobTaskEntry> = {}): JobTaskEntry {
  return { taskId: `j.r1.a0.${String(i).padStart(8, '0')}`, attempt: 0, state: 'TASK_RUNNING', launchedAtMs: T0 + i, agentId: 'agent-1', hostname: 'host-1', ...extra };
}

function withTasks(n: number): JobRecord {
  const record = changeOf(undefined, spec, T0).record;
  return { ...record, run: { ...record.run, tasks: Array.from({ length: n }, (_, i) => task(i)) } };
}

describe('batch job layout', () => {
  it('rewrites only the shard of a changed task, and every shard when the run changes', () => {
    const before = withTasks(350);
    const tasks = [...before.run.tasks];
    tasks[120] = { ...tasks[120]!, state: 'TASK_FINISHED' };
    const after = { ...before, run: { ...before.run, tasks } };
    expect([...changedShards(before, after)]).toEqual([1]);
    const appended = { ...before, run: { ...before.run, tasks: [...before.run.tasks, task(350)] } };
    expect([...changedShards(before, appended)]).toEqual([3]);
    const nextRun = { ...before, runs: 2 };
    expect([...changedShards(before, nextRun)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
    expect([...changedShards(before, before)]).toEqual([]);
  });

  it('splits a large write into transactions under the budget: creates and sets ascending, deletes of shards past the end descending', () => {
    const big = 'x'.repeat(MAX_MESSAGE);
    const record = withTasks(30 * SHARD_TASKS);
    const heavy = { ...record, run: { ...record.run, tasks: record.run.tasks.map((t) => ({ ...t, message: big })) } };
    const all = changedShards(undefined, heavy);
    const chunks = planShardWrites(heavy, new Set([0, 1]), all);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk.reduce((n, o) => n + (o.data?.length ?? 0), 0)).toBeLessThanOrEqual(MULTI_BUDGET_BYTES);
    const ops = chunks.flat();
    expect(ops.slice(0, 3).map((o) => [o.k, o.op])).toEqual([
      [0, 'set'],
      [1, 'set'],
      [2, 'create'],
    ]);
    expect(ops.map((o) => o.k)).toEqual(Array.from({ length: 30 }, (_, k) => k));

    const shrunk = withTasks(50);
    const deletes = planShardWrites({ ...shrunk, runs: 2 }, new Set([0, 1, 2, 3]), changedShards(shrunk, { ...shrunk, runs: 2 })).flat();
    expect(deletes.map((o) => [o.k, o.op])).toEqual([
      [0, 'set'],
      [3, 'delete'],
      [2, 'delete'],
      [1, 'delete'],
    ]);
  });

  it('keeps a stored message to MAX_MESSAGE characters', () => {
    const record = withTasks(1);
    const long = { ...record, run: { ...record.run, tasks: [task(0, { message: 'm'.repeat(10 * MAX_MESSAGE) })] } };
    expect(shardOf(long, 0).tasks[0]!.message).toHaveLength(MAX_MESSAGE);
  });

  it('joins a head and its shards in shard order, leaving out shards of another run', () => {
    const record = withTasks(250);
    const head = headOf(record);
    expect(isOldLayout(head)).toBe(false);
    expect(isOldLayout(record)).toBe(true);
    expect(head).not.toHaveProperty('run.tasks');
    const shards = new Map<number, JobShard>([
      [2, shardOf(record, 2)],
      [0, shardOf(record, 0)],
      [1, shardOf(record, 1)],
    ]);
    expect(joinRecord(head, shards)).toEqual(record);
    shards.set(3, { run: 0, tasks: [task(999)] });
    expect(joinRecord(head, shards).run.tasks).toHaveLength(250);
  });

  it('replaces the changed tasks by position and names only their shards, leaving the run as it was', () => {
    const before = withTasks(10 * SHARD_TASKS);
    const original = before.run.tasks;
    const done = (i: number): JobTaskEntry => task(i, { state: 'TASK_FINISHED', finishedAtMs: T0 + 1000 + i });
    const { tasks, shards } = replaceTasks(original, new Map([[5, done(5)], [250, done(250)], [299, done(299)], [999, done(999)]]));
    expect([...shards].sort((a, b) => a - b)).toEqual([0, 2, 9]);
    expect(tasks).not.toBe(original);
    expect(tasks.filter((t) => t.state === 'TASK_FINISHED').map((t) => t.launchedAtMs - T0)).toEqual([5, 250, 299, 999]);
    // Every other entry is the same object; the run it came from is untouched.
    expect(tasks.every((t, i) => [5, 250, 299, 999].includes(i) || t === original[i])).toBe(true);
    expect(original.every((t) => t.state === 'TASK_RUNNING')).toBe(true);
    // The shards it names are those a full comparison finds.
    expect(shards).toEqual(changedShards(before, { ...before, run: { ...before.run, tasks } }));
  });

  it('changes nothing for entries that are the same object or positions outside the run', () => {
    const { run } = withTasks(150);
    const same = replaceTasks(run.tasks, new Map([[3, run.tasks[3]!], [120, run.tasks[120]!]]));
    expect(same.tasks).toBe(run.tasks);
    expect(same.shards.size).toBe(0);
    const outside = replaceTasks(run.tasks, new Map([[-1, task(0)], [150, task(150)], [1.5, task(1)]]));
    expect(outside.tasks).toBe(run.tasks);
    expect(outside.shards.size).toBe(0);
    expect([shardOfSlot(0), shardOfSlot(SHARD_TASKS - 1), shardOfSlot(SHARD_TASKS), shardOfSlot(10 * SHARD_TASKS + 7)]).toEqual([0, 0, 1, 10]);
  });

  it('reads shard names strictly', () => {
    expect(shardIndex('t0')).toBe(0);
    expect(shardIndex('t12')).toBe(12);
    for (const bad of ['t', 't01', 'x1', 't1a', 't-1', 't9999999999']) expect(shardIndex(bad)).toBeUndefined();
  });
});
