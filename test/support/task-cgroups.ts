// Where a real agent puts a task's cgroup on this machine (v2: one directory; v1: one per
// controller), for tests that read its limits or check that it is gone.
import fs from 'node:fs';
import path from 'node:path';
import type { Agent } from '../../agent/agent.js';
import { cgroupName, detectCgroups } from '../../agent/executors/index.js';

/** The directories (by controller: memory, cpu, pids; or unified) a task with this id would have. */
export function taskCgroupDirs(agent: Agent, frameworkId: string, taskId: string): Record<string, string> {
  const name = cgroupName(taskId, agent.checkpoint.sandboxDir(frameworkId, taskId));
  if (detectCgroups().version === 2) return { unified: path.join('/sys/fs/cgroup/agora', name) };
  // cpuacct has a directory of its own only where it is mounted apart from cpu.
  const controllers = ['memory', 'cpu', 'pids', ...(fs.existsSync('/sys/fs/cgroup/cpuacct/cpuacct.usage') && !fs.existsSync('/sys/fs/cgroup/cpu/cpuacct.usage') ? ['cpuacct'] : [])];
  return Object.fromEntries(controllers.map((c) => [c, path.join('/sys/fs/cgroup', c, 'agora', name)]));
}

/** The directory holding the task's pids.max and pids.current. */
export function taskPidsDir(agent: Agent, frameworkId: string, taskId: string): string {
  const dirs = taskCgroupDirs(agent, frameworkId, taskId);
  return dirs['unified'] ?? dirs['pids'] ?? '';
}

/** A cgroup file's contents, trimmed; undefined when it is not there. */
export function readCgroupFile(dir: string, file: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}
