// Exactly once across restarts of the cron framework on the same state: a run in the middle of its
// task completes and is recorded once (reconciled, not launched again); a run persisted but never
// launched is launched once; an attempt whose task the master never saw runs again as the same
// attempt — never a second run. The master's task list shows one launch per attempt.
import { afterEach, describe, expect, it } from 'vitest';
import type { CronJobRecord } from '../../frameworks/cron/model.js';
import { cronSpec, masterTasks, runsOf, startCronCluster, statusOf, stopCronClusters, until } from './cron-harness.js';

afterEach(stopCronClusters);

describe('cron framework: restarts', () => {
  it('a run in the middle of its task completes once after a restart; later times run once each', async () => {
    const cluster = await startCronCluster();
    await cluster.cron.apply(cronSpec('steady', 'sleep 1.5; echo done', { concurrencyPolicy: 'Forbid', successfulJobsHistoryLimit: 10 }));
    const running = await until(async () => (await statusOf(cluster.cron, 'steady')).active?.find((r) => r.phase === 'JOB_RUNNING'), 'a running run');
    const cron = await cluster.restartCron();
    const done = await until(async () => (await statusOf(cron, 'steady')).history?.find((r) => r.id === running.id), 'the run to finish after the restart');
    expect(done).toMatchObject({ phase: 'JOB_SUCCEEDED', attempts: 1, exitCode: 0, taskIds: running.taskIds });
    await until(async () => (await runsOf(cron, 'steady')).filter((r) => r.phase === 'JOB_SUCCEEDED').length >= 2, 'a run after the restart');
    await cron.suspend('steady', true);
    const runs = await runsOf(cron, 'steady');
    expect(new Set(runs.map((r) => r.id)).size).toBe(runs.length);
    const tasks = await masterTasks(cluster.master);
    for (const run of runs) {
      expect(run.taskIds).toHaveLength(1);
      expect(tasks.filter((t) => t.id.startsWith(`${run.id}.`)).map((t) => t.id)).toEqual(run.taskIds);
    }
  });

  it('after a restart, a planned run is launched once and an attempt the master never saw runs again as the same attempt', async () => {
    const cluster = await startCronCluster();
    await cluster.cron.apply(cronSpec('once', 'echo "$AGORA_RUN_ID"', { schedule: '0 0 1 1 *' }));
    const agentId = cluster.agent.agentId!;
    const cron = await cluster.restartCron(async () => {
      // What a leader that died at the wrong moment leaves behind: a run planned but not launched,
      // and a run whose attempt's task id was written but whose launch never reached the master.
      const entry = (await cluster.state.get<CronJobRecord>('cronjobs/once'))!;
      const now = Date.now();
      const planned = { id: 'once-manual-1', scheduledTime: now, state: 'pending', attempts: 1, startedAt: now, manual: true, tasks: [], message: '' };
      const ghost = { attempt: 1, taskId: 'once-manual-2.1.ghost', agentId, launchedAt: now };
      const unlaunched = { ...planned, id: 'once-manual-2', tasks: [ghost] };
      await cluster.state.compareAndSet('cronjobs/once', { ...entry.value, runs: [planned, unlaunched] }, entry.version);
    });
    const runs = await until(async () => {
      const r = await runsOf(cron, 'once');
      return r.length === 2 && r.every((x) => x.phase === 'JOB_SUCCEEDED') ? r : undefined;
    }, 'both runs to succeed');
    for (const run of runs) {
      expect(run).toMatchObject({ attempts: 1, exitCode: 0 });
      expect(run.taskIds).toHaveLength(1);
      expect(run.taskIds![0]).toMatch(new RegExp(`^${run.id}\\.1\\.`));
    }
    const tasks = await masterTasks(cluster.master);
    expect(tasks.map((t) => t.id).filter((id) => id.startsWith('once-')).sort()).toEqual(runs.flatMap((r) => r.taskIds!).sort());
    expect(tasks.some((t) => t.id === 'once-manual-2.1.ghost')).toBe(false);
  });
});
