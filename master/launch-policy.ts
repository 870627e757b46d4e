// What a launch may ask for. Each task runs as a user — its own, else its framework's, else
// --default-task-user (nobody) — and the framework's principal must hold `tasks.run_as` on that
// user; privileged containers, added capabilities and host-path volumes need `tasks.privileged`.
// The user is written into the TaskInfo the agent gets, so what was authorised is what runs (the
// agent adds its own checks: root and privileged need its flags too).
import path from 'node:path';
import { requirePermission, runAsObject, type Principal } from '../core/security/principal.js';
import type { FrameworkInfo__Output, TaskInfo__Output } from '../proto/index.js';

/** The user a task runs as. */
export function taskUser(task: TaskInfo__Output, framework: FrameworkInfo__Output, defaultUser: string): string {
  return task.command?.user || framework.user || defaultUser;
}

/** The fields of a task that need `tasks.privileged` (empty when none). */
export function privilegedFields(task: TaskInfo__Output): string[] {
  const out: string[] = [];
  const container = task.container;
  if (!container) return out;
  if (container.docker?.privileged) out.push('container.docker.privileged');
  for (const [i, p] of (container.docker?.parameters ?? []).entries()) {
    if (p.key === 'cap-add' || p.key === 'privileged' || p.key === 'device') out.push(`container.docker.parameters[${i}] (${p.key})`);
  }
  for (const [i, v] of container.volumes.entries()) if (isHostPath(v.hostPath)) out.push(`container.volumes[${i}].hostPath`);
  return out;
}

/** A volume's host path that reaches outside the task's sandbox. */
export function isHostPath(hostPath: string): boolean {
  if (path.isAbsolute(hostPath)) return true;
  const resolved = path.posix.normalize(hostPath);
  return resolved === '..' || resolved.startsWith('../');
}

/**
 * Check that `principal` may launch `task` for `framework`; returns the task with its user set.
 * Throws PERMISSION_DENIED naming the permission and object.
 */
export function authorizeLaunch(principal: Principal, framework: FrameworkInfo__Output, task: TaskInfo__Output, defaultUser: string): TaskInfo__Output {
  const user = taskUser(task, framework, defaultUser);
  requirePermission(principal, 'tasks.run_as', runAsObject(user));
  if (privilegedFields(task).length > 0) requirePermission(principal, 'tasks.privileged');
  if (task.command?.user === user) return task;
  const command = task.command ?? { shell: undefined, value: '', arguments: [], environment: null, user: '', uris: [] };
  return { ...task, command: { ...command, user } };
}
