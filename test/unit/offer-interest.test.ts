// OfferInterest (frameworks/offer-interest.ts): revive/suppress only on a change, the declined-idle
// state that needs a revive (declined with the long filter, or just subscribed), nothing while
// unsubscribed, and a failed call tried again next time.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import type { FrameworkDriver } from '../../sdk/driver.js';
import { OfferInterest } from '../../frameworks/offer-interest.js';

function fakeDriver(): { driver: FrameworkDriver; calls: string[]; fail: { next: boolean }; state: { value: string } } {
  const calls: string[] = [];
  const fail = { next: false };
  const state = { value: 'SUBSCRIBED' };
  const call = (name: string) => async (): Promise<void> => {
    calls.push(name);
    if (fail.next) {
      fail.next = false;
      throw new Error('no');
    }
  };
  const driver = {
    get state() {
      return state.value;
    },
    revive: call('revive'),
    suppress: call('suppress'),
  } as unknown as FrameworkDriver;
  return { driver, calls, fail, state };
}

describe('OfferInterest', () => {
  it('suppresses when nothing waits and revives when something does, once each', async () => {
    const { driver, calls } = fakeDriver();
    const offers = new OfferInterest(() => driver, silentLogger());
    await offers.want(true); // subscribed unsuppressed: nothing to do
    await offers.want(false);
    await offers.want(false);
    await offers.want(true);
    await offers.want(true);
    expect(calls).toEqual(['suppress', 'revive']);
  });

  it('revives after offers were declined idle', async () => {
    const { driver, calls } = fakeDriver();
    const offers = new OfferInterest(() => driver, silentLogger());
    offers.declinedIdle();
    await offers.want(true);
    await offers.want(true);
    expect(calls).toEqual(['revive']);
  });

  it('revives first after every subscription: the master keeps refuse filters across resubscriptions and failovers', async () => {
    const { driver, calls } = fakeDriver();
    const offers = new OfferInterest(() => driver, silentLogger());
    offers.subscribed();
    await offers.want(true);
    await offers.want(true);
    offers.subscribed(); // a reconnection, or another instance taking over
    await offers.want(true);
    expect(calls).toEqual(['revive', 'revive']);
  });

  it('does nothing without a subscribed driver; a failed call is tried again', async () => {
    const { driver, calls, fail, state } = fakeDriver();
    const offers = new OfferInterest(() => driver, silentLogger());
    await new OfferInterest(() => undefined, silentLogger()).want(false);
    state.value = 'CONNECTING';
    await offers.want(false);
    state.value = 'SUBSCRIBED';
    fail.next = true;
    await offers.want(false);
    await offers.want(false);
    await offers.want(false);
    expect(calls).toEqual(['suppress', 'suppress']);
  });
});
