// stdout and stderr with a size cap, as Mesos's logrotate container logger: every
// --log-rotation-interval the agent looks at each running task's two logs, and one larger than
// --log-max-size is rotated — copied to `<stream>.1` (older copies shifted to `.2` … `.N`,
// --log-max-files; the oldest dropped) and truncated to 0 ("copytruncate").
//
// Why copytruncate: the task holds its log open (a process task's own shell opened it; the
// agent's Docker log copy holds it too), so a rename would leave it writing into `.1`. Truncating
// works because every writer opened the log with O_APPEND (`exec >>stdout`, task-file.ts): the
// next write lands at the new end, 0, and the file does not become sparse. What the task writes
// between the copy's last read and the truncation is lost (logrotate's copytruncate has the same
// window; it is the price of not having the output pass through the agent).
//
// The sandbox is the task's user's, who can put anything at these names, so as root: the log is
// reached through sandbox-path.ts (no link followed, nothing but a regular file opened) and must
// belong to the task's user — a file the user could truncate anyway; `.1` is a new file renamed
// into place (task-file.ts `replace`) and the shifts are renames, which follow nothing.
//
// The size check is one lstat per log, synchronous (a short metadata call that cannot block,
// cheaper than a thread-pool round trip); the copy moves bytes in 1 MiB async reads and writes, so
// neither the event loop nor a pool thread is held for long. The truncation is synchronous and
// counted in the same tick, and a log is marked busy while its copies are shifted (`rotation`), so
// a log follower that compares the two before and after a read knows which file it read
// (sandbox-files.ts followFile).
import fs, { constants as C } from 'node:fs';
import path from 'node:path';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { openTaskFile } from './executors/task-file.js';
import { rotatedName, runningTasks, shiftPlan, type SandboxTask } from './sandbox-limits.js';
import type { RotationState } from './sandbox-files.js';
import { closeNode, openInSandbox, reopen } from './sandbox-path.js';

export const LOG_STREAMS = ['stdout', 'stderr'] as const;

const CHUNK = 1024 * 1024;
/** Rotation states remembered (one per rotated log; the least recently rotated forgotten first). */
const MAX_REMEMBERED = 10_000;

type Owner = { readonly uid: number; readonly gid: number };

const NONE: RotationState = Object.freeze({ count: 0, busy: false });

export interface LogRotationOptions {
  readonly clock: Clock;
  readonly intervalMs: number;
  /** --log-max-size; 0 turns rotation off. */
  readonly maxBytes: number;
  /** --log-max-files. */
  readonly maxFiles: number;
  readonly log: Logger;
  readonly tasks: () => Iterable<SandboxTask>;
}

export class LogRotation {
  readonly #options: LogRotationOptions;
  readonly #rotations = new Map<string, RotationState>();
  readonly #warned = new Set<string>();
  #timer: TimerHandle | undefined;
  #round: Promise<void> | undefined;
  #stopped = false;

  constructor(options: LogRotationOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#timer || this.#stopped || this.#options.maxBytes === 0) return;
    this.#timer = this.#options.clock.setInterval(() => void this.sweep(), this.#options.intervalMs);
  }

  stop(): void {
    this.#stopped = true;
    this.#options.clock.clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** How many times the agent has rotated this sandbox's log (since it started), and whether it is now. */
  rotation(sandbox: string, stream: string): RotationState {
    return this.#rotations.get(path.join(sandbox, stream)) ?? NONE;
  }

  /** One round over the running tasks' logs; while one runs, this returns it. */
  sweep(): Promise<void> {
    this.#round ??= this.#sweep().finally(() => (this.#round = undefined));
    return this.#round;
  }

  async #sweep(): Promise<void> {
    const { maxBytes } = this.#options;
    if (maxBytes === 0) return;
    for (const task of runningTasks(this.#options.tasks())) {
      for (const stream of LOG_STREAMS) {
        if (this.#stopped) return;
        const stat = fs.lstatSync(path.join(task.sandbox, stream), { throwIfNoEntry: false });
        if (!stat?.isFile() || stat.size <= maxBytes) continue;
        await this.#rotate(task, stream);
      }
    }
  }

  async #rotate(task: SandboxTask, stream: string): Promise<void> {
    const file = path.join(task.sandbox, stream);
    const fields = { frameworkId: task.frameworkId, taskId: task.taskId, stream };
    this.#set(file, { count: this.#rotations.get(file)?.count ?? 0, busy: true });
    try {
      const onCopyFailed = (err: unknown): void => this.#options.log.warn({ ...fields, err }, 'could not keep a rotated copy of the log; truncated it anyway');
      const rotated = await rotateLog(task.sandbox, stream, task.user as Owner, this.#options, () => this.#set(file, { count: (this.#rotations.get(file)?.count ?? 0) + 1, busy: true }), onCopyFailed);
      if (rotated) this.#options.log.debug(fields, 'log rotated');
      this.#warned.delete(file);
    } catch (err) {
      // Said once per log while it stays so (a task that made its stdout a symlink, say).
      if (this.#warned.has(file)) return;
      this.#warned.add(file);
      this.#options.log.warn({ ...fields, err }, 'could not rotate the log');
    } finally {
      this.#set(file, { count: this.#rotations.get(file)?.count ?? 0, busy: false });
    }
  }

  #set(file: string, state: RotationState): void {
    this.#rotations.delete(file);
    this.#rotations.set(file, state);
    if (this.#rotations.size > MAX_REMEMBERED) {
      const oldest = this.#rotations.keys().next().value;
      if (oldest !== undefined) this.#rotations.delete(oldest);
    }
  }
}

/**
 * Rotate the sandbox's log `stream` if it is larger than `maxBytes`: copy it to `.1` (shifting
 * older copies up to `.maxFiles`), then truncate it. The cap wins over the copy: a copy that
 * cannot be made (`onCopyFailed` is told) does not stop the truncation. `truncated` runs in the
 * same tick as the truncation. Throws when the log is not a regular file of the task's user.
 */
export async function rotateLog(
  sandbox: string,
  stream: string,
  owner: Owner,
  limits: { readonly maxBytes: number; readonly maxFiles: number },
  truncated: () => void,
  onCopyFailed: (err: unknown) => void,
): Promise<boolean> {
  const node = openInSandbox(sandbox, [stream], 'file', 'stream', stream);
  if (!node) return false;
  let fd: number;
  try {
    fd = reopen(node, C.O_RDWR);
  } finally {
    closeNode(node);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (stat.uid !== owner.uid) throw new Error(`${stream} belongs to uid ${stat.uid}, not to the task's user (uid ${owner.uid})`);
    if (stat.size <= limits.maxBytes) return false;
    if (limits.maxFiles > 0) await keepCopy(sandbox, stream, fd, owner, limits.maxFiles).catch(onCopyFailed);
    fs.ftruncateSync(fd, 0);
    truncated();
    return true;
  } finally {
    fs.closeSync(fd);
  }
}

/** Shift `.1` … `.N-1` up by one, then copy the log into a new `.1`. */
async function keepCopy(sandbox: string, stream: string, fd: number, owner: Owner, maxFiles: number): Promise<void> {
  for (const [from, to] of shiftPlan(stream, maxFiles)) {
    await fs.promises.rename(path.join(sandbox, from), path.join(sandbox, to)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
  const out = openTaskFile(path.join(sandbox, rotatedName(stream, 1)), owner, 'replace');
  try {
    await copyToEnd(fd, out);
  } finally {
    fs.closeSync(out);
  }
}

/**
 * Copy `from` (read at positions from 0) to `to` up to its end — including what is written
 * meanwhile, which shortens what the truncation loses — but no further than twice its size when
 * the copy began, so a task writing faster than the copy cannot keep it going.
 */
async function copyToEnd(from: number, to: number): Promise<void> {
  const limit = 2 * Math.max(fs.fstatSync(from).size, CHUNK);
  const buffer = Buffer.alloc(CHUNK);
  let position = 0;
  while (position < limit) {
    const n = await read(from, buffer, position);
    if (n === 0) return;
    await write(to, buffer.subarray(0, n));
    position += n;
  }
}

function read(fd: number, buffer: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buffer, 0, buffer.length, position, (err, n) => (err ? reject(err) : resolve(n))));
}

async function write(fd: number, data: Buffer): Promise<void> {
  let at = 0;
  while (at < data.length) {
    at += await new Promise<number>((resolve, reject) => fs.write(fd, data, at, data.length - at, null, (err, n) => (err ? reject(err) : resolve(n))));
  }
}
