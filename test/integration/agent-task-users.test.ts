// A real agent under a real master: tasks run as their user (the task's, else the framework's,
// else nobody), never as root unless the agent has --allow-root-tasks; unknown users fail the
// launch; sandboxes are the user's and no one else's; journals are the agent's; Docker tasks run
// as the user too, and privileged containers, cap-add and host paths need --allow-privileged.
import { spawnSync } from 'node:child_process';
import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/agent.js';
import type { TaskInfo } from '../../proto/index.js';
import { launchTask, startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { eventually, MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { testServices } from '../support/services.js';
import { taskInfo, type TestFramework } from '../support/test-framework.js';
import { tempDir } from '../support/tmp.js';
import { hostUser, NOBODY } from '../support/users.js';

const DAEMON = hostUser('daemon');

afterEach(async () => {
  await stopTestAgents();
  await stopHarnesses();
});

const sandboxFile = (agent: Agent, fw: TestFramework, taskId: string, file: string): string => path.join(agent.checkpoint.sandboxDir(fw.frameworkId, taskId), file);
const stdout = (agent: Agent, fw: TestFramework, taskId: string): Promise<string> => readFile(sandboxFile(agent, fw, taskId, 'stdout'), 'utf8');

/** A task printing who it runs as: uid, gid, USER, LOGNAME and HOME. */
const whoami = (taskId: string, extra: Partial<TaskInfo> = {}): TaskInfo =>
  taskInfo(taskId, 'cpus:0.1;mem:32', { ...extra, command: { value: 'echo "$(id -u) $(id -g) $USER $LOGNAME $HOME"; echo data > mine', ...extra.command } });

/** Waits for the task's end and expects it FINISHED (a failure's message shows in the diff). */
async function finished(fw: TestFramework, taskId: string): Promise<void> {
  const ended = (e: { update?: { status?: { taskId?: string; state?: string } | null } | null }): boolean =>
    e.update?.status?.taskId === taskId && ['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED'].includes(e.update.status.state ?? '');
  const end = await fw.events.waitFor(ended, { timeoutMs: 20_000, what: `the end of ${taskId}` });
  expect(`${end.update?.status?.state}: ${end.update?.status?.message}`).toMatch(/^TASK_FINISHED/);
}

describe('agent: the users tasks run as', () => {
  it('runs a task as its user, and a task with no user at all as nobody, with their USER, LOGNAME and HOME', async () => {
    const h = await MasterHarness.start();
    const agent = await startTestAgent(h.address);
    // Neither the framework nor the tasks name a user.
    const fw = await h.framework({ autoAck: true, info: { user: '' } });
    await launchTask(fw, whoami('named', { command: { user: 'nobody' } }), whoami('unnamed'));
    for (const id of ['named', 'unnamed']) {
      await finished(fw, id);
      expect(await stdout(agent, fw, id)).toBe(`${NOBODY.uid} ${NOBODY.gid} nobody nobody ${NOBODY.home}\n`);
      expect((await stat(sandboxFile(agent, fw, id, 'mine'))).uid).toBe(NOBODY.uid);
    }
  });

  it("takes the framework's user when the task names none, and the task's over the framework's", async () => {
    const h = await MasterHarness.start();
    const agent = await startTestAgent(h.address);
    const fw = await h.framework({ autoAck: true, info: { user: 'daemon' } });
    await launchTask(fw, whoami('framework-user'), whoami('task-user', { command: { user: 'nobody' } }));
    await finished(fw, 'framework-user');
    await finished(fw, 'task-user');
    expect((await stdout(agent, fw, 'framework-user')).split(' ')[2]).toBe('daemon');
    expect((await stdout(agent, fw, 'task-user')).split(' ')[2]).toBe('nobody');
  });

  it('fails a task whose user does not exist, naming the user, and runs nothing', async () => {
    const h = await MasterHarness.start();
    const agent = await startTestAgent(h.address);
    const fw = await h.framework({ autoAck: true });
    await launchTask(fw, whoami('ghost', { command: { user: 'agora-no-such-user' } }));
    const failed = await fw.waitForUpdate('ghost', 'TASK_FAILED', { timeoutMs: 10_000 });
    expect(failed).toMatchObject({ reason: 'REASON_CONTAINER_LAUNCH_FAILED', message: "user 'agora-no-such-user' does not exist on this agent" });
    expect(fw.updates('ghost').map((u) => u.state)).toEqual(['TASK_STARTING', 'TASK_FAILED']);
    await expect(stat(sandboxFile(agent, fw, 'ghost', 'stdout'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses root, by name or uid, without --allow-root-tasks, naming the flag', async () => {
    const h = await MasterHarness.start();
    await startTestAgent(h.address);
    const fw = await h.framework({ autoAck: true });
    await launchTask(fw, whoami('by-name', { command: { user: 'root' } }), whoami('by-uid', { command: { user: '0' } }));
    for (const [id, user] of [['by-name', 'root'], ['by-uid', '0']] as const) {
      const failed = await fw.waitForUpdate(id, 'TASK_FAILED', { timeoutMs: 10_000 });
      expect(failed.message).toBe(`user '${user}' is root (uid 0); this agent runs tasks as root only with --allow-root-tasks`);
    }
  });

  it('runs a root task as root on an agent with --allow-root-tasks', async () => {
    const h = await MasterHarness.start();
    const agent = await startTestAgent(h.address, { allowRootTasks: 'true' });
    const fw = await h.framework({ autoAck: true });
    await launchTask(fw, whoami('root', { command: { user: 'root' } }));
    await finished(fw, 'root');
    expect(await stdout(agent, fw, 'root')).toBe('0 0 root root /root\n');
  });

  it("keeps each sandbox to its task's user (0700) and the journals to the agent (0600)", async () => {
    const h = await MasterHarness.start();
    const agent = await startTestAgent(h.address);
    const fw = await h.framework({ autoAck: true });
    await launchTask(fw, taskInfo('private', 'cpus:0.1;mem:32', { command: { value: 'echo secret > secret; sleep 30' }, killPolicy: { gracePeriodSeconds: 0.2 } }));
    await fw.waitForUpdate('private', 'TASK_RUNNING', { timeoutMs: 10_000 });
    const sandbox = agent.checkpoint.sandboxDir(fw.frameworkId, 'private');
    await eventually(async () => {
      await stat(path.join(sandbox, 'secret'));
    }, { what: 'the secret written' });
    const info = await stat(sandbox);
    expect({ uid: info.uid, gid: info.gid, mode: (info.mode & 0o777).toString(8) }).toEqual({ uid: NOBODY.uid, gid: NOBODY.gid, mode: '700' });
    // Another unprivileged user (daemon) can neither list the sandbox nor read the file.
    const other = spawnSync('/usr/bin/setpriv', ['--reuid=daemon', '--regid=daemon', '--init-groups', '--', '/bin/sh', '-c', `ls ${sandbox} || cat ${sandbox}/secret`], { encoding: 'utf8' });
    expect(other.status).not.toBe(0);
    expect(other.stderr).toContain('Permission denied');
    const journal = path.join(agent.checkpoint.taskMetaDir(fw.frameworkId, 'private'), 'journal.jsonl');
    expect(((await stat(journal)).mode & 0o777).toString(8)).toBe('600');
    expect(((await stat(agent.checkpoint.metaDir)).mode & 0o777).toString(8)).toBe('700');
  });
});

describe('agent: a restarted agent and its tasks’ users', () => {
  it('keeps the user a task was launched as, and runs its command checks as that user again', async () => {
    // Slow pings: the master must not give up on the agent while it is down.
    const h = await MasterHarness.start({ master: { agentPingInterval: '1s', maxAgentPingTimeouts: 20 } });
    const workDir = await tempDir('agent-users-restart');
    const first = await startTestAgent(h.address, { workDir });
    const fw = await h.framework({ autoAck: true, failoverTimeoutSeconds: 60, info: { user: 'daemon' } });
    const check = { type: 'COMMAND' as const, command: { value: 'id -u > checked' }, delaySeconds: 0, intervalSeconds: 0.2, gracePeriodSeconds: 0 };
    await launchTask(fw, taskInfo('lasting', 'cpus:0.1;mem:32', { command: { value: 'exec sleep 60' }, healthCheck: check, killPolicy: { gracePeriodSeconds: 0.2 } }));
    await fw.waitForUpdate('lasting', 'TASK_RUNNING', { timeoutMs: 10_000 });
    const checked = sandboxFile(first, fw, 'lasting', 'checked');
    await eventually(async () => expect(await readFile(checked, 'utf8')).toBe(`${DAEMON.uid}\n`), { what: 'a first check as daemon' });
    await first.stop();

    await rm(checked);
    const second = await startTestAgent(h.address, { workDir });
    expect(second.tasks.task(fw.frameworkId, 'lasting')?.user).toEqual(DAEMON);
    await eventually(async () => expect(await readFile(checked, 'utf8')).toBe(`${DAEMON.uid}\n`), { what: 'a check by the second agent, as daemon' });
    expect((await stat(checked)).uid).toBe(DAEMON.uid);
  });
});

describe('agent: Docker tasks and their users', () => {
  const docker = (taskId: string, command: string, extra: Partial<TaskInfo> = {}, dockerExtra: Record<string, unknown> = {}): TaskInfo =>
    taskInfo(taskId, 'cpus:0.1;mem:64', {
      ...extra,
      command: { value: command, ...extra.command },
      container: { type: 'CONTAINER_DOCKER', docker: { image: testServices().busyboxImage, network: 'NETWORK_NONE', ...dockerExtra }, ...extra.container },
    });

  it('runs the container as the task\u2019s user: id -u is 65534', async () => {
    const h = await MasterHarness.start();
    const agent = await startTestAgent(h.address, { dockerSocket: testServices().dockerSocket });
    const fw = await h.framework({ autoAck: true });
    await launchTask(fw, docker('boxed', 'id -u; echo data > mine'));
    await finished(fw, 'boxed');
    expect(await stdout(agent, fw, 'boxed')).toBe(`${NOBODY.uid}\n`);
    expect((await stat(sandboxFile(agent, fw, 'boxed', 'mine'))).uid).toBe(NOBODY.uid);
  });

  it('refuses root in a container without --allow-root-tasks, and a privileged container without --allow-privileged', async () => {
    const h = await MasterHarness.start();
    await startTestAgent(h.address, { dockerSocket: testServices().dockerSocket });
    const fw = await h.framework({ autoAck: true });
    await launchTask(fw, docker('root-box', 'id -u', { command: { value: 'id -u', user: 'root' } }), docker('privileged-box', 'true', {}, { privileged: true }));
    expect((await fw.waitForUpdate('root-box', 'TASK_FAILED', { timeoutMs: 10_000 })).message).toContain('--allow-root-tasks');
    const privileged = await fw.waitForUpdate('privileged-box', 'TASK_FAILED', { timeoutMs: 10_000 });
    expect(privileged).toMatchObject({ reason: 'REASON_CONTAINER_LAUNCH_FAILED', message: 'container.docker.privileged: a privileged container needs an agent started with --allow-privileged' });
  });

  it('runs root in a container with an added capability and a host path, on an agent with both flags', async () => {
    const h = await MasterHarness.start();
    const agent = await startTestAgent(h.address, { dockerSocket: testServices().dockerSocket, allowRootTasks: 'true', allowPrivileged: 'true' });
    const fw = await h.framework({ autoAck: true });
    // Not privileged: root with every capability cannot start on this machine, itself a container
    // without CAP_SYS_RESOURCE (executor-docker.test.ts runs a privileged container as nobody).
    const command = { value: 'id -u; head -c 5 /host/shadow', user: 'root' };
    const task = docker('all-in', '', { command }, { parameters: [{ key: 'cap-add', value: 'NET_ADMIN' }] });
    await launchTask(fw, { ...task, container: { ...task.container, volumes: [{ containerPath: '/host', hostPath: '/etc', mode: 'RO' }] } });
    await finished(fw, 'all-in');
    expect(await stdout(agent, fw, 'all-in')).toBe(`0\n${(await readFile('/etc/shadow', 'utf8')).slice(0, 5)}`);
  });
});
