// A container that never started, for every executor: wait() reports why, kill() has nothing to do.
// And why a spawn failed, in words a framework author can act on.
import type { Container, ExitInfo } from '../executor.js';

export const REASON_LAUNCH_FAILED = 'REASON_CONTAINER_LAUNCH_FAILED';

export function failedLaunch(taskId: string, message: string, reason = REASON_LAUNCH_FAILED): Container {
  const exit: ExitInfo = { launchFailed: true, reason, message };
  return { taskId, checkpoint: {}, wait: async () => exit, kill: async () => undefined };
}

/** Linux's MAX_ARG_STRLEN (32 pages of 4 KiB): the longest one argument or `NAME=value` may be. */
export const MAX_ARG_STRLEN = 128 * 1024;

/**
 * The message of a task whose process could not be spawned. E2BIG (the kernel refused the exec:
 * one string over MAX_ARG_STRLEN, or all of them over about a quarter of the stack limit) says
 * how big the environment and command line were and which of their strings was the largest.
 */
export function spawnFailureMessage(err: Error, argv: readonly string[], env: Readonly<Record<string, string>>): string {
  const base = `could not start the task: ${err.message}`;
  if ((err as NodeJS.ErrnoException).code !== 'E2BIG') return base;
  let total = 0;
  let largest = { what: '', bytes: 0 };
  const count = (what: string, text: string): void => {
    const bytes = Buffer.byteLength(text) + 1; // and its NUL
    total += bytes;
    if (bytes > largest.bytes) largest = { what, bytes };
  };
  argv.forEach((arg, i) => count(`argument ${i}`, arg));
  for (const [name, value] of Object.entries(env)) count(`environment variable ${shorten(name)}`, `${name}=${value}`);
  return (
    `${base}: the environment and command line are too big to exec (${formatBytes(total)} in all; the largest, ` +
    `${largest.what}, is ${formatBytes(largest.bytes)}, and Linux takes at most ${formatBytes(MAX_ARG_STRLEN)} per variable or argument)`
  );
}

/** A name as long as the user likes, kept readable in a message. */
function shorten(name: string): string {
  return name.length > 64 ? `${name.slice(0, 64)}…` : name;
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}
