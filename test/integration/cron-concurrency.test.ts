// Concurrency policies, suspend and manual runs with real long-running tasks: Forbid skips a time
// while a run is active (a manual run goes alongside), Replace kills the active run's task.
import { afterEach, describe, expect, it } from 'vitest';
import { cronSpec, masterTasks, runsOf, startCronCluster, statusOf, stopCronClusters, until } from './cron-harness.js';
import { holdsFor } from '../support/waits.js';

afterEach(stopCronClusters);

describe('cron framework: concurrency, suspend, manual runs', () => {
  it('Forbid skips scheduled times while a run is active; a manual run ignores the policy', async () => {
    const { cron } = await startCronCluster();
    await cron.apply(cronSpec('slow', 'sleep 30', { concurrencyPolicy: 'Forbid' }));
    await until(async () => (await statusOf(cron, 'slow')).active?.[0]?.phase === 'JOB_RUNNING', 'the first run to be running');
    const skipped = await until(async () => (await statusOf(cron, 'slow')).history?.find((r) => r.phase === 'JOB_SKIPPED'), 'a skipped time');
    expect(skipped.message).toMatch(/skipped \(forbid\)/);
    expect((await statusOf(cron, 'slow')).active).toHaveLength(1);
    const { runId } = await cron.trigger('slow');
    expect(runId).toMatch(/^slow-manual-\d+$/);
    const manual = await until(async () => (await statusOf(cron, 'slow')).active?.find((r) => r.id === runId && r.phase === 'JOB_RUNNING'), 'the manual run to run');
    expect(manual.manual).toBe(true);
    expect((await statusOf(cron, 'slow')).active).toHaveLength(2);
    await cron.delete('slow');
  });

  it('Replace kills the active run and starts the new one', async () => {
    const { cron, master } = await startCronCluster();
    await cron.apply(cronSpec('swap', 'sleep 30', { concurrencyPolicy: 'Replace' }));
    const first = await until(async () => (await statusOf(cron, 'swap')).active?.find((r) => r.phase === 'JOB_RUNNING'), 'a first run');
    const replaced = await until(async () => (await statusOf(cron, 'swap')).history?.find((r) => r.id === first.id), 'the first run to be replaced');
    expect(replaced).toMatchObject({ phase: 'JOB_FAILED' });
    expect(replaced.message).toMatch(/replaced by run swap-\d+ \(concurrencyPolicy Replace\)/);
    expect((await statusOf(cron, 'swap')).active).toHaveLength(1);
    const killed = await until(async () => {
      return (await masterTasks(master)).find((t) => t.id === first.taskIds![0] && t.state === 'TASK_KILLED');
    }, "the replaced run's task to be killed");
    expect(killed).toBeDefined();
    await cron.delete('swap');
  });

  it('suspend stops new runs (persisted as a new version); resume starts them again', async () => {
    const { cron } = await startCronCluster();
    await cron.apply(cronSpec('pause', 'true'));
    await until(async () => (await runsOf(cron, 'pause')).length >= 1, 'a first run');
    await cron.suspend('pause', true);
    const suspended = await cron.get('pause');
    expect(suspended).toMatchObject({ version: 'v2', cronjob: { suspend: true }, cronjobStatus: { nextScheduleMs: 0 } });
    const before = (await runsOf(cron, 'pause')).map((r) => r.id);
    // More than one scheduled time passes (real time: the cron framework runs on the system clock here).
    await holdsFor(2500, async () => expect((await runsOf(cron, 'pause')).map((r) => r.id).filter((id) => !before.includes(id))).toEqual([]), 'a suspended cron job starts no run');
    await cron.suspend('pause', false);
    expect((await cron.get('pause')).version).toBe('v3');
    await until(async () => (await runsOf(cron, 'pause')).some((r) => !before.includes(r.id!)), 'a run after resuming');
  });
});
