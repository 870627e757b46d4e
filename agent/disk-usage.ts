// How much disk a sandbox takes: `du -s -k -x` in a child process, as Mesos's disk/du isolator
// runs `du -k -s`.
//
// Why a child process: a walk of a sandbox a task filled with a million files would, done in
// Node, be a million lstat calls through the libuv thread pool (4 threads shared with every file
// read and fsync of the agent) and as many callbacks on the event loop. du does it in its own
// process; the agent only waits for one line. A measurement that takes longer than its timeout
// is SIGKILLed and reported as such (the caller tries again on its next round).
//
// Why blocks (du's default) and not --apparent-size: the disk resource is the agent's free space
// on the work dir, and blocks are what a task takes from it. A sparse file that claims 1 TB and
// holds nothing takes nothing; a million empty-ish files take a block each. Blocks are also what
// Mesos's du measures. `-x` keeps to the sandbox's file system: what someone mounts inside it (a
// persistent volume, as Mesos leaves those out) is not the task's ephemeral disk. du follows no
// symlink (-P is the default) and opens no file, only directories, so a FIFO or a link to / in
// the sandbox neither blocks it nor leads it out.
import { spawn } from 'node:child_process';
import { TimeoutError } from '../core/errors.js';

export type DiskMeasure = (dir: string, timeoutMs: number) => Promise<number>;

/** du prints one line; more is not du talking. */
const MAX_OUTPUT = 4096;

/** Bytes the directory takes on disk (allocated blocks, KiB granularity). */
export const measureDiskUsage: DiskMeasure = (dir, timeoutMs) =>
  new Promise((resolve, reject) => {
    const child = spawn('du', ['-s', '-k', '-x', '--', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    timer.unref();
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(0, MAX_OUTPUT)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(0, MAX_OUTPUT)));
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (timedOut) return reject(new TimeoutError(`measuring the disk usage of ${dir} took longer than ${timeoutMs} ms (--disk-watch-timeout)`));
      // du exits 1 when a file vanished mid-walk (the task deleting it) and still prints the total.
      const kib = parseDuOutput(out);
      if (kib !== undefined) return resolve(kib * 1024);
      reject(new Error(`du ${dir} exited with ${String(code)}: ${err.trim() || 'no output'}`));
    });
  });

/** The KiB of du's `<kib>\t<dir>` line, or undefined. */
export function parseDuOutput(out: string): number | undefined {
  const match = /^(\d+)\s/.exec(out);
  return match ? Number(match[1]) : undefined;
}
