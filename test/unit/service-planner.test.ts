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

  it('replaces failed tasks after a backoff growing by 1.15 and capped', () => {
    const sim = created(1);
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [task] = sim.liveTasks();
      sim.end(task!.taskId, 'TASK_FAILED');
      const p = sim.step();
      expect(p.launches).toEqual([]);
      expect(p.waiting).toMatch(/restart backoff/);
      delays.push(p.wakeAtMs! - sim.now);
      sim.now = p.wakeAtMs! - 1;
      expect(sim.step().launches).toEqual([]);
      sim.now += 1;
      expect(sim.step().launches).toEqual([{ version: 'v1', count: 1, canary: false }]);
      sim.run();
    }
    expect(delays).toEqual([0, 1, 2, 3].map((k) => Math.round(1000 * 1.15 ** k))); // 1000, 1150, 1322, 1521
    const policy = { seconds: 1, factor: 1.15, maxLaunchDelaySeconds: 300 };
    expect(backoffDelayMs(policy, 100)).toBe(300_000);
    expect(backoffDelayMs(policy, 0)).toBe(0);
  });

  it('replaces a lost task at once, with no backoff', () => {
    const sim = created(2);
    sim.end(sim.liveTasks()[0]!.taskId, 'TASK_LOST', 'REASON_AGENT_DISCONNECTED');
    expect(sim.step().launches[0]?.count).toBe(1);
    expect(sim.service.backoff.failures).toBe(0);
  });

  it('counts exits, errors and health-check kills as failures, not kills it asked for or lost agents', () => {
    expect(isFailure('TASK_FINISHED', '', false)).toBe(true);
    expect(isFailure('TASK_KILLED', 'REASON_HEALTH_CHECK_FAILED', false)).toBe(true);
    expect(isFailure('TASK_KILLED', 'REASON_KILLED_BY_FRAMEWORK', false)).toBe(false);
    expect(isFailure('TASK_KILLED', 'REASON_UNSPECIFIED', true)).toBe(false);
    expect(isFailure('TASK_LOST', 'REASON_AGENT_DISCONNECTED', false)).toBe(false);
  });

  it('resets the backoff once a replacement has stayed healthy for a while', () => {
    const sim = created(1);
    sim.backoffResetMs = 10_000;
    sim.end(sim.liveTasks()[0]!.taskId, 'TASK_FAILED');
    sim.now += 1000;
    sim.step();
    sim.run(true);
    sim.now += 9_999;
    expect(sim.step().backoff.failures).toBe(1);
    sim.now += 1;
    expect(sim.step().backoff).toMatchObject({ failures: 0, untilMs: 0 });
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
