// Leaving the machine as it was, whatever happened: the cluster's processes (supervised, and
// reaped by tmp.ts at exit or by the next run), the tasks in the agents' sandboxes (found by their
// working directory: an agent leaves them running when it dies), and the tasks' cgroups.
import fs from 'node:fs';
import path from 'node:path';
import { cgroupName } from '../../agent/executors/index.js';
import { killTree } from '../support/tmp.js';

/** SIGKILLs every process named after `dir` or working below it, with their descendants. */
export function killEverythingUnder(dir: string): number {
  const root = path.resolve(dir) + '/';
  const byCwd: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if ((fs.readlinkSync(`/proc/${entry}/cwd`) + '/').startsWith(root)) byCwd.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return killTree(byCwd, [dir]).length;
}

/** Removes the (empty, once their processes are dead) cgroups of the tasks sandboxed under the agents' `workDirs`. */
export function removeTaskCgroups(workDirs: readonly string[]): number {
  const parents = ['/sys/fs/cgroup/agora', ...safeReaddir('/sys/fs/cgroup').map((c) => `/sys/fs/cgroup/${c}/agora`)].filter((p) => fs.existsSync(p));
  let removed = 0;
  for (const work of workDirs) {
    for (const fw of safeReaddir(path.join(work, 'frameworks'))) {
      const tasks = path.join(work, 'frameworks', fw, 'tasks');
      for (const taskId of safeReaddir(tasks)) {
        const name = cgroupName(taskId, path.join(tasks, taskId));
        for (const parent of parents) {
          try {
            fs.rmdirSync(path.join(parent, name));
            removed += 1;
          } catch {
            // not there (the agent removed it), or still busy
          }
        }
      }
    }
  }
  return removed;
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Runs being cleaned up at this moment, for a Ctrl-C: their directory and the agents' work directories. */
const active = new Map<string, () => readonly string[]>();

export function registerRun(dir: string, workDirs: () => readonly string[]): () => void {
  active.set(dir, workDirs);
  return () => active.delete(dir);
}

/** On a signal: kill what the active runs started, wait for it to die, remove the tasks' cgroups. Synchronous. */
export function cleanUpActiveRunsSync(): void {
  for (const [dir, workDirs] of active) {
    killEverythingUnder(dir);
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    Atomics.wait(sleeper, 0, 0, 500);
    killEverythingUnder(dir);
    removeTaskCgroups(workDirs());
  }
}
