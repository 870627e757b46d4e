// Reaching a name inside a task's sandbox as root, without trusting anything the task left there.
//
// The sandbox belongs to the task's user, who can swap any name in it — a file for a symlink to
// /etc/shadow, a directory for a symlink to /, a log for a FIFO — at any moment, including between
// a check and the use that follows it. So nothing here resolves a path twice or follows a link:
//
//   sandbox root ── open(O_PATH|O_NOFOLLOW|O_DIRECTORY)                 fd0
//   each component ── open("/proc/self/fd/<fd>/<name>", O_PATH|O_NOFOLLOW) → fstat
//        a directory: the next component is looked up in *that* directory (the fd, not the path)
//        a symlink, FIFO, socket, device, or a file where a directory is wanted: refused, naming it
//   the last one ── a regular file: reopened through /proc/self/fd/<fd> (the same inode) to read
//                   a directory: listed through /proc/self/fd/<fd>
//
// O_PATH opens nothing: no FIFO waits for a writer, no device runs its open, no data is read. So
// no call here can block, and the checks and the use are on one inode — the listing race (a
// directory swapped for a symlink between the check and readdir) has no window. The calls are
// synchronous on purpose: each is a short metadata syscall that cannot block, so it never waits
// in — nor holds — a libuv thread-pool slot (reading bytes is the caller's business, async, from
// a descriptor already proven to be a regular file).
import fs, { constants as C } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, NotFoundError } from '../core/errors.js';

/** Linux's O_PATH (not in Node's fs.constants); the same value on x86-64 and arm64. */
export const O_PATH = 0o10000000;

/** What a name in a sandbox is, as an error message says it. */
export function kindOf(stat: fs.Stats): string {
  if (stat.isFile()) return 'a regular file';
  if (stat.isDirectory()) return 'a directory';
  if (stat.isSymbolicLink()) return 'a symlink';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/**
 * The components of a path relative to the sandbox (leading slashes ignored, `.` and `..` resolved
 * as text: no link is followed, so text is all they can mean). Throws when it leads outside.
 */
export function sandboxComponents(relative: string, field: string): string[] {
  if (relative.includes('\0')) throw new InvalidArgumentError(field, 'must not contain NUL');
  const normalized = path.posix.normalize(relative.replace(/^\/+/, '') || '.');
  if (normalized === '..' || normalized.startsWith('../')) throw new InvalidArgumentError(field, `'${relative}' is outside the task's sandbox`);
  return normalized.split('/').filter((c) => c !== '' && c !== '.');
}

/** An O_PATH descriptor held on a name inside a sandbox, and what it is. Close it. */
export interface SandboxNode {
  readonly fd: number;
  readonly stat: fs.Stats;
}

export type Wanted = 'file' | 'directory';

/**
 * The node at `components` below `sandbox`, reached without following a link; undefined when a
 * component does not exist. Every component but the last must be a real directory, and the last
 * must be what is `wanted`, else InvalidArgumentError naming it (`field`, `display` for the whole).
 */
export function openInSandbox(sandbox: string, components: readonly string[], wanted: Wanted, field: string, display = quote(components.join('/'))): SandboxNode | undefined {
  let fd: number;
  try {
    fd = fs.openSync(sandbox, O_PATH | C.O_NOFOLLOW | C.O_DIRECTORY);
  } catch {
    throw new NotFoundError('sandbox', sandbox);
  }
  let stat = fs.fstatSync(fd);
  try {
    for (const [i, name] of components.entries()) {
      const next = openAt(fd, name, field);
      if (next === undefined) {
        fs.closeSync(fd);
        return undefined;
      }
      fs.closeSync(fd);
      fd = next;
      stat = fs.fstatSync(fd);
      const last = i === components.length - 1;
      if (!last && !stat.isDirectory()) {
        throw new InvalidArgumentError(field, `${quote(components.slice(0, i + 1).join('/'))} is ${kindOf(stat)}, not a directory`);
      }
    }
    if (wanted === 'file' && !stat.isFile()) throw new InvalidArgumentError(field, `${display} is ${kindOf(stat)}, not a regular file`);
    if (wanted === 'directory' && !stat.isDirectory()) throw new InvalidArgumentError(field, `${display} is ${kindOf(stat)}, not a directory`);
    return { fd, stat };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/** `name` in the directory held by `dirFd`, as an O_PATH descriptor (the link itself, if one); undefined if absent. */
function openAt(dirFd: number, name: string, field: string): number | undefined {
  try {
    return fs.openSync(`/proc/self/fd/${dirFd}/${name}`, O_PATH | C.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENAMETOOLONG') throw new InvalidArgumentError(field, `'${name.slice(0, 64)}…' is too long a name`);
    throw err;
  }
}

/**
 * A real descriptor on the regular file held by `node`: /proc/self/fd/N is a link to the inode
 * itself, so following it resolves no path again.
 */
export function reopen(node: SandboxNode, flags: number): number {
  return fs.openSync(`/proc/self/fd/${node.fd}`, flags | C.O_NONBLOCK);
}

/** The path through which the directory held by `node` (or a name in it, unfollowed) is reached. */
export function heldPath(node: SandboxNode, name?: string): string {
  return name === undefined ? `/proc/self/fd/${node.fd}` : `/proc/self/fd/${node.fd}/${name}`;
}

export function closeNode(node: SandboxNode): void {
  fs.closeSync(node.fd);
}

function quote(relative: string): string {
  return `'${relative === '' ? '.' : relative}'`;
}
