// What a Docker task may ask for on this agent, checked before anything is pulled or created.
// Each of these hands the task the host, whatever user it runs as, so each needs the agent to be
// started with --allow-privileged (as Kubernetes' allowPrivileged and Nomad's allow_privileged):
//
//   container.docker.privileged               every device, every capability, no confinement
//   container.docker.parameters[i] cap-add    a capability (SYS_ADMIN, NET_ADMIN, …)
//   container.volumes[i].hostPath             absolute, or `..` out of the sandbox: host files
//
// And never, whatever the flags: a `user` (`u`) parameter — the container runs as the task's
// user, checked against --allow-root-tasks like every task (task-user.ts).
// Pure (no I/O), so unit-tested directly; the refusal names the field and the flag.
import path from 'node:path';
import type { ContainerSpec } from '../executor.js';

export interface DockerPolicy {
  /** --allow-privileged */
  readonly allowPrivileged: boolean;
}

const NEEDS_FLAG = 'needs an agent started with --allow-privileged';

/** Why this task's container may not run here, or undefined. */
export function containerRefusal(spec: Pick<ContainerSpec, 'task' | 'sandbox'>, policy: DockerPolicy): string | undefined {
  const container = spec.task.container;
  const parameters = container?.docker?.parameters ?? [];
  const user = parameters.findIndex((p) => p.key === 'user' || p.key === 'u');
  if (user >= 0) {
    return `container.docker.parameters[${user}]: '${parameters[user]?.key}' is not allowed: the container runs as the task's user (command.user, else the framework's user)`;
  }
  if (policy.allowPrivileged) return undefined;
  if (container?.docker?.privileged) return `container.docker.privileged: a privileged container ${NEEDS_FLAG}`;
  const capAdd = parameters.findIndex((p) => p.key === 'cap-add');
  if (capAdd >= 0) return `container.docker.parameters[${capAdd}]: cap-add (${parameters[capAdd]?.value}) ${NEEDS_FLAG}`;
  const volumes = container?.volumes ?? [];
  const outside = volumes.findIndex((v) => !insideSandbox(spec.sandbox, v.hostPath));
  if (outside >= 0) {
    return `container.volumes[${outside}].hostPath: '${volumes[outside]?.hostPath}' is a host path outside the task's sandbox; that ${NEEDS_FLAG}`;
  }
  return undefined;
}

/** A relative path that stays in the sandbox ('' and '.' are the sandbox itself). */
function insideSandbox(sandbox: string, hostPath: string): boolean {
  if (path.isAbsolute(hostPath)) return false;
  const relative = path.relative(sandbox, path.resolve(sandbox, hostPath));
  return relative !== '..' && !relative.startsWith(`..${path.sep}`);
}
