// The files of Secrets and Configs a task is given (TaskInfo.secrets.files), written into its new
// sandbox before it starts: owned by the task's user, with the mode its framework asked (0400 for
// a Secret's by default), parent directories 0700. A path is relative and stays in the sandbox
// (checked again here: the agent trusts no framework with its file system), and nothing existing
// is followed or replaced — the sandbox was made empty a moment ago, and `wx` refuses anything a
// link could have put in the way. The values never reach a log or an error message.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SecretFile__Output } from '../proto/index.js';
import type { UserIdentity } from './user-db.js';

const MAX_FILES = 256;

/** Why a file cannot be written; names the path, never the content. */
export class SecretFileError extends Error {}

export async function writeSecretFiles(sandbox: string, files: readonly SecretFile__Output[], owner: Pick<UserIdentity, 'uid' | 'gid'> | undefined): Promise<void> {
  if (files.length > MAX_FILES) throw new SecretFileError(`the task asks for ${files.length} files from secrets and configs; at most ${MAX_FILES}`);
  const chown = owner !== undefined && (owner.uid !== 0 || owner.gid !== 0);
  for (const file of files) {
    const relative = insideSandbox(file.path);
    const target = path.join(sandbox, relative);
    const dirs = path.posix.dirname(relative).split('/').filter((d) => d !== '.');
    let dir = sandbox;
    for (const part of dirs) {
      dir = path.join(dir, part);
      const made = await fs.mkdir(dir, { mode: 0o700 }).then(() => true, (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw new SecretFileError(`cannot make the directory of ${relative}: ${err.code ?? err.message}`);
        return false;
      });
      const stat = await fs.lstat(dir);
      if (!stat.isDirectory()) throw new SecretFileError(`cannot write ${relative}: ${path.relative(sandbox, dir)} is not a directory`);
      if (made && chown) await fs.chown(dir, owner.uid, owner.gid);
    }
    const mode = (file.mode || 0o400) & 0o777;
    const handle = await fs.open(target, 'wx', mode).catch((err: NodeJS.ErrnoException) => {
      throw new SecretFileError(`cannot write ${relative}: ${err.code ?? err.message}`);
    });
    try {
      await handle.writeFile(file.data);
      await handle.chmod(mode);
      if (chown) await handle.chown(owner.uid, owner.gid);
    } finally {
      await handle.close();
    }
  }
}

function insideSandbox(value: string): string {
  const normal = path.posix.normalize(value ?? '');
  if (value === '' || path.posix.isAbsolute(value) || normal === '.' || normal === '..' || normal.startsWith('../') || value.includes('\0')) {
    throw new SecretFileError(`the file path '${value}' leaves the sandbox`);
  }
  return normal;
}
