// The disk watch: Mesos's disk/du isolator for Agora's sandboxes. Every --disk-watch-interval it
// measures the sandbox of each running task that has a `disk` resource (disk-usage.ts: du in a
// child process) and fails a task whose sandbox has outgrown it: TASK_FAILED,
// REASON_CONTAINER_LIMITATION_DISK, "disk usage of the sandbox (X MB) exceeds the task's disk
// limit of Y MB", killed at once (no grace period: a container over its limit is destroyed, as
// Mesos does). A task without a disk resource is not limited.
//
//   clock interval ─► sweep: one task at a time ─► du (timeout) ─► usage ─► over? ─► onExceeded
//
// One measurement at a time, and a round still running when the next falls due is not doubled:
// du is I/O bound, and several walking one disk at once only slow each other and the tasks. A
// round thus takes the sum of its tasks' du times; each is bounded by --disk-watch-timeout, after
// which the task is measured again next round (and a warning says so).
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { isTerminal } from '../core/task-state.js';
import { measureDiskUsage, type DiskMeasure } from './disk-usage.js';
import { diskLimitCause, diskLimitMb, exceedsDiskLimit, runningTasks, type SandboxTask } from './sandbox-limits.js';
import type { KillCause } from './task-spec.js';

export interface DiskWatchOptions {
  readonly clock: Clock;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** --enforce-disk-limit: false only logs a task over its limit (once). */
  readonly enforce: boolean;
  readonly log: Logger;
  /** The agent's tasks now (running ones are picked out). */
  readonly tasks: () => Iterable<SandboxTask>;
  /** End a task over its limit. */
  readonly onExceeded: (task: SandboxTask, cause: KillCause) => void;
  /** Default: du (disk-usage.ts). */
  readonly measure?: DiskMeasure;
}

/** The latest measurement of a running task's sandbox. */
export interface DiskUsage {
  readonly usedBytes: number;
  readonly limitMb: number;
  readonly measuredAtMs: number;
}

export class DiskWatch {
  readonly #options: DiskWatchOptions;
  readonly #measure: DiskMeasure;
  readonly #usage = new Map<string, DiskUsage>();
  readonly #warned = new Set<string>();
  #timer: TimerHandle | undefined;
  #round: Promise<void> | undefined;
  #stopped = false;

  constructor(options: DiskWatchOptions) {
    this.#options = options;
    this.#measure = options.measure ?? measureDiskUsage;
  }

  start(): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = this.#options.clock.setInterval(() => void this.sweep(), this.#options.intervalMs);
  }

  /** No more rounds; one in progress ends after its current measurement. */
  stop(): void {
    this.#stopped = true;
    this.#options.clock.clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The latest measurement of a running task with a disk limit. */
  usage(frameworkId: string, taskId: string): DiskUsage | undefined {
    return this.#usage.get(key(frameworkId, taskId));
  }

  /** One round over the running tasks; while one runs, this returns it instead of starting another. */
  sweep(): Promise<void> {
    this.#round ??= this.#sweep().finally(() => (this.#round = undefined));
    return this.#round;
  }

  async #sweep(): Promise<void> {
    const seen = new Set<string>();
    for (const task of runningTasks(this.#options.tasks())) {
      if (this.#stopped) return;
      const limitMb = diskLimitMb(task.info);
      if (limitMb === undefined) continue;
      const k = key(task.frameworkId, task.taskId);
      seen.add(k);
      await this.#check(task, k, limitMb);
    }
    for (const k of this.#usage.keys()) if (!seen.has(k)) this.#usage.delete(k);
    for (const k of this.#warned) if (!seen.has(k)) this.#warned.delete(k);
  }

  async #check(task: SandboxTask, k: string, limitMb: number): Promise<void> {
    const log = this.#options.log;
    let usedBytes: number;
    try {
      usedBytes = await this.#measure(task.sandbox, this.#options.timeoutMs);
    } catch (err) {
      log.warn({ err, frameworkId: task.frameworkId, taskId: task.taskId }, 'could not measure the sandbox disk usage');
      return;
    }
    this.#usage.set(k, { usedBytes, limitMb, measuredAtMs: this.#options.clock.now() });
    // The task may have ended, or begun to be killed, while du ran.
    if (!exceedsDiskLimit(usedBytes, limitMb) || task.killing || isTerminal(task.state) || this.#stopped) return;
    const fields = { frameworkId: task.frameworkId, taskId: task.taskId, usedBytes, limitMb };
    if (this.#options.enforce) {
      log.warn(fields, 'task over its disk limit; failing it');
      this.#options.onExceeded(task, diskLimitCause(usedBytes, limitMb));
    } else if (!this.#warned.has(k)) {
      this.#warned.add(k);
      log.warn(fields, 'task over its disk limit (not enforced: --enforce-disk-limit false)');
    }
  }
}

function key(frameworkId: string, taskId: string): string {
  return `${frameworkId}/${taskId}`;
}
