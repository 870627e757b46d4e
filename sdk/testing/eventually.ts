// Waiting for what a real cluster does: retry a check until it holds, with a deadline and the last
// failure in the error — rather than sleeping for a guessed time.

const CHECK_EVERY_MS = 20;

export interface EventuallyOptions {
  /** Default 5000. */
  readonly timeoutMs?: number;
  /** Default 20. */
  readonly intervalMs?: number;
  /** Named in the error on a timeout. */
  readonly what?: string;
}

/** Retry `check` until it stops throwing (or returns something other than false), or fail with its last error. */
export async function eventually<T>(check: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== false) return value;
      last = new Error('condition is false');
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? last.message : String(last);
      throw new Error(`timed out waiting for ${options.what ?? 'a condition'}: ${why}`, { cause: last });
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? CHECK_EVERY_MS));
  }
}
