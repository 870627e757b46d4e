// The rolling-update planner and the deployment transitions, on plain data: a simulated scheduler
// applies each plan at once and the test moves tasks through their states. No clock, no sleeping.
import { describe, expect, it } from 'vitest';
import * as d from '../../frameworks/services/deployments.js';
import { backoffDelayMs, isFailure, victims } from '../../frameworks/services/planner.js';
import { Sim } from './service-sim.js';

const HEALTH = { healthCheck: { tcp: { portIndex: 0 } }, ports: [{ name: 'http' }] };

function created(instances = 3, extra: Record<string, unknown> = {}): Sim {
  const sim = new Sim();
  sim.apply({ instances, ...extra });
  sim.settle();
  return sim;
}

describe('service planner: keeping instances running', () => {
  it('launches the instances of a new service and the deployment succeeds once they run', () => {
    const sim = new Sim();
    const out = sim.apply({ instances: 3 });
    expect(out.result).toBe('CREATED');
    expect(out.deployment).toMatchObject({ version: 'v1', fromVersion: '', phase: 'DEPLOYMENT_PENDING', change: 'create' });
    const first = sim.step();
    expect(first.launches).toEqual([{ version: 'v1', count: 3, canary: false }]);
    expect(sim.deployment?.phase).toBe('DEPLOYMENT_IN_PROGRESS');
    expect(sim.step().launches).toEqual([]); // STAGING tasks count: nothing launched twice
    sim.run();
    sim.step();
    expect(sim.deployment).toMatchObject({ phase: 'DEPLOYMENT_SUCCEEDED', progress: 1 });
  });

  it('waits for health checks before a deployment succeeds', () => {
    const sim = new Sim();
    sim.apply({ instances: 2, ...HEALTH });
    sim.step();
    sim.run();
    sim.step();
    expect(sim.deployment?.phase).toBe('DEPLOYMENT_IN_PROGRESS');
    expect(sim.deployment?.progress).toBe(0);
    sim.run(true, (t) => t.taskId.endsWith('.1'));
    sim.step();
    expect(sim.deployment?.progress).toBe(0.5);
    sim.run(true);
    sim.step();
    expect(sim.deployment?.phase).toBe('DEPLOYMENT_SUCCEEDED');
  });

  it('waits for an instance its agent says is not ready (a Docker port not answering yet), with no check of its own', () => {
    const sim = new Sim();
    sim.apply({ instances: 2 });
    sim.step();
    sim.run();
    for (const t of sim.liveTasks()) sim.set(t.taskId, { ready: false });
    sim.step();
    expect(sim.available()).toHaveLength(0);
    expect(sim.deployment?.phase).toBe('DEPLOYMENT_IN_PROGRESS');
    for (const t of sim.liveTasks()) sim.set(t.taskId, { ready: true });
    sim.step();
    expect(sim.available()).toHaveLength(2);
    expect(sim.deployment?.phase).toBe('DEPLOYMENT_SUCCEEDED');
  });

  it('scales up, then down killing the youngest first', () => {
    const sim = created(3);
    const original = sim.liveTasks().map((t) => t.taskId);
    sim.now += 1000;
    const up = sim.change((r, ctx) => d.scale(r, 6, ctx));
    expect(up.deployment).toMatchObject({ change: 'scale', version: 'v1', fromVersion: 'v1', fromInstances: 3 });
    expect(sim.step().launches[0]?.count).toBe(3);
    sim.settle();
    expect(sim.liveTasks()).toHaveLength(6);
    sim.now += 1000;
    sim.change((r, ctx) => d.scale(r, 1, ctx));
    const p = sim.step();
    expect(p.kill).toHaveLength(5);
    const survivors = sim.liveTasks().filter((t) => t.killRequestedAtMs === undefined);
    expect(survivors.map((t) => t.taskId)).toEqual([original[0]]); // the oldest (first of the first three)
    sim.settle();
    expect(sim.deployment?.phase).toBe('DEPLOYMENT_SUCCEEDED');
  });

  it('kills tasks that are not running yet before running ones when scaling down', () => {
    const sim = created(2);
    sim.change((r, ctx) => d.scale(r, 3, ctx));
    sim.step(); // a third is STAGING, younger than nothing else
    sim.now += 5;
    sim.change((r, ctx) => d.scale(r, 2, ctx));
    const p = sim.step();
    expect(p.kill.map((k) => k.taskId)).toEqual(['web.v1.3']);
  });

  it('orders victims: not running, then unavailable, then youngest', () => {
    const t = (id: string, state: string, stagedAtMs: number, ok: boolean) => ({ taskId: id, state, stagedAtMs, ok }) as never;
    const list = [t('old-ok', 'TASK_RUNNING', 1, true), t('young-ok', 'TASK_RUNNING', 9, true), t('sick', 'TASK_RUNNING', 2, false), t('staging', 'TASK_STAGING', 3, false)];
    const picked = victims(list, 3, (x) => (x as unknown as { ok: boolean }).ok);
    expect(picked.map((x) => x.taskId)).toEqual(['staging', 'sick', 'young-ok']);
  });

  it('counts exits, errors and health-check kills as failures, not kills it asked for or lost agents', () => {
    expect(isFailure('TASK_FINISHED', '', false)).toBe(true);
    expect(isFailure('TASK_KILLED', 'REASON_HEALTH_CHECK_FAILED', false)).toBe(true);
    expect(isFailure('TASK_KILLED', 'REASON_KILLED_BY_FRAMEWORK', false)).toBe(false);
    expect(isFailure('TASK_KILLED', 'REASON_UNSPECIFIED', true)).toBe(false);
    expect(isFailure('TASK_LOST', 'REASON_AGENT_DISCONNECTED', false)).toBe(false);
  });
});

describe('service planner: restart backoff per instance', () => {
  it('relaunches at once every instance of many that fail at the same time', () => {
    const sim = created(50);
    for (const t of sim.liveTasks()) sim.end(t.taskId, 'TASK_FAILED');
    const p = sim.step();
    expect(p.launches).toHaveLength(1);
    expect(p.launches[0]).toMatchObject({ version: 'v1', count: 50 });
    expect(p.launches[0]!.relaunches).toHaveLength(50);
    expect(p).toMatchObject({ waiting: '', wakeAtMs: undefined });
    expect(sim.liveTasks().every((t) => t.failures === 1)).toBe(true);
    expect(sim.service.relaunches).toEqual([]);
  });

  it('a crash-looping instance backs off, from the second failure, growing by 1.15 and capped; the others are unaffected', () => {
    const sim = created(3);
    const delays: number[] = [];
    let looping = sim.liveTasks()[0]!.taskId;
    for (let i = 0; i < 5; i++) {
      sim.end(looping, 'TASK_FAILED');
      const p = sim.step();
      if (p.launches.length === 0) {
        expect(p.waiting).toMatch(new RegExp(`^1 instance\\(s\\) in restart backoff: ${looping.replace(/\./g, '\\.')} failed ${i + 1} time\\(s\\) in a row \\(TASK_FAILED\\), relaunch at `));
        delays.push(p.wakeAtMs! - sim.now);
        // Meanwhile another instance fails once: it is relaunched at once, the looping one still waits.
        if (i === 2) {
          const other = sim.liveTasks().find((t) => t.taskId !== looping)!;
          sim.end(other.taskId, 'TASK_FAILED');
          const q = sim.step();
          expect(q.launches).toEqual([{ version: 'v1', count: 1, canary: false, relaunches: [expect.objectContaining({ taskId: other.taskId, failures: 1 })] }]);
          expect(q.waiting).toMatch(/^1 instance\(s\) in restart backoff/);
          sim.run();
        }
        sim.now = p.wakeAtMs! - 1;
        expect(sim.step().launches).toEqual([]);
        sim.now += 1;
        expect(sim.step().launches).toEqual([{ version: 'v1', count: 1, canary: false, relaunches: [expect.objectContaining({ taskId: looping, failures: i + 1 })] }]);
      } else {
        delays.push(0);
      }
      sim.run();
      looping = sim.liveTasks().find((t) => t.failures === i + 1)!.taskId;
    }
    expect(delays).toEqual([0, 1000, 1150, 1322, 1521]);
    expect(sim.liveTasks()).toHaveLength(3);
    const policy = { seconds: 1, factor: 1.15, maxLaunchDelaySeconds: 300 };
    expect([0, 1, 2, 3, 100].map((n) => backoffDelayMs(policy, n))).toEqual([0, 0, 1000, 1150, 300_000]);
  });

  it('resets an instance once its task has run available for backoffResetMs', () => {
    const sim = created(1, { backoff: { seconds: 10 } });
    sim.backoffResetMs = 10_000;
    for (let i = 0; i < 2; i++) {
      sim.end(sim.liveTasks()[0]!.taskId, 'TASK_FAILED');
      sim.now = sim.step().wakeAtMs ?? sim.now;
      sim.step();
      sim.run(true);
    }
    expect(sim.liveTasks()[0]!.failures).toBe(2);
    sim.now += 9_999; // not long enough: the third failure waits 11.5 s
    sim.end(sim.liveTasks()[0]!.taskId, 'TASK_FAILED');
    expect(sim.step().wakeAtMs).toBe(sim.now + 11_500);
    sim.now += 11_500;
    sim.step();
    sim.run(true);
    sim.now += 10_000; // long enough: the next failure is a first one again
    sim.end(sim.liveTasks()[0]!.taskId, 'TASK_FAILED');
    expect(sim.step().launches).toEqual([{ version: 'v1', count: 1, canary: false, relaunches: [expect.objectContaining({ failures: 1 })] }]);
  });

  it('replaces a lost task at once, with no backoff entry', () => {
    const sim = created(2);
    sim.end(sim.liveTasks()[0]!.taskId, 'TASK_LOST', 'REASON_AGENT_DISCONNECTED');
    expect(sim.service.relaunches).toEqual([]);
    expect(sim.step().launches).toEqual([{ version: 'v1', count: 1, canary: false }]);
  });

  it('a crash-looping instance keeps its count when its task ends some other way (lost, refused)', () => {
    const sim = created(1, { backoff: { seconds: 10 } });
    sim.end(sim.liveTasks()[0]!.taskId, 'TASK_FAILED');
    sim.step();
    sim.end(sim.liveTasks()[0]!.taskId, 'TASK_LOST', 'REASON_AGENT_DISCONNECTED'); // not a failure: relaunched at once…
    expect(sim.step().launches).toEqual([{ version: 'v1', count: 1, canary: false, relaunches: [expect.objectContaining({ failures: 1 })] }]);
    sim.run();
    sim.end(sim.liveTasks()[0]!.taskId, 'TASK_FAILED'); // …and its next failure is its second in a row
    expect(sim.step()).toMatchObject({ launches: [], wakeAtMs: sim.now + 10_000 });
  });

  it('drops backoff entries beyond the missing instances when scaled down, keeping the most failed; a new version clears them', () => {
    const sim = created(3);
    const [a, b] = sim.liveTasks();
    sim.end(a!.taskId, 'TASK_FAILED');
    sim.step();
    sim.run();
    const again = sim.liveTasks().find((t) => t.failures === 1)!;
    sim.end(again.taskId, 'TASK_FAILED'); // 2 failures: waits
    sim.end(b!.taskId, 'TASK_FAILED'); // 1 failure: launched at once
    expect(sim.step().launches[0]).toMatchObject({ count: 1, relaunches: [expect.objectContaining({ taskId: b!.taskId })] });
    sim.end(sim.liveTasks().find((t) => t.taskId !== a!.taskId && t.failures === 1)!.taskId, 'TASK_FAILED'); // b's replacement fails too
    expect(sim.service.relaunches?.map((r) => r.failures).sort()).toEqual([2, 2]);
    sim.change((r, ctx) => d.scale(r, 2, ctx));
    const p = sim.step();
    expect(p.relaunches).toHaveLength(1);
    expect(p.launches).toEqual([]);
    sim.apply({ instances: 2, env: { V: '2' } });
    const q = sim.step();
    expect(sim.service.relaunches).toEqual([]);
    expect(q.launches).toEqual([{ version: 'v2', count: 2, canary: false }]); // both missing, no backoff
  });

  it('does nothing while adopted tasks wait for reconciliation', () => {
    const sim = created(3);
    for (const t of sim.liveTasks()) sim.set(t.taskId, { confirmed: false, state: 'TASK_STAGING' });
    sim.change((r, ctx) => d.scale(r, 1, ctx));
    const p = sim.step();
    expect(p).toMatchObject({ launches: [], kill: [], waiting: 'reconciling task states with the master' });
  });
});

describe('service planner: rolling updates', () => {
  /** Step through an update, starting new tasks one at a time, checking the invariants at every step. */
  function rollOut(sim: Sim, version: string, n: number, minHealthy: number, maxLive: number): number {
    let steps = 0;
    for (; steps < 100 && sim.deployment?.phase !== 'DEPLOYMENT_SUCCEEDED'; steps++) {
      sim.step();
      expect(sim.available().length).toBeGreaterThanOrEqual(minHealthy);
      expect(sim.liveTasks().length).toBeLessThanOrEqual(maxLive);
      // One thing happens per step: a new task starts, becomes healthy, or a killed one dies.
      const staging = sim.liveTasks().find((t) => t.state === 'TASK_STAGING');
      const unhealthy = sim.liveTasks().find((t) => t.state === 'TASK_RUNNING' && t.healthy !== true && t.killRequestedAtMs === undefined);
      const dying = sim.liveTasks().find((t) => t.killRequestedAtMs !== undefined);
      if (staging) sim.set(staging.taskId, { state: 'TASK_RUNNING' });
      else if (unhealthy) sim.set(unhealthy.taskId, { healthy: true, healthySinceMs: sim.now });
      else if (dying) sim.end(dying.taskId, 'TASK_KILLED', 'REASON_KILLED_BY_FRAMEWORK');
      sim.now += 100;
    }
    expect(sim.deployment?.phase).toBe('DEPLOYMENT_SUCCEEDED');
    expect(sim.byVersion(version)).toHaveLength(n);
    expect(sim.liveTasks()).toHaveLength(n);
    return steps;
  }

  it('never drops below minimumHealthCapacity × instances and never exceeds maximumOverCapacity', () => {
    const sim = created(3, HEALTH);
    sim.apply({ instances: 3, ...HEALTH, env: { V: '2' } });
    expect(sim.service.version).toBe('v2');
    rollOut(sim, 'v2', 3, 3, 6);
  });

  it('with no over-capacity allowed and full health kept, replaces one at a time (one extra)', () => {
    const strategy = { upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 0 } };
    const sim = created(3, { ...HEALTH, ...strategy });
    sim.apply({ ...HEALTH, ...strategy, env: { V: '2' } });
    expect(sim.step().launches[0]?.count).toBe(1);
    rollOut(sim, 'v2', 3, 3, 4);
  });

  it('kills old instances at once down to the minimum health capacity', () => {
    const strategy = { upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 } };
    const sim = created(4, { ...HEALTH, ...strategy });
    sim.apply({ instances: 4, ...HEALTH, ...strategy, env: { V: '2' } });
    const p = sim.step();
    expect(p.kill).toHaveLength(2);
    expect(p.launches).toEqual([]); // 4 live = the maximum; the two killed still hold resources
    sim.reap();
    expect(sim.step().launches[0]?.count).toBe(2);
    rollOut(sim, 'v2', 4, 2, 4);
  });

  it('reports progress and steps through the deployment', () => {
    const sim = created(2, HEALTH);
    sim.apply({ instances: 2, ...HEALTH, env: { V: '2' } });
    sim.step();
    expect(sim.deployment).toMatchObject({ initialOld: 2, progress: 0, phase: 'DEPLOYMENT_IN_PROGRESS' });
    sim.run(true, (t) => t.version === 'v2');
    sim.step(); // both new healthy: 2 of 4 done; the old ones are being killed
    expect(sim.deployment?.progress).toBe(0.5);
    sim.reap();
    sim.step();
    expect(sim.deployment).toMatchObject({ phase: 'DEPLOYMENT_SUCCEEDED', progress: 1 });
  });

  it('an identical re-apply changes nothing; a count alone is a deployment without a new version', () => {
    const sim = created(3);
    expect(sim.apply({ instances: 3 }).result).toBe('UNCHANGED');
    const out = sim.apply({ instances: 5 });
    expect(out).toMatchObject({ result: 'UPDATED', deployment: { change: 'scale', version: 'v1' } });
    expect(sim.service.versions.map((v) => v.version)).toEqual(['v1']);
  });

  it('a newer change supersedes the running deployment and still returns to the last good version on failure', () => {
    const sim = created(3, HEALTH);
    const first = sim.apply({ ...HEALTH, env: { V: '2' } }).deployment!;
    sim.step();
    sim.run(); // v2 tasks running, not healthy yet
    const second = sim.apply({ ...HEALTH, env: { V: '3' } }).deployment!;
    expect(sim.service.deployments.find((x) => x.id === first.id)?.phase).toBe('DEPLOYMENT_SUPERSEDED');
    expect(second).toMatchObject({ version: 'v3', fromVersion: 'v1' });
    const p = sim.step();
    expect(p.kill.map((k) => k.taskId).sort()).toEqual(sim.liveTasks().filter((t) => t.version === 'v2').map((t) => t.taskId).sort());
    rollOut(sim, 'v3', 3, 3, 9);
  });

  it('rolls back to the previous version, or a named one, as a new version', () => {
    const sim = created(2);
    sim.apply({ instances: 2, env: { V: '2' } });
    sim.settle();
    const back = sim.change((r, ctx) => d.rollback(r, undefined, ctx));
    expect(back.deployment).toMatchObject({ change: 'rollback', version: 'v3', fromVersion: 'v2' });
    expect(sim.service.versions.at(-1)).toMatchObject({ version: 'v3', change: 'rollback', spec: { env: {} } });
    sim.settle();
    expect(sim.byVersion('v3')).toHaveLength(2);
    sim.change((r, ctx) => d.rollback(r, 'v2', ctx));
    expect(sim.service.versions.at(-1)?.spec.env).toEqual({ V: '2' });
    expect(() => d.rollback(sim.service, 'v9', sim.ctx())).toThrow(/version/);
    expect(() => d.rollback(sim.service, sim.service.version, sim.ctx())).toThrow(/already at version/);
  });

  it('restart replaces every instance under a new version of the same spec', () => {
    const sim = created(2);
    sim.change((r, ctx) => d.restart(r, ctx));
    expect(sim.service.versions.at(-1)).toMatchObject({ version: 'v2', change: 'restart' });
    sim.settle();
    expect(sim.byVersion('v2')).toHaveLength(2);
  });

  it('kill tasks: replaced, or with scale the count drops', () => {
    const sim = created(3);
    const [a, b] = sim.liveTasks();
    const out = sim.change((r, ctx) => d.killTasks(r, [a!.taskId], false, ctx)) as ReturnType<typeof d.killTasks>;
    expect(out.kill).toEqual([a!.taskId]);
    sim.set(a!.taskId, { killRequestedAtMs: sim.now });
    expect(sim.step().launches[0]?.count).toBe(1);
    sim.settle();
    const scaled = d.killTasks(sim.service, [b!.taskId], true, sim.ctx());
    expect(scaled.record.instances).toBe(2);
    expect(() => d.killTasks(sim.service, ['nope'], false, sim.ctx())).toThrow(/nope/);
  });
});

describe('service planner: canaries and failures', () => {
  it('starts the canaries, pauses, and finishes after promote', () => {
    const sim = created(3, HEALTH);
    sim.apply({ ...HEALTH, canary: { instances: 1 }, env: { V: '2' } });
    expect(sim.deployment).toMatchObject({ canary: 1 });
    const p = sim.step();
    expect(p.launches).toEqual([{ version: 'v2', count: 1, canary: true }]);
    expect(p.kill).toEqual([]);
    sim.run(true);
    sim.step();
    expect(sim.deployment?.phase).toBe('DEPLOYMENT_PAUSED');
    for (let i = 0; i < 3; i++) expect(sim.step()).toMatchObject({ launches: [], kill: [] });
    expect(sim.available()).toHaveLength(4);
    sim.change((r) => d.promote(r, sim.now));
    expect(() => d.promote(sim.service, sim.now)).toThrow(/no canary/);
    sim.settle();
    expect(sim.deployment?.phase).toBe('DEPLOYMENT_SUCCEEDED');
    expect(sim.byVersion('v2')).toHaveLength(3);
  });

  it('while paused, an old instance that fails is replaced by the old version', () => {
    const sim = created(3, HEALTH);
    sim.apply({ ...HEALTH, canary: { instances: 1 }, env: { V: '2' } });
    sim.settle();
    expect(sim.deployment?.phase).toBe('DEPLOYMENT_PAUSED');
    sim.end(sim.byVersion('v1')[0]!.taskId, 'TASK_LOST', 'REASON_AGENT_DISCONNECTED');
    expect(sim.step().launches).toEqual([{ version: 'v1', count: 1, canary: false }]);
    sim.settle();
    expect(sim.byVersion('v1')).toHaveLength(3);
    expect(sim.byVersion('v2')).toHaveLength(1);
    expect(sim.deployment?.phase).toBe('DEPLOYMENT_PAUSED');
  });

  it('abort kills the canaries and returns to the old version', () => {
    const sim = created(3, HEALTH);
    sim.apply({ ...HEALTH, canary: { instances: 1 }, env: { V: '2' } });
    sim.settle();
    expect(sim.deployment?.phase).toBe('DEPLOYMENT_PAUSED');
    const out = sim.change((r) => d.abort(r, sim.now));
    expect(out.deployment?.phase).toBe('DEPLOYMENT_ABORTED');
    expect(sim.service.version).toBe('v1');
    const p = sim.step();
    expect(p.kill.map((k) => k.taskId)).toEqual(sim.liveTasks().filter((t) => t.version === 'v2').map((t) => t.taskId));
    sim.settle();
    expect(sim.byVersion('v1')).toHaveLength(3);
    expect(sim.liveTasks()).toHaveLength(3);
  });

  it('fails a deployment whose new version keeps failing, and returns to the old version', () => {
    const sim = created(3, HEALTH);
    sim.apply({ ...HEALTH, env: { V: 'broken' }, backoff: { seconds: 0 } });
    let failures = 0;
    for (let i = 0; i < 30 && sim.service.version === 'v2'; i++) {
      sim.step();
      expect(sim.available().length).toBeGreaterThanOrEqual(3); // the old instances keep serving
      sim.run();
      for (const t of sim.liveTasks().filter((x) => x.version === 'v2')) {
        sim.end(t.taskId, 'TASK_KILLED', 'REASON_HEALTH_CHECK_FAILED');
        failures++;
      }
    }
    expect(failures).toBe(9); // 3 × instances
    const failed = sim.service.deployments.at(-1)!;
    expect(failed).toMatchObject({ phase: 'DEPLOYMENT_FAILED', version: 'v2', fromVersion: 'v1' });
    expect(failed.message).toMatch(/returns to version v1/);
    expect(sim.service.version).toBe('v1');
    sim.settle();
    expect(sim.byVersion('v1')).toHaveLength(3);
  });

  it('a failing new service keeps retrying with backoff (nothing to return to)', () => {
    const sim = new Sim();
    sim.apply({ instances: 1, backoff: { seconds: 0 } });
    for (let i = 0; i < 3; i++) {
      sim.step();
      sim.end(sim.liveTasks()[0]!.taskId, 'TASK_FAILED');
    }
    sim.step();
    expect(sim.deployment).toMatchObject({ phase: 'DEPLOYMENT_FAILED' });
    expect(sim.service.version).toBe('v1');
    expect(sim.step().launches[0]?.count).toBe(1);
  });
});

describe('service planner: unreachable instances (partition awareness)', () => {
  const STRATEGY = { unreachableStrategy: { inactiveAfterSeconds: 30, expungeAfterSeconds: 120 } };

  it('keeps an unreachable instance in place until inactiveAfterSeconds, then replaces it', () => {
    const sim = created(3, STRATEGY);
    const away = sim.liveTasks()[0]!.taskId;
    sim.unreachable(away);
    const p = sim.step();
    expect(p.launches).toEqual([]);
    expect(p.wakeAtMs).toBe(sim.now + 30_000);
    sim.now += 29_999;
    expect(sim.step().launches).toEqual([]);
    sim.now += 1;
    const q = sim.step();
    expect(q.launches).toEqual([{ version: 'v1', count: 1, canary: false }]); // not a failure: no backoff
    expect(q.wakeAtMs).toBe(sim.now + 90_000); // when it is forgotten
    expect(sim.service.relaunches).toEqual([]);
    sim.settle();
    expect(sim.liveTasks()).toHaveLength(3);
  });

  it('kills the surplus when the unreachable task comes back, so the count is exact', () => {
    const sim = created(3, STRATEGY);
    const away = sim.liveTasks()[0]!.taskId;
    sim.unreachable(away);
    sim.now += 30_000;
    sim.step();
    sim.run();
    const replacement = sim.liveTasks().find((t) => t.stagedAtMs === sim.now)!.taskId;
    sim.now += 5_000;
    sim.set(away, { state: 'TASK_RUNNING' }); // its agent re-registered
    const p = sim.step();
    expect(p.kill).toEqual([{ taskId: replacement, reason: 'scaling down to 3 instance(s)' }]); // the youngest goes
    sim.reap();
    expect(sim.liveTasks().map((t) => t.taskId)).toContain(away);
    expect(sim.liveTasks()).toHaveLength(3);
  });

  it('forgets an unreachable task after expungeAfterSeconds', () => {
    const sim = created(2, STRATEGY);
    const away = sim.liveTasks()[0]!.taskId;
    sim.unreachable(away);
    sim.now += 119_999;
    expect(sim.step().expunge).toEqual([]);
    sim.now += 1;
    expect(sim.step().expunge).toEqual([away]);
    expect(sim.service.tasks[away]).toBeUndefined();
    expect(sim.step().wakeAtMs).toBeUndefined();
  });

  it('replaces at once by default (inactiveAfterSeconds 0) and kills an unreachable task first when scaling down', () => {
    const sim = created(3);
    const away = sim.liveTasks()[0]!.taskId;
    sim.unreachable(away);
    expect(sim.step().launches).toEqual([{ version: 'v1', count: 1, canary: false }]);
    expect(sim.last?.wakeAtMs).toBe(sim.now + 600_000);

    const held = created(3, STRATEGY);
    const gone = held.liveTasks()[1]!.taskId;
    held.unreachable(gone);
    held.change((r, ctx) => d.scale(r, 2, ctx));
    expect(held.step().kill.map((k) => k.taskId)).toEqual([gone]);
  });
});
