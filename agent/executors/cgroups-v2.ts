// cgroup v2: one unified hierarchy; each task in <mount>/<parent>/<name> with memory.max,
// memory.swap.max, cpu.max and pids.max. The parent enables the controllers for its children.
import fs from 'node:fs';
import path from 'node:path';
import type { CgroupLimits, CgroupRef, Cgroups, CpuThrottling, TaskCgroup } from './cgroup-types.js';
import { discardDirs, killProcs, makeDir, readKey, readText, removeDir, writeValue } from './cgroup-fs.js';

const CPU_PERIOD_US = 100_000;
const CPU_MIN_QUOTA_US = 1_000;
const WANTED = ['memory', 'cpu', 'pids'];

/** Throws when the parent cannot be made or its controllers cannot be delegated. */
export function createV2Cgroups(mountPoint: string, parent: string, attach: (ref: CgroupRef) => TaskCgroup): Cgroups {
  const parentDir = path.join(mountPoint, parent);
  makeDir(parentDir);
  fs.accessSync(parentDir, fs.constants.W_OK);
  // A controller reaches a child only if every ancestor lists it in cgroup.subtree_control.
  const available = (readText(path.join(mountPoint, 'cgroup.controllers')) ?? '').split(/\s+/);
  const enable = WANTED.filter((c) => available.includes(c));
  if (enable.length > 0) {
    const line = enable.map((c) => `+${c}`).join(' ');
    writeValue(path.join(mountPoint, 'cgroup.subtree_control'), line);
    writeValue(path.join(parentDir, 'cgroup.subtree_control'), line);
  }
  return {
    version: 2,
    disabledReason: undefined,
    attach,
    create(name, limits) {
      const dir = path.join(parentDir, name);
      const cgroup = new V2TaskCgroup(dir);
      try {
        cgroup.setUp(limits);
      } catch (err) {
        discardDirs([dir]);
        throw err;
      }
      return cgroup;
    },
  };
}

export class V2TaskCgroup implements TaskCgroup {
  readonly ref: CgroupRef;
  readonly procsFiles: readonly string[];

  constructor(private readonly dir: string) {
    this.ref = { version: 2, paths: { unified: dir } };
    this.procsFiles = [path.join(dir, 'cgroup.procs')];
  }

  setUp(limits: CgroupLimits): void {
    makeDir(this.dir);
    const file = (name: string): string => path.join(this.dir, name);
    if (limits.memMb > 0 && fs.existsSync(file('memory.max'))) {
      writeValue(file('memory.max'), Math.round(limits.memMb * 1024 * 1024));
      if (fs.existsSync(file('memory.swap.max'))) writeValue(file('memory.swap.max'), 0);
    }
    if (limits.cpus > 0 && fs.existsSync(file('cpu.max'))) {
      const quota = Math.max(CPU_MIN_QUOTA_US, Math.round(limits.cpus * CPU_PERIOD_US));
      writeValue(file('cpu.max'), `${quota} ${CPU_PERIOD_US}`);
    }
    if (limits.pidsMax !== undefined && fs.existsSync(file('pids.max'))) writeValue(file('pids.max'), limits.pidsMax);
  }

  oomKilled(): boolean {
    return (readKey(path.join(this.dir, 'memory.events'), 'oom_kill') ?? 0) > 0;
  }

  cpuThrottling(): CpuThrottling | undefined {
    const file = path.join(this.dir, 'cpu.stat');
    const periods = readKey(file, 'nr_periods');
    if (periods === undefined) return undefined;
    return { periods, throttled: readKey(file, 'nr_throttled') ?? 0, throttledUs: readKey(file, 'throttled_usec') ?? 0 };
  }

  killAll(): void {
    // cgroup.kill (Linux 5.14) kills every process at once, including ones forking right now.
    const killFile = path.join(this.dir, 'cgroup.kill');
    if (fs.existsSync(killFile)) {
      try {
        writeValue(killFile, 1);
        return;
      } catch {
        // fall back to one by one
      }
    }
    killProcs(this.dir);
  }

  async remove(): Promise<boolean> {
    return removeDir(this.dir, () => this.killAll());
  }
}
