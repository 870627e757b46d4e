// Range math for range-valued resources (ports, and any custom `name:[a-b,...]`).
//
// A `Ranges` value is *normalized*: sorted by `begin`, bounds are integers with begin <= end, and no
// two ranges overlap or touch (`[1-2,3-4]` is stored as `[1-4]`), as Mesos's Value::Ranges is after
// coalescing. Every function here takes normalized input, returns normalized output, never mutates
// its arguments and runs in linear time. Only `normalizeRanges` accepts arbitrary input.

export interface Range {
  readonly begin: number;
  readonly end: number;
}

export type Ranges = readonly Range[];

export const EMPTY_RANGES: Ranges = Object.freeze([]);

/** Sort and merge overlapping or adjacent ranges. Bounds must already be valid (begin <= end). */
export function normalizeRanges(ranges: Iterable<Range>): Range[] {
  const sorted = Array.from(ranges, (r) => ({ begin: r.begin, end: r.end }));
  if (sorted.length <= 1) return sorted;
  sorted.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const out: { begin: number; end: number }[] = [];
  let cur = sorted[0]!;
  for (let i = 1; i < sorted.length; i++) {
    const next = sorted[i]!;
    if (next.begin <= cur.end + 1) {
      if (next.end > cur.end) cur.end = next.end;
    } else {
      out.push(cur);
      cur = next;
    }
  }
  out.push(cur);
  return out;
}

/** Union of two normalized lists. */
export function addRanges(a: Ranges, b: Ranges): Range[] {
  if (a.length === 0) return b.slice();
  if (b.length === 0) return a.slice();
  const out: { begin: number; end: number }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const ra = a[i];
    const rb = b[j];
    let next: Range;
    if (rb === undefined || (ra !== undefined && ra.begin <= rb.begin)) {
      next = ra!;
      i++;
    } else {
      next = rb;
      j++;
    }
    const last = out[out.length - 1];
    if (last !== undefined && next.begin <= last.end + 1) {
      if (next.end > last.end) last.end = next.end;
    } else {
      out.push({ begin: next.begin, end: next.end });
    }
  }
  return out;
}

/**
 * Set difference `a \ b`. Values of `b` that are not in `a` are ignored; callers that need
 * containment (as `Resources.subtract` does) check `containsRanges(a, b)` first.
 */
export function subtractRanges(a: Ranges, b: Ranges): Range[] {
  if (a.length === 0 || b.length === 0) return a.slice();
  const out: Range[] = [];
  let j = 0;
  for (const r of a) {
    let begin = r.begin;
    const end = r.end;
    // Skip the ranges of b that end before this one starts.
    while (j < b.length && b[j]!.end < begin) j++;
    let k = j;
    while (k < b.length && begin <= end) {
      const cut = b[k]!;
      if (cut.begin > end) break;
      if (cut.begin > begin) out.push({ begin, end: cut.begin - 1 });
      begin = Math.max(begin, cut.end + 1);
      if (cut.end > end) break; // this cut may also bite the next range of a
      k++;
    }
    j = k;
    if (begin <= end) out.push({ begin, end });
  }
  return out;
}

/** Whether every value of `b` is in `a`. */
export function containsRanges(a: Ranges, b: Ranges): boolean {
  let i = 0;
  for (const r of b) {
    while (i < a.length && a[i]!.end < r.begin) i++;
    const host = a[i];
    // a is normalized, so a range of b can only fit inside a single range of a.
    if (host === undefined || host.begin > r.begin || host.end < r.end) return false;
  }
  return true;
}

/** Intersection of two normalized lists. */
export function intersectRanges(a: Ranges, b: Ranges): Range[] {
  const out: Range[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ra = a[i]!;
    const rb = b[j]!;
    const begin = Math.max(ra.begin, rb.begin);
    const end = Math.min(ra.end, rb.end);
    if (begin <= end) out.push({ begin, end });
    if (ra.end < rb.end) i++;
    else j++;
  }
  return out;
}

/** How many integers the ranges hold (e.g. the number of ports). */
export function countRanges(ranges: Ranges): number {
  let n = 0;
  for (const r of ranges) n += r.end - r.begin + 1;
  return n;
}

export function rangesEqual(a: Ranges, b: Ranges): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.begin !== b[i]!.begin || a[i]!.end !== b[i]!.end) return false;
  }
  return true;
}

/** The lowest `n` values, or undefined when the ranges hold fewer than `n`. */
export function takeFromRanges(ranges: Ranges, n: number): number[] | undefined {
  const out: number[] = [];
  for (const r of ranges) {
    for (let v = r.begin; v <= r.end && out.length < n; v++) out.push(v);
    if (out.length === n) return out;
  }
  return out.length === n ? out : undefined;
}

/** Normalized ranges holding exactly the given integers (duplicates allowed). */
export function rangesFromValues(values: Iterable<number>): Range[] {
  return normalizeRanges(Array.from(values, (v) => ({ begin: v, end: v })));
}

/** `[31000-32000,33000-33010]`, the text form Mesos prints and `parseResources` reads. */
export function formatRanges(ranges: Ranges): string {
  let s = '[';
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    s += (i === 0 ? '' : ',') + r.begin + '-' + r.end;
  }
  return s + ']';
}
