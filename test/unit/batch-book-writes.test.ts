// What JobBook.updateTasks writes (frameworks/batch/book.ts), on the in-memory embedded store: a
// batch of task changes rewrites the head (the compare-and-set guard) and only the shards of the
// changed tasks; a stale instance's update is refused; and after a write that failed part-way the
// next update writes the head of the record in memory, not the one the failed write left behind.
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Op, type OpResult, type Store } from '../../core/store/index.js';
import { JobBook, readJobRecord, type JobTaskEntry } from '../../frameworks/batch/book.js';
import { changeOf } from '../../frameworks/batch/framework.js';
import { MAX_MESSAGE, SHARD_TASKS } from '../../frameworks/batch/job-layout.js';
import { validateJobSpec } from '../../frameworks/batch/spec.js';
import { FrameworkState } from '../../sdk/state.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const closers: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
});

/** A real store whose `multi` fails when `failNext` is set (once), as a lost connection would. */
async function storeWithFaults(): Promise<{ store: Store; faults: { failNext: number } }> {
  const real = await openStore('memory:');
  closers.push(() => real.close());
  const faults = { failNext: 0 };
  const store = new Proxy(real, {
    get(target, prop) {
      if (prop === 'multi') {
        return async (ops: readonly Op[]): Promise<OpResult[]> => {
          if (faults.failNext > 0 && --faults.failNext === 0) throw new Error('injected: the connection was lost');
          return target.multi(ops);
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store, faults };
}

async function stateOn(store: Store): Promise<FrameworkState> {
  const state = new FrameworkState(store, 'writes', 'agora-batch');
  await store.mkdirp(state.root);
  return state;
}

function task(i: number, extra: Partial<JobTaskEntry> = {}): JobTaskEntry {
  return { taskId: `w.r1.a0.${String(i).padStart(8, '0')}`, attempt: 0, state: 'TASK_STAGING', launchedAtMs: T0 + i, agentId: 'agent-1', hostname: 'host-1', ...extra };
}

/** The version of the head and of every shard of job `w`. */
async function versions(state: FrameworkState): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const path = `${state.root}/jobs/w`;
  out.set('head', (await state.store.get(path)).stat.version);
  for (const child of await state.store.getChildren(path)) out.set(child, (await state.store.get(`${path}/${child}`)).stat.version);
  return out;
}

async function bookWithTasks(state: FrameworkState, n: number, extra: Partial<JobTaskEntry> = {}): Promise<JobBook> {
  const book = await JobBook.load(state);
  const spec = validateJobSpec({ name: 'w', completions: n, parallelism: n, task: { command: 'true', resources: { cpus: 0.1, mem: 16 } } });
  await book.put(changeOf(undefined, spec, T0).record);
  const record = book.need('w');
  await book.put({ ...record, run: { ...record.run, tasks: Array.from({ length: n }, (_, i) => task(i, extra)) } });
  return book;
}

describe('JobBook.updateTasks', () => {
  it('rewrites the head and only the shards of the changed tasks', async () => {
    const { store } = await storeWithFaults();
    const state = await stateOn(store);
    const book = await bookWithTasks(state, 10 * SHARD_TASKS);
    const before = await versions(state);
    const running = (i: number) => [task(i).taskId, (t: JobTaskEntry) => ({ ...t, state: 'TASK_RUNNING' as const, runningAtMs: T0 + 100 })] as const;
    const next = await book.updateTasks('w', new Map([running(3), running(250), running(999), ['not-a-task-of-w', (t: JobTaskEntry) => t]]));
    const after = await versions(state);

    const bumped = [...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => k);
    expect(bumped.sort()).toEqual(['head', 't2', 't9', 't0'].sort());
    expect(next!.run.tasks.filter((t) => t.state === 'TASK_RUNNING').map((t) => t.launchedAtMs - T0)).toEqual([3, 250, 999]);
    expect(book.need('w')).toBe(next);
    expect(await readJobRecord(state, 'w')).toEqual(next);
    // Nothing to change: no write at all.
    expect(await book.updateTasks('w', new Map([['not-a-task-of-w', (t: JobTaskEntry) => t]]))).toBeUndefined();
    expect(await book.updateTasks('w', new Map([[task(5).taskId, (t: JobTaskEntry) => t]]))).toBe(next);
    expect(await versions(state)).toEqual(after);
  });

  it('refuses the update of a stale instance after a newer one wrote the job', async () => {
    const { store } = await storeWithFaults();
    const state = await stateOn(store);
    const stale = await bookWithTasks(state, 150);
    const newer = await JobBook.load(state);
    await newer.updateTasks('w', new Map([[task(1).taskId, (t: JobTaskEntry) => ({ ...t, state: 'TASK_RUNNING' as const })]]));
    await expect(stale.updateTasks('w', new Map([[task(120).taskId, (t: JobTaskEntry) => ({ ...t, state: 'TASK_FAILED' as const })]]))).rejects.toMatchObject({ code: 'AGORA_UNAVAILABLE' });
    expect(stale.task('w', task(120).taskId)!.state).toBe('TASK_STAGING');
    const stored = (await readJobRecord(state, 'w'))!;
    expect(stored.run.tasks.map((t) => t.state).filter((s) => s !== 'TASK_STAGING')).toEqual(['TASK_RUNNING']);
  });

  it('after a write that failed part-way, writes the head in memory and every shard the failure left behind', async () => {
    const { store, faults } = await storeWithFaults();
    const state = await stateOn(store);
    const book = await bookWithTasks(state, 10 * SHARD_TASKS, { message: 'short' });
    const record = book.need('w');
    // Every task gets a long message: the write takes more than one transaction.
    const started = { ...record, run: { ...record.run, startedAtMs: T0 + 7, tasks: record.run.tasks.map((t) => ({ ...t, message: 'm'.repeat(MAX_MESSAGE) })) } };
    faults.failNext = 2; // the first transaction (head and the first shards) lands, the second fails
    await expect(book.put(started)).rejects.toThrow(/injected/);
    expect(book.need('w')).toBe(record);
    expect((await state.get<{ run: { startedAtMs?: number } }>('jobs/w'))!.value.run.startedAtMs).toBe(T0 + 7);

    const next = await book.updateTasks('w', new Map([[task(0).taskId, (t: JobTaskEntry) => ({ ...t, state: 'TASK_RUNNING' as const })]]));
    // The store is the record in memory again: its head (no startedAtMs) and all its shards.
    expect(await readJobRecord(state, 'w')).toEqual(next);
    expect(next!.run.startedAtMs).toBeUndefined();
    expect((await JobBook.load(state)).need('w')).toEqual(next);
  });
});
