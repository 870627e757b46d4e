// The cron framework on a real master and agent, with real `sh -c` tasks on a 6-field schedule:
// runs succeed with their exit codes and output, failed runs are retried, history is trimmed,
// manual runs, suspend, and dependencies.
import { afterEach, describe, expect, it } from 'vitest';
import { cronSpec, runsOf, startCronCluster, statusOf, stopCronClusters, until } from './cron-harness.js';

afterEach(stopCronClusters);

describe('cron framework: scheduled runs', () => {
  it('runs each scheduled time once, records exit codes, and trims the history', async () => {
    const { cron } = await startCronCluster();
    const applied = await cron.apply(cronSpec('tick', 'echo "run $AGORA_RUN_ID at $AGORA_SCHEDULED_TIME"; exit 0', { successfulJobsHistoryLimit: 2 }));
    expect(applied).toMatchObject({ kind: 'CRONJOB', name: 'tick', version: 'v1', result: 'CREATED' });
    const history = await until(async () => {
      const h = (await statusOf(cron, 'tick')).history ?? [];
      return h.filter((r) => r.phase === 'JOB_SUCCEEDED').length >= 2 && (await statusOf(cron, 'tick')).lastSuccessfulMs ? h : undefined;
    }, 'two successful runs', 15_000);
    for (const run of history) {
      expect(run).toMatchObject({ phase: 'JOB_SUCCEEDED', exitCode: 0, attempts: 1, manual: false });
      expect(run.id).toMatch(/^tick-\d+$/);
      expect(run.taskIds).toHaveLength(1);
      expect(Number(run.finishedAtMs)).toBeGreaterThanOrEqual(Number(run.startedAtMs));
      expect(Number(run.scheduledForMs) % 2000).toBe(0);
    }
    // More runs come; the history keeps the newest two.
    await until(async () => (await statusOf(cron, 'tick')).history!.length === 2 && Number((await statusOf(cron, 'tick')).lastSuccessfulMs) > Number(history[0]!.finishedAtMs), 'a third run');
    const ids = (await statusOf(cron, 'tick')).history!.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
