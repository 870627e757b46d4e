// The FrameworkShell hands itself to the handlers before it subscribes: a wake-up asked for during
// the first `subscribed` (before start() returns) fires, with no second plan needed. A `tick`
// handler runs every tickMs once started, and no more after stop(). An offer round that throws
// declines its offers.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { FrameworkShell } from '../../frameworks/shell.js';
import { FAST_DRIVER, startClusterBase, started, stopFrameworkClusters, until } from '../support/framework-cluster.js';
import { frameworksAccess } from '../support/security.js';
import { holdsFor } from '../support/waits.js';

afterEach(stopFrameworkClusters);

describe('FrameworkShell', () => {
  it('a wake-up asked for in the first subscribed handler fires', async () => {
    const { master, state } = await startClusterBase('agora-shell-test', { agents: [] });
    let wakes = 0;
    let subscribedWithShell: FrameworkShell | undefined;
    const shell = await started(
      FrameworkShell.start({ name: 'agora-shell-test', master: master.address, state, access: frameworksAccess(), driver: FAST_DRIVER, waitSubscribedMs: 10_000 }, (self) => ({
        subscribed: async () => {
          subscribedWithShell = self;
          self.wakeAt(self.clock.now() + 50);
        },
        offers: async () => undefined,
        update: async () => undefined,
        wake: async () => {
          wakes++;
        },
      })),
    );
    expect(subscribedWithShell).toBe(shell);
    await until(async () => wakes === 1, 'the wake-up asked for while subscribing');
  });

  it('an offer round that throws gives its offers back to the master', async () => {
    const { master, state } = await startClusterBase('agora-shell-offers');
    let rounds = 0;
    await started(
      FrameworkShell.start({ name: 'agora-shell-offers', master: master.address, state, access: frameworksAccess(), driver: FAST_DRIVER, waitSubscribedMs: 10_000 }, {
        subscribed: async () => undefined,
        offers: async () => {
          rounds++;
          throw new Error('the store is down');
        },
        update: async () => undefined,
        wake: async () => undefined,
      }),
    );
    await until(async () => rounds >= 1, 'an offer round');
    // Well before the offer timeout (a minute): the failed round declined them.
    await until(async () => master.state.offerCount() === 0, 'the offers declined');
  });

  it('a tick handler runs every tickMs from start until stop', async () => {
    const { master, state } = await startClusterBase('agora-shell-tick', { agents: [] });
    let ticks = 0;
    let ticksBeforeStart = -1;
    const clock = new FakeClock(Date.now());
    const shell = await started(
      FrameworkShell.start({ name: 'agora-shell-tick', master: master.address, state, access: frameworksAccess(), driver: FAST_DRIVER, waitSubscribedMs: 10_000, tickMs: 20, clock }, {
        subscribed: async () => {
          ticksBeforeStart = ticks;
        },
        offers: async () => undefined,
        update: async () => undefined,
        wake: async () => undefined,
        tick: async () => {
          ticks++;
        },
      }),
    );
    expect(ticksBeforeStart).toBe(0);
    for (let n = 1; n <= 3; n++) {
      clock.advance(20);
      await until(async () => ticks >= n, `tick ${n}`);
    }
    expect(ticks).toBe(3); // one per interval
    await shell.stop();
    const atStop = ticks;
    expect(clock.pending()).toBe(0); // the interval is gone with the rest of the shell's timers
    clock.advance(1_000); // fifty tick intervals
    await holdsFor(50, () => expect(ticks).toBe(atStop), 'no tick after stop');
  });
});
