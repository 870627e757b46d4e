// The batch framework with a real master, a real agent and real processes: NonIndexed and Indexed
// jobs complete (retried indexes exactly once). On the testing kit's cluster (agora/sdk/testing: the
// test ends each task): backoffLimit and activeDeadlineSeconds fail a job, bad specs and changes to
// an active job are refused with the field at fault and change nothing.
import { readFile, readdir } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { tasksWritableDir } from '../support/users.js';
import { finished, jobSpec, ran, startBatchCluster, startBatchOnKit, stopBatchClusters, until } from './batch-harness.js';

afterEach(stopBatchClusters);

describe('batch: jobs run to completion', () => {
  it('NonIndexed: completions 3, parallelism 2 — never more than 2 at once, 3 successes', async () => {
    const c = await startBatchCluster();
    const dir = await tasksWritableDir('batch-nonindexed');
    const out = await c.batch.apply(jobSpec('three', 'echo run >> "$OUT/runs"; sleep 0.3', { completions: 3, parallelism: 2, task: { env: { OUT: dir } } }));
    expect(out).toEqual({ kind: 'JOB', name: 'three', version: 'v1', result: 'CREATED' });
    let maxActive = 0;
    const status = await until(async () => {
      const s = await c.status('three');
      maxActive = Math.max(maxActive, s.active ?? 0);
      return s.phase === 'JOB_SUCCEEDED' && s;
    }, 'the job to succeed');
    expect(status).toMatchObject({ succeeded: 3, failed: 0, active: 0, pendingReason: '', message: '3 of 3 succeeded', runs: 1 });
    expect(Number(status.completedAtMs)).toBeGreaterThanOrEqual(Number(status.startedAtMs));
    expect(maxActive).toBeLessThanOrEqual(2);
    // Three tasks ran and finished; any other was a refused launch that never ran (voided).
    const finishedIds = status.tasks!.filter((t) => t.state === 'TASK_FINISHED' && t.exitCode === 0).map((t) => t.taskId!);
    expect(finishedIds).toHaveLength(3);
    expect((await c.record('three'))!.run.tasks.filter((t) => t.state !== 'TASK_FINISHED').every((t) => t.voided === true)).toBe(true);
    expect((await readFile(`${dir}/runs`, 'utf8')).trim().split('\n')).toHaveLength(3);
    // The master saw these three finish.
    const fwId = await c.frameworkId();
    const seen = c.master.state.framework(fwId)!.completed.filter((t) => t.state === 'TASK_FINISHED').map((t) => t.taskId);
    expect(seen.sort()).toEqual(finishedIds.sort());
  });

  it('Indexed: indexes 1 and 3 fail their first attempt; every index succeeds exactly once, retries included', async () => {
    const c = await startBatchCluster();
    const dir = await tasksWritableDir('batch-indexed');
    const command = [
      'test "$AGORA_TASK_INDEX" = "$AGORA_JOB_INDEX" || exit 9',
      'case $AGORA_TASK_INDEX in 1|3) test -f "$OUT/tried-$AGORA_TASK_INDEX" || { touch "$OUT/tried-$AGORA_TASK_INDEX"; exit 3; } ;; esac',
      'echo ok >> "$OUT/ok-$AGORA_TASK_INDEX"',
    ].join('; ');
    await c.batch.apply(jobSpec('idx', command, { completions: 5, parallelism: 2, completionMode: 'Indexed', task: { env: { OUT: dir } } }));
    const status = await finished(c, 'idx');
    expect(status).toMatchObject({ phase: 'JOB_SUCCEEDED', succeeded: 5, failed: 2, completedIndexes: [0, 1, 2, 3, 4], failedIndexes: [] });
    // Each index ran to success exactly once (its output file has one line).
    const files = (await readdir(dir)).filter((f) => f.startsWith('ok-')).sort();
    expect(files).toEqual(['ok-0', 'ok-1', 'ok-2', 'ok-3', 'ok-4']);
    for (const f of files) expect(await readFile(`${dir}/${f}`, 'utf8')).toBe('ok\n');
    const tasks = (await c.record('idx'))!.run.tasks;
    // A launch the master refused (an offer rescinded on a loaded machine) is voided and never ran:
    // no exit code, no failure, and the index is simply launched again.
    const voided = tasks.filter((t) => t.voided === true);
    for (const t of voided) expect([t.state, t.exitCode, t.runningAtMs]).toEqual([expect.stringMatching(/^TASK_(DROPPED|LOST|GONE)$/), undefined, undefined]);
    const ran = tasks.filter((t) => t.voided !== true);
    const byIndex = (i: number) => ran.filter((t) => t.index === i).map((t) => `${t.state}:${t.exitCode ?? ''}`);
    expect([0, 2, 4].map(byIndex)).toEqual([['TASK_FINISHED:0'], ['TASK_FINISHED:0'], ['TASK_FINISHED:0']]);
    expect([1, 3].map(byIndex)).toEqual([
      ['TASK_FAILED:3', 'TASK_FINISHED:0'],
      ['TASK_FAILED:3', 'TASK_FINISHED:0'],
    ]);
    // Attempts count every launch of the index, so (index, attempt) never repeats.
    const keys = tasks.map((t) => `${t.index}/${t.attempt}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(status.tasks!.find((t) => t.index === 3 && t.state === 'TASK_FINISHED')).toMatchObject({ exitCode: 0, attempt: expect.any(Number) });
  });

  it('more failures than backoffLimit fail the job (BackoffLimitExceeded)', async () => {
    const c = await startBatchOnKit();
    await c.batch.apply(jobSpec('doomed', 'exit 2', { backoffLimit: 1 }));
    // Each attempt fails as `exit 2` would: the test ends it.
    for (const attempt of [0, 1]) {
      const task = await until(async () => ran(await c.record('doomed')).find((t) => t.attempt === attempt && c.cluster.runningTasks().includes(t.taskId)), `attempt ${attempt} running`);
      c.cluster.fail(task.taskId, 2);
    }
    const status = await finished(c, 'doomed');
    expect(status).toMatchObject({ phase: 'JOB_FAILED', failed: 2, succeeded: 0, pendingReason: '' });
    expect(status.message).toMatch(/^BackoffLimitExceeded: backoff limit 1 exceeded: 2 failed tasks/);
    expect((await c.record('doomed'))!.run.tasks.filter((t) => t.voided !== true).map((t) => [t.attempt, t.state])).toEqual([
      [0, 'TASK_FAILED'],
      [1, 'TASK_FAILED'],
    ]);
  });

  it('activeDeadlineSeconds fails the job (DeadlineExceeded) and kills its tasks', async () => {
    const c = await startBatchOnKit();
    await c.batch.apply(jobSpec('slow', 'exec sleep 600', { completions: 2, parallelism: 2, activeDeadlineSeconds: 1 }));
    await until(async () => (await c.status('slow')).active === 2, 'two tasks running');
    const status = await finished(c, 'slow');
    expect(status).toMatchObject({ phase: 'JOB_FAILED', failed: 0 });
    expect(status.message).toMatch(/^DeadlineExceeded: deadline exceeded/);
    const fwId = await c.frameworkId();
    await until(async () => c.cluster.master.state.tasksOfFramework(fwId).length === 0 && c.cluster.runningTasks().length === 0, 'the tasks killed');
    // The framework hears each TASK_KILLED a moment after the master drops the task.
    await until(async () => ran(await c.record('slow')).every((t) => t.state === 'TASK_KILLED'), 'the job to record both kills');
    const tasks = ran(await c.record('slow'));
    expect(tasks.map((t) => [t.state, t.killRequested])).toEqual([
      ['TASK_KILLED', true],
      ['TASK_KILLED', true],
    ]);
  });
});

describe('batch: specs', () => {
  it('refuses bad specs naming the field, and changes nothing; a dry run changes nothing; equal is UNCHANGED', async () => {
    const c = await startBatchOnKit();
    await c.batch.apply(jobSpec('keep', 'exec sleep 600', { completions: 2 }));
    await until(async () => (await c.status('keep')).active === 1, 'the task running');
    const before = JSON.stringify(await c.record('keep'));
    const cases: [Record<string, unknown>, string][] = [
      [jobSpec('g', 'true', { gang: true, completions: 2, parallelism: 3 }), 'completions'],
      [jobSpec('n', 'true', { parallelism: -1 }), 'parallelism'],
      [jobSpec('n', 'true', { backoffLimit: -2 }), 'backoffLimit'],
      [jobSpec('n', 'true', { completions: '3' }), 'completions'],
      [jobSpec('n', 'true', { activeDeadlineSeconds: 0 }), 'activeDeadlineSeconds'],
      [jobSpec('n', 'true', { completionMode: 'Sometimes' }), 'completionMode'],
      [jobSpec('n', 'true', {}, { cpus: 1 }), 'task.resources.mem'],
      [jobSpec('n', 'true', { task: { role: 'other' } }), 'task.role'],
      [jobSpec('keep', 'exec sleep 601', { completions: 2 }), 'task'],
      [jobSpec('keep', 'exec sleep 600', { completions: 3 }), 'completions'],
    ];
    for (const [spec, field] of cases) {
      await expect(c.batch.apply(spec), field).rejects.toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field });
    }
    const err = (await c.batch.apply(jobSpec('keep', 'exec sleep 601', { completions: 2 })).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/cannot change task of job keep while it is active/);
    expect(JSON.stringify(await c.record('keep'))).toBe(before);
    expect((await c.batch.list()).map((w) => w.name)).toEqual(['keep']);

    expect(await c.batch.apply(jobSpec('keep', 'exec sleep 600', { completions: 2 }))).toMatchObject({ result: 'UNCHANGED', version: 'v1' });
    expect(await c.batch.apply(jobSpec('keep', 'exec sleep 600', { completions: 2, parallelism: 2 }), { dryRun: true })).toMatchObject({ result: 'UPDATED', version: 'v2' });
    expect(await c.batch.apply(jobSpec('fresh', 'true'), { dryRun: true })).toMatchObject({ result: 'CREATED' });
    expect(JSON.stringify(await c.record('keep'))).toBe(before);
    expect(await c.record('fresh')).toBeUndefined();

    // parallelism may change while active: the second task starts.
    expect(await c.batch.apply(jobSpec('keep', 'exec sleep 600', { completions: 2, parallelism: 2 }))).toMatchObject({ result: 'UPDATED', version: 'v2' });
    await until(async () => (await c.status('keep')).active === 2, 'the second task running');
    await expect(c.batch.trigger('keep')).rejects.toMatchObject({ code: 'AGORA_FAILED_PRECONDITION' });
    await expect(c.batch.get('nope')).rejects.toMatchObject({ code: 'AGORA_NOT_FOUND' });
  });
});
