// One contract suite for every sorter (DRF and random), then what only DRF promises: the order.
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../core/random.js';
import { DrfSorter } from '../../master/allocator/drf-sorter.js';
import { IndexedHeap } from '../../master/allocator/heap.js';
import type { ClusterTotals } from '../../master/allocator/kinds.js';
import { RandomSorter } from '../../master/allocator/random-sorter.js';
import type { Sorter } from '../../master/allocator/sorter.js';

// Kinds: 0 = cpus, 1 = mem (milli-units). Cluster: 10 cpus, 100 mem.
function totals(): ClusterTotals {
  return { milli: [10_000, 100_000], version: 1 };
}

const sorters: Array<[string, (t: ClusterTotals) => Sorter]> = [
  ['drf', (t) => new DrfSorter(t)],
  ['random', (t) => new RandomSorter(t, new SeededRandom(7))],
];

function round(s: Sorter): string[] {
  const out: string[] = [];
  for (let c = s.next(); c !== undefined; c = s.next()) out.push(c);
  s.reset();
  return out;
}

describe.each(sorters)('sorter contract: %s', (_name, make) => {
  it('hands out each active client exactly once per round', () => {
    const s = make(totals());
    for (const c of ['a', 'b', 'c', 'd']) {
      s.add(c);
      s.activate(c);
    }
    s.deactivate('c');
    expect(s.activeCount).toBe(3);
    for (let i = 0; i < 5; i++) expect(round(s).sort()).toEqual(['a', 'b', 'd']);
    expect(s.sort().sort()).toEqual(['a', 'b', 'd']);
  });

  it('a round can be ended early and everything is back in the next', () => {
    const s = make(totals());
    for (const c of ['a', 'b', 'c']) {
      s.add(c);
      s.activate(c);
    }
    expect(s.next()).toBeDefined();
    s.reset();
    expect(round(s)).toHaveLength(3);
  });

  it('charges and credits allocations, and computes weighted dominant shares', () => {
    const s = make(totals());
    s.add('a');
    s.add('b', 2);
    s.allocated('a', [2_000, 10_000]); // a: cpus 2/10 = .2, mem 10/100 = .1 → .2
    s.allocated('b', [1_000, 40_000]); // b: cpus .1, mem .4 → .4, ÷ weight 2 = .2
    expect(s.allocation('a')).toEqual([2_000, 10_000]);
    expect(s.share('a')).toBeCloseTo(0.2);
    expect(s.share('b')).toBeCloseTo(0.2);
    s.unallocated('b', [1_000, 20_000]); // b: mem .2 ÷ 2 = .1
    expect(s.share('b')).toBeCloseTo(0.1);
    s.setWeight('b', 1); // b: .2
    expect(s.share('b')).toBeCloseTo(0.2);
  });

  it('shares follow the cluster total', () => {
    const t = totals();
    const s = make(t);
    s.add('a');
    s.activate('a');
    s.allocated('a', [5_000, 0]); // 5/10 = .5
    expect(s.share('a')).toBeCloseTo(0.5);
    t.milli[0] = 20_000; // 5/20 = .25
    t.version++;
    expect(s.share('a')).toBeCloseTo(0.25);
    expect(round(s)).toEqual(['a']);
  });

  it('removing a client forgets it, active or not', () => {
    const s = make(totals());
    s.add('a');
    s.add('b');
    s.activate('a');
    s.activate('b');
    s.remove('a');
    expect(s.has('a')).toBe(false);
    expect(s.size).toBe(1);
    expect(s.activeCount).toBe(1);
    expect(round(s)).toEqual(['b']);
    expect(s.clients()).toEqual(['b']);
  });

  it('deactivating a client already handed out this round keeps the round consistent', () => {
    const s = make(totals());
    for (const c of ['a', 'b', 'c']) {
      s.add(c);
      s.activate(c);
    }
    const first = s.next()!;
    s.deactivate(first);
    const rest: string[] = [];
    for (let c = s.next(); c !== undefined; c = s.next()) rest.push(c);
    s.reset();
    expect(rest).toHaveLength(2);
    expect(rest).not.toContain(first);
    expect(round(s)).toHaveLength(2);
  });

  it('rejects a client added twice and unknown clients', () => {
    const s = make(totals());
    s.add('a');
    expect(() => s.add('a')).toThrow(/added twice/);
    expect(() => s.allocated('zz', [1])).toThrow(/unknown client/);
    expect(() => s.setWeight('a', 0)).toThrow(/positive/);
  });
});

describe('drf sorter order', () => {
  it('orders by share, then allocation count, then name', () => {
    const s = new DrfSorter(totals());
    for (const c of ['c', 'b', 'a', 'd']) {
      s.add(c);
      s.activate(c);
    }
    // shares: a = 3/10 = .3; b = 20/100 = .2; c = .2 (but charged twice); d = 0
    s.allocated('a', [3_000, 0]);
    s.allocated('b', [0, 20_000]);
    s.allocated('c', [1_000, 10_000]);
    s.allocated('c', [1_000, 10_000]);
    expect(s.sort()).toEqual(['d', 'b', 'c', 'a']);
    expect(round(s)).toEqual(['d', 'b', 'c', 'a']);
  });

  it('weights divide the share: weight 2 sorts as half the share', () => {
    const s = new DrfSorter(totals());
    s.add('heavy', 2);
    s.add('light');
    s.activate('heavy');
    s.activate('light');
    // shares: heavy = .4 / 2 = .2; light = .3
    s.allocated('heavy', [4_000, 0]);
    s.allocated('light', [3_000, 0]);
    expect(s.sort()).toEqual(['heavy', 'light']);
  });

  it('a charge during a round takes effect at the next round', () => {
    const s = new DrfSorter(totals());
    for (const c of ['a', 'b']) {
      s.add(c);
      s.activate(c);
    }
    expect(s.next()).toBe('a'); // tie at 0, 0 allocations: by name
    s.allocated('a', [1_000, 0]); // a = .1
    expect(s.next()).toBe('b');
    s.reset();
    expect(round(s)).toEqual(['b', 'a']);
    expect(s.heapIsValid()).toBe(true);
  });
});

describe('random sorter', () => {
  it('is reproducible for a seed and varies between rounds', () => {
    const orders = (seed: number): string[] => {
      const s = new RandomSorter(totals(), new SeededRandom(seed));
      for (const c of ['a', 'b', 'c', 'd', 'e']) {
        s.add(c);
        s.activate(c);
      }
      return Array.from({ length: 20 }, () => round(s).join(''));
    };
    expect(orders(3)).toEqual(orders(3));
    expect(new Set(orders(3)).size).toBeGreaterThan(5);
  });

  it('puts a heavier client first more often', () => {
    const s = new RandomSorter(totals(), new SeededRandom(11));
    s.add('heavy', 3);
    s.add('light');
    s.activate('heavy');
    s.activate('light');
    let heavyFirst = 0;
    for (let i = 0; i < 2000; i++) if (round(s)[0] === 'heavy') heavyFirst++;
    // P(heavy first) = 3 / (3 + 1) = .75
    expect(heavyFirst / 2000).toBeGreaterThan(0.7);
    expect(heavyFirst / 2000).toBeLessThan(0.8);
  });
});

describe('indexed heap', () => {
  it('keeps order through push, pop, update and remove', () => {
    interface Item {
      key: number;
      heapIndex: number;
    }
    const rng = new SeededRandom(5);
    const heap = new IndexedHeap<Item>((a, b) => a.key < b.key);
    const items: Item[] = Array.from({ length: 200 }, () => ({ key: rng.next(), heapIndex: -1 }));
    for (const item of items) heap.push(item);
    for (let i = 0; i < 100; i++) {
      const item = items[Math.floor(rng.next() * items.length)]!;
      item.key = rng.next();
      heap.update(item);
    }
    for (const item of items.slice(0, 50)) heap.remove(item);
    expect(heap.isValid()).toBe(true);
    const out: number[] = [];
    for (let x = heap.pop(); x !== undefined; x = heap.pop()) out.push(x.key);
    expect(out).toHaveLength(150);
    expect(out).toEqual([...out].sort((a, b) => a - b));
  });
});
