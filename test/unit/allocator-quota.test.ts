// Quota: guarantees served first, headroom held back for them, limits never exceeded.
import { describe, expect, it } from 'vitest';
import { Resources } from '../../core/resources.js';
import { createAllocator, type Allocator, type AllocatorOptions, type OfferDecision } from '../../master/allocator/index.js';

const P = (text: string): Resources => Resources.parse(text);

function make(options: Partial<AllocatorOptions> = {}): Allocator {
  return createAllocator({ fairness: 'drf', seed: 1, minAllocatable: [], ...options });
}

function agents(a: Allocator, n: number, total: string, prefix = 'a'): void {
  for (let i = 0; i < n; i++) a.addAgent({ id: `${prefix}${i}`, hostname: `${prefix}${i}`, total: P(total) });
}

function sum(offers: readonly OfferDecision[], pick: (o: OfferDecision) => boolean = () => true): Resources {
  return Resources.sum(offers.filter(pick).map((o) => o.resources));
}

describe('quota guarantee', () => {
  it('serves a role below its guarantee before weighted DRF', () => {
    const setup = (withQuota: boolean): Record<string, number> => {
      const a = make();
      agents(a, 4, 'cpus:2;mem:20'); // cluster: 8 cpus, 80 mem
      a.setWeight('big', 10);
      if (withQuota) a.setQuota('q', { guarantee: P('cpus:4') });
      a.addFramework({ id: 'b', roles: ['big'] });
      a.addFramework({ id: 'g', roles: ['q'] });
      const offers = a.allocate(0);
      a.checkInvariants();
      return { big: sum(offers, (o) => o.role === 'big').scalar('cpus'), q: sum(offers, (o) => o.role === 'q').scalar('cpus') };
    };
    // Without quota: agent 1 → big (tie, by name): big = .25 ÷ 10 = .025; agent 2 → q (0): q = .25;
    // agents 3 and 4 → big (.05, .075 < .25).
    expect(setup(false)).toEqual({ big: 6, q: 2 });
    // With quota: stage 1 gives q two agents (cpus 2 + 2 = its guarantee of 4); stage 2 the rest to big.
    expect(setup(true)).toEqual({ big: 4, q: 4 });
  });

  it('stage 1 gives no more than the guarantee of the guaranteed kinds; the rest is shared fairly', () => {
    const a = make();
    agents(a, 1, 'cpus:8;mem:80');
    a.setQuota('q', { guarantee: P('cpus:3') });
    a.addFramework({ id: 'g', roles: ['q'] });
    a.addFramework({ id: 'o', roles: ['other'] });
    const offers = a.allocate(0);
    // stage 1: q gets cpus 3 (its guarantee) and all the mem (mem is not guaranteed; no headroom is
    // needed once q is satisfied). stage 2: 'other' (0) before q (mem 80/80 = 1) → the 5 cpus left.
    expect(offers.map((o) => `${o.role} ${o.resources.format()}`).sort()).toEqual(['other cpus:5', 'q cpus:3;mem:80']);
  });

  it('merges what both stages give one framework on one agent into a single offer', () => {
    const a = make();
    agents(a, 1, 'cpus:8;mem:80');
    a.setQuota('q', { guarantee: P('cpus:3') });
    a.addFramework({ id: 'g', roles: ['q'] });
    // stage 1: cpus:3 (the guarantee) and mem:80; stage 2: the other cpus:5 → one offer.
    expect(a.allocate(0).map((o) => o.resources.format())).toEqual(['cpus:8;mem:80']);
  });

  it('holds back unallocated headroom for unsatisfied guarantees from other roles', () => {
    const a = make({ minAllocatable: [P('cpus:0.01')] });
    agents(a, 4, 'cpus:2;mem:20'); // 8 cpus
    a.setQuota('q', { guarantee: P('cpus:6') }); // q has no framework yet, so stays unsatisfied
    a.addFramework({ id: 'f', roles: ['other'] });
    const offers = a.allocate(0);
    // headroom 8 cpus, required 6 → surplus 2: 'other' gets one agent's cpus, nothing more.
    expect(sum(offers).scalar('cpus')).toBe(2);
    a.checkInvariants();
    // The guaranteed role arrives: stage 1 hands it the 6 cpus kept for it.
    a.addFramework({ id: 'g', roles: ['q'] });
    expect(sum(a.allocate(1), (o) => o.role === 'q').scalar('cpus')).toBe(6);
  });

  it('trims to the surplus kind by kind: memory flows, cpus are held (Mesos offers what is left)', () => {
    const a = make();
    agents(a, 4, 'cpus:2;mem:20');
    a.setQuota('q', { guarantee: P('cpus:6') });
    a.addFramework({ id: 'f', roles: ['other'] });
    const offers = a.allocate(0);
    expect(sum(offers).format()).toBe('cpus:2;mem:80');
  });

  it('counts a role\'s free reservations toward its guarantee, so no headroom is held for them', () => {
    const a = make();
    a.addAgent({ id: 'r', hostname: 'r', total: P('cpus(q):4;mem(q):40') });
    agents(a, 2, 'cpus:4;mem:40');
    a.setQuota('q', { guarantee: P('cpus:4') });
    a.addFramework({ id: 'g', roles: ['q'], suppressedRoles: ['q'] });
    a.addFramework({ id: 'f', roles: ['other'] });
    expect(sum(a.allocate(0)).format()).toBe('cpus:8;mem:80');
  });

  it('lifts the hold once the guarantee is met', () => {
    const a = make();
    agents(a, 4, 'cpus:2;mem:20');
    a.setQuota('q', { guarantee: P('cpus:4') });
    a.addFramework({ id: 'g', roles: ['q'] });
    a.addFramework({ id: 'f', roles: ['other'] });
    const offers = a.allocate(0);
    expect(sum(offers, (o) => o.role === 'q').scalar('cpus')).toBe(4);
    expect(sum(offers, (o) => o.role === 'other').scalar('cpus')).toBe(4);
    expect(a.roles().find((r) => r.role === 'q')!.quota).toEqual({ guarantee: P('cpus:4') });
  });
});

describe('quota limit', () => {
  it('never lets a role hold more than its limit; trims scalars, keeps ports while a scalar fits', () => {
    const a = make();
    agents(a, 3, 'cpus:2;mem:20;ports:[1-2]');
    a.setQuota('l', { guarantee: Resources.EMPTY, limit: P('cpus:3;mem:50') });
    a.addFramework({ id: 'f', roles: ['l'] });
    const offers = a.allocate(0);
    // agent 1: cpus:2;mem:20 (2 ≤ 3); agent 2: cpus trimmed to 1, mem 20 (40 ≤ 50);
    // agent 3: cpus 0 left, mem 10 left → mem:10 and the ports.
    expect(offers.map((o) => o.resources.format()).sort()).toEqual([
      'cpus:1;mem:20;ports:[1-2]',
      'cpus:2;mem:20;ports:[1-2]',
      'mem:10;ports:[1-2]',
    ]);
    expect(a.roles()[0]!.allocated.scalar('cpus')).toBe(3);
    expect(a.allocate(1)).toEqual([]);
  });

  it('offers nothing (ports included) when no scalar fits under the limit; others get it', () => {
    const a = make();
    agents(a, 3, 'cpus:2;mem:20;ports:[1-2]');
    a.setQuota('l', { guarantee: Resources.EMPTY, limit: P('cpus:2;mem:20') });
    a.addFramework({ id: 'f', roles: ['l'] });
    const alone = a.allocate(0);
    // agent 1: all of it (exactly the limit); agents 2 and 3: no scalar fits → not even the ports.
    expect(alone.map((o) => o.resources.format())).toEqual(['cpus:2;mem:20;ports:[1-2]']);
    a.addFramework({ id: 'o', roles: ['other'] });
    const offers = a.allocate(1);
    expect(offers.map((o) => o.role)).toEqual(['other', 'other']);
    expect(sum(offers).format()).toBe('cpus:4;mem:40;ports:[1-2]');
    a.checkInvariants();
  });

  it('does not offer what is left under a limit when it falls short of the minimum allocatable', () => {
    const a = make({ minAllocatable: [P('cpus:0.01')] });
    agents(a, 2, 'cpus:2;mem:20;disk:100');
    a.setQuota('l', { guarantee: Resources.EMPTY, limit: P('cpus:2') });
    a.addFramework({ id: 'f', roles: ['l'] });
    // agent 1: all of it; agent 2: only mem and disk would fit, with no cpus → not offered.
    expect(a.allocate(0).map((o) => o.resources.format())).toEqual(['cpus:2;mem:20;disk:100']);
  });

  it('counts resources already in use toward the limit, reserved ones too', () => {
    const a = make();
    a.addAgent({ id: 'n', hostname: 'n', total: P('cpus:4;mem:40;cpus(l):2') });
    a.addFramework({ id: 'f', roles: ['l'] }, [{ frameworkId: 'f', agentId: 'n', role: 'l', resources: P('cpus(l):2') }]);
    a.setQuota('l', { guarantee: Resources.EMPTY, limit: P('cpus:3') });
    expect(a.allocate(0).map((o) => o.resources.format())).toEqual(['cpus:1;mem:40']);
  });
});

describe('quota input', () => {
  it('rejects non-scalar quota, a limit below the guarantee, and the unreserved role', () => {
    const a = make();
    expect(() => a.setQuota('q', { guarantee: P('ports:[1-2]') })).toThrow(/scalar/);
    expect(() => a.setQuota('q', { guarantee: P('cpus:4'), limit: P('cpus:2') })).toThrow(/below the guarantee/);
    expect(() => a.setQuota('*', { guarantee: P('cpus:1') })).toThrow(/cannot be set/);
    expect(() => a.setQuota('bad role', { guarantee: P('cpus:1') })).toThrow(/invalid role/);
    expect(a.roles()).toEqual([]);
  });

  it('removing a quota removes the hold', () => {
    const a = make();
    agents(a, 2, 'cpus:2;mem:20');
    a.setQuota('q', { guarantee: P('cpus:4') });
    a.addFramework({ id: 'f', roles: ['other'] });
    expect(sum(a.allocate(0)).scalar('cpus')).toBe(0);
    a.setQuota('q', undefined);
    expect(sum(a.allocate(1)).scalar('cpus')).toBe(4);
    a.checkInvariants();
  });
});
