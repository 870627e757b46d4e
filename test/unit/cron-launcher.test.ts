// The cron launcher (frameworks/cron/launcher.ts) when a launch is not accepted: a launch that
// certainly did not happen — refused by the master, or never sent because the driver was not
// subscribed — gives the attempt back to the offers; an unanswered one is reconciled instead.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { FailedPreconditionError, TimeoutError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import { CronBook } from '../../frameworks/cron/book.js';
import { CronLauncher } from '../../frameworks/cron/launcher.js';
import { needsLaunch, type CronJobRecord } from '../../frameworks/cron/model.js';
import { manualRun } from '../../frameworks/cron/runs.js';
import { validateCronJobSpec } from '../../frameworks/cron/spec.js';
import { pendingRun } from '../../frameworks/cron/tasks.js';
import type { FrameworkDriver } from '../../sdk/driver.js';
import { NotSubscribedError } from '../../sdk/errors.js';
import { closeStates, memoryState, wireOffer } from '../support/framework-unit.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

afterEach(closeStates);

/** A book with one cron job and one run waiting for its task; a launcher whose driver's launch fails with `err`. */
async function launchFailing(err: Error): Promise<{ book: CronBook; tracked: string[]; launcher: CronLauncher; driver: FrameworkDriver }> {
  const state = await memoryState('agora-cron');
  const book = await CronBook.load(state);
  const spec = validateCronJobSpec({ name: 'job', schedule: '0 0 1 1 *', task: { command: 'true', resources: { cpus: 0.1, mem: 16 } } });
  const base: CronJobRecord = { name: 'job', spec, version: 'v1', createdAtMs: T0, updatedAtMs: T0, lastScheduleTime: T0, lastSuccessfulMs: 0, runs: [], skipped: [] };
  await book.put({ ...base, runs: [manualRun(base, T0)] });
  const tracked: string[] = [];
  const driver = {
    state: 'SUBSCRIBED',
    accept: async () => Promise.reject(err),
    decline: async () => undefined,
    trackTask: (taskId: string) => void tracked.push(taskId),
  } as unknown as FrameworkDriver;
  const pending = () => [...book.records.values()].flatMap((r) => r.runs.filter(needsLaunch).map((run) => pendingRun(r.spec, run, '*')));
  const launcher = new CronLauncher({ book, clock: new FakeClock(T0), logger: silentLogger(), role: '*', pending, declinedIdle: () => undefined, replan: async () => undefined });
  return { book, tracked, launcher, driver };
}

describe('cron launcher: a launch that is not accepted', () => {
  it.each([
    ['refused by the master', new FailedPreconditionError("offer 'o1' is not valid")],
    ['never sent: the driver was not subscribed', new NotSubscribedError('DISCONNECTED')],
  ])('%s: the attempt waits for another offer, nothing is reconciled', async (_what, err) => {
    const { book, tracked, launcher, driver } = await launchFailing(err);
    await launcher.offers(driver, [wireOffer('o1', { agentId: 'agent-1' })]);
    const run = book.need('job').runs[0]!;
    expect(run.tasks).toEqual([]);
    expect(needsLaunch(run)).toBe(true);
    expect(book.owner.size).toBe(0);
    expect(tracked).toEqual([]);
  });

  it('unanswered: the task stays recorded and is reconciled', async () => {
    const { book, tracked, launcher, driver } = await launchFailing(new TimeoutError('the accept call timed out'));
    await launcher.offers(driver, [wireOffer('o1', { agentId: 'agent-1' })]);
    const run = book.need('job').runs[0]!;
    expect(run.tasks).toHaveLength(1);
    expect(needsLaunch(run)).toBe(false);
    expect(tracked).toEqual([run.tasks[0]!.taskId]);
  });
});
