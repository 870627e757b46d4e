// Running a command as a task's user: the agent (root) puts util-linux's setpriv in front of it,
//
//   setpriv --reuid=UID --regid=GID --init-groups -- command…     (--clear-groups: a numeric
//                                                                   uid with no user entry)
//
// which sets real, effective and saved ids (so the command cannot switch back), the groups login
// would give, and drops every capability, then execs the command: one exec, no shell, nothing
// left running as root between the two. Root (allowed by --allow-root-tasks) runs the command
// as it is. setpriv keeps the environment, so the task sees the variables the agent gave it.
import fs from 'node:fs';
import type { UserIdentity } from './user-db.js';

export const SETPRIV = '/usr/bin/setpriv';

/** What goes before a command's argv to run it as `user`; nothing for root. */
export function runAsPrefix(user: UserIdentity): string[] {
  if (user.uid === 0 && user.gid === 0) return [];
  return [SETPRIV, `--reuid=${user.uid}`, `--regid=${user.gid}`, user.known ? '--init-groups' : '--clear-groups', '--'];
}

let setprivChecked: string | undefined | null = null;

/** Why commands cannot be run as another user here (setpriv missing), or undefined. Checked once. */
export function runAsUnavailable(): string | undefined {
  if (setprivChecked === null) {
    try {
      fs.accessSync(SETPRIV, fs.constants.X_OK);
      setprivChecked = undefined;
    } catch {
      setprivChecked = `${SETPRIV} (util-linux) is missing: tasks cannot be run as their user (apt-get install util-linux)`;
    }
  }
  return setprivChecked;
}
