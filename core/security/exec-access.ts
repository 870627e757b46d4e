// Who may run a command inside a task (`agora exec`), checked by the master and again by the agent:
//
//   tasks.exec (+ may see the task: frameworks.view, or its framework's own principal) → any such task
//   no tasks.exec: its framework's own principal → that framework's tasks only (it already decides
//                  what they run, as which user; exec gives it nothing more)
//   otherwise → PERMISSION_DENIED naming tasks.exec, whether the task exists or not
//
// tasks.exec is not implied by frameworks.view: exec is as powerful as the task's user.
import { PermissionDeniedError } from '../errors.js';
import { may, type Principal } from './principal.js';

/** Which tasks a caller may exec into: those of frameworks it may see, or only its own. */
export type ExecScope = 'visible' | 'own';

/** The tasks a caller may exec into: any it may see (tasks.exec), else only its own frameworks. */
export function execScope(principal: Principal): ExecScope {
  if (principal.via === 'insecure' || may(principal, 'tasks.exec')) return 'visible';
  return 'own';
}

export function execDenied(principal: Principal): PermissionDeniedError {
  return new PermissionDeniedError(
    principal.name,
    'tasks.exec',
    undefined,
    `principal '${principal.name}' lacks permission 'tasks.exec' (a framework's own principal may exec into that framework's tasks only)`,
  );
}
