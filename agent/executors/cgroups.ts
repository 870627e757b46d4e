// cgroup limits for the process executor, v1 and v2 behind one interface.
//
//   detectCgroups()  reads /proc/self/mounts once:
//     cgroup2 mounted at /sys/fs/cgroup          → v2: /sys/fs/cgroup/agora/<task>
//     otherwise cgroup (v1) mounts per controller → v1: <memory|cpu|cpuacct|pids mount>/agora/<task>
//     neither, or not writable (not root)        → disabled, with the reason (tasks run unlimited)
//
// A TaskCgroup is created before the task starts; the task's wrapper shell writes its own pid
// into each `procsFiles` entry before it runs the command, so no task process ever runs outside.
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import type { CgroupRef, Cgroups, TaskCgroup } from './cgroup-types.js';
import { createV1Cgroups, V1TaskCgroup, type V1Mounts } from './cgroups-v1.js';
import { createV2Cgroups, V2TaskCgroup } from './cgroups-v2.js';

export type * from './cgroup-types.js';

export interface CgroupsOptions {
  /** 'auto' (default) detects; 'off' runs every task unlimited. */
  readonly mode?: 'auto' | 'off';
  /** The sub-directory for Agora's tasks under each hierarchy; default 'agora'. */
  readonly parent?: string;
  /** The mount table to read (tests); default the contents of /proc/self/mounts. */
  readonly mounts?: string;
  /** Where a v2-only host mounts cgroup2; default /sys/fs/cgroup. */
  readonly unifiedMountPoint?: string;
}

// cpuacct only accounts (the CPU time of the usage, cgroup-usage.ts); it limits nothing.
export const V1_CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'pids'] as const;

export function detectCgroups(options: CgroupsOptions = {}): Cgroups {
  if (options.mode === 'off') return disabled('cgroups are turned off by configuration');
  const mounts = parseMounts(options.mounts ?? readMounts());
  const parent = options.parent ?? 'agora';
  const unified = options.unifiedMountPoint ?? '/sys/fs/cgroup';
  try {
    const v2 = mounts.find((m) => m.fstype === 'cgroup2' && m.mountPoint === unified);
    if (v2) return createV2Cgroups(v2.mountPoint, parent, attachCgroup);
    const v1 = v1Mounts(mounts);
    if (Object.keys(v1).length === 0) return disabled(`no cgroup hierarchy is mounted (neither cgroup2 at ${unified} nor v1 memory, cpu or pids)`);
    return createV1Cgroups(v1, parent, attachCgroup);
  } catch (err) {
    return disabled(`cgroups are not writable: ${(err as Error).message}`);
  }
}

/** The cgroup of a checkpointed task, from its paths alone. */
export function attachCgroup(ref: CgroupRef): TaskCgroup {
  return ref.version === 2 ? new V2TaskCgroup(ref.paths['unified'] ?? '') : new V1TaskCgroup(ref.paths);
}

/** A cgroup directory name for a task: readable, safe, and unique per sandbox. */
export function cgroupName(taskId: string, sandbox: string): string {
  const safe = taskId.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_').slice(0, 80);
  return `${safe}-${createHash('sha1').update(sandbox).digest('hex').slice(0, 10)}`;
}

interface Mount {
  readonly mountPoint: string;
  readonly fstype: string;
  readonly options: readonly string[];
}

function readMounts(): string {
  try {
    return fs.readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return '';
  }
}

export function parseMounts(text: string): Mount[] {
  return text
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f.length >= 4)
    .map(([, mountPoint, fstype, options]) => ({
      // The kernel escapes spaces and friends in paths as octal (\040).
      mountPoint: (mountPoint ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))),
      fstype: fstype ?? '',
      options: (options ?? '').split(','),
    }));
}

function v1Mounts(mounts: readonly Mount[]): V1Mounts {
  const found: Partial<Record<(typeof V1_CONTROLLERS)[number], string>> = {};
  for (const controller of V1_CONTROLLERS) {
    const m = mounts.find((x) => x.fstype === 'cgroup' && x.options.includes(controller));
    // cpu,cpuacct in one hierarchy: the cpu directory is the cpuacct one too.
    if (m && !(controller === 'cpuacct' && found.cpu === m.mountPoint)) found[controller] = m.mountPoint;
  }
  return found;
}

function disabled(reason: string): Cgroups {
  return {
    version: undefined,
    disabledReason: reason,
    create: () => undefined,
    attach: attachCgroup,
  };
}
