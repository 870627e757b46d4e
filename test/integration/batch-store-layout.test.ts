// The batch framework's store layout (frameworks/batch/job-layout.ts, book.ts) on a real
// ZooKeeper, whose nodes and requests are refused above 1 MB: a job with 100,000 completions keeps
// every node under the limit; a job stored whole (layout 1) is rewritten when a leader loads it; a
// stale instance's write is refused; and a job survives a restart of its framework in the new layout.
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../core/store/index.js';
import { JobBook, readJobRecord, type JobRecord, type JobTaskEntry } from '../../frameworks/batch/book.js';
import { changeOf } from '../../frameworks/batch/framework.js';
import { SHARD_TASKS } from '../../frameworks/batch/job-layout.js';
import { validateJobSpec } from '../../frameworks/batch/spec.js';
import { FrameworkState } from '../../sdk/state.js';
import { securedZkUrl } from '../support/security.js';
import { testServices } from '../support/services.js';
import { finished, jobSpec, startBatchCluster, stopBatchClusters, until } from './batch-harness.js';

const ZK_NODE_LIMIT = 1024 * 1024;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const closers: Array<() => Promise<unknown>> = [];
let clusters = 0;

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  await stopBatchClusters();
});

async function zkState(): Promise<FrameworkState> {
  const store: Store = await openStore(securedZkUrl(`zk://${testServices().zk}/agora`));
  closers.push(() => store.close());
  const state = new FrameworkState(store, `layout${process.pid}x${clusters++}`, 'agora-batch');
  await store.mkdirp(state.root);
  return state;
}

function finishedTask(i: number): JobTaskEntry {
  // As a real completion stores it: ids as minted, the agent's message.
  return {
    taskId: `big.r1.a0.${i.toString(16).padStart(8, '0')}`,
    attempt: 0,
    state: 'TASK_FINISHED',
    launchedAtMs: T0 + i,
    runningAtMs: T0 + i + 5,
    finishedAtMs: T0 + i + 50,
    agentId: '4f1e8a52-2b7c-4d7e-9d55-6f1c3b1f0c9e-S0',
    hostname: 'agent-host-17.example.internal',
    exitCode: 0,
    message: 'Command exited with status 0',
  };
}

/** Every node under the job, with its size. */
async function nodeSizes(state: FrameworkState, name: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  const path = `${state.root}/jobs/${name}`;
  sizes.set(path, (await state.store.get(path)).data.length);
  for (const child of await state.store.getChildren(path)) sizes.set(`${path}/${child}`, (await state.store.get(`${path}/${child}`)).data.length);
  return sizes;
}

describe('batch store layout on ZooKeeper', () => {
  it('keeps every node of a job with 100,000 completions under the 1 MB limit', async () => {
    const state = await zkState();
    const book = await JobBook.load(state);
    const spec = validateJobSpec({ name: 'big', completions: 100_000, parallelism: 1000, task: { command: 'true', resources: { cpus: 0.1, mem: 16 } } });
    await book.put(changeOf(undefined, spec, T0).record);
    // A thousand launches at a time, each then finished: 200 writes.
    for (let wave = 0; wave < 100; wave++) {
      const record = book.need('big');
      const launched = Array.from({ length: 1000 }, (_, i) => ({ ...finishedTask(wave * 1000 + i), state: 'TASK_STAGING' as const }));
      await book.put({ ...record, run: { ...record.run, tasks: [...record.run.tasks, ...launched] } });
      await book.updateTasks('big', new Map(launched.map((t, i) => [t.taskId, () => finishedTask(wave * 1000 + i)])));
    }
    const whole = book.need('big');
    expect(whole.run.tasks).toHaveLength(100_000);
    expect(whole.run.tasks.every((t) => t.state === 'TASK_FINISHED')).toBe(true);

    const sizes = await nodeSizes(state, 'big');
    expect(sizes.size).toBe(1 + 100_000 / SHARD_TASKS);
    for (const [path, size] of sizes) expect(size, path).toBeLessThan(ZK_NODE_LIMIT);
    // The layout it replaces: the whole record in one node, which ZooKeeper refuses.
    expect(JSON.stringify(whole).length).toBeGreaterThan(ZK_NODE_LIMIT);
    await expect(state.set('too-big', whole)).rejects.toThrow();

    // Read back, by a tool and by the next leader.
    expect((await readJobRecord(state, 'big'))!.run.tasks).toEqual(whole.run.tasks);
    const next = await JobBook.load(state);
    expect(next.need('big')).toEqual(whole);
  }, 120_000);

  it('rewrites a job stored whole (layout 1) when a leader loads it, and reads it the same', async () => {
    const state = await zkState();
    const spec = validateJobSpec({ name: 'old', completions: 250, parallelism: 250, task: { command: 'true', resources: { cpus: 0.1, mem: 16 } } });
    const base = changeOf(undefined, spec, T0).record;
    const old: JobRecord = { ...base, run: { ...base.run, startedAtMs: T0, tasks: Array.from({ length: 250 }, (_, i) => ({ ...finishedTask(i), taskId: `old.r1.a0.${i}` })) } };
    await state.create('jobs/old', old);
    // Leftovers of a migration cut short are replaced.
    await state.create('jobs/old/t7', { run: 1, tasks: [] });

    const book = await JobBook.load(state);
    expect(book.need('old')).toEqual(old);
    const head = (await state.get<Record<string, unknown>>('jobs/old'))!.value;
    expect(head).toMatchObject({ layout: 2, taskCount: 250, name: 'old', runs: 1 });
    expect(head).not.toHaveProperty('run.tasks');
    expect(await state.list('jobs/old')).toEqual(['t0', 't1', 't2']);
    expect(await readJobRecord(state, 'old')).toEqual(old);
    // Loaded again: already layout 2, nothing to move.
    expect((await JobBook.load(state)).need('old')).toEqual(old);
  });

  it('refuses the write of a stale instance after a newer one wrote the job', async () => {
    const state = await zkState();
    const spec = validateJobSpec({ name: 'two', completions: 3, task: { command: 'true', resources: { cpus: 0.1, mem: 16 } } });
    const stale = await JobBook.load(state);
    await stale.put(changeOf(undefined, spec, T0).record);
    const newer = await JobBook.load(state);
    const record = newer.need('two');
    await newer.put({ ...record, run: { ...record.run, tasks: [{ ...finishedTask(0), taskId: 'two.r1.a0.x' }] } });
    const mine = stale.need('two');
    await expect(stale.put({ ...mine, run: { ...mine.run, tasks: [{ ...finishedTask(1), taskId: 'two.r1.a0.y' }] } })).rejects.toMatchObject({ code: 'AGORA_UNAVAILABLE' });
    expect(stale.need('two').run.tasks).toEqual([]);
    await expect(stale.remove('two')).rejects.toMatchObject({ code: 'AGORA_UNAVAILABLE' });
    expect((await readJobRecord(state, 'two'))!.run.tasks.map((t) => t.taskId)).toEqual(['two.r1.a0.x']);
  });
});

describe('batch store layout across a restart of the framework', () => {
  it('a job of more than one shard finishes after a restart with each task counted once', async () => {
    const c = await startBatchCluster();
    const n = SHARD_TASKS + 20;
    await c.batch.apply(jobSpec('sharded', 'true', { completions: n, parallelism: 20 }, { cpus: 0.01, mem: 16 }));
    await until(async () => ((await c.record('sharded'))?.run.tasks.length ?? 0) >= 40, '40 tasks launched', 30_000);
    await c.stopBatch();
    await c.startBatch();
    const status = await finished(c, 'sharded', 90_000);
    const tasks = (await c.record('sharded'))!.run.tasks;
    expect(tasks.filter((t) => t.state !== 'TASK_FINISHED' && t.voided !== true).map((t) => `${t.state} ${t.message}`)).toEqual([]);
    expect(status).toMatchObject({ phase: 'JOB_SUCCEEDED', succeeded: n, failed: 0 });
    expect(tasks.filter((t) => t.voided !== true)).toHaveLength(n);
    expect(new Set(tasks.map((t) => t.taskId)).size).toBe(tasks.length);
    // One shard per SHARD_TASKS tasks of the run, voided attempts included (a restart under load
    // may void many in-flight tasks, so the run can outgrow two shards).
    expect(tasks.length).toBeGreaterThan(SHARD_TASKS);
    const shards = Array.from({ length: Math.ceil(tasks.length / SHARD_TASKS) }, (_, i) => `t${i}`);
    expect((await c.state.list('jobs/sharded')).sort()).toEqual(shards.sort());
  }, 120_000);
});
