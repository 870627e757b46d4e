// Facts about a process read from /proc, so that a restarted agent can tell whether the pid it
// checkpointed is still the task it launched (pids are reused; the start time is not).
import fs from 'node:fs';

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or undefined if gone. */
export function processStartTime(pid: number): number | undefined {
  const stat = readStat(pid);
  if (!stat) return undefined;
  const fields = afterComm(stat);
  // fields[0] is field 3 (state); field 22 is therefore fields[19].
  const start = fields[19];
  return start === undefined ? undefined : Number(start);
}

/** Is `pid` alive (not a zombie) and the same process that started at `startTime`? */
export function isSameProcessAlive(pid: number, startTime: number): boolean {
  const stat = readStat(pid);
  if (!stat) return false;
  const fields = afterComm(stat);
  return fields[0] !== 'Z' && fields[0] !== 'X' && Number(fields[19]) === startTime;
}

/** Field 4 of /proc/<pid>/stat (the parent's pid), or undefined if gone. */
export function parentPid(pid: number): number | undefined {
  const stat = readStat(pid);
  return stat === undefined ? undefined : Number(afterComm(stat)[1]);
}

function readStat(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
}

/** The fields after "(comm)": comm may hold spaces and parentheses, so split after the last ')'. */
function afterComm(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ');
}

/** Send a signal to a process group, ignoring "no such process". */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}
