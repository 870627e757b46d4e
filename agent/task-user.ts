// Who a task runs as on this agent: core's effectiveTaskUser names the user (the task's, else its
// framework's, else nobody), the UserDb turns the name into ids, and root is refused unless the
// agent runs with --allow-root-tasks. A refusal is a sentence for the task's TASK_FAILED.
//
//   effectiveTaskUser(task, framework) ─► UserDb.lookup ─► uid 0 or gid 0? ─► UserIdentity
//                                           │ none                │ not allowed
//                                           ▼                     ▼
//                          "user 'x' does not exist…"   "… runs as root … --allow-root-tasks"
import { effectiveTaskUser, type FrameworkUserFields, type TaskUserFields } from '../core/task-user.js';
import type { UserDb, UserIdentity } from './user-db.js';

export type { UserIdentity } from './user-db.js';

export interface TaskUserPolicy {
  readonly users: UserDb;
  /** --allow-root-tasks: tasks may run as uid 0 (or with gid 0 as their group). */
  readonly allowRoot: boolean;
}

/** The identity the task runs as, or why it may not run here. */
export type TaskUser = { readonly identity: UserIdentity } | { readonly refusal: string };

export function resolveTaskUser(task: TaskUserFields, framework: FrameworkUserFields | null | undefined, policy: TaskUserPolicy): TaskUser {
  return checkUser(effectiveTaskUser(task, framework), policy);
}

export function checkUser(name: string, policy: TaskUserPolicy): TaskUser {
  const identity = policy.users.lookup(name);
  if (!identity) return { refusal: `user '${name}' does not exist on this agent` };
  // gid 0 too: group root owns files (and devices) that are as good as root's.
  if (!policy.allowRoot && (identity.uid === 0 || identity.gid === 0)) {
    const which = identity.uid === 0 ? 'uid 0' : 'gid 0';
    return { refusal: `user '${name}' is root (${which}); this agent runs tasks as root only with --allow-root-tasks` };
  }
  return { identity };
}

export function isRoot(identity: UserIdentity): boolean {
  return identity.uid === 0;
}

/** USER, LOGNAME and HOME for a process task (the task's own variables still win). */
export function userEnv(identity: UserIdentity): Record<string, string> {
  return { USER: identity.name, LOGNAME: identity.name, HOME: identity.home };
}
