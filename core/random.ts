// Randomness is injected and seeded, so shuffles and jitter are reproducible in tests.

export interface Random {
  /** A float in [0, 1). */
  next(): number;
}

/** mulberry32: tiny, fast, good enough for shuffles and jitter (not for secrets). */
export class SeededRandom implements Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

export const mathRandom: Random = { next: () => Math.random() };

/** An integer in [0, n). */
export function randomInt(random: Random, n: number): number {
  return Math.floor(random.next() * n);
}

/** Fisher–Yates, in place; returns the array. */
export function shuffleInPlace<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    const a = items[i] as T;
    items[i] = items[j] as T;
    items[j] = a;
  }
  return items;
}

/** `base` scaled by a factor drawn uniformly from [1 - spread, 1 + spread]. */
export function jitter(random: Random, base: number, spread = 0.2): number {
  return base * (1 - spread + 2 * spread * random.next());
}

/** Truncated exponential backoff with jitter: min(max, initial × factor^attempt), jittered. */
export function backoffDelay(random: Random, attempt: number, initialMs: number, maxMs: number, factor = 2, spread = 0.2): number {
  const raw = Math.min(maxMs, initialMs * Math.pow(factor, Math.max(0, attempt)));
  return Math.min(maxMs, jitter(random, raw, spread));
}
