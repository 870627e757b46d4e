// One kill tracker for services, cron and batch (frameworks/common/kill-tracker.ts), on a fake
// clock: a kill goes again after its grace period and killRetryMs without an answer, never before;
// an answered kill is forgotten; after a resubscription every unanswered kill goes again; a kill
// asked for while the driver is not subscribed is sent at the next retry.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { InvalidArgumentError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import { DEFAULT_KILL_RETRY_MS, KillTracker, killRetryMsOf } from '../../frameworks/common/kill-tracker.js';
import type { FrameworkDriver } from '../../sdk/driver.js';

function setup(retryMs = 1000) {
  const clock = new FakeClock();
  const sent: { taskId: string; agentId: string; grace: number; at: number }[] = [];
  const driver = {
    state: 'SUBSCRIBED' as string,
    kill: async (taskId: string, agentId: string, policy: { gracePeriodSeconds: number }) => void sent.push({ taskId, agentId, grace: policy.gracePeriodSeconds, at: clock.now() }),
  };
  const kills = new KillTracker({ clock, logger: silentLogger(), driver: () => driver as unknown as FrameworkDriver, retryMs });
  return { clock, sent, driver, kills, t0: clock.now() };
}

describe('KillTracker', () => {
  it('sends a kill at once, and again only after grace + retryMs without an answer', () => {
    const { clock, sent, kills, t0 } = setup();
    kills.kill('t1', 'a1', 2, 'test');
    expect(sent).toEqual([{ taskId: 't1', agentId: 'a1', grace: 2, at: t0 }]);
    expect(kills.retry()).toBe(t0 + 3000);
    clock.advance(2999);
    expect(kills.retry()).toBe(t0 + 3000);
    expect(sent).toHaveLength(1);
    clock.advance(1);
    expect(kills.retry()).toBe(t0 + 6000);
    expect(sent.map((s) => s.at)).toEqual([t0, t0 + 3000]);
  });

  it('forgets an answered kill', () => {
    const { clock, sent, kills } = setup();
    kills.kill('t1', 'a1', 0, 'test');
    expect(kills.has('t1')).toBe(true);
    kills.ended('t1');
    expect(kills.has('t1')).toBe(false);
    clock.advance(60_000);
    expect(kills.retry()).toBeUndefined();
    expect(sent).toHaveLength(1);
  });

  it('sends every unanswered kill again after a resubscription', () => {
    const { sent, kills } = setup();
    kills.kill('t1', 'a1', 5, 'test');
    kills.kill('t2', 'a2', 0, 'test');
    kills.subscribed();
    kills.retry();
    expect(sent.map((s) => s.taskId)).toEqual(['t1', 't2', 't1', 't2']);
  });

  it('keeps a kill asked for while not subscribed, and sends it at a retry once subscribed', () => {
    const { clock, sent, driver, kills } = setup();
    driver.state = 'CONNECTING';
    kills.kill('t1', 'a1', 0, 'test');
    expect(sent).toHaveLength(0);
    driver.state = 'SUBSCRIBED';
    clock.advance(1000);
    kills.retry();
    expect(sent).toHaveLength(1);
  });

  it('reads the killRetryMs option: default 10 s, and a bad value names itself', () => {
    expect(killRetryMsOf(undefined)).toBe(DEFAULT_KILL_RETRY_MS);
    expect(DEFAULT_KILL_RETRY_MS).toBe(10_000);
    expect(killRetryMsOf(0)).toBe(0);
    for (const bad of [-1, Number.NaN, Infinity, '5' as unknown as number]) {
      expect(() => killRetryMsOf(bad)).toThrow(InvalidArgumentError);
      expect(() => killRetryMsOf(bad)).toThrow(/^killRetryMs: /);
    }
  });
});
