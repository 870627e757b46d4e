// What the agent offers: detected from the machine (cpus, memory less a reserve, the work dir's
// free disk, a port range, NVIDIA gpus), with every name given in --resources taking precedence
// over its detected value, as Mesos's --resources does.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { Resources } from '../core/resources.js';
import type { MemReserve } from './options.js';

export const DEFAULT_PORTS = '[31000-32000]';

export interface DetectOptions {
  /** Names given here replace the detected ones; other names are added as given. */
  readonly flag?: Resources | undefined;
  readonly memReserve?: MemReserve | undefined;
  /** The directory whose filesystem's free space is offered as disk. */
  readonly workDir: string;
}

export interface MachineFacts {
  cpus: number;
  totalMemMib: number;
  freeDiskMib: number;
  gpus: number;
}

export async function detectResources(options: DetectOptions, facts?: MachineFacts): Promise<Resources> {
  const given = options.flag ?? Resources.EMPTY;
  const names = new Set(given.names());
  const missing = ['cpus', 'mem', 'disk', 'ports', 'gpus'].filter((n) => !names.has(n));
  if (missing.length === 0) return given;
  const machine = facts ?? (await machineFacts(options.workDir, missing.includes('gpus')));
  const parts: string[] = [];
  if (!names.has('cpus')) parts.push(`cpus:${machine.cpus}`);
  if (!names.has('mem')) parts.push(`mem:${Math.max(0, Math.floor(machine.totalMemMib - memReserveMib(machine.totalMemMib, options.memReserve)))}`);
  if (!names.has('disk')) parts.push(`disk:${Math.max(0, Math.floor(machine.freeDiskMib))}`);
  if (!names.has('ports')) parts.push(`ports:${DEFAULT_PORTS}`);
  if (!names.has('gpus') && machine.gpus > 0) parts.push(`gpus:${machine.gpus}`);
  return given.add(Resources.parse(parts.join(';'), '--resources'));
}

/** Mesos's rule when no reserve is given: keep 1 GiB back, or half the memory below 2 GiB. */
export function memReserveMib(totalMib: number, reserve: MemReserve | undefined): number {
  if (reserve === undefined) return totalMib >= 2048 ? 1024 : totalMib / 2;
  if ('percent' in reserve) return (totalMib * reserve.percent) / 100;
  return Math.min(totalMib, reserve.mib);
}

export async function machineFacts(workDir: string, withGpus = true): Promise<MachineFacts> {
  await fs.mkdir(workDir, { recursive: true });
  const stats = await fs.statfs(workDir);
  return {
    cpus: os.cpus().length || 1,
    totalMemMib: os.totalmem() / (1024 * 1024),
    freeDiskMib: (stats.bavail * stats.bsize) / (1024 * 1024),
    gpus: withGpus ? await countNvidiaGpus() : 0,
  };
}

/** `nvidia-smi -L` prints one `GPU n: …` line per device; no binary (or a failure) means none. */
export function countNvidiaGpus(timeoutMs = 5000): Promise<number> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['-L'], { timeout: timeoutMs }, (err, stdout) => {
      if (err) resolve(0);
      else resolve(stdout.split('\n').filter((line) => /^GPU \d+:/.test(line.trim())).length);
    });
  });
}
