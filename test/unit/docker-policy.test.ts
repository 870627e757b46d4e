// What a Docker task may ask for (agent/executors/docker-policy.ts): privileged, cap-add and host
// paths out of the sandbox only with --allow-privileged; a user parameter never.
import { describe, expect, it } from 'vitest';
import { containerRefusal } from '../../agent/executors/docker-policy.js';
import type { ContainerSpec } from '../../agent/executor.js';
import type { DockerInfo__Output, TaskInfo__Output, Volume__Output } from '../../proto/index.js';

const sandbox = '/work/frameworks/fw/tasks/t1';

function spec(docker: Partial<DockerInfo__Output> = {}, volumes: Partial<Volume__Output>[] = []): Pick<ContainerSpec, 'task' | 'sandbox'> {
  const container = { type: 'CONTAINER_DOCKER', hostname: '', volumes: volumes.map((v) => ({ containerPath: '/c', hostPath: '', mode: 'RW', ...v })), docker: { image: 'busybox', parameters: [], privileged: false, ...docker } };
  return { sandbox, task: { taskId: 't1', container } as unknown as TaskInfo__Output };
}

const strict = { allowPrivileged: false };
const lenient = { allowPrivileged: true };

describe('containerRefusal', () => {
  it('lets an ordinary container run: relative volumes inside the sandbox, cap-drop, labels', () => {
    const ok = spec({ parameters: [{ key: 'cap-drop', value: 'ALL' }, { key: 'label', value: 'a=b' }] }, [{ hostPath: 'data' }, { hostPath: '' }, { hostPath: './x/../y' }, { hostPath: 'a/..' }]);
    expect(containerRefusal(ok, strict)).toBeUndefined();
  });

  it('refuses privileged, cap-add and host paths without --allow-privileged, naming the field and the flag', () => {
    expect(containerRefusal(spec({ privileged: true }), strict)).toBe('container.docker.privileged: a privileged container needs an agent started with --allow-privileged');
    expect(containerRefusal(spec({ parameters: [{ key: 'env', value: 'A=1' }, { key: 'cap-add', value: 'NET_ADMIN' }] }), strict)).toBe(
      'container.docker.parameters[1]: cap-add (NET_ADMIN) needs an agent started with --allow-privileged',
    );
    expect(containerRefusal(spec({}, [{ hostPath: 'ok' }, { hostPath: '/var/run/docker.sock' }]), strict)).toBe(
      "container.volumes[1].hostPath: '/var/run/docker.sock' is a host path outside the task's sandbox; that needs an agent started with --allow-privileged",
    );
    for (const hostPath of ['..', '../other-task', 'data/../../..', `${sandbox}/inside-but-absolute`]) {
      expect(containerRefusal(spec({}, [{ hostPath }]), strict)).toContain('container.volumes[0].hostPath');
    }
  });

  it('allows them all with --allow-privileged', () => {
    expect(containerRefusal(spec({ privileged: true, parameters: [{ key: 'cap-add', value: 'SYS_ADMIN' }] }, [{ hostPath: '/' }]), lenient)).toBeUndefined();
  });

  it('refuses a user parameter whatever the flags', () => {
    for (const key of ['user', 'u']) {
      expect(containerRefusal(spec({ parameters: [{ key, value: '0' }] }), lenient)).toBe(
        `container.docker.parameters[0]: '${key}' is not allowed: the container runs as the task's user (command.user, else the framework's user)`,
      );
    }
  });
});
