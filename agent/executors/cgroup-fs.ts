// Small file operations on a cgroup directory, shared by the v1 and v2 implementations.
import fs from 'node:fs';
import path from 'node:path';

export function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The number after `key` in a flat-keyed file ("oom_kill 1\n..."), if present. */
export function readKey(file: string, key: string): number | undefined {
  const text = readText(file);
  if (text === undefined) return undefined;
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === key && v !== undefined) return Number(v);
  }
  return undefined;
}

export function readNumber(file: string): number | undefined {
  const text = readText(file);
  if (text === undefined) return undefined;
  const n = Number(text.trim());
  return Number.isFinite(n) ? n : undefined;
}

/** mkdir that tolerates an existing directory (a leftover from a crashed run is reused). */
export function makeDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
}

export function writeValue(file: string, value: string | number): void {
  fs.writeFileSync(file, String(value));
}

/** The pids listed in <dir>/cgroup.procs. */
export function listProcs(dir: string): number[] {
  const text = readText(path.join(dir, 'cgroup.procs'));
  if (!text) return [];
  return text.split('\n').filter((l) => l.trim() !== '').map(Number);
}

/** SIGKILL every process in the cgroup (stragglers the task left behind, or an escalated kill). */
export function killProcs(dir: string): void {
  for (const pid of listProcs(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** rmdir of directories just made and still empty of processes (a set-up that failed half-way). */
export function discardDirs(dirs: readonly string[]): void {
  for (const dir of dirs) {
    try {
      fs.rmdirSync(dir);
    } catch {
      // not made, or already gone
    }
  }
}

/**
 * rmdir, retrying while the kernel still counts exiting processes (EBUSY) and killing what is
 * left each round. A cgroup that never empties is left behind; the caller logs it.
 */
export async function removeDir(dir: string, kill: () => void, attempts = 20, delayMs = 25): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    try {
      fs.rmdirSync(dir);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return true;
      if (code !== 'EBUSY') return false;
    }
    kill();
    await new Promise((resolve) => setTimeout(resolve, delayMs * Math.min(i + 1, 8)));
  }
  return false;
}
