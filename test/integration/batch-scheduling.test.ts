// The batch framework's offer rounds on real agents: a gang job starts whole once the cluster can
// hold it (never 1 or 2 of its 3 tasks), its hold is bounded (after maxHoldMs another job gets the
// offers), higher priority goes first, and pending jobs say why they wait.
import { afterEach, describe, expect, it } from 'vitest';
import type { MasterEventWithTime } from '../../master/events.js';
import { finished, jobSpec, ran, startBatchCluster, stopBatchClusters, until } from './batch-harness.js';

afterEach(stopBatchClusters);

const ONE_CPU = { cpus: 1, mem: 16 };
const SMALL_AGENT = { resources: 'cpus:1;mem:512;disk:512' };

describe('batch: gang jobs', () => {
  it('a gang of 3 that fits only after another job ends starts whole, never partly', async () => {
    const c = await startBatchCluster({ agents: [SMALL_AGENT, SMALL_AGENT, SMALL_AGENT] });
    const events: MasterEventWithTime[] = [];
    c.master.state.events.subscribe((e) => events.push(e));
    await c.batch.apply(jobSpec('first', 'sleep 1.5', {}, ONE_CPU));
    await until(async () => (await c.status('first')).tasks?.[0]?.state === 'TASK_RUNNING', 'the first job running');
    await c.batch.apply(jobSpec('wave', 'sleep 0.3', { gang: true, completions: 3, parallelism: 3 }, ONE_CPU));
    // While `first` runs, the gang holds the two free agents and launches nothing.
    const waiting = await until(async () => {
      const s = await c.status('wave');
      return /holding 2 offers covering 2/.test(s.pendingReason ?? '') && s;
    }, 'the gang holding 2 offers');
    expect(waiting).toMatchObject({ phase: 'JOB_PENDING', active: 0, tasks: [] });
    expect(waiting.pendingReason).toBe('gang of 3 needs 3 × (cpus:1;mem:16); holding 2 offers covering 2');
    const status = await finished(c, 'wave');
    expect(status).toMatchObject({ phase: 'JOB_SUCCEEDED', succeeded: 3, failed: 0 });
    expect((await c.status('first')).phase).toBe('JOB_SUCCEEDED');

    const firstTask = ran(await c.record('first'))[0]!.taskId;
    const waveTasks = new Set(ran(await c.record('wave')).map((t) => t.taskId));
    expect(waveTasks.size).toBe(3);
    const at = (pred: (e: MasterEventWithTime) => boolean): number => events.findIndex(pred);
    const firstEnded = at((e) => e.type === 'TASK_UPDATED' && e.taskId === firstTask && e.state === 'TASK_FINISHED');
    const added = events.flatMap((e, i) => (e.type === 'TASK_ADDED' && waveTasks.has(e.taskId) ? [i] : []));
    const firstStarted = at((e) => e.type === 'TASK_UPDATED' && waveTasks.has(e.taskId) && (e.state === 'TASK_STARTING' || e.state === 'TASK_RUNNING'));
    expect(added).toHaveLength(3);
    // Nothing of the gang reached the master before the cluster could hold all of it …
    expect(Math.min(...added)).toBeGreaterThan(firstEnded);
    // … and all three were launched before any of them started: never 1 or 2 running.
    expect(Math.max(...added)).toBeLessThan(firstStarted);
    expect(new Set(ran(await c.record('wave')).map((t) => t.agentId)).size).toBe(3);
  });

  it('gives held offers back after maxHoldMs: a lower-priority job gets them, the gang launches nothing', async () => {
    const c = await startBatchCluster({ agents: [SMALL_AGENT, SMALL_AGENT], batch: { gang: { maxHoldMs: 800, coolDownMs: 30_000 } } });
    await c.batch.apply(jobSpec('blocker', 'exec sleep 600', {}, ONE_CPU));
    await until(async () => (await c.status('blocker')).active === 1, 'the blocker running');
    await c.batch.apply(jobSpec('pair', 'true', { gang: true, completions: 2, parallelism: 2 }, ONE_CPU));
    await until(async () => /holding 1 offer covering 1/.test((await c.status('pair')).pendingReason ?? ''), 'the gang holding 1 offer');
    await c.batch.apply(jobSpec('later', 'true', { priority: -1 }, ONE_CPU));
    const done = await finished(c, 'later');
    expect(done).toMatchObject({ phase: 'JOB_SUCCEEDED', succeeded: 1 });
    const pair = await c.status('pair');
    expect(pair).toMatchObject({ phase: 'JOB_PENDING', active: 0, tasks: [] });
    expect(pair.pendingReason).toMatch(/^gang of 2 needs 2 × \(cpus:1;mem:16\); holding \d offers? covering \d; (released after holding 1 s|cooling down until )/);
    const fwId = await c.frameworkId();
    expect(c.master.state.framework(fwId)!.completed.map((t) => t.info.name)).not.toContain('pair');
  });
});

describe('batch: the queue', () => {
  it('runs the higher-priority job first when both wait for the same offer', async () => {
    const c = await startBatchCluster({ agents: [SMALL_AGENT] });
    await c.batch.apply(jobSpec('blocker', 'exec sleep 600', {}, ONE_CPU));
    await until(async () => (await c.status('blocker')).active === 1, 'the blocker running');
    await c.batch.apply(jobSpec('low', 'sleep 0.2', { priority: 0 }, ONE_CPU));
    await c.batch.apply(jobSpec('high', 'sleep 0.2', { priority: 5 }, ONE_CPU));
    for (const name of ['low', 'high']) expect(await c.status(name)).toMatchObject({ phase: 'JOB_PENDING', pendingReason: expect.stringMatching(/\S/) });
    await c.batch.delete('blocker');
    const [high, low] = [await finished(c, 'high'), await finished(c, 'low')];
    expect([high.phase, low.phase]).toEqual(['JOB_SUCCEEDED', 'JOB_SUCCEEDED']);
    const highTask = ran(await c.record('high'))[0]!;
    const lowTask = ran(await c.record('low'))[0]!;
    // One cpu: `low` could start only once `high` had ended.
    expect(lowTask.launchedAtMs).toBeGreaterThanOrEqual(highTask.finishedAtMs!);
  });

  it('says why a job waits: a resource no agent has, a constraint no agent meets', async () => {
    const c = await startBatchCluster();
    await c.batch.apply(jobSpec('huge', 'true', {}, { cpus: 8, mem: 16 }));
    await c.batch.apply(jobSpec('picky', 'true', { task: { constraints: [['hostname', 'LIKE', 'nowhere']] } }));
    const huge = await until(async () => {
      const s = await c.status('huge');
      return s.pendingReason !== 'waiting for offers' && s;
    }, 'a reason for huge');
    expect(huge).toMatchObject({ phase: 'JOB_PENDING', pendingReason: 'insufficient cpus: need 8, largest offer has 4' });
    const picky = await until(async () => {
      const s = await c.status('picky');
      return s.pendingReason !== 'waiting for offers' && s;
    }, 'a reason for picky');
    expect(picky.pendingReason).toMatch(/hostname.*LIKE.*nowhere/);
    const listed = await c.batch.list();
    expect(listed.map((w) => [w.name, w.job?.priority, w.jobStatus?.phase])).toEqual([
      ['huge', 0, 'JOB_PENDING'],
      ['picky', 0, 'JOB_PENDING'],
    ]);
  });
});
