// The FrameworkShell hands itself to the handlers before it subscribes: a wake-up asked for during
// the first `subscribed` (before start() returns) fires, with no second plan needed.
import { afterEach, describe, expect, it } from 'vitest';
import { FrameworkShell } from '../../frameworks/shell.js';
import { FAST_DRIVER, startClusterBase, started, stopFrameworkClusters, until } from '../support/framework-cluster.js';

afterEach(stopFrameworkClusters);

describe('FrameworkShell', () => {
  it('a wake-up asked for in the first subscribed handler fires', async () => {
    const { master, state } = await startClusterBase('agora-shell-test', { agents: [] });
    let wakes = 0;
    let subscribedWithShell: FrameworkShell | undefined;
    const shell = await started(
      FrameworkShell.start({ name: 'agora-shell-test', master: master.address, state, driver: FAST_DRIVER, waitSubscribedMs: 10_000 }, (self) => ({
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
});
