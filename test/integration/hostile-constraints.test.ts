// Hostile LIKE / UNLIKE patterns on the real placement path: a master, two agents running real
// tasks and the services framework, all in this process — as in `agora up`, where a pattern that
// backtracks for seconds stalls everything. The issue's `(.*.*.*.*.*)*Z` (≈ 11 s per evaluation on
// a backtracking engine) and its 6-star form (≈ 56 s) must place in milliseconds, with the event
// loop never held up; patterns RE2 cannot match in linear time are refused, naming the field.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { AgoraError } from '../../core/errors.js';
import { sleepSpec, startCluster, stopClusters, until } from './services-harness.js';

afterEach(stopClusters);

// Long enough that a backtracking engine never finishes (each extra character doubles its work).
const HOST_A = 'a'.repeat(40);
const HOST_B = 'b'.repeat(39) + 'Z';

describe('hostile constraint patterns on a real cluster', () => {
  it('places with the 5-star and 6-star patterns in milliseconds, without stalling the process', async () => {
    const c = await startCluster({ agents: [{ hostname: HOST_A }, { hostname: HOST_B }] });
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const started = performance.now();
    // LIKE: only the host ending in Z fits; UNLIKE: only the other one.
    await c.services.apply(sleepSpec({ name: 'five', instances: 2, constraints: [['hostname', 'LIKE', '(.*.*.*.*.*)*Z']] }));
    await c.services.apply(sleepSpec({ name: 'six', instances: 1, constraints: [['hostname', 'UNLIKE', '(.*.*.*.*.*.*)*Z']] }));
    const five = await until(async () => {
      const s = (await c.services.get('five')).serviceStatus!;
      return s.running === 2 && /hostname LIKE/.test(s.pendingReason ?? '') === false && s;
    }, 'both instances of five running');
    const six = await until(async () => {
      const s = (await c.services.get('six')).serviceStatus!;
      return s.running === 1 && s;
    }, 'six running');
    const placedMs = performance.now() - started;
    lag.disable();
    expect(five.tasks!.map((t) => t.hostname)).toEqual([HOST_B, HOST_B]);
    expect(six.tasks!.map((t) => t.hostname)).toEqual([HOST_A]);
    // A backtracking engine would have held the loop for minutes; RE2 never for long.
    expect(lag.max / 1e6).toBeLessThan(500);
    expect(placedMs).toBeLessThan(10_000);
  });

  it('a pattern that fits no agent leaves the instance pending, saying why, at once', async () => {
    const c = await startCluster({ agents: [{ hostname: HOST_A }] });
    const started = performance.now();
    await c.services.apply(sleepSpec({ name: 'never', instances: 1, constraints: [['hostname', 'LIKE', '(.*.*.*.*.*.*)*Z']] }));
    const status = await until(async () => {
      const s = (await c.services.get('never')).serviceStatus!;
      return /hostname LIKE/.test(s.pendingReason ?? '') && s;
    }, 'the reason it waits');
    expect(status.pendingReason).toContain(`hostname LIKE (.*.*.*.*.*.*)*Z: agent is host ${HOST_A}`);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(status.running).toBe(0);
  });

  it.each([
    ['a backreference', '(a)\\1', 'invalid regular expression'],
    ['a lookahead', '(?=a)a+', 'no backreferences or lookaround'],
    ['a pattern over 1024 characters', `${'a'.repeat(1025)}`, 'at most 1024'],
  ])('refuses %s with INVALID_ARGUMENT naming the field, and stores nothing', async (_what, pattern, message) => {
    const c = await startCluster({ agents: [{ hostname: HOST_A }] });
    const err = await c.services.apply(sleepSpec({ name: 'bad', constraints: [['hostname', 'LIKE', pattern]] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgoraError);
    expect(err).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'constraints[0].value' });
    expect((err as Error).message).toContain(message);
    await expect(c.services.get('bad')).rejects.toMatchObject({ code: 'AGORA_NOT_FOUND' });
  });
});
