// A job's life with the batch framework on real agents: suspend and resume, deletion after
// ttlSecondsAfterFinished, trigger (a second run), delete, watch events, and restarts of the
// framework on the same state — in the middle of a job, and after a leader persisted a task it
// never launched — with no completion lost or doubled.
import { readFile, readdir } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { isActive, type TaskState } from '../../core/task-state.js';
import type { JobRecord } from '../../frameworks/batch/book.js';
import type { WatchEvent } from '../../proto/index.js';
import { tasksWritableDir } from '../support/users.js';
import { finished, jobSpec, ran, startBatchCluster, stopBatchClusters, until } from './batch-harness.js';

afterEach(stopBatchClusters);

describe('batch: lifecycle', () => {
  it('suspends (tasks killed, not failures) and resumes', async () => {
    const c = await startBatchCluster();
    await c.batch.apply(jobSpec('nap', 'exec sleep 600', { completions: 2, parallelism: 2 }));
    await until(async () => (await c.status('nap')).active === 2, 'two tasks running');
    await c.batch.suspend('nap', true);
    const suspended = await until(async () => {
      const s = await c.status('nap');
      return s.phase === 'JOB_SUSPENDED' && s.tasks!.every((t) => t.state === 'TASK_KILLED') && s;
    }, 'the job suspended, its tasks killed');
    expect(suspended).toMatchObject({ failed: 0, active: 0, pendingReason: 'suspended' });
    const w = await c.batch.get('nap');
    expect([w.version, w.job?.suspend]).toEqual(['v2', true]);
    await c.batch.suspend('nap', false);
    const resumed = await until(async () => {
      const s = await c.status('nap');
      return s.active === 2 && s.tasks!.filter((t) => t.state === 'TASK_RUNNING').length === 2 && s;
    }, 'two new tasks running');
    expect(resumed).toMatchObject({ phase: 'JOB_RUNNING', failed: 0 });
    expect(ran(await c.record('nap'))).toHaveLength(4);
    await expect(c.batch.suspend('nap', 'yes' as unknown as boolean)).rejects.toMatchObject({ field: 'suspend' });
  });

  it('deletes a finished job after ttlSecondsAfterFinished; watch sees ADDED … DELETED', async () => {
    const c = await startBatchCluster();
    const events: WatchEvent[] = [];
    c.batch.watch((e) => events.push(e));
    await c.batch.apply(jobSpec('brief', 'true', { ttlSecondsAfterFinished: 0.5 }));
    await until(async () => events.some((e) => e.type === 'DELETED'), 'the job deleted');
    await expect(c.batch.get('brief')).rejects.toMatchObject({ code: 'AGORA_NOT_FOUND' });
    expect(await c.record('brief')).toBeUndefined();
    expect(events[0]).toMatchObject({ type: 'ADDED', kind: 'JOB', name: 'brief' });
    expect(events.some((e) => e.type === 'MODIFIED' && e.object?.jobStatus?.phase === 'JOB_SUCCEEDED')).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'DELETED', name: 'brief', object: { jobStatus: { phase: 'JOB_SUCCEEDED' } } });
  });

  it('trigger runs a finished job again (runs + 1); delete kills what runs', async () => {
    const c = await startBatchCluster();
    const dir = await tasksWritableDir('batch-trigger');
    await c.batch.apply(jobSpec('again', 'echo "$AGORA_JOB_RUN" >> "$OUT/runs"', { task: { env: { OUT: dir } } }));
    expect((await finished(c, 'again')).runs).toBe(1);
    expect(await c.batch.trigger('again')).toEqual({ runId: 'again.r2' });
    await until(async () => {
      const s = await c.status('again');
      return s.runs === 2 && s.phase === 'JOB_SUCCEEDED' && s;
    }, 'the second run to succeed');
    const secondRun = ran(await c.record('again'));
    expect(secondRun).toHaveLength(1);
    expect(secondRun[0]!.taskId).toMatch(/^again\.r2\.a\d+\./);
    expect(await readFile(`${dir}/runs`, 'utf8')).toBe('1\n2\n');

    await c.batch.apply(jobSpec('forever', 'exec sleep 600'));
    await until(async () => (await c.status('forever')).active === 1, 'the task running');
    await c.batch.delete('forever');
    const fwId = await c.frameworkId();
    await until(async () => c.master.state.tasksOfFramework(fwId).length === 0, 'its task killed');
    await expect(c.batch.get('forever')).rejects.toMatchObject({ code: 'AGORA_NOT_FOUND' });
    await expect(c.batch.delete('forever')).rejects.toMatchObject({ code: 'AGORA_NOT_FOUND' });
  });
});

describe('batch: restarts on the same state', () => {
  it('an Indexed job survives a restart of the framework mid-run: every index succeeds exactly once', async () => {
    const c = await startBatchCluster();
    const dir = await tasksWritableDir('batch-restart');
    const command = 'sleep 0.4; echo "$AGORA_TASK_INDEX" >> "$OUT/ok-$AGORA_TASK_INDEX"';
    await c.batch.apply(jobSpec('steady', command, { completions: 8, parallelism: 2, completionMode: 'Indexed', task: { env: { OUT: dir } } }));
    await until(async () => ((await c.status('steady')).succeeded ?? 0) >= 2, 'two indexes done');
    await c.stopBatch();
    // Tasks end while no framework listens; their updates wait, unacknowledged, at the agent.
    await until(async () => !c.agents[0]!.tasks.agentTasks().some((t) => isActive(t.latestStatus?.state as TaskState)), 'the running tasks ended with no framework listening');
    await c.startBatch();
    const status = await finished(c, 'steady');
    expect(status).toMatchObject({ phase: 'JOB_SUCCEEDED', succeeded: 8, failed: 0, completedIndexes: [0, 1, 2, 3, 4, 5, 6, 7] });
    const files = (await readdir(dir)).sort();
    expect(files).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `ok-${i}`));
    for (const f of files) expect((await readFile(`${dir}/${f}`, 'utf8')).split('\n').filter(Boolean)).toHaveLength(1);
    const tasks = (await c.record('steady'))!.run.tasks;
    expect(tasks.filter((t) => t.state === 'TASK_FINISHED').map((t) => t.index).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const keys = tasks.map((t) => `${t.index}/${t.attempt}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('a restart keeps the timers: a deadline that falls after the restart still fails the job', async () => {
    const c = await startBatchCluster();
    await c.batch.apply(jobSpec('bounded', 'exec sleep 600', { activeDeadlineSeconds: 1.5 }));
    await until(async () => (await c.status('bounded')).active === 1, 'the task running');
    await c.stopBatch();
    await c.startBatch();
    const status = await finished(c, 'bounded');
    expect(status).toMatchObject({ phase: 'JOB_FAILED', failed: 0 });
    expect(status.message).toMatch(/^DeadlineExceeded/);
    const fwId = await c.frameworkId();
    await until(async () => c.master.state.tasksOfFramework(fwId).length === 0, 'the task killed');
  });

  it('a task persisted by a leader that died before launching it is relaunched, not counted as a failure', async () => {
    const c = await startBatchCluster();
    const dir = await tasksWritableDir('batch-ghost');
    await c.stopBatch();
    const spec = jobSpec('ghost', 'echo "$AGORA_TASK_INDEX.$AGORA_JOB_RUN" >> "$OUT/ran"', { completions: 2, completionMode: 'Indexed', backoffLimit: 0, task: { env: { OUT: dir } } });
    const { validateJobSpec } = await import('../../frameworks/batch/spec.js');
    const now = Date.now();
    const agentId = c.agents[0]!.agentId!;
    const record: JobRecord = {
      name: 'ghost',
      version: 1,
      spec: validateJobSpec(spec),
      createdAtMs: now,
      updatedAtMs: now,
      runs: 1,
      run: { submittedAtMs: now, startedAtMs: now, tasks: [{ taskId: 'ghost.r1.i0.a0.never', index: 0, attempt: 0, state: 'TASK_STAGING', launchedAtMs: now, agentId, hostname: '127.0.0.1' }] },
    };
    await c.state.create('jobs/ghost', record);
    await c.startBatch();
    const status = await finished(c, 'ghost');
    expect(status).toMatchObject({ phase: 'JOB_SUCCEEDED', failed: 0, completedIndexes: [0, 1] });
    const tasks = (await c.record('ghost'))!.run.tasks;
    // The master knows nothing of it (GONE, which it reports as LOST to a framework that is not partition-aware).
    expect(tasks.find((t) => t.taskId === 'ghost.r1.i0.a0.never')).toMatchObject({ state: expect.stringMatching(/^TASK_(LOST|GONE)$/), voided: true });
    expect(tasks.filter((t) => t.index === 0).map((t) => [t.attempt, t.state === 'TASK_FINISHED'])).toEqual([
      [0, false],
      [1, true],
    ]);
    expect((await readFile(`${dir}/ran`, 'utf8')).split('\n').filter(Boolean).sort()).toEqual(['0.1', '1.1']);
  });
});
