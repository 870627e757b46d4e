// The cron framework on a real master and agent, with real `sh -c` tasks on a 6-field schedule:
// runs succeed with their exit codes and output, failed runs are retried, history is trimmed,
// manual runs, suspend, and dependencies.
import { afterEach, describe, expect, it } from 'vitest';
import { cronSpec, runsOf, startCronCluster, statusOf, stopCronClusters, until } from './cron-harness.js';

afterEach(stopCronClusters);

describe('cron framework: scheduled runs', () => {
  it('runs each scheduled time once, records exit codes, and trims the history', async () => {
    const { cron } = await startCronCluster();
    const applied = await cron.apply(cronSpec('tick', 'echo "run $AGORA_RUN_ID at $AGORA_SCHEDULED_TIME"; exit 0', { schedule: '* * * * * *', successfulJobsHistoryLimit: 2 }));
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
      expect(Number(run.scheduledForMs) % 1000).toBe(0);
    }
    // More runs come; the history keeps the newest two.
    await until(async () => (await statusOf(cron, 'tick')).history!.length === 2 && Number((await statusOf(cron, 'tick')).lastSuccessfulMs) > Number(history[0]!.finishedAtMs), 'a third run');
    const ids = (await statusOf(cron, 'tick')).history!.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('cron framework: retries and dependencies', () => {
  it('retries a failed run with backoff as the same run, up to retries, keeping each exit code', async () => {
    const { cron } = await startCronCluster();
    await cron.apply(cronSpec('flaky', 'echo "attempt of $AGORA_RUN_ID" >&2; exit 3', { retries: 2, backoff: { seconds: 0.2, factor: 2 }, concurrencyPolicy: 'Forbid' }));
    const failed = await until(async () => (await statusOf(cron, 'flaky')).history?.find((r) => r.phase === 'JOB_FAILED'), 'a run to fail for good');
    expect(failed).toMatchObject({ attempts: 3, exitCode: 3, manual: false });
    expect(failed.taskIds).toHaveLength(3);
    expect(failed.taskIds!.every((id) => id.startsWith(`${failed.id}.`))).toBe(true);
    expect(failed.message).toMatch(/attempt 3 failed with exit code 3/);
    await cron.suspend('flaky', true);
  });

  it('runs a dependent job after its parent succeeds, and not after a parent that fails', async () => {
    const { cron } = await startCronCluster();
    await cron.apply(cronSpec('child', 'echo child', { schedule: undefined, after: ['parent'] }));
    await cron.apply(cronSpec('parent', 'echo parent'));
    await cron.apply(cronSpec('orphan', 'echo never', { schedule: undefined, after: ['broken'] }));
    await cron.apply(cronSpec('broken', 'exit 1'));
    const child = await until(async () => (await runsOf(cron, 'child')).find((r) => r.phase === 'JOB_SUCCEEDED'), 'the child to run');
    expect(child.id).toMatch(/^child-after-[0-9a-f]{8}$/);
    const parentRuns = await runsOf(cron, 'parent');
    const parent = parentRuns.find((r) => r.phase === 'JOB_SUCCEEDED' && Number(r.finishedAtMs) <= Number(child.startedAtMs));
    expect(parent).toBeDefined();
    await until(async () => (await runsOf(cron, 'broken')).some((r) => r.phase === 'JOB_FAILED'), 'the broken parent to fail');
    expect(await runsOf(cron, 'orphan')).toEqual([]);
  });
});
