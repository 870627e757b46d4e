// Offers against a real master over loopback gRPC: what is offered, DRF between two frameworks,
// decline filters, suppress / revive, the offer timeout, reservations.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { eventually, MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { offerResources, taskInfo, type TestFramework } from '../support/test-framework.js';

afterEach(stopHarnesses);

/** Offers currently outstanding for `fw` (made and not yet used, declined or rescinded). */
function outstanding(h: MasterHarness, fw: TestFramework): string[] {
  return [...h.state.outstandingOffers()].filter((o) => o.frameworkId === fw.frameworkId).map((o) => o.id);
}

describe('offers', () => {
  it('offers each agent to a subscribed framework, with its whole resources', async () => {
    const h = await MasterHarness.start();
    const a = await h.agent({ resources: 'cpus:2;mem:1024;ports:[31000-31009]' });
    const b = await h.agent({ resources: 'cpus:1;mem:512;disk:100' });
    const fw = await h.framework();
    await eventually(() => expect(fw.offersSeen().map((o) => o.agentId).sort()).toEqual([a.agentId, b.agentId].sort()));
    const byAgent = new Map(fw.offersSeen().map((o) => [o.agentId, offerResources(o).format()]));
    expect(byAgent.get(a.agentId)).toBe('cpus:2;mem:1024;ports:[31000-31009]');
    expect(byAgent.get(b.agentId)).toBe('cpus:1;mem:512;disk:100');
    for (const o of fw.offersSeen()) {
      expect(o.frameworkId).toBe(fw.frameworkId);
      expect(o.allocationRole).toBe('*');
    }
    h.invariant();
    // Offers are not made twice while outstanding.
    await fw.events.expectNone((e) => e.type === 'offers', 200, { what: 'a second offer of the same resources' });
  });

  it('shares agents between two frameworks in one role by DRF', async () => {
    const h = await MasterHarness.start();
    const one = await h.framework({ name: 'one' });
    const two = await h.framework({ name: 'two' });
    for (let i = 0; i < 4; i++) await h.agent({ resources: 'cpus:1;mem:1024' });
    await eventually(() => expect(one.offersSeen().length + two.offersSeen().length).toBe(4));
    // Each agent is the same size, so after each offer the framework with fewer agents has the
    // lower dominant share and gets the next one: 2 and 2.
    expect(one.offersSeen()).toHaveLength(2);
    expect(two.offersSeen()).toHaveLength(2);
    h.invariant();
  });

  it('offers the rest of an agent to the framework with the lower dominant share', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent({ resources: 'cpus:4;mem:4096' });
    const one = await h.framework({ name: 'one' });
    const [first] = await one.nextOffers();
    expect(offerResources(first!).format()).toBe('cpus:4;mem:4096');
    const two = await h.framework({ name: 'two' });
    // one uses a quarter; the rest goes back with no filter, and two (share 0) gets it.
    await one.launch(first!, [taskInfo('t1', 'cpus:1;mem:1024')], { refuseSeconds: 0 });
    await agent.waitForLaunch('t1');
    let [offer] = await two.nextOffers();
    expect(offerResources(offer!).format()).toBe('cpus:3;mem:3072');
    // two keeps declining with no filter; it still has the lower share, so it keeps getting it.
    for (let i = 0; i < 3; i++) {
      await two.decline(offer!, 0);
      [offer] = await two.nextOffers();
    }
    expect(one.offersSeen()).toHaveLength(1);
    h.invariant();
  });

  it('does not re-offer declined resources within refuse_seconds, and does after', async () => {
    const h = await MasterHarness.start();
    await h.agent();
    const fw = await h.framework();
    const offer = await fw.nextOffer();
    const declinedAt = Date.now();
    await fw.decline(offer, 1);
    expect(outstanding(h, fw)).toEqual([]);
    h.invariant();
    const mark = fw.events.mark();
    await fw.events.expectNone((e) => e.type === 'offers', 700, { since: mark, what: 'an offer within the decline filter' });
    const again = await fw.nextOffers({ since: mark, timeoutMs: 3000 });
    expect(Date.now() - declinedAt).toBeGreaterThanOrEqual(950);
    expect(offerResources(again[0]!).equals(offerResources(offer))).toBe(true);
    h.invariant();
  });

  it('re-offers at once after a decline with refuse_seconds 0', async () => {
    const h = await MasterHarness.start();
    await h.agent();
    const fw = await h.framework();
    const offer = await fw.nextOffer();
    await fw.decline(offer, 0);
    const again = await fw.nextOffer({ timeoutMs: 1000 });
    expect(again.id).not.toBe(offer.id);
  });

  it('uses the default refuse filter (--default-refuse) when a decline gives none', async () => {
    const h = await MasterHarness.start({ master: { refuseSeconds: '600ms' } });
    await h.agent();
    const fw = await h.framework();
    const offer = await fw.nextOffer();
    const declinedAt = Date.now();
    await fw.decline(offer);
    const again = await fw.nextOffer({ timeoutMs: 3000 });
    expect(Date.now() - declinedAt).toBeGreaterThanOrEqual(550);
    expect(again.agentId).toBe(offer.agentId);
  });

  it('stops offers on suppress (rescinding what is outstanding) and resumes them on revive', async () => {
    const h = await MasterHarness.start();
    await h.agent();
    const fw = await h.framework();
    const offer = await fw.nextOffer();
    await fw.suppress();
    await fw.waitFor((e) => e.rescind?.offerId === offer.id, { what: 'RESCIND of the outstanding offer' });
    expect(outstanding(h, fw)).toEqual([]);
    h.invariant();
    const mark = fw.events.mark();
    await fw.events.expectNone((e) => e.type === 'offers', 300, { since: mark, what: 'offers while suppressed' });
    await fw.revive();
    await fw.nextOffers({ since: mark, timeoutMs: 1000 });
    h.invariant();
  });

  it('revive clears decline filters', async () => {
    // On the master's fake clock, allocation runs only when the test moves it.
    const clock = new FakeClock(Date.now()); // now: certificates are checked against it
    const h = await MasterHarness.start({ clock });
    await h.agent();
    const fw = await h.framework();
    clock.advance(0);
    await fw.decline(await fw.nextOffer(), 60);
    const mark = fw.events.mark();
    // Ten allocation intervals (50 ms each) inside the 60 s filter: none offers the agent again.
    clock.advance(500);
    expect(h.state.offerCount()).toBe(0);
    await fw.revive();
    clock.advance(0);
    await fw.nextOffers({ since: mark, timeoutMs: 1000 });
    expect(h.state.offerCount()).toBe(1);
  });

  it('a framework subscribing with suppressed roles gets no offers until it revives', async () => {
    const h = await MasterHarness.start();
    await h.agent();
    const fw = await h.framework({ suppressedRoles: ['*'] });
    await fw.events.expectNone((e) => e.type === 'offers', 300, { since: 0, what: 'offers while suppressed' });
    await fw.revive(['*']);
    await fw.nextOffer({ timeoutMs: 1000 });
  });

  it('rescinds offers held longer than offer_timeout, and offers the resources again after the default filter', async () => {
    const h = await MasterHarness.start({ master: { offerTimeout: '200ms', refuseSeconds: '600ms' } });
    await h.agent();
    const fw = await h.framework();
    const offer = await fw.nextOffer();
    const offeredAt = Date.now();
    await fw.waitFor((e) => e.rescind?.offerId === offer.id, { what: 'RESCIND after the offer timeout', timeoutMs: 2000 });
    const rescindedAt = Date.now();
    expect(rescindedAt - offeredAt).toBeGreaterThanOrEqual(150);
    h.invariant();
    // A timed-out offer counts as declined with no filter given: --default-refuse applies.
    const again = await fw.nextOffer({ timeoutMs: 3000 });
    expect(Date.now() - rescindedAt).toBeGreaterThanOrEqual(500);
    expect(again.id).not.toBe(offer.id);
    expect(offerResources(again).equals(offerResources(offer))).toBe(true);
    // The rescinded offer cannot be used.
    const err = await fw.launch(offer, [taskInfo('late')]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AGORA_FAILED_PRECONDITION', field: 'offerIds[0]' });
    h.invariant();
  });

  it('offers reserved resources only to their role', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent({ resources: 'cpus:1;mem:512;cpus(prod):2;mem(prod):1024' });
    const star = await h.framework({ name: 'star', roles: ['*'] });
    const [starOffer] = await star.nextOffers();
    expect(offerResources(starOffer!).reserved().isEmpty()).toBe(true);
    const prod = await h.framework({ name: 'prod', roles: ['prod'] });
    const [prodOffer] = await prod.nextOffers();
    expect(prodOffer?.agentId).toBe(agent.agentId);
    expect(prodOffer?.allocationRole).toBe('prod');
    expect(offerResources(prodOffer!).reservedFor('prod').format()).toBe('cpus(prod):2;mem(prod):1024');
    h.invariant();
  });

  it('rescinds a framework\'s offers when it disconnects and recovers them for others', async () => {
    const h = await MasterHarness.start();
    await h.agent();
    const one = await h.framework({ name: 'one' });
    await one.nextOffer();
    const two = await h.framework({ name: 'two' });
    await one.close();
    await eventually(() => expect(h.state.framework(one.frameworkId)?.state).toBe('disconnected'));
    expect(outstanding(h, one)).toEqual([]);
    await two.nextOffer({ timeoutMs: 2000 });
    h.invariant();
  });
});
