// Reading a task's sandbox for the HTTP endpoints: listings, downloads, and logs read by byte
// offset or followed by polling their size until the task has ended and everything written has
// been sent.
//
// Every name is reached through sandbox-path.ts: no link followed at any component, nothing but a
// regular file read and a real directory listed, nothing opened that could block (a FIFO, a
// socket, a device). A name that exists but is something else is a 400 that says what it is
// (`stdout is a symlink, not a regular file`); a log not written yet reads as empty.
//
// Logs are rotated (log-rotation.ts): offsets are positions in the current file, which starts
// again at 0 after a rotation; what was written before it is in `<stream>.1` (then `.2` …). A
// follower hears of each rotation from the agent's count: it first sends the rest of the rotated
// copy from its offset, then the new file from 0 — no line lost or sent twice, bar what
// copytruncate itself loses. A follower that finds the file shorter than its offset without a
// rotation counted (the task truncated it; an agent restart) goes on from 0, and so does a follow
// asked for past the end. A plain read past the end is empty; `x-agora-log-rotations` (http.ts)
// tells a client that polls that the file it had an offset in is now `<stream>.1`.
import fs, { constants as C } from 'node:fs';
import { Readable } from 'node:stream';
import { InvalidArgumentError, NotFoundError } from '../core/errors.js';
import { closeNode, heldPath, openInSandbox, reopen, sandboxComponents, type SandboxNode } from './sandbox-path.js';
import { pause } from '../core/pause.js';

export interface FileEntry {
  name: string;
  /** Relative to the sandbox, with '/' separators. */
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  size: number;
  mtimeMs: number;
  mode: string;
}

/** Entries one listing returns at most (a task can make a directory of millions). */
export const MAX_LISTING = 5_000;
/** lstat calls in flight at once for a listing: short, but not a flood of the thread pool's queue. */
const LSTAT_BATCH = 32;

/** A sandbox directory, sorted by name; `truncated` when it held more than `limit` entries (the first read are listed). */
export async function listDirectory(sandbox: string, relative: string, limit = MAX_LISTING): Promise<{ files: FileEntry[]; truncated: boolean }> {
  const components = sandboxComponents(relative, 'path');
  const node = openInSandbox(sandbox, components, 'directory', 'path');
  if (!node) throw new NotFoundError('directory', relative);
  try {
    const names: string[] = [];
    let truncated = false;
    // The directory held, not its path: a swap after the check changes nothing listed here.
    for await (const entry of await fs.promises.opendir(heldPath(node))) {
      if (names.length === limit) {
        truncated = true;
        break;
      }
      names.push(entry.name);
    }
    names.sort();
    const prefix = components.length === 0 ? '' : `${components.join('/')}/`;
    const files: FileEntry[] = [];
    for (let i = 0; i < names.length; i += LSTAT_BATCH) {
      const batch = await Promise.all(names.slice(i, i + LSTAT_BATCH).map((name) => entryOf(node, name, prefix)));
      for (const entry of batch) if (entry) files.push(entry);
    }
    return { files, truncated };
  } finally {
    closeNode(node);
  }
}

async function entryOf(node: SandboxNode, name: string, prefix: string): Promise<FileEntry | undefined> {
  const s = await fs.promises.lstat(heldPath(node, name)).catch(() => undefined);
  if (!s) return undefined;
  const type = s.isFile() ? 'file' : s.isDirectory() ? 'directory' : s.isSymbolicLink() ? 'symlink' : 'other';
  return { name, path: prefix + name, type, size: s.size, mtimeMs: Math.round(s.mtimeMs), mode: (s.mode & 0o7777).toString(8).padStart(4, '0') };
}

/** A regular file of the sandbox, opened for download (its size at the open; later growth is not sent). */
export function openDownload(sandbox: string, relative: string): { stream: Readable; size: number; name: string } {
  if (relative === '') throw new InvalidArgumentError('path', 'is required');
  const components = sandboxComponents(relative, 'path');
  const fd = openRegular(sandbox, components, 'path');
  if (fd === undefined) throw new NotFoundError('file', relative);
  const { size } = fs.fstatSync(fd);
  const name = components.at(-1) ?? '';
  if (size === 0) {
    fs.closeSync(fd);
    return { stream: Readable.from([]), size, name };
  }
  return { stream: fs.createReadStream('', { fd, start: 0, end: size - 1, autoClose: true }), size, name };
}

/** A read-only descriptor on the regular file at `components`, or undefined when there is none. */
function openRegular(sandbox: string, components: readonly string[], field: string, display?: string): number | undefined {
  const node = openInSandbox(sandbox, components, 'file', field, display);
  if (!node) return undefined;
  try {
    return reopen(node, C.O_RDONLY);
  } finally {
    closeNode(node);
  }
}

/**
 * Throws when the sandbox's log `name` exists and is not a regular file (a symlink, a FIFO, a
 * directory…): checked before a followed log answers 200.
 */
export function checkLog(sandbox: string, name: string): void {
  const fd = openRegular(sandbox, [name], 'stream', name);
  if (fd !== undefined) fs.closeSync(fd);
}

/**
 * `length` bytes of the sandbox's log `name` from `offset`, and its size; a log not written yet
 * reads as empty, anything but a regular file is refused (checkLog).
 */
export async function readRange(sandbox: string, name: string, offset: number, length: number): Promise<{ data: Buffer; size: number }> {
  const fd = openRegular(sandbox, [name], 'stream', name);
  if (fd === undefined) return { data: Buffer.alloc(0), size: 0 };
  try {
    const { size } = fs.fstatSync(fd);
    const want = Math.max(0, Math.min(length, size - offset));
    if (want === 0) return { data: Buffer.alloc(0), size };
    const data = Buffer.alloc(want);
    const bytesRead = await new Promise<number>((resolve, reject) => fs.read(fd, data, 0, want, offset, (err, n) => (err ? reject(err) : resolve(n))));
    return { data: data.subarray(0, bytesRead), size };
  } finally {
    fs.closeSync(fd);
  }
}

/** Where the agent's rotation of a log stands (log-rotation.ts). */
export interface RotationState {
  /** Rotations so far: the current file is generation `count`; generation g is now `<name>.(count - g)`. */
  readonly count: number;
  /** A rotation is under way: the `.k` names are being shifted and are not to be read now. */
  readonly busy: boolean;
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
  /** The agent's rotations of this log; none when absent. */
  rotations?: () => RotationState;
}

const NO_ROTATION: RotationState = { count: 0, busy: false };

/**
 * New bytes of the log `name` as they are written, until the task has ended and all is sent (or
 * the client goes). A log that stops being a regular file ends the stream.
 *
 * Across rotations the follower keeps to the generation it was reading: that file is now
 * `<name>.k` (k = rotations since), read from the offset to its end, then each newer generation
 * from 0, then the current file. A read during which the count moved (or, of a `.k`, while a
 * rotation shifts the names) may be of another file: it is dropped and made again.
 */
export function followFile(sandbox: string, name: string, options: FollowOptions): Readable {
  const chunk = options.chunkBytes ?? 64 * 1024;
  const rotations = options.rotations ?? ((): RotationState => NO_ROTATION);
  async function* generate(): AsyncGenerator<Buffer> {
    let offset = options.offset;
    let left = options.length;
    let generation = rotations().count;
    while (!options.signal.aborted && left > 0) {
      const wasEnded = options.ended();
      const before = rotations();
      generation = Math.min(generation, before.count); // a count forgotten: nothing rotated
      const k = before.count - generation;
      if (k > 0 && before.busy) {
        await pause(options.pollMs, options.signal);
        continue;
      }
      let read: { data: Buffer; size: number } | undefined;
      try {
        read = await readRange(sandbox, k === 0 ? name : `${name}.${k}`, offset, Math.min(chunk, left));
      } catch {
        if (k === 0) return;
      }
      const after = rotations();
      if (after.count !== before.count || (k > 0 && after.busy)) continue;
      if (k > 0 && (!read || read.data.length === 0)) {
        // The end of a rotated generation (or a copy no longer kept): on to the next, from 0.
        generation++;
        offset = 0;
        continue;
      }
      if (!read) return;
      // Shorter than the offset with no rotation counted: truncated by someone else; start again.
      if (k === 0 && read.size < offset) {
        offset = 0;
        continue;
      }
      if (read.data.length > 0) {
        offset += read.data.length;
        left -= read.data.length;
        yield read.data;
        continue;
      }
      // Read once more after the end was seen, so the last bytes written are not lost.
      if (wasEnded) return;
      await pause(options.pollMs, options.signal);
    }
  }
  return Readable.from(generate(), { objectMode: false });
}

