// Opening a file for writing in a sandbox its task's user owns, as root. The user can put
// anything at that name — a symlink to /etc/shadow, a hard link, a FIFO — so no symlink is
// followed (O_NOFOLLOW), no open blocks (O_NONBLOCK), and only a regular file is kept that is new
// (then given to the user) or already the user's.
//
//   append    the file as it is, or a new one: <sandbox>/stdout of a task being launched
//   replace   always a new file, renamed over whatever is at the name (rename follows nothing):
//             the logs copied whole again after a restart. A file the agent created and could
//             not give away before it died (root's, so refused by append) is simply replaced.
//
// Synchronous, returning a descriptor: a few metadata calls (≈0.1 ms) that would otherwise each
// wait for a turn of the thread pool behind the journals' fsyncs, on the launch path.
import { randomBytes } from 'node:crypto';
import fs, { constants as C } from 'node:fs';
import path from 'node:path';
import type { UserIdentity } from '../user-db.js';

export type TaskFileMode = 'append' | 'replace';

type Owner = Pick<UserIdentity, 'uid' | 'gid'>;

const FLAGS = C.O_WRONLY | C.O_NOFOLLOW | C.O_NONBLOCK | C.O_APPEND;

/** A descriptor for `file`, the caller's to close; throws, saying why, when it is not safe to write. */
export function openTaskFile(file: string, owner: Owner, mode: TaskFileMode): number {
  if (mode === 'replace') return replace(file, owner);
  try {
    return create(file, owner);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const fd = fs.openSync(file, FLAGS);
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
    if (stat.uid !== owner.uid) throw new Error(`${file} belongs to uid ${stat.uid}, not to the task's user (uid ${owner.uid})`);
    return fd;
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/** A new file at `file` (O_EXCL: nothing there, not even a dangling symlink), the owner's. */
function create(file: string, owner: Owner): number {
  const fd = fs.openSync(file, FLAGS | C.O_CREAT | C.O_EXCL, 0o644);
  try {
    if (owner.uid !== 0 || owner.gid !== 0) fs.fchownSync(fd, owner.uid, owner.gid);
    return fd;
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

function replace(file: string, owner: Owner): number {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}`);
  const fd = create(temp, owner);
  try {
    fs.renameSync(temp, file);
    return fd;
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw err;
  }
}
