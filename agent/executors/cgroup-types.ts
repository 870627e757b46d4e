// The cgroup interface the process executor uses; v1 and v2 implement it (cgroups-v1.ts, cgroups-v2.ts).

export interface CgroupLimits {
  /** CPU cores (CFS quota); 0 = none. */
  readonly cpus: number;
  /** Memory in MiB (and no swap beyond it); 0 = none. */
  readonly memMb: number;
  /** Processes and threads at once (pids.max); absent = none. */
  readonly pidsMax?: number;
}

/** What a checkpoint keeps to find the cgroup again after an agent restart. */
export interface CgroupRef {
  readonly version: 1 | 2;
  /** The task's directory in each hierarchy: v1 keyed by controller (memory, cpu, pids); v2 as `unified`. */
  readonly paths: Readonly<Record<string, string>>;
}

export interface CpuThrottling {
  readonly periods: number;
  readonly throttled: number;
  readonly throttledUs: number;
}

export interface TaskCgroup {
  readonly ref: CgroupRef;
  /** cgroup.procs files the task's wrapper joins before it starts the command. */
  readonly procsFiles: readonly string[];
  /** Did the kernel OOM-kill a process here (v1 oom_control / failcnt, v2 memory.events)? */
  oomKilled(exitSignal?: string): boolean;
  cpuThrottling(): CpuThrottling | undefined;
  /** SIGKILL every process in the cgroup. */
  killAll(): void;
  /** Kill what is left and remove the directories; false if one would not go. */
  remove(): Promise<boolean>;
}

export interface Cgroups {
  /** 1 or 2, or undefined when limits are off. */
  readonly version: 1 | 2 | undefined;
  /** Why limits are off, when they are. */
  readonly disabledReason: string | undefined;
  /**
   * Make the cgroup for a task and set its limits; undefined when limits are off. Throws when a
   * limit cannot be set, leaving no directory behind.
   */
  create(name: string, limits: CgroupLimits): TaskCgroup | undefined;
  /** The cgroup of a checkpointed task (works even when limits are now off, to clean it up). */
  attach(ref: CgroupRef): TaskCgroup;
}

