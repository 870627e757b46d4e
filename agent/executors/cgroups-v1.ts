// cgroup v1: one hierarchy per controller (memory, cpu, cpuacct, pids), each task in <mount>/<parent>/<name>.
import fs from 'node:fs';
import path from 'node:path';
import type { CgroupLimits, CgroupRef, Cgroups, CpuThrottling, TaskCgroup } from './cgroup-types.js';
import { discardDirs, killProcs, makeDir, readKey, readNumber, removeDir, writeValue } from './cgroup-fs.js';

export type V1Controller = 'memory' | 'cpu' | 'cpuacct' | 'pids';
export type V1Mounts = Partial<Record<V1Controller, string>>;

const CFS_PERIOD_US = 100_000;
/** The kernel refuses quotas under 1 ms. */
const CFS_MIN_QUOTA_US = 1_000;

/** Throws when the parent directories cannot be made (not root, read-only cgroupfs). */
export function createV1Cgroups(mounts: V1Mounts, parent: string, attach: (ref: CgroupRef) => TaskCgroup): Cgroups {
  const controllers = Object.entries(mounts) as [V1Controller, string][];
  for (const [, mount] of controllers) {
    makeDir(path.join(mount, parent));
    // An existing parent (made by root earlier) is no proof that we may write below it.
    fs.accessSync(path.join(mount, parent), fs.constants.W_OK);
  }
  return {
    version: 1,
    disabledReason: undefined,
    attach,
    create(name, limits) {
      const paths: Record<string, string> = {};
      for (const [controller, mount] of controllers) paths[controller] = path.join(mount, parent, name);
      const cgroup = new V1TaskCgroup(paths);
      try {
        cgroup.setUp(limits);
      } catch (err) {
        discardDirs(Object.values(paths));
        throw err;
      }
      return cgroup;
    },
  };
}

export class V1TaskCgroup implements TaskCgroup {
  readonly ref: CgroupRef;
  readonly procsFiles: readonly string[];

  constructor(private readonly paths: Readonly<Record<string, string>>) {
    this.ref = { version: 1, paths };
    this.procsFiles = Object.values(paths).map((dir) => path.join(dir, 'cgroup.procs'));
  }

  setUp(limits: CgroupLimits): void {
    for (const dir of Object.values(this.paths)) makeDir(dir);
    const { memory, cpu, pids } = this.paths;
    if (memory && limits.memMb > 0) {
      const bytes = Math.round(limits.memMb * 1024 * 1024);
      writeValue(path.join(memory, 'memory.limit_in_bytes'), bytes);
      // memsw caps memory + swap: without it a task could swap past its limit. Absent when the
      // kernel does not account swap.
      const memsw = path.join(memory, 'memory.memsw.limit_in_bytes');
      if (fs.existsSync(memsw)) writeValue(memsw, bytes);
    }
    if (cpu && limits.cpus > 0) {
      writeValue(path.join(cpu, 'cpu.cfs_period_us'), CFS_PERIOD_US);
      writeValue(path.join(cpu, 'cpu.cfs_quota_us'), Math.max(CFS_MIN_QUOTA_US, Math.round(limits.cpus * CFS_PERIOD_US)));
      writeValue(path.join(cpu, 'cpu.shares'), Math.max(2, Math.round(limits.cpus * 1024)));
    }
    if (pids && limits.pidsMax !== undefined) writeValue(path.join(pids, 'pids.max'), limits.pidsMax);
  }

  oomKilled(exitSignal?: string): boolean {
    const memory = this.paths['memory'];
    if (!memory) return false;
    const kills = readKey(path.join(memory, 'memory.oom_control'), 'oom_kill');
    if (kills !== undefined) return kills > 0;
    // Kernels before 4.13 do not count OOM kills: a SIGKILL after hitting the limit is the sign.
    return exitSignal === 'SIGKILL' && (readNumber(path.join(memory, 'memory.failcnt')) ?? 0) > 0;
  }

  cpuThrottling(): CpuThrottling | undefined {
    const cpu = this.paths['cpu'];
    if (!cpu) return undefined;
    const file = path.join(cpu, 'cpu.stat');
    const periods = readKey(file, 'nr_periods');
    if (periods === undefined) return undefined;
    return {
      periods,
      throttled: readKey(file, 'nr_throttled') ?? 0,
      throttledUs: Math.round((readKey(file, 'throttled_time') ?? 0) / 1000),
    };
  }

  killAll(): void {
    for (const dir of Object.values(this.paths)) killProcs(dir);
  }

  async remove(): Promise<boolean> {
    const results = await Promise.all(Object.values(this.paths).map((dir) => removeDir(dir, () => this.killAll())));
    return results.every(Boolean);
  }
}
