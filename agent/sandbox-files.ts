// Reading a task's sandbox for the HTTP endpoints: paths are confined to the sandbox (symlinks
// included, by resolving real paths), logs are read by byte offset, and followed by polling the
// file's size until the task has ended and everything written has been sent.
//
// The agent reads as root in a directory the task's user owns, and the task can swap any name in
// it for a symlink at any moment: a log is opened without following one, and a download is
// checked again on the file actually opened (its /proc/self/fd link), not only on the path.
import { constants as C, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { InvalidArgumentError, NotFoundError } from '../core/errors.js';

export interface FileEntry {
  name: string;
  /** Relative to the sandbox, with '/' separators. */
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  size: number;
  mtimeMs: number;
  mode: string;
}

/** The real path of `relative` inside `sandbox`; InvalidArgumentError when it leads outside. */
export async function resolveInSandbox(sandbox: string, relative: string, field = 'path'): Promise<string> {
  if (relative.includes('\0')) throw new InvalidArgumentError(field, 'must not contain NUL');
  const root = await fs.realpath(sandbox).catch(() => {
    throw new NotFoundError('sandbox', sandbox);
  });
  const target = path.resolve(root, relative.replace(/^\/+/, ''));
  if (!inside(root, target)) throw new InvalidArgumentError(field, `'${relative}' is outside the task's sandbox`);
  const { real, exists } = await realpathOfExisting(target);
  if (!inside(root, real)) throw new InvalidArgumentError(field, `'${relative}' leads outside the task's sandbox`);
  if (!exists) throw new NotFoundError('file', relative);
  return real;
}

/** The real path of `target`, or of its longest existing ancestor with the rest appended (a symlink may point out). */
async function realpathOfExisting(target: string): Promise<{ real: string; exists: boolean }> {
  let rest = '';
  for (let dir = target; ; dir = path.dirname(dir)) {
    try {
      const real = await fs.realpath(dir);
      return { real: rest === '' ? real : path.join(real, rest), exists: rest === '' };
    } catch {
      if (path.dirname(dir) === dir) return { real: target, exists: false };
      rest = rest === '' ? path.basename(dir) : path.join(path.basename(dir), rest);
    }
  }
}

function inside(root: string, target: string): boolean {
  return target === root || target.startsWith(root + path.sep);
}

export async function listDirectory(sandbox: string, relative: string): Promise<FileEntry[]> {
  const dir = await resolveInSandbox(sandbox, relative);
  const stat = await fs.stat(dir);
  if (!stat.isDirectory()) throw new InvalidArgumentError('path', `'${relative}' is not a directory`);
  const root = await fs.realpath(sandbox);
  const names = (await fs.readdir(dir)).sort();
  const entries = await Promise.all(
    names.map(async (name): Promise<FileEntry | undefined> => {
      const full = path.join(dir, name);
      const s = await fs.lstat(full).catch(() => undefined);
      if (!s) return undefined;
      const type = s.isFile() ? 'file' : s.isDirectory() ? 'directory' : s.isSymbolicLink() ? 'symlink' : 'other';
      return { name, path: path.relative(root, full).split(path.sep).join('/'), type, size: s.size, mtimeMs: Math.round(s.mtimeMs), mode: (s.mode & 0o7777).toString(8).padStart(4, '0') };
    }),
  );
  return entries.filter((e): e is FileEntry => e !== undefined);
}

/** A regular file of the sandbox, opened for download. */
export async function openDownload(sandbox: string, relative: string): Promise<{ stream: Readable; size: number; name: string }> {
  if (relative === '') throw new InvalidArgumentError('path', 'is required');
  const file = await resolveInSandbox(sandbox, relative);
  const handle = await fs.open(file, C.O_RDONLY | C.O_NONBLOCK);
  try {
    const opened = await fs.readlink(`/proc/self/fd/${handle.fd}`);
    if (!inside(await fs.realpath(sandbox), opened)) throw new InvalidArgumentError('path', `'${relative}' leads outside the task's sandbox`);
    const stat = await handle.stat();
    if (!stat.isFile()) throw new InvalidArgumentError('path', `'${relative}' is not a regular file`);
    return { stream: handle.createReadStream(), size: stat.size, name: path.basename(file) };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/**
 * `length` bytes (or up to `maxLength`) of a sandbox's log file from `offset`; a missing file — or
 * a symlink, or anything but a regular file — reads as empty.
 */
export async function readRange(file: string, offset: number, length: number): Promise<{ data: Buffer; size: number }> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
  } catch {
    return { data: Buffer.alloc(0), size: 0 };
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return { data: Buffer.alloc(0), size: 0 };
    const { size } = stat;
    const want = Math.max(0, Math.min(length, size - offset));
    if (want === 0) return { data: Buffer.alloc(0), size };
    const data = Buffer.alloc(want);
    const { bytesRead } = await handle.read(data, 0, want, offset);
    return { data: data.subarray(0, bytesRead), size };
  } finally {
    await handle.close();
  }
}

export interface FollowOptions {
  offset: number;
  /** Stop after this many bytes (Infinity: until the task ends). */
  length: number;
  /** True once the task has ended (nothing more will be written). */
  ended: () => boolean;
  pollMs: number;
  signal: AbortSignal;
  chunkBytes?: number;
}

/** New bytes of `file` as they are written, until the task has ended and all is sent (or the client goes). */
export function followFile(file: string, options: FollowOptions): Readable {
  const chunk = options.chunkBytes ?? 64 * 1024;
  async function* generate(): AsyncGenerator<Buffer> {
    let offset = options.offset;
    let left = options.length;
    while (!options.signal.aborted && left > 0) {
      const wasEnded = options.ended();
      const { data } = await readRange(file, offset, Math.min(chunk, left));
      if (data.length > 0) {
        offset += data.length;
        left -= data.length;
        yield data;
        continue;
      }
      // Read once more after the end was seen, so the last bytes written are not lost.
      if (wasEnded) return;
      await sleep(options.pollMs, options.signal);
    }
  }
  return Readable.from(generate(), { objectMode: false });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
