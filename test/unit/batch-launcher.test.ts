// The batch launcher (frameworks/batch/launcher.ts) on the testing kit's FakeDriver. When the
// launch cannot be recorded first (a stale instance, a store error): nothing is launched, and the
// offers go back to the master rather than staying with the framework until the master's offer
// timeout (a minute by default). Otherwise each task goes to its offer's agent; a launch whose
// outcome is unknown leaves its tasks to reconciliation, a refused one voids them.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { JobBook, type JobRecord } from '../../frameworks/batch/book.js';
import { changeOf } from '../../frameworks/batch/framework.js';
import { GangHolds } from '../../frameworks/batch/holds.js';
import { JobLauncher } from '../../frameworks/batch/launcher.js';
import { compileBatchOptions } from '../../frameworks/batch/options.js';
import { planJob } from '../../frameworks/batch/planner.js';
import type { QueueEntry, JobSupervisor } from '../../frameworks/batch/supervisor.js';
import { validateJobSpec } from '../../frameworks/batch/spec.js';
import { FrameworkState } from '../../sdk/state.js';
import { FakeDriver, offer } from '../../sdk/testing/index.js';
import { InvalidArgumentError, UnavailableError } from '../../core/errors.js';
import type { Offer__Output } from '../../proto/index.js';
import { closeStates, memoryState } from '../support/framework-unit.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

afterEach(closeStates);

describe('batch launcher', () => {
  it('a launch that cannot be recorded: launches nothing and declines the offers it would have used', async () => {
    const state = await memoryState('agora-batch');
    const book = await JobBook.load(state);
    const spec = validateJobSpec({ name: 'j', completions: 2, parallelism: 2, task: { command: 'true', resources: { cpus: 1, mem: 16 } } });
    const record: JobRecord = changeOf(undefined, spec, T0).record;
    await book.put(record);
    // Another instance has written the job since: this one's next write is refused (stale).
    const newer = await JobBook.load(new FrameworkState(state.store, 'default', 'agora-batch'));
    await newer.put({ ...record, updatedAtMs: T0 + 1 });

    const decisions = planJob(spec, record.run, T0).launch;
    expect(decisions).toHaveLength(2);
    const entry: QueueEntry = { spec, submittedAtMs: T0, pending: decisions.length, record, decisions };
    const supervisor = { queue: [entry], reasons: new Map<string, string>(), replan: async () => undefined, declinedIdle: () => undefined } as unknown as JobSupervisor;
    const driver = new FakeDriver();
    const options = compileBatchOptions({ master: 'localhost:1', state, access: { insecure: true } });
    const launcher = new JobLauncher({ book, holds: new GangHolds(), supervisor, clock: new FakeClock(T0), logger: silentLogger(), role: '*', options });

    const offers = [offer({ id: 'o1' }), offer({ id: 'o2' }), offer({ id: 'o3' })];
    await driver.deliverOffers({ offers: (d, o) => launcher.offers(d, o) }, offers);
    expect(driver.launched).toEqual([]);
    expect(driver.accepted).toEqual([]);
    expect(driver.declined.sort()).toEqual(['o1', 'o2', 'o3']);
    expect(book.need('j').run.tasks).toEqual([]);
  });

  it("launches what it recorded, each task on its offer's agent", async () => {
    const { driver, launcher, book } = await twoTaskJob();
    await driver.deliverOffers({ offers: (d, o) => launcher.offers(d, o) }, twoAgents());
    expect(driver.launched.map((t) => t.agentId).sort()).toEqual(['a1', 'a2']);
    expect(driver.accepted.sort()).toEqual(['o1', 'o2']);
    expect(book.need('j').run.tasks.map((t) => t.state)).toEqual(['TASK_STAGING', 'TASK_STAGING']);
  });

  it('tracks the tasks of a launch whose outcome is unknown, and voids those of a refused one', async () => {
    const unknown = await twoTaskJob();
    unknown.driver.failNext('accept', new UnavailableError('the master went away')).failNext('accept', new UnavailableError('the master went away'));
    await unknown.driver.deliverOffers({ offers: (d, o) => unknown.launcher.offers(d, o) }, twoAgents());
    expect(unknown.driver.launched).toEqual([]);
    expect(unknown.driver.tracked.map((t) => t.taskId).sort()).toEqual(unknown.book.need('j').run.tasks.map((t) => t.taskId).sort());
    expect(unknown.book.need('j').run.tasks.map((t) => t.state)).toEqual(['TASK_STAGING', 'TASK_STAGING']);

    const refused = await twoTaskJob();
    refused.driver.failNext('accept', new InvalidArgumentError('offerIds[0]', 'offer o1 is no longer valid'));
    await refused.driver.deliverOffers({ offers: (d, o) => refused.launcher.offers(d, o) }, twoAgents());
    expect(refused.driver.launched).toHaveLength(1);
    expect(refused.book.need('j').run.tasks.map((t) => [t.state, t.voided ?? false]).sort()).toEqual([
      ['TASK_DROPPED', true],
      ['TASK_STAGING', false],
    ]);
  });
});

describe('batch launcher: why tasks wait', () => {
  it('a job alone whose own tasks took the offers says so, not that other jobs took them', async () => {
    const { driver, launcher, reasons } = await queued([{ name: 'j', tasks: 2 }]);
    await driver.deliverOffers({ offers: (d, o) => launcher.offers(d, o) }, [offer({ id: 'o1', agentId: 'a1', resources: 'cpus:1;mem:64' })]);
    expect(driver.launched).toHaveLength(1);
    expect(reasons.get('j')).toBe("waiting for offers: 1 of its tasks launched on this round's offers, 1 more need room (cpus:1;mem:16 each)");
  });

  it('a job behind another that took the offers names it', async () => {
    const { driver, launcher, reasons } = await queued([{ name: 'first', tasks: 1 }, { name: 'second', tasks: 1 }]);
    await driver.deliverOffers({ offers: (d, o) => launcher.offers(d, o) }, [offer({ id: 'o1', agentId: 'a1', resources: 'cpus:1;mem:64' })]);
    expect(reasons.get('first')).toBe('');
    expect(reasons.get('second')).toBe('waiting for offers: jobs ahead of it in the queue (first) took the ones that fit');
  });

  it('a task no offer could hold names the resource and the largest offer', async () => {
    const { driver, launcher, reasons } = await queued([{ name: 'huge', tasks: 1, cpus: 64 }]);
    await driver.deliverOffers({ offers: (d, o) => launcher.offers(d, o) }, [offer({ id: 'o1', agentId: 'a1', resources: 'cpus:2;mem:64' })]);
    expect(reasons.get('huge')).toBe('insufficient cpus: need 64, largest offer has 2');
  });
});

/** Jobs queued in this order (each task 1 cpu unless told), their launcher and their reasons. */
async function queued(jobs: readonly { name: string; tasks: number; cpus?: number }[]): Promise<{ driver: FakeDriver; launcher: JobLauncher; reasons: Map<string, string> }> {
  const state = await memoryState('agora-batch');
  const book = await JobBook.load(state);
  const queue: QueueEntry[] = [];
  for (const j of jobs) {
    const spec = validateJobSpec({ name: j.name, completions: j.tasks, parallelism: j.tasks, task: { command: 'true', resources: { cpus: j.cpus ?? 1, mem: 16 } } });
    const record: JobRecord = changeOf(undefined, spec, T0).record;
    await book.put(record);
    const decisions = planJob(spec, record.run, T0).launch;
    queue.push({ spec, submittedAtMs: T0, pending: decisions.length, record, decisions });
  }
  const reasons = new Map<string, string>();
  const supervisor = { queue, reasons, replan: async () => undefined, declinedIdle: () => undefined } as unknown as JobSupervisor;
  const options = compileBatchOptions({ master: 'localhost:1', state, access: { insecure: true } });
  const launcher = new JobLauncher({ book, holds: new GangHolds(), supervisor, clock: new FakeClock(T0), logger: silentLogger(), role: '*', options });
  return { driver: new FakeDriver(), launcher, reasons };
}

/** Two agents with room for one task each. */
function twoAgents(): Offer__Output[] {
  return [offer({ id: 'o1', agentId: 'a1', resources: 'cpus:1;mem:64' }), offer({ id: 'o2', agentId: 'a2', resources: 'cpus:1;mem:64' })];
}

/** A job of two tasks (1 cpu each) queued, its launcher and a FakeDriver. */
async function twoTaskJob(): Promise<{ driver: FakeDriver; launcher: JobLauncher; book: JobBook }> {
  const state = await memoryState('agora-batch');
  const book = await JobBook.load(state);
  const spec = validateJobSpec({ name: 'j', completions: 2, parallelism: 2, task: { command: 'true', resources: { cpus: 1, mem: 16 } } });
  const record: JobRecord = changeOf(undefined, spec, T0).record;
  await book.put(record);
  const decisions = planJob(spec, record.run, T0).launch;
  const entry: QueueEntry = { spec, submittedAtMs: T0, pending: decisions.length, record, decisions };
  const supervisor = { queue: [entry], reasons: new Map<string, string>(), replan: async () => undefined, declinedIdle: () => undefined } as unknown as JobSupervisor;
  const options = compileBatchOptions({ master: 'localhost:1', state, access: { insecure: true } });
  const launcher = new JobLauncher({ book, holds: new GangHolds(), supervisor, clock: new FakeClock(T0), logger: silentLogger(), role: '*', options });
  return { driver: new FakeDriver(), launcher, book };
}
