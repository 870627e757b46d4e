// The cron framework's controller on a real master and agent: apply (dry run, unchanged, refused
// roles and dependency cycles, bad specs naming the field and changing nothing), watch events,
// the active deadline killing a run's task, and delete killing the tasks of active runs.
import { afterEach, describe, expect, it } from 'vitest';
import { AgoraError } from '../../core/errors.js';
import type { WatchEvent } from '../../proto/index.js';
import { cronSpec, masterTasks, startCronCluster, statusOf, stopCronClusters, until } from './cron-harness.js';

afterEach(stopCronClusters);

async function refusal(p: Promise<unknown>): Promise<{ code: string; field: string | undefined }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgoraError);
  return { code: (err as AgoraError).code, field: (err as AgoraError).field };
}

describe('cron framework: the controller', () => {
  it('apply: dry run, unchanged, updated; bad specs, other roles and cycles are refused and change nothing', async () => {
    const { cron } = await startCronCluster();
    const events: WatchEvent[] = [];
    const unwatch = cron.watch((e) => events.push(e));
    const spec = cronSpec('a', 'true', { schedule: '0 0 1 1 *' });
    expect(await cron.apply(spec, { dryRun: true })).toMatchObject({ result: 'CREATED', version: 'v1' });
    expect(await cron.list()).toEqual([]);
    expect(await cron.apply(spec)).toMatchObject({ result: 'CREATED', version: 'v1' });
    expect(await cron.apply(spec)).toMatchObject({ result: 'UNCHANGED', version: 'v1' });
    expect(await cron.apply({ ...spec, timeZone: 'Asia/Tokyo' })).toMatchObject({ result: 'UPDATED', version: 'v2' });
    expect((await cron.get('a')).cronjob).toMatchObject({ name: 'a', schedule: '0 0 1 1 *', timeZone: 'Asia/Tokyo', concurrencyPolicy: 'ALLOW', task: { command: 'true' } });
    // Midnight on 1 January in Tokyo is 15:00 UTC on 31 December.
    expect(new Date(Number((await statusOf(cron, 'a')).nextScheduleMs)).toISOString()).toMatch(/-12-31T15:00:00.000Z$/);

    await cron.apply(cronSpec('b', 'true', { schedule: undefined, after: ['a'] }));
    const refused: [Record<string, unknown>, string][] = [
      [cronSpec('a', 'true', { schedule: undefined, after: ['b'] }), 'after[0]'],
      [cronSpec('c', 'true', { schedule: '* * * * * * *' }), 'schedule'],
      [cronSpec('c', 'true', { timeZone: 'Europe/Atlantis' }), 'timeZone'],
      [cronSpec('c', 'true', { failedJobsHistoryLimit: -1 }), 'failedJobsHistoryLimit'],
      [cronSpec('c', 'true', { task: { command: 'true', role: 'gpu', resources: { cpus: 0.1, mem: 16 } } }), 'task.role'],
    ];
    for (const [doc, field] of refused) expect(await refusal(cron.apply(doc))).toEqual({ code: 'AGORA_INVALID_ARGUMENT', field });
    expect((await cron.list()).map((w) => [w.name, w.version])).toEqual([['a', 'v2'], ['b', 'v1']]);
    expect(await refusal(cron.trigger('nope'))).toMatchObject({ code: 'AGORA_NOT_FOUND' });

    await cron.delete('b');
    unwatch();
    expect(events.map((e) => [e.type, e.kind, e.name])).toEqual(
      expect.arrayContaining([['ADDED', 'CRONJOB', 'a'], ['MODIFIED', 'CRONJOB', 'a'], ['ADDED', 'CRONJOB', 'b'], ['DELETED', 'CRONJOB', 'b']]),
    );
  });

  it('the active deadline kills a run that runs too long; delete kills the tasks of active runs', async () => {
    const { cron, master } = await startCronCluster();
    await cron.apply(cronSpec('late', 'sleep 30', { schedule: '0 0 1 1 *', activeDeadlineSeconds: 1 }));
    const { runId } = await cron.trigger('late');
    const failed = await until(async () => (await statusOf(cron, 'late')).history?.find((r) => r.id === runId), 'the run to pass its deadline');
    expect(failed).toMatchObject({ phase: 'JOB_FAILED' });
    expect(failed.message).toMatch(/activeDeadlineSeconds \(1 s\)/);
    await until(async () => (await masterTasks(master)).find((t) => t.id === failed.taskIds![0] && t.state === 'TASK_KILLED'), 'its task to be killed');

    await cron.apply(cronSpec('gone', 'sleep 30', { schedule: '0 0 1 1 *' }));
    const run = await cron.trigger('gone');
    const active = await until(async () => (await statusOf(cron, 'gone')).active?.find((r) => r.id === run.runId && r.phase === 'JOB_RUNNING'), 'a running run');
    await cron.delete('gone');
    expect(await refusal(cron.get('gone'))).toMatchObject({ code: 'AGORA_NOT_FOUND' });
    await until(async () => (await masterTasks(master)).find((t) => t.id === active.taskIds![0] && t.state === 'TASK_KILLED'), 'the deleted job\'s task to be killed');
  });
});
