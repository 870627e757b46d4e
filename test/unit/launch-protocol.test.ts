// One launch protocol for services, cron and batch (frameworks/common/launch-protocol.ts): a
// refused launch is reported for the framework to forget, one whose outcome is unknown is left to
// reconciliation (every task tracked), offers going back carry the idle filter only when nothing
// waits, and the pending summary is the same for every kind.
import { describe, expect, it } from 'vitest';
import { FailedPreconditionError, UnavailableError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import { LaunchProtocol, noOfferFits } from '../../frameworks/common/launch-protocol.js';
import type { TaskInfo } from '../../proto/index.js';
import { IDLE_REFUSE_SECONDS, PENDING_REFUSE_SECONDS } from '../../sdk/decline.js';
import type { FrameworkDriver } from '../../sdk/driver.js';
import { NotSubscribedError } from '../../sdk/errors.js';

function setup(launchError?: unknown) {
  const calls = { launched: [] as string[][], declined: [] as { ids: readonly string[]; refuse: number }[], tracked: [] as string[], idle: 0 };
  const driver = {
    accept: async (offerIds: string[]) => {
      calls.launched.push(offerIds);
      if (launchError !== undefined) throw launchError;
    },
    decline: async (ids: readonly string[], filter: { refuseSeconds: number }) => void calls.declined.push({ ids, refuse: filter.refuseSeconds }),
    trackTask: (taskId: string) => void calls.tracked.push(taskId),
  } as unknown as FrameworkDriver;
  const protocol = new LaunchProtocol({ logger: silentLogger(), declinedIdle: () => void calls.idle++ });
  return { calls, driver, protocol };
}

const target = { agentId: 'a1', hostname: 'h1', offerIds: ['o1'] };
const infos = [{ taskId: 't1' }, { taskId: 't2' }] as TaskInfo[];

describe('LaunchProtocol.send', () => {
  it('launched: nothing to forget or track', async () => {
    const { calls, driver, protocol } = setup();
    expect(await protocol.send(driver, target, infos, true)).toEqual({ result: 'launched' });
    expect(calls).toMatchObject({ launched: [['o1']], tracked: [], idle: 0 });
  });

  it.each([
    ['the master said no', new FailedPreconditionError('offer o1 is gone')],
    ['the call never left', new NotSubscribedError('CONNECTING')],
  ])('refused (%s): reported for the framework to forget, nothing tracked', async (_why, err) => {
    const { calls, driver, protocol } = setup(err);
    const out = await protocol.send(driver, target, infos, true);
    expect(out).toEqual({ result: 'refused', error: err });
    expect(calls.tracked).toEqual([]);
  });

  it('outcome unknown (UNAVAILABLE, a timeout): every task is tracked for reconciliation', async () => {
    const { calls, driver, protocol } = setup(new UnavailableError('the master went away'));
    expect(await protocol.send(driver, target, infos, true)).toEqual({ result: 'unknown' });
    expect(calls.tracked).toEqual(['t1', 't2']);
  });

  it('a launch while nothing waits leaves its offers with the idle filter, and says so', async () => {
    const { calls, driver, protocol } = setup();
    await protocol.send(driver, target, infos, false);
    expect(calls.idle).toBe(1);
  });
});

describe('LaunchProtocol.declineAll', () => {
  it('short filter while tasks wait, long (and remembered) when none do; nothing for no offers', async () => {
    const { calls, driver, protocol } = setup();
    await protocol.declineAll(driver, ['o1'], true);
    await protocol.declineAll(driver, ['o2'], false);
    await protocol.declineAll(driver, [], false);
    expect(calls.declined).toEqual([{ ids: ['o1'], refuse: PENDING_REFUSE_SECONDS }, { ids: ['o2'], refuse: IDLE_REFUSE_SECONDS }]);
    expect(calls.idle).toBe(1);
  });
});

describe('noOfferFits', () => {
  it('lists distinct reasons, at most three, and counts the rest', () => {
    const r = (reason: string) => ({ reason });
    expect(noOfferFits([r('cpus'), r('cpus'), r('mem')])).toBe('no offer fits: cpus; mem');
    expect(noOfferFits([r('a'), r('b'), r('c'), r('d'), r('e')])).toBe('no offer fits: a; b; c; and 2 more');
  });
});

describe('LaunchProtocol.declineAll', () => {
  it('warns, once, when a decline fails', async () => {
    const calls: string[][] = [];
    const warned: unknown[] = [];
    const driver = {
      decline: async (ids: readonly string[]) => {
        calls.push([...ids]);
        throw new FailedPreconditionError("offer 'o1' belongs to another framework", { field: 'offerIds[0]' });
      },
    } as unknown as FrameworkDriver;
    const logger = { ...silentLogger(), warn: (o: unknown) => void warned.push(o) } as unknown as ReturnType<typeof silentLogger>;
    await new LaunchProtocol({ logger, declinedIdle: () => undefined }).declineAll(driver, ['o1', 'o2'], true);
    expect(calls).toHaveLength(1);
    expect(warned).toHaveLength(1);
  });
});
