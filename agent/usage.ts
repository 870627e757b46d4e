// The usage sampler: every --usage-interval it asks the container of each live task what it has
// used (its cgroup, v1 or v2, or Docker's stats: executors/cgroup-usage.ts), and keeps the latest
// sample of each, with the CPU utilisation since the one before:
//
//   clock interval ─► sample(): every active task at once ─► container.usage() ─► TaskUsage
//                                                              (Δcpu-seconds ÷ Δwall = cores)
//
// Read by GET /api/v1/containers, the agent's /metrics (per task) and the master (sums per agent
// and per role, on the agent's pongs). A task that ends leaves the map at the next round, so its
// series go with it. A round still running when the next falls due is not doubled. The sandbox's
// disk is the disk watch's latest measurement (disk-watch.ts; tasks with a disk resource): du is
// not run a second time for the same sandbox.
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { isActive } from '../core/task-state.js';
import type { AgentUsage, TaskInfo__Output } from '../proto/index.js';
import type { ContainerUsage } from './executor.js';
import { taskKey, type TaskEntry } from './task-entry.js';

export interface TaskUsage extends ContainerUsage {
  readonly frameworkId: string;
  readonly taskId: string;
  /** The workload the task belongs to: `service/<name>`, `cronjob/<name>`, `job/<name>`, or "". */
  readonly workload: string;
  /** The role its resources are allocated to. */
  readonly role: string;
  /** Cores used on average since the previous sample; undefined after the first one. */
  readonly cpuUtilization: number | undefined;
  /** The sandbox's size on disk, when the disk watch has measured it. */
  readonly diskBytes: number | undefined;
  readonly sampledAtMs: number;
}

export interface UsageSamplerOptions {
  readonly clock: Clock;
  readonly intervalMs: number;
  readonly log: Logger;
  readonly tasks: () => Iterable<TaskEntry>;
  /** The roles of a framework with tasks here. */
  readonly frameworkRoles: (frameworkId: string) => readonly string[];
  /** The disk watch's latest measurement of the task's sandbox, in bytes. */
  readonly diskBytes: (frameworkId: string, taskId: string) => number | undefined;
}

/** The labels the built-in frameworks put on their tasks, and the kind each names. */
const WORKLOAD_LABELS: readonly (readonly [string, string])[] = [
  ['agora.service', 'service'],
  ['agora.cronjob', 'cronjob'],
  ['agora.job', 'job'],
];

export function workloadOf(info: Pick<TaskInfo__Output, 'labels'>): string {
  for (const [label, kind] of WORKLOAD_LABELS) {
    const name = info.labels?.[label];
    if (name) return `${kind}/${name}`;
  }
  return '';
}

/** The role a task's resources are allocated to, else its framework's first role, else "*". */
export function roleOf(info: Pick<TaskInfo__Output, 'resources'>, frameworkRoles: readonly string[] = []): string {
  const reserved = info.resources.find((r) => r.role && r.role !== '*')?.role;
  return reserved ?? frameworkRoles[0] ?? '*';
}

/** Cores used between two samples: Δcpu-seconds ÷ Δwall-seconds; undefined when no time passed. */
export function cpuUtilization(before: { cpuSeconds: number; sampledAtMs: number }, after: { cpuSeconds: number; sampledAtMs: number }): number | undefined {
  const wall = (after.sampledAtMs - before.sampledAtMs) / 1000;
  if (wall <= 0) return undefined;
  return Math.max(0, after.cpuSeconds - before.cpuSeconds) / wall;
}

export class UsageSampler {
  readonly #options: UsageSamplerOptions;
  readonly #latest = new Map<string, TaskUsage>();
  #timer: TimerHandle | undefined;
  #round: Promise<void> | undefined;
  #stopped = false;

  constructor(options: UsageSamplerOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#timer || this.#stopped) return;
    void this.sample();
    this.#timer = this.#options.clock.setInterval(() => void this.sample(), this.#options.intervalMs);
  }

  stop(): void {
    this.#stopped = true;
    this.#options.clock.clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The latest sample of a live task. */
  usage(frameworkId: string, taskId: string): TaskUsage | undefined {
    return this.#latest.get(taskKey(frameworkId, taskId));
  }

  /** The latest sample of every live task that has one. */
  all(): TaskUsage[] {
    return [...this.#latest.values()];
  }

  /** One round; while one runs, this returns it instead of starting another. */
  sample(): Promise<void> {
    this.#round ??= this.#sample().finally(() => (this.#round = undefined));
    return this.#round;
  }

  async #sample(): Promise<void> {
    const live = [...this.#options.tasks()].filter((t) => isActive(t.state) && t.container?.usage);
    const seen = new Set(live.map((t) => taskKey(t.frameworkId, t.taskId)));
    await Promise.all(live.map((t) => this.#sampleTask(t)));
    for (const k of this.#latest.keys()) if (!seen.has(k)) this.#latest.delete(k);
  }

  async #sampleTask(t: TaskEntry): Promise<void> {
    const k = taskKey(t.frameworkId, t.taskId);
    let usage: ContainerUsage | undefined;
    try {
      usage = await t.container?.usage?.();
    } catch (err) {
      this.#options.log.debug({ err, frameworkId: t.frameworkId, taskId: t.taskId }, 'could not read the task usage');
    }
    if (this.#stopped) return;
    if (!usage) {
      this.#latest.delete(k);
      return;
    }
    const sampledAtMs = this.#options.clock.now();
    const before = this.#latest.get(k);
    this.#latest.set(k, {
      ...usage,
      frameworkId: t.frameworkId,
      taskId: t.taskId,
      workload: workloadOf(t.info),
      role: roleOf(t.info, this.#options.frameworkRoles(t.frameworkId)),
      cpuUtilization: before ? cpuUtilization(before, { cpuSeconds: usage.cpuSeconds, sampledAtMs }) : undefined,
      diskBytes: this.#options.diskBytes(t.frameworkId, t.taskId),
      sampledAtMs,
    });
  }
}

/**
 * The sums the agent reports to the master on its pongs: cores in use (the tasks' utilisation; a
 * task sampled once counts 0 until its second sample), memory working sets and sandbox disk (the
 * disk watch's latest du; a sandbox it has not measured yet, or a task without a disk resource,
 * counts 0), in all and per role.
 */
export function usageSummary(samples: readonly TaskUsage[]): AgentUsage {
  type Sums = { cpus: number; memBytes: number; diskBytes: number };
  const add = (s: Sums, u: TaskUsage): void => {
    s.cpus += u.cpuUtilization ?? 0;
    s.memBytes += u.workingSetBytes;
    s.diskBytes += u.diskBytes ?? 0;
  };
  const roles = new Map<string, Sums>();
  const all: Sums = { cpus: 0, memBytes: 0, diskBytes: 0 };
  let sampledAtMs = 0;
  for (const u of samples) {
    add(all, u);
    sampledAtMs = Math.max(sampledAtMs, u.sampledAtMs);
    const r = roles.get(u.role) ?? { cpus: 0, memBytes: 0, diskBytes: 0 };
    add(r, u);
    roles.set(u.role, r);
  }
  return { ...all, sampledAtMs, roles: [...roles].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([role, r]) => ({ role, ...r })) };
}
