// The allocator's behaviour on small clusters, with the DRF shares worked out by hand.
import { describe, expect, it } from 'vitest';
import { Resources } from '../../core/resources.js';
import { createAllocator, type Allocator, type AllocatorOptions, type OfferDecision } from '../../master/allocator/index.js';

const P = (text: string): Resources => Resources.parse(text);

function make(options: Partial<AllocatorOptions> = {}): Allocator {
  return createAllocator({ fairness: 'drf', seed: 1, minAllocatable: [], ...options });
}

function agents(a: Allocator, n: number, total: string, prefix = 'a'): string[] {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  for (const id of ids) a.addAgent({ id, hostname: `${id}.local`, total: P(total) });
  return ids;
}

/** framework → number of offers. */
function countBy(offers: readonly OfferDecision[], key: (o: OfferDecision) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of offers) out[key(o)] = (out[key(o)] ?? 0) + 1;
  return out;
}

const text = (o: OfferDecision): string => `${o.frameworkId}/${o.role}@${o.agentId} ${o.resources.format()}`;

function recoverAll(a: Allocator, offers: readonly OfferDecision[], filter?: { refuseMs: number; now: number }): void {
  for (const o of offers) a.recover(o.frameworkId, o.agentId, o.role, o.resources, filter);
}

describe('dominant resource fairness', () => {
  it('reproduces the DRF paper example: 9 CPUs, 18 GB; A runs <1 CPU, 4 GB>, B runs <3 CPU, 1 GB>', () => {
    const a = make();
    a.addAgent({ id: 'm', hostname: 'm', total: P('cpus:9;mem:18') });
    a.addFramework({ id: 'A', roles: ['users'] });
    a.addFramework({ id: 'B', roles: ['users'] });
    const task: Record<string, Resources> = { A: P('cpus:1;mem:4'), B: P('cpus:3;mem:1') };
    const launched: Record<string, number> = { A: 0, B: 0 };
    const who: string[] = [];
    // Each offer: launch one task if it fits, give back the rest; decline (5 s filter) if not.
    const respond = (now: number): number => {
      const offers = a.allocate(now);
      for (const o of offers) {
        who.push(o.frameworkId);
        const t = task[o.frameworkId]!;
        const rest = o.resources.subtractOrUndefined(t);
        if (rest === undefined) {
          a.recover(o.frameworkId, o.agentId, o.role, o.resources, { refuseMs: 5000, now });
        } else {
          launched[o.frameworkId]!++;
          a.recover(o.frameworkId, o.agentId, o.role, rest);
        }
      }
      return offers.length;
    };
    for (let now = 0; respond(now) > 0; now += 100);
    // pass 1: A = 0, B = 0, no allocations yet → by name: A.   A = max(1/9, 4/18)  = .222
    // pass 2: B = 0 < .222 → B.                                 B = max(3/9, 1/18)  = .333
    // pass 3: A = .222 < .333 → A.                              A = max(2/9, 8/18)  = .444
    // pass 4: B = .333 < .444 → B.                              B = max(6/9, 2/18)  = .667
    // pass 5: A = .444 < .667 → A.                              A = max(3/9, 12/18) = .667
    // pass 6: tie at .667; B has fewer allocations (2 vs 3) → B is offered <0 CPU, 4 GB>, declines.
    // pass 7: B's filter holds (same resources) → A is offered the same, declines. pass 8: nothing.
    expect(who).toEqual(['A', 'B', 'A', 'B', 'A', 'B', 'A']);
    expect(launched).toEqual({ A: 3, B: 2 });
    const shares = Object.fromEntries(a.frameworks().map((f) => [f.id, f.share]));
    expect(shares.A).toBeCloseTo(2 / 3);
    expect(shares.B).toBeCloseTo(2 / 3);
    a.checkInvariants();
  });

  it('gives a role of weight 2 twice the resources of a role of weight 1', () => {
    const a = make();
    agents(a, 6, 'cpus:1;mem:10'); // cluster: 6 cpus, 60 mem
    a.setWeight('heavy', 2);
    a.addFramework({ id: 'h', roles: ['heavy'] });
    a.addFramework({ id: 'l', roles: ['light'] });
    const offers = a.allocate(0);
    // agent 1: tie at 0, no allocations → by name: heavy.  heavy = 1/6 ÷ 2 = .083
    // agent 2: light = 0 → light.                         light = 1/6      = .167
    // agent 3: heavy .083 → heavy.                        heavy = 2/6 ÷ 2 = .167
    // agent 4: tie .167; light has fewer allocations (1 vs 2) → light = 2/6 = .333
    // agent 5: heavy .167 → heavy = 3/6 ÷ 2 = .25;  agent 6: heavy .25 → heavy = 4/6 ÷ 2 = .333
    expect(countBy(offers, (o) => o.role)).toEqual({ heavy: 4, light: 2 });
    const roles = Object.fromEntries(a.roles().map((r) => [r.role, r]));
    expect(roles.heavy!.weight).toBe(2);
    expect(roles.heavy!.share).toBeCloseTo(1 / 3);
    expect(roles.light!.share).toBeCloseTo(1 / 3);
    expect(roles.heavy!.allocated.format()).toBe('cpus:4;mem:40');
  });

  it('orders frameworks inside a role by their own share, counting resources already in use', () => {
    const a = make();
    const ids = agents(a, 4, 'cpus:4;mem:40'); // cluster: 16 cpus, 160 mem
    a.addFramework({ id: 'x', roles: ['r'] }, [{ frameworkId: 'x', agentId: ids[0]!, role: 'r', resources: P('cpus:4;mem:40') }]);
    a.addFramework({ id: 'y', roles: ['r'] });
    const offers = a.allocate(0);
    // x = 4/16 = .25 (in use), y = 0.   free agent 1 → y = .25
    // tie .25: one allocation each → by name: x = .5.   free agent 3 → y (.25) = .5
    expect(countBy(offers, (o) => o.frameworkId)).toEqual({ x: 1, y: 2 });
    expect(offers.every((o) => o.agentId !== ids[0])).toBe(true);
    const shares = Object.fromEntries(a.frameworks().map((f) => [f.id, f.share]));
    expect(shares).toEqual({ x: 0.5, y: 0.5 });
  });

  it('gives a framework all of an agent that its role may use, one offer per framework, agent and role', () => {
    const a = make();
    agents(a, 2, 'cpus:2;mem:20;ports:[31000-31009]');
    a.addFramework({ id: 'm', roles: ['a', 'b'] });
    const offers = a.allocate(0).map(text).sort();
    // agent 1 → role a (tie, by name); agent 2 → role b (a now holds .5)
    expect(offers.map((o) => o.replace(/@a\d/, '@*'))).toEqual([
      'm/a@* cpus:2;mem:20;ports:[31000-31009]',
      'm/b@* cpus:2;mem:20;ports:[31000-31009]',
    ]);
    a.checkInvariants();
  });
});

describe('reservations', () => {
  it('offers resources reserved for a role only to frameworks in that role', () => {
    const a = make();
    a.addAgent({ id: 'n', hostname: 'n', total: P('cpus:2;mem:20;cpus(prod):4;mem(prod):40') });
    a.addFramework({ id: 'd', roles: ['dev'] });
    a.addFramework({ id: 'p', roles: ['prod'] });
    // tie at 0 → dev first: it may use only the unreserved part; prod then gets its reservation.
    expect(a.allocate(0).map(text)).toEqual(['d/dev@n cpus:2;mem:20', 'p/prod@n cpus(prod):4;mem(prod):40']);
  });

  it('keeps a reservation back when its role wants nothing, and offers an ancestor role\'s reservation to a child role', () => {
    const a = make();
    a.addAgent({ id: 'n', hostname: 'n', total: P('cpus(prod):4;mem(prod):40;cpus(eng):1;mem(eng):8') });
    a.addFramework({ id: 'd', roles: ['dev'] });
    a.addFramework({ id: 'c', roles: ['eng/ci'] });
    expect(a.allocate(0).map(text)).toEqual(['c/eng/ci@n cpus(eng):1;mem(eng):8']);
    expect(a.agent('n')!.available.format()).toBe('cpus(prod):4;mem(prod):40');
  });
});

describe('refuse filters', () => {
  it('holds an agent back from a framework for refuseMs and expires exactly on time', () => {
    const a = make();
    a.addAgent({ id: 'n', hostname: 'n', total: P('cpus:4;mem:40') });
    a.addFramework({ id: 'f', roles: ['r'] });
    recoverAll(a, a.allocate(0), { refuseMs: 5000, now: 0 });
    expect(a.allocate(1000)).toEqual([]);
    expect(a.allocate(4999)).toEqual([]);
    expect(a.allocate(5000).map(text)).toEqual(['f/r@n cpus:4;mem:40']);
  });

  it('is lifted early when more becomes free than was refused', () => {
    const a = make();
    a.addAgent({ id: 'n', hostname: 'n', total: P('cpus:4;mem:40') });
    a.addFramework({ id: 'f', roles: ['r'] });
    a.allocate(0); // f holds cpus:4;mem:40; it launches cpus:1;mem:10 and declines the rest
    a.recover('f', 'n', 'r', P('cpus:3;mem:30'), { refuseMs: 5000, now: 0 });
    expect(a.allocate(1000)).toEqual([]); // cpus:3;mem:30 is within what was refused
    a.recover('f', 'n', 'r', P('cpus:1;mem:10')); // the task ends
    expect(a.allocate(2000).map(text)).toEqual(['f/r@n cpus:4;mem:40']);
  });

  it('filters one framework only: the next framework in order gets the agent', () => {
    const a = make();
    a.addAgent({ id: 'n', hostname: 'n', total: P('cpus:4;mem:40') });
    a.addAgent({ id: 'm', hostname: 'm', total: P('cpus:1;mem:10') });
    a.addFramework({ id: 'f', roles: ['r'] });
    a.addFramework({ id: 'g', roles: ['r'] }, [{ frameworkId: 'g', agentId: 'm', role: 'r', resources: P('cpus:1;mem:10') }]);
    // shares: f = 0, g = 1/5 = .2 → f is first for n; it declines with a filter.
    expect(a.allocate(0).map(text)).toEqual(['f/r@n cpus:4;mem:40']);
    a.recover('f', 'n', 'r', P('cpus:4;mem:40'), { refuseMs: 5000, now: 0 });
    // f (0) still sorts first, but is filtered for n → g gets it.
    expect(a.allocate(100).map(text)).toEqual(['g/r@n cpus:4;mem:40']);
  });

  it('is per role, and revive clears it (for the roles named, or all)', () => {
    const a = make();
    a.addAgent({ id: 'n', hostname: 'n', total: P('cpus:4;mem:40') });
    a.addFramework({ id: 'm', roles: ['a', 'b'] });
    recoverAll(a, a.allocate(0), { refuseMs: 5000, now: 0 }); // refused under role a
    const underB = a.allocate(10);
    expect(underB.map(text)).toEqual(['m/b@n cpus:4;mem:40']);
    recoverAll(a, underB, { refuseMs: 5000, now: 10 });
    expect(a.allocate(40)).toEqual([]); // both roles filtered
    a.revive('m', ['b']);
    const again = a.allocate(50);
    expect(again.map(text)).toEqual(['m/b@n cpus:4;mem:40']);
    recoverAll(a, again, { refuseMs: 5000, now: 60 });
    expect(a.allocate(70)).toEqual([]);
    a.revive('m');
    expect(a.allocate(80)).toHaveLength(1);
  });
});

describe('suppression and activity', () => {
  it('suppresses and revives per role', () => {
    const a = make();
    agents(a, 2, 'cpus:2;mem:20');
    a.addFramework({ id: 'm', roles: ['a', 'b'] });
    a.suppress('m', ['a']);
    const first = a.allocate(0);
    expect(countBy(first, (o) => o.role)).toEqual({ b: 2 });
    expect(a.frameworks()[0]!.suppressedRoles).toEqual(['a']);
    recoverAll(a, first);
    a.suppress('m');
    expect(a.frameworks()[0]!.suppressedRoles).toEqual(['a', 'b']);
    expect(a.allocate(1)).toEqual([]);
    a.revive('m', ['a']);
    expect(countBy(a.allocate(2), (o) => o.role)).toEqual({ a: 2 });
  });

  it('a framework with suppressed roles given at subscription gets nothing for them', () => {
    const a = make();
    agents(a, 1, 'cpus:2;mem:20');
    a.addFramework({ id: 'm', roles: ['a'], suppressedRoles: ['a'] });
    expect(a.allocate(0)).toEqual([]);
    a.updateFramework({ id: 'm', roles: ['a'] });
    expect(a.allocate(1)).toHaveLength(1);
  });

  it('offers nothing from inactive agents and nothing to inactive frameworks, which keep what they hold', () => {
    const a = make();
    agents(a, 2, 'cpus:2;mem:20');
    a.addFramework({ id: 'f', roles: ['r'] });
    a.setAgentActive('a0', false);
    expect(a.allocate(0).map((o) => o.agentId)).toEqual(['a1']);
    expect(a.agent('a0')!.active).toBe(false);
    a.setFrameworkActive('f', false);
    a.setAgentActive('a0', true);
    expect(a.allocate(1)).toEqual([]);
    expect(a.frameworks()[0]).toMatchObject({ active: false });
    expect(a.frameworks()[0]!.allocated.format()).toBe('cpus:2;mem:20');
    a.setFrameworkActive('f', true);
    expect(a.allocate(2).map((o) => o.agentId)).toEqual(['a0']);
  });
});

describe('minimum allocatable', () => {
  it('offers an agent only if its free resources hold one of the minimums (any-of, reservations count)', () => {
    const a = make({ minAllocatable: [P('cpus:1'), P('mem:64')] });
    a.addAgent({ id: 'small', hostname: 's', total: P('cpus:0.5;mem:32') });
    a.addAgent({ id: 'memory', hostname: 'm', total: P('cpus:0.5;mem:64') });
    a.addAgent({ id: 'reserved', hostname: 'r', total: P('cpus(r):1;mem(r):8') });
    a.addFramework({ id: 'f', roles: ['r'] });
    expect(a.allocate(0).map((o) => o.agentId).sort()).toEqual(['memory', 'reserved']);
  });

  it('with no minimums, offers anything non-empty, ports alone included', () => {
    const a = make();
    a.addAgent({ id: 'ports', hostname: 'p', total: P('ports:[1-2]') });
    a.addFramework({ id: 'f', roles: ['r'] });
    expect(a.allocate(0).map(text)).toEqual(['f/r@ports ports:[1-2]']);
    expect(a.allocate(1)).toEqual([]);
  });
});

describe('agent order and incremental passes', () => {
  const mapping = (seed: number, passes: number): string[][] => {
    const a = make({ seed });
    agents(a, 20, 'cpus:1;mem:1');
    for (let i = 0; i < 20; i++) a.addFramework({ id: `f${String(i).padStart(2, '0')}`, roles: ['r'] });
    const out: string[][] = [];
    for (let p = 0; p < passes; p++) {
      const offers = a.allocate(p);
      out.push(offers.map((o) => o.agentId));
      recoverAll(a, offers);
    }
    return out;
  };

  it('visits agents in a seeded shuffled order: the same seed repeats it, passes and seeds differ', () => {
    const one = mapping(42, 3);
    expect(mapping(42, 3)).toEqual(one);
    expect(one[0]).not.toEqual(one[1]);
    expect(mapping(43, 1)[0]).not.toEqual(one[0]);
    expect([...one[0]!].sort()).toEqual(Array.from({ length: 20 }, (_, i) => `a${i}`).sort());
  });

  it('considers only the agents given, skips inactive ones, ignores repeats', () => {
    const a = make();
    agents(a, 5, 'cpus:1;mem:1');
    a.addFramework({ id: 'f', roles: ['r'] });
    a.setAgentActive('a4', false);
    const offers = a.allocate(0, ['a1', 'a3', 'a1', 'a4']);
    expect(offers.map((o) => o.agentId).sort()).toEqual(['a1', 'a3']);
    expect(a.agent('a0')!.available.format()).toBe('cpus:1;mem:1');
  });
});

describe('accounting', () => {
  it('counts offers as allocated until recovered; allocated + available = total', () => {
    const a = make();
    a.addAgent({ id: 'n', hostname: 'n', total: P('cpus:4;mem:40;ports:[1-10]') });
    a.addFramework({ id: 'f', roles: ['r'] });
    a.allocate(0);
    expect(a.agent('n')).toMatchObject({ active: true });
    expect(a.agent('n')!.allocated.format()).toBe('cpus:4;mem:40;ports:[1-10]');
    expect(a.agent('n')!.available.isEmpty()).toBe(true);
    a.recover('f', 'n', 'r', P('cpus:1;ports:[3-4]'));
    expect(a.agent('n')!.available.format()).toBe('cpus:1;ports:[3-4]');
    expect(a.agent('n')!.allocated.format()).toBe('cpus:3;mem:40;ports:[1-2,5-10]');
    expect(a.roles()[0]).toMatchObject({ role: 'r', frameworks: ['f'] });
    expect(a.roles()[0]!.share).toBeCloseTo(1); // mem 40/40
    a.checkInvariants();
  });

  it('removing a framework frees everything it held on every agent', () => {
    const a = make();
    agents(a, 3, 'cpus:2;mem:20');
    a.addFramework({ id: 'f', roles: ['r', 's'] });
    a.addFramework({ id: 'g', roles: ['r'] });
    a.allocate(0);
    a.allocateUsed({ frameworkId: 'f', agentId: 'a0', role: 'other', resources: Resources.EMPTY });
    a.removeFramework('f');
    a.checkInvariants();
    const held = a.frameworks().map((f) => [f.id, f.allocated.scalar('cpus')]);
    expect(held.map(([id]) => id)).toEqual(['g']);
    const free = ['a0', 'a1', 'a2'].map((id) => a.agent(id)!.available.scalar('cpus')).reduce((x, y) => x + y, 0);
    expect(free + (held[0]![1] as number)).toBe(6);
    expect(a.roles().map((r) => r.role)).toEqual(['r']);
  });

  it('removing an agent takes its allocations away from frameworks and roles', () => {
    const a = make();
    agents(a, 2, 'cpus:2;mem:20');
    a.addFramework({ id: 'f', roles: ['r'] });
    a.allocate(0);
    a.removeAgent('a0');
    a.checkInvariants();
    expect(a.agent('a0')).toBeUndefined();
    expect(a.frameworks()[0]!.allocated.format()).toBe('cpus:2;mem:20');
    expect(a.roles()[0]!.share).toBeCloseTo(1); // the cluster is now one agent
  });

  it('takes resources in use at registration, from either side, and counts them as allocated', () => {
    const a = make();
    a.addFramework({ id: 'f', roles: ['r'] });
    a.addAgent({ id: 'n', hostname: 'n', total: P('cpus:4;mem:40') }, [
      { frameworkId: 'f', agentId: 'n', role: 'r', resources: P('cpus:1;mem:10') },
    ]);
    a.addAgent({ id: 'm', hostname: 'm', total: P('cpus:4;mem:40') });
    a.addFramework({ id: 'g', roles: ['old'], suppressedRoles: ['old'] }, [
      { frameworkId: 'g', agentId: 'm', role: 'gone', resources: P('cpus:2;mem:20') },
    ]);
    a.allocateUsed({ frameworkId: 'f', agentId: 'm', role: 'r', resources: P('cpus:1') });
    a.checkInvariants();
    expect(a.agent('n')!.available.format()).toBe('cpus:3;mem:30');
    expect(a.agent('m')!.available.format()).toBe('cpus:1;mem:20');
    // g holds resources under a role it no longer subscribes to: the role is tracked, not offered.
    expect(a.roles().map((r) => [r.role, r.frameworks])).toEqual([
      ['gone', []],
      ['old', ['g']],
      ['r', ['f']],
    ]);
    a.recover('g', 'm', 'gone', P('cpus:2;mem:20'));
    expect(a.roles().map((r) => r.role)).toEqual(['old', 'r']);
    a.checkInvariants();
  });

  it('updates an agent total, keeping what is allocated', () => {
    const a = make();
    a.addAgent({ id: 'n', hostname: 'n', total: P('cpus:4;mem:40') });
    a.addFramework({ id: 'f', roles: ['r'] });
    a.allocateUsed({ frameworkId: 'f', agentId: 'n', role: 'r', resources: P('cpus:3;mem:10') });
    a.updateAgentTotal('n', P('cpus:8;mem:40;gpus:1'));
    expect(a.agent('n')!.available.format()).toBe('cpus:5;mem:30;gpus:1');
    expect(a.roles()[0]!.share).toBeCloseTo(3 / 8);
    a.checkInvariants();
  });

  it('moves a framework between roles with updateFramework, keeping what it holds under the old one', () => {
    const a = make();
    agents(a, 2, 'cpus:2;mem:20');
    a.addFramework({ id: 'f', roles: ['old'] });
    const first = a.allocate(0, ['a0']);
    a.updateFramework({ id: 'f', roles: ['new'] });
    expect(a.allocate(1).map((o) => o.role)).toEqual(['new']);
    a.checkInvariants();
    recoverAll(a, first);
    expect(a.roles().map((r) => r.role)).toEqual(['new']);
    a.checkInvariants();
  });
});
