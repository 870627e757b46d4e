// The host's users as the agent sees them (agent/user-db.ts on the real /etc/passwd), for tests
// that build a ContainerSpec or a health-check target by hand, and directories tasks may write.
import { chown } from 'node:fs/promises';
import { UserDb, type UserIdentity } from '../../agent/user-db.js';
import { tempDir } from './tmp.js';

const users = new UserDb();

/** The host user `name`; throws when this machine has none. */
export function hostUser(name: string): UserIdentity {
  const user = users.lookup(name);
  if (!user) throw new Error(`this machine has no user '${name}'`);
  return user;
}

/** nobody (65534 on Debian): the user tasks run as when none is named. */
export const NOBODY = hostUser('nobody');

/**
 * A temp directory (tempDir) that tasks, running as nobody, may write in: for tests whose tasks
 * leave marks outside their own sandboxes, shared across tasks.
 */
export async function tasksWritableDir(prefix: string): Promise<string> {
  const dir = await tempDir(prefix);
  await chown(dir, NOBODY.uid, NOBODY.gid);
  return dir;
}
