// Loads at most once per `gapMs` for the same key: a list that reloads on every burst of task
// events (useLive runs one load in flight and one after it) would otherwise re-read back to back
// while a 1,000-task job runs. A new key (other filters, another page) loads at once.

export interface Pacer {
  /** Resolves when a load for `key` may start (at once, or `gapMs` after the last one began). */
  wait(key: string, signal?: AbortSignal): Promise<void>;
}

export function pacer(gapMs: number, now: () => number = Date.now): Pacer {
  let last: { key: string; at: number } | undefined;
  return {
    async wait(key, signal) {
      const due = last && last.key === key ? last.at + gapMs - now() : 0;
      if (due > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, due);
          signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      last = { key, at: now() };
    },
  };
}

/** `load`, made to wait for its turn on `p` (one key: reloads of the same data). */
export function paced<T>(p: Pacer, load: (signal: AbortSignal) => Promise<T>, key = ''): (signal: AbortSignal) => Promise<T> {
  return async (signal) => {
    await p.wait(key, signal);
    return load(signal);
  };
}

/** Reloads on task events come at most this often on the cluster pages. */
export const RELOAD_GAP_MS = 1000;
