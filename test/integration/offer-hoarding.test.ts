// No hoarding: a framework that never answers its offers (an SDK subscriber whose offers handler
// does nothing) must not starve another one. On a real master over gRPC: with --offer-timeout the
// hoarder's offer is rescinded when it times out, the resources go back with the default decline
// filter on the hoarder, and the allocation run that follows offers them to the other framework;
// with the timeout off (what the default used to be) the other framework gets nothing. And the
// default is on: one minute.
import { afterEach, describe, expect, it } from 'vitest';
import { compileMasterOptions, MASTER_OPTIONS } from '../../master/options.js';
import { FrameworkDriver, type Offer } from '../../sdk/index.js';
import { eventually, MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { driverAccess } from '../support/security.js';
import { offerResources, taskInfo } from '../support/test-framework.js';

const drivers: FrameworkDriver[] = [];
afterEach(async () => {
  await Promise.allSettled(drivers.splice(0).map((d) => d.stop()));
  await stopHarnesses();
});

/** An SDK framework that takes every offer and never answers: no accept, no decline. */
async function hoarder(master: string): Promise<{ driver: FrameworkDriver; offers: Offer[]; rescinded: string[] }> {
  const offers: Offer[] = [];
  const rescinded: string[] = [];
  const driver = await FrameworkDriver.start(
    { master, framework: { name: 'hoarder', failoverTimeoutSeconds: 60 }, ...driverAccess() },
    {
      offers: (_driver, list) => void offers.push(...list),
      rescind: (_driver, offerId) => void rescinded.push(offerId),
    },
  );
  drivers.push(driver);
  return { driver, offers, rescinded };
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  await eventually(check, { what, timeoutMs, intervalMs: 10 });
}

describe('a framework that never answers its offers', () => {
  it('does not starve another: its offer times out and goes to the other framework', async () => {
    const h = await MasterHarness.start({ master: { offerTimeout: '400ms', refuseSeconds: '5s' } });
    const agent = await h.agent({ resources: 'cpus:1;mem:512' });
    const hog = await hoarder(h.address);
    await until(() => hog.offers.length === 1, "the hoarder's offer");
    const [held] = hog.offers;
    const offeredAt = Date.now();

    const fair = await h.framework({ name: 'fair' });
    const offer = await fair.nextOffer({ timeoutMs: 5000 });
    const waitedMs = Date.now() - offeredAt;
    expect(hog.rescinded).toEqual([held!.id]);
    expect(offer.agentId).toBe(agent.agentId);
    expect(offerResources(offer).format()).toBe('cpus:1;mem:512');
    // Taken back after --offer-timeout (400 ms), not the default minute. (No lower bound: the
    // hoarder heard of its offer some time after the master made it, more so on a loaded machine;
    // that the other framework was offered the agent only after the rescind is what the line above says.)
    expect(waitedMs).toBeLessThan(3000);
    h.invariant();

    // The hoarder is filtered for --default-refuse: the other framework declining with no filter
    // gets the agent again, the hoarder does not.
    await fair.decline(offer, 0);
    const again = await fair.nextOffer({ timeoutMs: 2000 });
    expect(again.agentId).toBe(agent.agentId);
    expect(hog.offers).toHaveLength(1);
    await fair.launch(again, [taskInfo('t1', 'cpus:1;mem:512')]);
    await agent.waitForLaunch('t1');
    h.invariant();
  });

  it('with --offer-timeout 0 (off) the other framework starves', async () => {
    const h = await MasterHarness.start({ master: { offerTimeout: '0' } });
    await h.agent({ resources: 'cpus:1;mem:512' });
    const hog = await hoarder(h.address);
    await until(() => hog.offers.length === 1, "the hoarder's offer");
    const fair = await h.framework({ name: 'fair' });
    await fair.events.expectNone((e) => e.type === 'offers', 1500, { since: 0, what: 'an offer while the hoarder holds everything' });
    expect(hog.rescinded).toEqual([]);
    expect(h.state.offerCount()).toBe(1);
  });

  it('the default --offer-timeout is one minute, and a master started without the flag uses it', async () => {
    expect(MASTER_OPTIONS.offerTimeout.default).toBe(60_000);
    expect(compileMasterOptions({}).offerTimeout).toBe(60_000);
    const h = await MasterHarness.start();
    expect(h.state.options.offerTimeout).toBe(60_000);
  });
});
