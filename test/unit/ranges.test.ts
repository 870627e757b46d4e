import { describe, expect, it } from 'vitest';
import {
  addRanges,
  containsRanges,
  countRanges,
  formatRanges,
  intersectRanges,
  normalizeRanges,
  rangesEqual,
  rangesFromValues,
  subtractRanges,
  takeFromRanges,
  type Range,
} from '../../core/ranges.js';

/** `'1-5,8'` → [{1,5},{8,8}] */
function r(text: string): Range[] {
  if (text === '') return [];
  return text.split(',').map((p) => {
    const [b, e] = p.split('-');
    return { begin: Number(b), end: Number(e ?? b) };
  });
}

function s(ranges: readonly Range[]): string {
  return ranges.map((x) => (x.begin === x.end ? `${x.begin}` : `${x.begin}-${x.end}`)).join(',');
}

function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Brute force over a small universe to check the linear algorithms. */
function toSet(ranges: readonly Range[]): Set<number> {
  const out = new Set<number>();
  for (const x of ranges) for (let v = x.begin; v <= x.end; v++) out.add(v);
  return out;
}

function randomRanges(rand: () => number, max = 60): Range[] {
  const n = Math.floor(rand() * 5);
  const out: Range[] = [];
  for (let i = 0; i < n; i++) {
    const b = Math.floor(rand() * max);
    out.push({ begin: b, end: b + Math.floor(rand() * 8) });
  }
  return normalizeRanges(out);
}

describe('normalizeRanges', () => {
  it.each([
    ['', ''],
    ['5', '5'],
    ['10-20,1-5', '1-5,10-20'],
    ['1-5,3-8', '1-8'],
    ['1-5,6-8', '1-8'], // adjacent merge
    ['1-5,7-8', '1-5,7-8'],
    ['1-10,2-3,4-5', '1-10'],
    ['3,1,2', '1-3'],
    ['1-5,1-5', '1-5'],
    ['0-0,65535-65535', '0,65535'],
  ])('%s → %s', (input, expected) => {
    expect(s(normalizeRanges(r(input)))).toBe(expected);
  });

  it('does not mutate its input', () => {
    const input = r('5-6,1-2');
    normalizeRanges(input);
    expect(s(input)).toBe('5-6,1-2');
  });
});

describe('addRanges', () => {
  it.each([
    ['', '', ''],
    ['1-5', '', '1-5'],
    ['', '1-5', '1-5'],
    ['1-5', '6-10', '1-10'],
    ['1-5', '3-10', '1-10'],
    ['1-2,10-12', '5-6', '1-2,5-6,10-12'],
    ['1-2,10-12', '3-9', '1-12'],
    ['1-100', '20-30', '1-100'],
  ])('%s + %s = %s', (a, b, expected) => {
    expect(s(addRanges(r(a), r(b)))).toBe(expected);
    expect(s(addRanges(r(b), r(a)))).toBe(expected);
  });
});

describe('subtractRanges', () => {
  it.each([
    ['1-10', '', '1-10'],
    ['1-10', '1-10', ''],
    ['1-10', '5', '1-4,6-10'], // the middle splits the range
    ['1-10', '3-4,7-8', '1-2,5-6,9-10'],
    ['1-10', '1', '2-10'],
    ['1-10', '10', '1-9'],
    ['1-5,8-12', '4-9', '1-3,10-12'], // one cut bites two ranges
    ['1-5,8-12', '0-20', ''],
    ['1-5', '7-9', '1-5'], // not contained: ignored (set difference)
    ['31000-32000', '31000-31002', '31003-32000'],
  ])('%s - %s = %s', (a, b, expected) => {
    expect(s(subtractRanges(r(a), r(b)))).toBe(expected);
  });
});

describe('containsRanges', () => {
  it.each([
    ['1-10', '', true],
    ['', '', true],
    ['', '1', false],
    ['1-10', '1-10', true],
    ['1-10', '2-3,5,9-10', true],
    ['1-10', '0-1', false],
    ['1-10', '10-11', false],
    ['1-4,6-10', '4-6', false], // a gap inside
    ['1-4,6-10', '1-4,6-10', true],
    ['1-4,6-10', '7', true],
  ])('%s ⊇ %s is %s', (a, b, expected) => {
    expect(containsRanges(r(a), r(b))).toBe(expected);
  });
});

describe('intersectRanges', () => {
  it.each([
    ['1-10', '5-15', '5-10'],
    ['1-10', '11-15', ''],
    ['1-3,5-7,9-11', '2-10', '2-3,5-7,9-10'],
    ['', '1-5', ''],
  ])('%s ∩ %s = %s', (a, b, expected) => {
    expect(s(intersectRanges(r(a), r(b)))).toBe(expected);
    expect(s(intersectRanges(r(b), r(a)))).toBe(expected);
  });
});

describe('counting, taking, formatting', () => {
  it('counts the integers', () => {
    expect(countRanges(r('31000-32000,33000-33010'))).toBe(1001 + 11);
    expect(countRanges([])).toBe(0);
    expect(countRanges(r('0'))).toBe(1);
  });

  it('takes the lowest values, or undefined when short', () => {
    expect(takeFromRanges(r('10-11,20-30'), 4)).toEqual([10, 11, 20, 21]);
    expect(takeFromRanges(r('10-11'), 2)).toEqual([10, 11]);
    expect(takeFromRanges(r('10-11'), 3)).toBeUndefined();
    expect(takeFromRanges(r('10-11'), 0)).toEqual([]);
  });

  it('builds ranges from values', () => {
    expect(s(rangesFromValues([5, 3, 4, 9, 9]))).toBe('3-5,9');
  });

  it('formats as Mesos does', () => {
    expect(formatRanges(r('31000-32000,80'))).toBe('[31000-32000,80-80]');
    expect(formatRanges([])).toBe('[]');
  });

  it('compares', () => {
    expect(rangesEqual(r('1-2,4'), r('1-2,4'))).toBe(true);
    expect(rangesEqual(r('1-2,4'), r('1-2,5'))).toBe(false);
    expect(rangesEqual(r('1-2'), r('1-2,5'))).toBe(false);
  });
});

describe('properties against a brute-force model', () => {
  const rand = seeded(42);
  it('add, subtract, intersect and contains agree with integer sets', () => {
    for (let i = 0; i < 2000; i++) {
      const a = randomRanges(rand);
      const b = randomRanges(rand);
      const A = toSet(a);
      const B = toSet(b);
      expect(toSet(addRanges(a, b))).toEqual(new Set([...A, ...B]));
      expect(toSet(subtractRanges(a, b))).toEqual(new Set([...A].filter((v) => !B.has(v))));
      expect(toSet(intersectRanges(a, b))).toEqual(new Set([...A].filter((v) => B.has(v))));
      expect(containsRanges(a, b)).toBe([...B].every((v) => A.has(v)));
      // results stay normalized
      for (const out of [addRanges(a, b), subtractRanges(a, b), intersectRanges(a, b)]) {
        expect(normalizeRanges(out)).toEqual(out);
      }
      expect(countRanges(a)).toBe(A.size);
    }
  });
});
