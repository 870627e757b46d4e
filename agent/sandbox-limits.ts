// What a task may take of the agent's disk, as flags and pure decisions (no I/O, unit-tested):
// the sandbox's disk usage against the task's `disk` resource (Mesos's disk/du isolator, run by
// disk-watch.ts), and the size cap on stdout/stderr with the rotated files kept (Mesos's logrotate
// container logger, run by log-rotation.ts).
import { InvalidArgumentError } from '../core/errors.js';
import { opt, parseBytes, type OptionSpec } from '../core/options.js';
import { isTerminal, type TaskState } from '../core/task-state.js';
import { resourcesFromWire } from '../core/wire.js';
import type { TaskInfo__Output } from '../proto/index.js';
import type { KillCause } from './task-spec.js';

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;
/** Longer than any sensible interval, and well inside what a timer holds (24.8 days). */
const DAY_MS = 86_400_000;

/** A log cap: 0 (no rotation) or at least 1 KiB, at most 1 TiB. */
function logSize(flag: string, description: string, def: number): OptionSpec<number> {
  return opt.custom(flag, description, (raw, f) => {
    const bytes = parseBytes(raw, f);
    if (bytes !== 0 && bytes < KIB) throw new InvalidArgumentError(f, `must be 0 (no rotation) or at least 1KiB, got '${String(raw)}'`);
    if (bytes > 1024 * GIB) throw new InvalidArgumentError(f, `must be at most 1024GiB, got '${String(raw)}'`);
    return bytes;
  }, def);
}

/**
 * The agent's flags for sandbox limits. Defaults: Mesos's container_disk_watch_interval (15 s);
 * enforcement on (Mesos's enforce_container_disk_quota is off by default, but a limit nobody
 * enforces is what let a task write 2 GB under `disk: 10`); logs capped at 10 MiB × 5 rotated
 * files, Docker's json-file and Kubernetes's containerLogMaxSize / containerLogMaxFiles figures.
 */
export const SANDBOX_LIMIT_OPTIONS = {
  diskWatchInterval: opt.duration('--disk-watch-interval', 'how often each running task\u2019s sandbox is measured (du) against its disk resource', '15s', { minMs: 10, maxMs: DAY_MS }),
  diskWatchTimeout: opt.duration('--disk-watch-timeout', 'a measurement of one sandbox taking longer is abandoned (the task is measured again next time)', '30s', { minMs: 10, maxMs: DAY_MS }),
  enforceDiskLimit: opt.bool('--enforce-disk-limit', 'fail a task whose sandbox outgrows its disk resource (REASON_CONTAINER_LIMITATION_DISK); false only logs it', true),
  logMaxSize: logSize('--log-max-size', 'rotate a task\u2019s stdout or stderr once it is larger than this, e.g. 10MiB (0: never)', 10 * MIB),
  logMaxFiles: opt.int('--log-max-files', 'rotated copies kept of each of stdout and stderr (stdout.1 … stdout.N, in the sandbox)', 5, { min: 0, max: 100 }),
  logRotationInterval: opt.duration('--log-rotation-interval', 'how often the sizes of the tasks\u2019 stdout and stderr are checked against --log-max-size', '1s', { minMs: 10, maxMs: DAY_MS }),
};

/** The fields of a task entry (task-manager.ts) the sandbox watches read. */
export interface SandboxTask {
  readonly frameworkId: string;
  readonly taskId: string;
  readonly info: TaskInfo__Output;
  readonly sandbox: string;
  readonly executorKind: string;
  readonly user: { readonly uid: number; readonly gid: number } | undefined;
  readonly state: TaskState;
  readonly container: unknown;
  readonly killing: boolean;
}

/**
 * Tasks whose container runs (and that the agent is not already ending): the ones to watch. The
 * fake executor's write nothing (it stands in for thousands of tasks in benchmarks).
 */
export function runningTasks<T extends SandboxTask>(tasks: Iterable<T>): T[] {
  const out: T[] = [];
  for (const t of tasks) if (t.container !== undefined && t.user !== undefined && t.executorKind !== 'fake' && !t.killing && !isTerminal(t.state)) out.push(t);
  return out;
}

/** The task's disk resource in MB, or undefined when it has none (such a task is not limited). */
export function diskLimitMb(info: Pick<TaskInfo__Output, 'resources'>): number | undefined {
  let mb: number;
  try {
    mb = resourcesFromWire(info.resources).scalar('disk');
  } catch {
    return undefined;
  }
  return mb > 0 ? mb : undefined;
}

/** MB as Mesos counts them (MiB), as the memory limit does. */
export function mbToBytes(mb: number): number {
  return Math.round(mb * MIB);
}

export function exceedsDiskLimit(usedBytes: number, limitMb: number): boolean {
  return usedBytes > mbToBytes(limitMb);
}

/** How the agent ends a task over its disk limit: TASK_FAILED, REASON_CONTAINER_LIMITATION_DISK. */
export function diskLimitCause(usedBytes: number, limitMb: number): KillCause {
  return {
    state: 'TASK_FAILED',
    reason: 'REASON_CONTAINER_LIMITATION_DISK',
    message: `disk usage of the sandbox (${formatMb(usedBytes)} MB) exceeds the task's disk limit of ${limitMb} MB`,
  };
}

function formatMb(bytes: number): string {
  return (Math.round((bytes / MIB) * 10) / 10).toString();
}

/** `stdout.1` … `stdout.N`: where the k-th newest rotated copy of a log lives. */
export function rotatedName(stream: string, k: number): string {
  return `${stream}.${k}`;
}

/** The renames that make room for a new `.1`, oldest first (`.N-1` → `.N`, …, `.1` → `.2`). */
export function shiftPlan(stream: string, maxFiles: number): [from: string, to: string][] {
  const plan: [string, string][] = [];
  for (let k = maxFiles - 1; k >= 1; k--) plan.push([rotatedName(stream, k), rotatedName(stream, k + 1)]);
  return plan;
}
