// Who a task runs as, by name: the task's own `command.user`, else its framework's `user`, else
// `nobody` — never the agent's own user by accident (as Mesos does when both are empty). The agent
// turns the name into ids and refuses root unless allowed; the master checks the name against
// its policies. Both use this one rule, so they agree on the user a task asks for.

/** The user a task runs as when neither it nor its framework names one. */
export const DEFAULT_TASK_USER = 'nobody';

/** The parts of a TaskInfo this rule reads (wire and decoded shapes alike). */
export interface TaskUserFields {
  readonly command?: { readonly user?: string | null } | null;
}

/** The parts of a FrameworkInfo this rule reads. */
export interface FrameworkUserFields {
  readonly user?: string | null;
}

export function effectiveTaskUser(task: TaskUserFields, framework?: FrameworkUserFields | null): string {
  return task.command?.user || framework?.user || DEFAULT_TASK_USER;
}
