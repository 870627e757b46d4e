// The chaos run's pure parts: the seeded schedule, the flags, and the judge that turns what was
// observed into violations. (The run itself: test/e2e/chaos.test.ts.)
import { describe, expect, it } from 'vitest';
import { capacityVerdict, completedTwice, duplicates, findOrphans, minimumHealthy, orphanCount, overlappingClaims, parseLedger, reportedLost } from './judge.js';
import { compileChaosOptions, DEFAULT_OPTIONS, parseChaosArgs } from './options.js';
import { countFaults, planFaults } from './plan.js';

const PLAN = { seed: 10, durationMs: 50_000, faultIntervalMs: 2_000, killWeight: 1, stopWeight: 1, zkWeight: 0.5, holdMaxMs: 4_000 };

describe('planFaults', () => {
  it('is a function of the seed: the same schedule twice, another for another seed', () => {
    expect(planFaults(PLAN)).toEqual(planFaults(PLAN));
    expect(planFaults({ ...PLAN, seed: 11 })).not.toEqual(planFaults(PLAN));
  });

  it('keeps within the chaos window, one ZooKeeper node out at a time, each hold within --hold-max', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const faults = planFaults({ ...PLAN, seed });
      let zkBackAt = 0;
      for (const f of faults) {
        expect(f.atMs).toBeLessThan(PLAN.durationMs);
        if (f.kind !== 'kill') expect(f.atMs + (f.holdMs ?? 0)).toBeLessThanOrEqual(PLAN.durationMs);
        if (f.kind !== 'kill') expect(f.holdMs).toBeLessThanOrEqual(PLAN.holdMaxMs);
        if (f.kind === 'zk') {
          expect(f.atMs).toBeGreaterThanOrEqual(zkBackAt);
          zkBackAt = f.atMs + (f.holdMs ?? 0);
        }
      }
    }
  });

  it('follows the weights: no stops with --stop-weight 0, only ZooKeeper with the others at 0', () => {
    expect(planFaults({ ...PLAN, stopWeight: 0 }).some((f) => f.kind === 'stop')).toBe(false);
    expect(new Set(planFaults({ ...PLAN, killWeight: 0, stopWeight: 0 }).map((f) => f.kind))).toEqual(new Set(['zk']));
  });

  it('seed 10 (the CI run) has every kind of fault', () => {
    expect(Object.keys(countFaults(planFaults(PLAN))).sort()).toEqual(['kill.agent', 'kill.frameworks', 'kill.master', 'stop.agent', 'stop.frameworks', 'stop.master', 'zk.stop']);
  });
});

describe('chaos flags', () => {
  it('parses durations and numbers, and prints a random seed when none is given', () => {
    const o = parseChaosArgs(['--duration', '90s', '--fault-interval', '500ms', '--min-capacity', '0.95', '--instances', '6'], () => 42);
    expect(o).toMatchObject({ durationMs: 90_000, faultIntervalMs: 500, minCapacity: 0.95, instances: 6, seed: 42 });
    expect(Object.isFrozen(o)).toBe(true);
  });

  it.each([
    [['--duration', 'forever'], '--duration'],
    [['--duration', '1s'], '--duration'],
    [['--seed=-1'], '--seed'],
    [['--seed', '1.5'], '--seed'],
    [['--min-capacity', '1.2'], '--min-capacity'],
    [['--kill-weight', 'x'], '--kill-weight'],
    [['--instances', '0'], '--instances'],
    [['--kill-weight', '0', '--stop-weight', '0', '--zk-weight', '0'], '--kill-weight'],
  ])('refuses %j naming %s', (argv, flag) => {
    expect(() => parseChaosArgs(argv)).toThrow(expect.objectContaining({ code: 'AGORA_INVALID_ARGUMENT', field: flag }));
  });

  it('refuses an unknown flag', () => {
    expect(() => parseChaosArgs(['--kill-everything'])).toThrow(/kill-everything/);
  });

  it('checks options given whole, as the CI test does', () => {
    expect(() => compileChaosOptions({ ...DEFAULT_OPTIONS, holdMaxMs: 10 })).toThrow(/--hold-max/);
  });
});

describe('the judge', () => {
  it('finds keys a ledger has from two tasks (the same task written twice is one completion)', () => {
    const ledger = parseLedger('0 a\n1 b\n1 c\n2 d\n2 d\n\ngarbage\n');
    expect(completedTwice(ledger)).toEqual({ '1': ['b', 'c'] });
    expect(duplicates(['1', '2', '1', '3', '3'])).toEqual(['1', '3']);
  });

  it('reports a task that completed but is recorded as lost or failed; a success or a task that did not complete is fine', () => {
    const ledger = parseLedger('0 t0\n1 t1\n2 t2\n');
    const recorded = [
      { taskId: 't0', state: 'TASK_FINISHED' },
      { taskId: 't1', state: 'TASK_LOST' },
      { taskId: 't2', state: 'JOB_FAILED' },
      { taskId: 't3', state: 'TASK_LOST' },
    ];
    expect(reportedLost(ledger, recorded)).toEqual([recorded[1], recorded[2]]);
  });

  it('finds each kind of orphan and lost task', () => {
    const clean = { master: ['a', 'b'], agents: ['a', 'b'], frameworks: ['a', 'b'], processes: ['a', 'b'] };
    expect(orphanCount(findOrphans(clean))).toBe(0);
    const o = findOrphans({ master: ['a', 'm'], agents: ['a', 'g', 'n'], frameworks: ['a', 'f', 'n'], processes: ['a', 'p', 'g'] });
    expect(o).toEqual({
      processWithoutAgentTask: ['p'],
      agentTaskUnknownToMaster: ['g', 'n'],
      masterTaskOnNoAgent: ['m'],
      masterTaskUnknownToFramework: ['m'],
      frameworkTaskUnknownToMaster: ['f', 'n'],
      agentTaskWithoutProcess: ['n'],
    });
    expect(orphanCount(o)).toBe(8);
  });

  it('counts the probes that found the minimum healthy, rounding the minimum up as the services planner does', () => {
    expect(minimumHealthy(4, 0.75)).toBe(3);
    expect(minimumHealthy(5, 0.75)).toBe(4);
    const probes = [4, 3, 2, 4].map((available, i) => ({ atMs: i, available }));
    expect(capacityVerdict(probes, 3)).toEqual({ probes: 4, held: 3, share: 0.75, minSeen: 2 });
    expect(capacityVerdict([], 3).share).toBe(1);
  });

  it('finds masters claiming to lead at once; one master claiming often, or a hand-over, is not it', () => {
    const claims = [
      { master: 'a', atMs: 0 },
      { master: 'a', atMs: 200 },
      { master: 'a', atMs: 500 },
      // a dies; b is elected a session later
      { master: 'b', atMs: 2_600 },
      { master: 'b', atMs: 3_100 },
      // a (frozen, then woken) answers its queued probe as leader 100 ms after b's
      { master: 'a', atMs: 3_200 },
      { master: 'b', atMs: 3_600 },
    ];
    expect(overlappingClaims(claims, 300)).toEqual([claims[4], claims[5]]);
    expect(overlappingClaims(claims.slice(0, 5), 300)).toEqual([]);
  });
});
