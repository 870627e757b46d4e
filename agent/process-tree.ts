// Ending everything an `agora exec` started: the process we spawned and every descendant, found by
// their parent ids in /proc. A pty session (script) puts its command in a new session and process
// group, and a shell puts each job in a group of its own, so no one group holds them all. The tree
// is stopped first (SIGSTOP: a stopped process cannot fork), gathered again until nothing new
// appears, then killed — no child escapes by being reparented half-way through.
//
// What left the tree before (a daemon that double-forked) is not found; it stays in the task's
// cgroup (or container) and ends with the task.
import fs from 'node:fs';
import { parentPid } from './executors/proc.js';

/** Each live process's parent id, from /proc/<pid>/stat. */
export function parentIds(): Map<number, number> {
  const parents = new Map<number, number>();
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return parents;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = parentPid(Number(name));
    if (ppid !== undefined) parents.set(Number(name), ppid);
  }
  return parents;
}

/** `root`'s descendants (not `root`), nearest first. */
export function descendants(root: number, parents: Map<number, number> = parentIds()): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const found: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    found.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** SIGKILL `root` and all its descendants; how many processes were signalled. */
export function killTree(root: number): number {
  const stopped = new Set<number>();
  for (let round = 0; round < 10; round += 1) {
    const fresh = [root, ...descendants(root)].filter((pid) => !stopped.has(pid));
    if (fresh.length === 0) break;
    for (const pid of fresh) {
      signal(pid, 'SIGSTOP');
      stopped.add(pid);
    }
  }
  for (const pid of stopped) signal(pid, 'SIGKILL');
  return stopped.size;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}
