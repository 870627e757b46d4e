// The docker executor against the test run's own dockerd (no bridge network, no registry): logs
// into the sandbox, the task's user inside the container, limits and labels on the container,
// kills with a grace period, recovery by label after the launching "agent" was SIGKILLed, pull
// failures with a clear reason, and privileged containers, cap-add and host paths refused unless
// the executor is allowed them (--allow-privileged); the pids limit on a real container.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Container, ContainerCheckpoint, ContainerSpec, Executor } from '../../agent/executor.js';
import { createExecutor } from '../../agent/executors/index.js';
import { containerCreateOptions } from '../../agent/executors/docker-spec.js';
import type { UserIdentity } from '../../agent/user-db.js';
import type { DockerInfo__Output, TaskInfo__Output, Volume__Output } from '../../proto/index.js';
import { testServices } from '../support/services.js';
import { removeDir, tempDir } from '../support/tmp.js';
import { NOBODY } from '../support/users.js';
import { eventually } from '../support/waits.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let root: string;
let executor: Executor;
let docker: Docker;
let counter = 0;

beforeAll(async () => {
  root = await tempDir('executor-docker');
  executor = createExecutor('docker', { dockerSocket: testServices().dockerSocket });
  docker = new Docker({ socketPath: testServices().dockerSocket });
});

afterAll(async () => {
  await executor.close();
  removeDir(root);
});

function dockerInfo(overrides: Partial<DockerInfo__Output>): DockerInfo__Output {
  return { image: testServices().busyboxImage, forcePull: false, network: 'NETWORK_HOST', networkName: '', portMappings: [], parameters: [], privileged: false, ...overrides };
}

interface SpecOptions {
  memMb?: number;
  cpus?: number;
  docker?: Partial<DockerInfo__Output>;
  volumes?: Volume__Output[];
  user?: UserIdentity;
}

/** As the agent lays it out: a sandbox 0700 of the task's user (nobody unless given). */
function makeSpec(command: string, opts: SpecOptions = {}): ContainerSpec {
  const taskId = `d${++counter}-${process.pid}`;
  const sandbox = path.join(root, taskId);
  const user = opts.user ?? NOBODY;
  fs.mkdirSync(sandbox, { mode: 0o700 });
  fs.chownSync(sandbox, user.uid, user.gid);
  const task: TaskInfo__Output = {
    name: taskId, taskId, agentId: 'agent-1', resources: [],
    command: { value: command, arguments: [], environment: null, user: '', uris: [] },
    container: { type: 'CONTAINER_DOCKER', docker: dockerInfo(opts.docker ?? {}), volumes: opts.volumes ?? [], hostname: '' },
    healthCheck: null, readinessCheck: null, killPolicy: null, labels: {}, discovery: null,
    data: Buffer.alloc(0), fake: null, executorId: '', secrets: null,
  };
  return { frameworkId: 'fw-d', taskId, task, sandbox, runtimeDir: `${sandbox}.meta`, user, env: { AGORA_TASK_ID: taskId, GREETING: 'hello' }, cpus: opts.cpus ?? 0, memMb: opts.memMb ?? 0, ports: [] };
}

const read = (spec: ContainerSpec, file: string): string => {
  const p = path.join(spec.sandbox, file);
  return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : '';
};

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  await eventually(check, { what, timeoutMs, intervalMs: 25 });
}

const containerId = (c: Container | ContainerCheckpoint): string => {
  const checkpoint = typeof c['wait'] === 'function' ? (c as Container).checkpoint : (c as ContainerCheckpoint);
  return String(checkpoint['containerId']);
};
const gone = (id: string): Promise<boolean> => docker.getContainer(id).inspect().then(() => false, (err: { statusCode?: number }) => err.statusCode === 404);

describe('docker executor', () => {
  it('runs the command with limits and labels, copies its logs, stops it and removes it', async () => {
    const spec = makeSpec('echo "$GREETING from $(pwd)"; echo oops >&2; sleep 30', { memMb: 64, cpus: 0.5 });
    const container = await executor.launch(spec);
    const info = await docker.getContainer(containerId(container)).inspect();
    expect(info.HostConfig).toMatchObject({ Memory: 64 * 1024 * 1024, NanoCpus: 500_000_000, NetworkMode: 'host' });
    expect(info.Config.Labels).toMatchObject({ 'agora.task-id': spec.taskId, 'agora.framework-id': 'fw-d', 'agora.sandbox': spec.sandbox });
    await until(() => read(spec, 'stdout') === 'hello from /mnt/agora/sandbox\n' && read(spec, 'stderr') === 'oops\n', 'the logs');
    // sh is PID 1 in the container and ignores SIGTERM: docker stop escalates after 1 s.
    const t0 = Date.now();
    await container.kill(1_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(await container.wait()).toMatchObject({ signal: 'SIGKILL', killed: true });
    expect(await gone(containerId(container))).toBe(true);
  });

  it("reports the command's exit code (network none)", async () => {
    const spec = makeSpec('echo bye; exit 3', { docker: { network: 'NETWORK_NONE' } });
    const container = await executor.launch(spec);
    expect(await container.wait()).toEqual({ exitCode: 3, message: 'Command exited with status 3' });
    expect(read(spec, 'stdout')).toBe('bye\n');
  });

  it('gives a task that handles SIGTERM its grace period', async () => {
    const spec = makeSpec("trap 'echo stopping; exit 0' TERM; echo ready; while :; do sleep 0.1; done");
    const container = await executor.launch(spec);
    await until(() => read(spec, 'stdout').includes('ready'), 'the task to start');
    const t0 = Date.now();
    await container.kill(10_000);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await container.wait()).toMatchObject({ exitCode: 0, killed: true });
    expect(read(spec, 'stdout')).toBe('ready\nstopping\n');
  });

  it('reports an OOM kill by the memory limit', async () => {
    const spec = makeSpec("x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo ${#x}", { memMb: 16 });
    const exit = await (await executor.launch(spec)).wait();
    expect(exit).toMatchObject({ reason: 'REASON_CONTAINER_LIMITATION_MEMORY', message: 'memory limit of 16 MB exceeded' });
  });

  it("caps the container's processes at the executor's pids limit (--task-pids-limit)", async () => {
    const limited = createExecutor('docker', { dockerSocket: testServices().dockerSocket, pidsLimit: 16 });
    // Bounded: at most 40 sleeps; busybox sh reports the fork it could not make.
    const spec = makeSpec('( i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); done; echo "forked all" ); echo stopped; exec sleep 30');
    const container = await limited.launch(spec);
    try {
      expect((await docker.getContainer(containerId(container)).inspect()).HostConfig.PidsLimit).toBe(16);
      await until(() => read(spec, 'stdout').includes('stopped'), 'the fork loop to run into the limit');
      expect(read(spec, 'stdout')).not.toContain('forked all');
      // stderr is a stream of its own in the log: it may land in the sandbox a moment after stdout.
      await until(() => /fork/i.test(read(spec, 'stderr')), 'the fork failure on stderr');
    } finally {
      await container.kill(0);
      await limited.close();
    }
  });

  it('fails the launch with a clear reason when the image cannot be pulled', async () => {
    const missing = makeSpec('true', { docker: { image: 'agora-test/no-such-image:1' } });
    const exit = await (await executor.launch(missing)).wait();
    expect(exit).toMatchObject({ launchFailed: true, reason: 'REASON_CONTAINER_PULL_FAILED' });
    expect(exit.message).toContain("failed to pull image 'agora-test/no-such-image:1'");
  });

  it('honours force_pull even when the image is present', async () => {
    const exit = await (await executor.launch(makeSpec('true', { docker: { forcePull: true } }))).wait();
    expect(exit).toMatchObject({ launchFailed: true, reason: 'REASON_CONTAINER_PULL_FAILED' });
    expect(exit.message).toContain(testServices().busyboxImage);
  });

  it('re-finds containers by label after the agent was SIGKILLed: a running one and an ended one', async () => {
    const lasting = makeSpec('echo started; sleep 1.5; echo finished; exit 5');
    const ending = makeSpec('echo quick; exit 4');
    const checkpoints = await launchFromDoomedAgent([lasting, ending]);
    const endingId = containerId(checkpoints[1] ?? {});
    await eventually(async () => !(await docker.getContainer(endingId).inspect()).State.Running, { what: 'the quick task to end', intervalMs: 25 });
    const fresh = createExecutor('docker', { dockerSocket: testServices().dockerSocket });
    // No container id: found by its agora.task-id and agora.sandbox labels.
    const live = await fresh.recover(lasting, {});
    expect('wait' in live).toBe(true);
    expect(await (live as Container).wait()).toMatchObject({ exitCode: 5 });
    expect(read(lasting, 'stdout')).toBe('started\nfinished\n');
    const ended = await fresh.recover(ending, checkpoints[1] ?? {});
    expect(ended).toEqual({ exitCode: 4, message: 'Command exited with status 4' });
    expect(read(ending, 'stdout')).toBe('quick\n');
    expect(await gone(containerId(checkpoints[0] ?? {}))).toBe(true);
    expect(await gone(containerId(checkpoints[1] ?? {}))).toBe(true);
  });
});

describe("docker executor: the task's user and privileges", () => {
  it('runs the container as the user, numerically: its files in the sandbox are the user\'s on the host', async () => {
    const spec = makeSpec('id -u; id -g; echo data > mine');
    const container = await executor.launch(spec);
    const info = await docker.getContainer(containerId(container)).inspect();
    expect(info.Config.User).toBe(`${NOBODY.uid}:${NOBODY.gid}`);
    expect(await container.wait()).toMatchObject({ exitCode: 0 });
    expect(read(spec, 'stdout')).toBe(`${NOBODY.uid}\n${NOBODY.gid}\n`);
    expect(fs.statSync(path.join(spec.sandbox, 'mine'))).toMatchObject({ uid: NOBODY.uid, gid: NOBODY.gid });
    expect(fs.statSync(path.join(spec.sandbox, 'stdout')).uid).toBe(NOBODY.uid);
  });

  it('adds the supplementary groups of the user', async () => {
    const member: UserIdentity = { name: 'member', uid: 4242, gid: 4242, home: '/', groups: [4242, 4300, 4301], known: true };
    const spec = makeSpec('id -G', { user: member });
    const container = await executor.launch(spec);
    expect((await docker.getContainer(containerId(container)).inspect()).HostConfig.GroupAdd).toEqual(['4300', '4301']);
    expect(await container.wait()).toMatchObject({ exitCode: 0 });
    expect(read(spec, 'stdout').trim().split(' ').sort()).toEqual(['4242', '4300', '4301']);
  });

  const refusals: { what: string; opts: SpecOptions; message: string }[] = [
    { what: 'a privileged container', opts: { docker: { privileged: true } }, message: 'container.docker.privileged: a privileged container needs an agent started with --allow-privileged' },
    { what: 'an added capability', opts: { docker: { parameters: [{ key: 'label', value: 'a=b' }, { key: 'cap-add', value: 'SYS_ADMIN' }] } }, message: 'container.docker.parameters[1]: cap-add (SYS_ADMIN) needs an agent started with --allow-privileged' },
    { what: 'an absolute host path', opts: { volumes: [{ containerPath: '/data', hostPath: 'data', mode: 'RW' }, { containerPath: '/host', hostPath: '/', mode: 'RO' }] }, message: "container.volumes[1].hostPath: '/' is a host path outside the task's sandbox" },
    { what: 'a relative host path out of the sandbox', opts: { volumes: [{ containerPath: '/up', hostPath: '../..', mode: 'RO' }] }, message: "container.volumes[0].hostPath: '../..' is a host path outside the task's sandbox" },
  ];

  for (const { what, opts, message } of refusals) {
    it(`refuses ${what} without --allow-privileged, creating nothing`, async () => {
      const spec = makeSpec('true', opts);
      const exit = await (await executor.launch(spec)).wait();
      expect(exit).toMatchObject({ launchFailed: true, reason: 'REASON_CONTAINER_LAUNCH_FAILED' });
      expect(exit.message).toContain(message);
      expect(exit.message).toContain('--allow-privileged');
      expect(await docker.listContainers({ all: true, filters: { label: [`agora.task-id=${spec.taskId}`] } })).toEqual([]);
    });
  }

  it('refuses a user parameter whatever the flags: the task\'s user decides', async () => {
    const privileged = createExecutor('docker', { dockerSocket: testServices().dockerSocket, allowPrivileged: true });
    const exit = await (await privileged.launch(makeSpec('true', { docker: { parameters: [{ key: 'u', value: '0' }] } }))).wait();
    expect(exit).toMatchObject({ launchFailed: true });
    expect(exit.message).toBe("container.docker.parameters[0]: 'u' is not allowed: the container runs as the task's user (command.user, else the framework's user)");
    await privileged.close();
  });

  it('runs them all with --allow-privileged: privileged, cap-add and a host path', async () => {
    const privileged = createExecutor('docker', { dockerSocket: testServices().dockerSocket, allowPrivileged: true });
    const shared = await tempDir('docker-host-path');
    fs.writeFileSync(path.join(shared, 'greeting'), 'from the host\n');
    const spec = makeSpec('cat /host/greeting', {
      docker: { privileged: true, parameters: [{ key: 'cap-add', value: 'NET_ADMIN' }] },
      volumes: [{ containerPath: '/host', hostPath: shared, mode: 'RO' }],
    });
    const container = await privileged.launch(spec);
    const info = await docker.getContainer(containerId(container)).inspect();
    expect(info.HostConfig).toMatchObject({ Privileged: true, CapAdd: ['NET_ADMIN'] });
    expect(await container.wait()).toMatchObject({ exitCode: 0 });
    expect(read(spec, 'stdout')).toBe('from the host\n');
    await privileged.close();
    removeDir(shared);
  });

  it('follows no symlink the container planted at stdout when the logs are copied again', async () => {
    const victim = path.join(root, `victim-${process.pid}`);
    fs.writeFileSync(victim, 'precious\n', { mode: 0o600 });
    const spec = makeSpec(`rm -f stdout; ln -s ${victim} stdout; echo planted; sleep 30`);
    const container = await executor.launch(spec);
    await until(() => fs.lstatSync(path.join(spec.sandbox, 'stdout'), { throwIfNoEntry: false })?.isSymbolicLink() === true, 'the symlink');
    // A restarted agent copies the whole log again: into what the task left there, were it not checked.
    const recovered = (await createExecutor('docker', { dockerSocket: testServices().dockerSocket }).recover(spec, container.checkpoint)) as Container;
    await recovered.kill(0);
    await container.wait();
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
  });
});

describe('docker executor close()', () => {
  it('stops watching but leaves the container running for a later recovery', async () => {
    const own = createExecutor('docker', { dockerSocket: testServices().dockerSocket });
    const spec = makeSpec('echo up; sleep 30');
    const container = await own.launch(spec);
    await own.close();
    expect((await docker.getContainer(containerId(container)).inspect()).State.Running).toBe(true);
    const recovered = (await executor.recover(spec, container.checkpoint)) as Container;
    await recovered.kill(0);
    expect(await recovered.wait()).toMatchObject({ signal: 'SIGKILL', killed: true });
    expect(read(spec, 'stdout')).toBe('up\n');
  });
});

describe('docker create options', () => {
  it('publishes mapped ports on the task ports for bridge and user networks', () => {
    const spec = makeSpec('true', {
      docker: {
        network: 'NETWORK_BRIDGE',
        portMappings: [
          { hostPort: 0, containerPort: 80, protocol: '', name: 'admin' },
          { hostPort: 0, containerPort: 53, protocol: 'udp', name: '' },
          { hostPort: 31999, containerPort: 443, protocol: 'tcp', name: '' },
        ],
      },
    });
    const options = containerCreateOptions({ ...spec, ports: [{ number: 31000, name: 'web' }, { number: 31001 }, { number: 31002, name: 'admin' }] }, 'img');
    expect(options.HostConfig?.NetworkMode).toBe('bridge');
    expect(options.HostConfig?.PortBindings).toEqual({
      '80/tcp': [{ HostPort: '31002' }],
      '53/udp': [{ HostPort: '31001' }],
      '443/tcp': [{ HostPort: '31999' }],
    });
    expect(Object.keys(options.ExposedPorts ?? {})).toEqual(['80/tcp', '53/udp', '443/tcp']);
    const user = containerCreateOptions(makeSpec('true', { docker: { network: 'NETWORK_USER', networkName: 'backend' } }), 'img');
    expect(user.HostConfig?.NetworkMode).toBe('backend');
  });

  it('binds the sandbox and the volumes (host paths relative to the sandbox), and takes the exec form as argv', () => {
    const spec = makeSpec('');
    const task = {
      ...spec.task,
      command: { value: '', arguments: ['--port', '80'], environment: null, user: '', uris: [], shell: false },
      container: {
        type: 'CONTAINER_DOCKER' as const, hostname: '', docker: dockerInfo({ parameters: [{ key: 'label', value: 'team=a=b' }, { key: 'env', value: 'X=1' }] }),
        volumes: [{ containerPath: '/data', hostPath: 'data', mode: 'RO' as const }, { containerPath: '/etc/x', hostPath: '/srv/x', mode: 'RW' as const }],
      },
    };
    const options = containerCreateOptions({ ...spec, task }, 'img');
    expect(options.Cmd).toEqual(['--port', '80']);
    expect(options.HostConfig?.Binds).toEqual([`${spec.sandbox}:/mnt/agora/sandbox:rw`, `${spec.sandbox}/data:/data:ro`, '/srv/x:/etc/x:rw']);
    expect(options.Labels).toMatchObject({ team: 'a=b', 'agora.task-id': spec.taskId });
    expect(options.Env).toContain('X=1');
    expect(options.Env).toContain('AGORA_SANDBOX=/mnt/agora/sandbox');
    expect(options.HostConfig?.Memory).toBeUndefined();
  });

  it("sets the agent's pids limit as PidsLimit, and leaves it out (Docker's no limit) for 0", () => {
    const spec = makeSpec('true');
    expect(containerCreateOptions(spec, 'img', { pidsLimit: 1024 }).HostConfig?.PidsLimit).toBe(1024);
    expect(containerCreateOptions(spec, 'img', { pidsLimit: 0 }).HostConfig).not.toHaveProperty('PidsLimit');
    expect(containerCreateOptions(spec, 'img').HostConfig).not.toHaveProperty('PidsLimit');
  });
});

/** Launches the tasks from a separate node process (the "agent"), then SIGKILLs it. */
async function launchFromDoomedAgent(specs: ContainerSpec[]): Promise<ContainerCheckpoint[]> {
  const script = path.join(root, `agent-${++counter}.mts`);
  fs.writeFileSync(
    script,
    `import { createExecutor } from ${JSON.stringify(path.join(REPO, 'agent/executors/index.ts'))};\n` +
      `const specs = JSON.parse(process.argv[2]);\n` +
      `const executor = createExecutor('docker', { dockerSocket: process.argv[3] });\n` +
      `const containers = [];\n` +
      `for (const spec of specs) containers.push(await executor.launch(spec));\n` +
      `process.stdout.write(JSON.stringify(containers.map((c) => c.checkpoint)) + '\\n');\n` +
      `setInterval(() => {}, 1000);\n`,
  );
  const args = ['--import', 'tsx', script, JSON.stringify(specs), testServices().dockerSocket];
  const agent = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      agent.stdout.on('data', (c: Buffer) => {
        buf += c.toString();
        if (buf.includes('\n')) resolve(buf.split('\n')[0] ?? '');
      });
      agent.once('exit', (code) => reject(new Error(`the agent process exited (${code}) before launching`)));
    });
    return JSON.parse(line) as ContainerCheckpoint[];
  } finally {
    agent.kill('SIGKILL');
    await new Promise((resolve) => (agent.exitCode !== null || agent.signalCode !== null ? resolve(undefined) : agent.once('exit', resolve)));
  }
}
