// The services launcher (frameworks/services/launcher.ts) when a launch fails:
// - the master refused it (or it was never sent): the tasks are forgotten, the instances wait;
// - the outcome is unknown (the master may have launched them and gone): they are reconciled, not
//   forgotten — forgetting would start a second copy of each;
// - it cannot be recorded first (a stale instance): nothing is launched and the offers go back.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { FailedPreconditionError, UnavailableError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import { ServiceBook } from '../../frameworks/services/book.js';
import { applySpec } from '../../frameworks/services/deployments.js';
import { ServiceLauncher } from '../../frameworks/services/launcher.js';
import type { ServiceSupervisor } from '../../frameworks/services/supervisor.js';
import { parseServiceSpec } from '../../frameworks/services/spec.js';
import { pendingLaunch } from '../../frameworks/services/tasks.js';
import type { FrameworkDriver } from '../../sdk/driver.js';
import { FrameworkState } from '../../sdk/state.js';
import { closeStates, memoryState, wireOffer } from '../support/framework-unit.js';

const T0 = Date.UTC(2026, 0, 1);
afterEach(closeStates);

async function setUp(launchError: Error | undefined, stale = false) {
  const state = await memoryState('agora-services');
  const book = await ServiceBook.load(state);
  const spec = parseServiceSpec({ name: 'web', instances: 1, command: 'serve', resources: { cpus: 0.5, mem: 64 } });
  const { record } = applySpec(undefined, spec, { now: T0, tasks: [], newId: () => 'd1' });
  await book.put(record);
  if (stale) await (await ServiceBook.load(new FrameworkState(state.store, 'default', 'agora-services'))).put({ ...record, updatedAtMs: T0 + 1 });
  const forgotten: string[] = [];
  const asked: string[] = [];
  const launched: string[] = [];
  const declined: string[] = [];
  const supervisor = {
    pending: [pendingLaunch(spec, record.version, false, '*')],
    notes: new Map(),
    replan: async () => undefined,
    declinedIdle: () => undefined,
    unknownTask: async (taskId: string) => void forgotten.push(taskId),
  } as unknown as ServiceSupervisor;
  const driver = {
    accept: async (offerIds: string[]) => {
      launched.push(...offerIds);
      if (launchError) throw launchError;
    },
    decline: async (offerIds: string[]) => void declined.push(...offerIds),
    trackTask: (taskId: string) => void asked.push(taskId),
  } as unknown as FrameworkDriver;
  const launcher = new ServiceLauncher({ book, supervisor, clock: new FakeClock(T0), logger: silentLogger(), role: '*' });
  await launcher.offers(driver, [wireOffer('o1')]);
  const taskIds = Object.keys(book.need('web').tasks);
  return { forgotten, asked, launched, declined, taskIds };
}

describe('services launcher: a launch that fails', () => {
  it('forgets the tasks when the master refused the launch', async () => {
    const r = await setUp(new FailedPreconditionError('offer o1 is gone'));
    expect(r.launched).toEqual(['o1']);
    expect(r.taskIds).toHaveLength(1);
    expect(r.forgotten).toEqual(r.taskIds);
    expect(r.asked).toEqual([]);
  });

  it('reconciles the tasks when the outcome is unknown', async () => {
    const r = await setUp(new UnavailableError('connection dropped'));
    expect(r.taskIds).toHaveLength(1);
    expect(r.asked).toEqual(r.taskIds);
    expect(r.forgotten).toEqual([]);
  });

  it('launches nothing and gives the offers back when the launch cannot be recorded', async () => {
    const r = await setUp(undefined, true);
    expect(r.launched).toEqual([]);
    expect(r.declined).toEqual(['o1']);
    expect(r.taskIds).toEqual([]);
  });
});
