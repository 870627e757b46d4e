// The batch launcher (frameworks/batch/launcher.ts) when the launch cannot be recorded first (a
// stale instance, a store error): nothing is launched, and the offers go back to the master
// rather than staying with the framework until the master's offer timeout (a minute by default).
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
import type { FrameworkDriver } from '../../sdk/driver.js';
import { FrameworkState } from '../../sdk/state.js';
import { closeStates, memoryState, wireOffer } from '../support/framework-unit.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

afterEach(closeStates);

describe('batch launcher: a launch that cannot be recorded', () => {
  it('launches nothing and declines the offers it would have used', async () => {
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
    const launched: string[][] = [];
    const declined: string[][] = [];
    const driver = {
      state: 'SUBSCRIBED',
      accept: async (offerIds: string[]) => void launched.push(offerIds),
      decline: async (offerIds: string[]) => void declined.push(offerIds),
      trackTask: () => undefined,
    } as unknown as FrameworkDriver;
    const options = compileBatchOptions({ master: 'localhost:1', state, access: { insecure: true } });
    const launcher = new JobLauncher({ book, holds: new GangHolds(), supervisor, clock: new FakeClock(T0), logger: silentLogger(), role: '*', options });

    await launcher.offers(driver, [wireOffer('o1'), wireOffer('o2'), wireOffer('o3')]);
    expect(launched).toEqual([]);
    expect(declined.flat().sort()).toEqual(['o1', 'o2', 'o3']);
    expect(book.need('j').run.tasks).toEqual([]);
  });
});
