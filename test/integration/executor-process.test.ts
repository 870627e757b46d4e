// The process executor on real processes and real cgroups: tasks run as their user (nobody unless
// a test says otherwise) under a root wrapper, exit statuses recorded in the runtime dir, output
// files (and symlinks planted in their place), kills with a grace period, memory and CPU limits,
// and recovery by a new executor instance — including from a task whose agent process was SIGKILLed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Container, ContainerCheckpoint, ContainerSpec, Executor, ExitInfo } from '../../agent/executor.js';
import { createExecutor, detectCgroups, UNKNOWN_EXIT_MESSAGE } from '../../agent/executors/index.js';
import { ProcessContainer } from '../../agent/executors/process-container.js';
import { SHELL } from '../../agent/executors/wrapper.js';
import { silentLogger } from '../../core/logger.js';
import type { UserIdentity } from '../../agent/user-db.js';
import type { TaskInfo__Output } from '../../proto/index.js';
import { removeDir, tempDir } from '../support/tmp.js';
import { hostUser, NOBODY } from '../support/users.js';
import { eventually, pace } from '../support/waits.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let root: string;
let executor: Executor;
let counter = 0;
/** Every container a test launched: a failed test still leaves no process or cgroup behind. */
const launched: Container[] = [];

beforeAll(async () => {
  root = await tempDir('executor-process');
  const real = createExecutor('process');
  executor = {
    kind: real.kind,
    launch: async (spec) => {
      const container = await real.launch(spec);
      launched.push(container);
      return container;
    },
    recover: (spec, checkpoint) => real.recover(spec, checkpoint),
    close: () => real.close(),
  };
});

afterAll(async () => {
  await Promise.all(launched.map((c) => c.kill(0)));
  await executor.close();
  removeDir(root);
});

interface SpecOptions {
  memMb?: number;
  cpus?: number;
  env?: Record<string, string>;
  exec?: { value: string; arguments: string[] };
  user?: UserIdentity;
}

function task(taskId: string, command: string, exec?: SpecOptions['exec']): TaskInfo__Output {
  return {
    name: taskId, taskId, agentId: 'agent-1', resources: [],
    command: { shell: !exec, value: exec?.value ?? command, arguments: exec?.arguments ?? [], environment: null, user: '', uris: [] },
    container: null, healthCheck: null, readinessCheck: null, killPolicy: null, labels: {}, discovery: null,
    data: Buffer.alloc(0), fake: null, executorId: '', secrets: null,
  };
}

/** As the agent lays it out: a sandbox 0700 of the task's user, a runtime dir of root's. */
function makeSpec(command: string, opts: SpecOptions = {}): ContainerSpec {
  const taskId = `t${++counter}-${process.pid}`;
  const sandbox = path.join(root, taskId);
  const runtimeDir = path.join(root, `${taskId}.meta`);
  const user = opts.user ?? NOBODY;
  fs.mkdirSync(sandbox, { mode: 0o700 });
  fs.chownSync(sandbox, user.uid, user.gid);
  fs.mkdirSync(runtimeDir, { mode: 0o700 });
  return {
    frameworkId: 'fw-1', taskId, task: task(taskId, command, opts.exec), sandbox, runtimeDir, user,
    env: { AGORA_TASK_ID: taskId, AGORA_SANDBOX: sandbox, ...opts.env },
    cpus: opts.cpus ?? 0, memMb: opts.memMb ?? 0, ports: [],
  };
}

// The wrapper creates stdout and stderr as it starts, a moment after launch() resolves.
const read = (spec: ContainerSpec, file: string): string => {
  const p = path.join(spec.sandbox, file);
  return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : '';
};
const statusFile = (spec: ContainerSpec): string => path.join(spec.runtimeDir, 'exit_status');
async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  await eventually(check, { what, timeoutMs });
}

async function run(command: string, opts: SpecOptions = {}): Promise<{ spec: ContainerSpec; exit: ExitInfo }> {
  const spec = makeSpec(command, opts);
  const container = await executor.launch(spec);
  return { spec, exit: await container.wait() };
}

async function launchReady(command: string, opts: SpecOptions = {}): Promise<{ spec: ContainerSpec; container: Container }> {
  const spec = makeSpec(command, opts);
  const container = await executor.launch(spec);
  await until(() => read(spec, 'stdout').includes('ready'), 'the task to print ready');
  return { spec, container };
}

const cgroupPath = (container: Container, controller: string): string | undefined =>
  (container.checkpoint['cgroup'] as { paths: Record<string, string> } | undefined)?.paths[controller];

describe('process executor', () => {
  it('runs a command in its sandbox with its env, output in files, exit status recorded', async () => {
    const { spec, exit } = await run('echo "out $GREETING $(pwd)"; echo err >&2', { env: { GREETING: 'hello' } });
    expect(exit).toEqual({ exitCode: 0, message: 'Command exited with status 0' });
    expect(read(spec, 'stdout')).toBe(`out hello ${spec.sandbox}\n`);
    expect(read(spec, 'stderr')).toBe('err\n');
    expect(fs.readFileSync(statusFile(spec), 'utf8')).toBe('0\n');
    expect(fs.statSync(statusFile(spec)).mode & 0o777).toBe(0o600);
  });

  it("reports a failing command's exit code", async () => {
    const { spec, exit } = await run('echo failing; exit 3');
    expect(exit.exitCode).toBe(3);
    expect(exit.killed).toBeUndefined();
    expect(fs.readFileSync(statusFile(spec), 'utf8')).toBe('3\n');
  });

  it('runs the exec form without a shell', async () => {
    const { spec, exit } = await run('', { exec: { value: '/bin/echo', arguments: ['echo', 'a  b', '$HOME'] } });
    expect(exit.exitCode).toBe(0);
    expect(read(spec, 'stdout')).toBe('a  b $HOME\n');
  });

  it('fails the task, running nothing, when its output files cannot be opened', async () => {
    const spec = makeSpec('echo never > ran');
    fs.mkdirSync(path.join(spec.sandbox, 'stdout'));
    const exit = await (await executor.launch(spec)).wait();
    expect(exit.exitCode).not.toBe(0);
    expect(fs.existsSync(path.join(spec.sandbox, 'ran'))).toBe(false);
  });

  it('reports a wrapper that could not record the exit status', async () => {
    const spec = makeSpec('echo ran');
    fs.rmdirSync(spec.runtimeDir);
    fs.writeFileSync(spec.runtimeDir, 'in the way');
    const exit = await (await executor.launch(spec)).wait();
    expect(exit).toMatchObject({ exitCode: 0, reason: 'REASON_CONTAINER_LAUNCH_FAILED' });
    expect(exit.message).toContain('before recording an exit status');
  });

  it('gives a task that handles SIGTERM its grace period', async () => {
    const { spec, container } = await launchReady("trap 'echo stopping; exit 0' TERM; echo ready; while :; do sleep 0.05; done");
    const t0 = Date.now();
    await container.kill(5_000);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(await container.wait()).toMatchObject({ exitCode: 0, killed: true });
    expect(read(spec, 'stdout')).toContain('stopping');
  });

  it('SIGKILLs a task that ignores SIGTERM once the grace period is over', async () => {
    const { spec, container } = await launchReady("trap '' TERM; echo ready; while :; do sleep 0.05; done");
    const t0 = Date.now();
    await container.kill(400);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(390);
    expect(await container.wait()).toMatchObject({ signal: 'SIGKILL', killed: true });
    expect(fs.readFileSync(statusFile(spec), 'utf8')).toBe('137\n');
    expect(fs.statSync(statusFile(spec)).mode & 0o777).toBe(0o600);
  });

  it('sees the end of a wrapper that exited before it was watched (a busy agent is slow to get there)', async () => {
    const spec = makeSpec('true');
    const child = spawn(SHELL, ['-c', `printf '3\\n' > ${statusFile(spec)}; exit 3`], { detached: true, stdio: 'ignore' });
    await new Promise((resolve) => child.once('exit', resolve));
    const checkpoint = { executor: 'process' as const, pid: child.pid ?? 0, pgid: child.pid ?? 0, startTime: 0 };
    const container = new ProcessContainer({ taskId: spec.taskId, runtimeDir: spec.runtimeDir, memMb: 0, checkpoint, cgroup: undefined, log: silentLogger() }).watchChild(child);
    expect(await container.wait()).toEqual({ exitCode: 3, message: 'Command exited with status 3' });
  });

  it('kills the whole process group, backgrounded children included', async () => {
    const { spec, container } = await launchReady('sleep 30 & echo $! > child.pid; echo ready; wait');
    const child = Number(read(spec, 'child.pid'));
    await container.kill(2_000);
    expect((await container.wait()).signal).toBe('SIGTERM');
    // Gone, or a zombie waiting for an init that reaps slowly.
    await until(() => !fs.existsSync(`/proc/${child}`) || fs.readFileSync(`/proc/${child}/stat`, 'utf8').includes(') Z '), 'the background child to be gone');
  });
});

describe("process executor: the task's user", () => {
  it('runs the command as the user, with its groups and no capabilities, under a root wrapper', async () => {
    const { spec, container } = await launchReady('id -u; id -g; id -G; grep CapEff /proc/self/status; echo ready; exec sleep 30');
    await until(() => read(spec, 'stdout').includes('ready'), 'the ids');
    const [uid, gid, groups, caps] = read(spec, 'stdout').split('\n');
    expect([uid, gid, groups]).toEqual([String(NOBODY.uid), String(NOBODY.gid), NOBODY.groups.join(' ')]);
    expect(caps).toMatch(/^CapEff:\s+0+$/);
    // The wrapper keeps root to record the status; the task (its child) is nobody's.
    const wrapper = Number(container.checkpoint['pid']);
    expect(procUids(wrapper)).toEqual([0, 0, 0, 0]);
    const child = Number(fs.readFileSync(`/proc/${wrapper}/task/${wrapper}/children`, 'utf8').trim());
    expect(procUids(child)).toEqual([NOBODY.uid, NOBODY.uid, NOBODY.uid, NOBODY.uid]);
    await container.kill(0);
  });

  it("cannot read root's files, and what it writes in its sandbox is the user's", async () => {
    const { spec, exit } = await run('cat /etc/shadow; echo hello > mine; mkdir dir; exit 0');
    expect(exit.exitCode).toBe(0);
    expect(read(spec, 'stderr')).toContain('Permission denied');
    expect(read(spec, 'stdout')).toBe('');
    for (const name of ['mine', 'dir', 'stdout', 'stderr']) expect(fs.statSync(path.join(spec.sandbox, name)).uid).toBe(NOBODY.uid);
  });

  it('cannot kill or stop its root wrapper, which records the exit status', async () => {
    const { spec, exit } = await run('kill -KILL $PPID; echo "kill: $?"; exit 6');
    expect(exit).toMatchObject({ exitCode: 6 });
    expect(read(spec, 'stdout')).toBe('kill: 1\n');
    expect(fs.readFileSync(statusFile(spec), 'utf8')).toBe('6\n');
  });

  it('runs a numeric uid with no user entry with no supplementary groups', async () => {
    const stranger: UserIdentity = { name: '4242', uid: 4242, gid: 4343, home: '/', groups: [], known: false };
    const { spec, exit } = await run('id -u; id -g; id -G; touch mine', { user: stranger });
    expect(exit.exitCode).toBe(0);
    expect(read(spec, 'stdout')).toBe('4242\n4343\n4343\n');
    expect(fs.statSync(path.join(spec.sandbox, 'mine'))).toMatchObject({ uid: 4242, gid: 4343 });
  });

  it('runs a root task (allowed by the agent) as root, without setpriv', async () => {
    const { spec, exit } = await run('id -u; head -c 5 /etc/shadow', { user: hostUser('root') });
    expect(exit.exitCode).toBe(0);
    expect(read(spec, 'stdout')).toBe(`0\n${fs.readFileSync('/etc/shadow', 'utf8').slice(0, 5)}`);
  });

  it('follows no symlink planted at stdout and leaves its target alone', async () => {
    const victim = path.join(root, `victim-${process.pid}`);
    fs.writeFileSync(victim, 'precious\n', { mode: 0o600 });
    const spec = makeSpec('echo overwritten');
    fs.symlinkSync(victim, path.join(spec.sandbox, 'stdout'));
    const exit = await (await executor.launch(spec)).wait();
    // The task's own shell, as its user, may not write the victim: it ends before the command.
    expect(exit.exitCode).not.toBe(0);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  it("writes no output file that is not the user's (a hard link to another's file)", async () => {
    const spec = makeSpec('echo overwritten');
    const other = path.join(spec.sandbox, 'rootfile');
    fs.writeFileSync(other, 'root owns this\n');
    fs.linkSync(other, path.join(spec.sandbox, 'stderr'));
    const exit = await (await executor.launch(spec)).wait();
    expect(exit.exitCode).not.toBe(0);
    expect(fs.readFileSync(other, 'utf8')).toBe('root owns this\n');
  });
});

/** Real, effective, saved and filesystem uids of a process. */
function procUids(pid: number): number[] {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:')) ?? '';
  return line.split(/\s+/).slice(1, 5).map(Number);
}

describe('process executor limits (cgroups)', () => {
  const cgroups = detectCgroups();

  it('finds a writable cgroup hierarchy on this machine', () => {
    expect(cgroups.disabledReason).toBeUndefined();
    expect(cgroups.version).toBe(fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? 2 : 1);
  });

  it('starts the task inside its cgroup and removes the cgroup after the exit', async () => {
    const spec = makeSpec('cat /proc/self/cgroup', { memMb: 64, cpus: 1 });
    const container = await executor.launch(spec);
    const memoryDir = cgroupPath(container, cgroups.version === 2 ? 'unified' : 'memory');
    expect(memoryDir).toBeDefined();
    expect((await container.wait()).exitCode).toBe(0);
    const name = path.basename(memoryDir ?? '');
    expect(read(spec, 'stdout')).toMatch(new RegExp(`memory:/agora/${name}\\n|0::/agora/${name}\\n`));
    expect(fs.existsSync(memoryDir ?? '')).toBe(false);
  });

  it('reports a memory-limit kill with its reason', async () => {
    const { spec, exit } = await run("x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo ${#x}", { memMb: 32 });
    expect(exit).toMatchObject({ signal: 'SIGKILL', reason: 'REASON_CONTAINER_LIMITATION_MEMORY', message: 'memory limit of 32 MB exceeded' });
    expect(fs.existsSync(path.join(spec.runtimeDir, 'wrapper.log'))).toBe(false); // it joined its cgroups
  });

  it('throttles a busy loop to its CPU share', async () => {
    const { container } = await launchReady('echo ready; while :; do :; done', { cpus: 0.1 });
    const cpuDir = cgroupPath(container, cgroups.version === 2 ? 'unified' : 'cpu') ?? '';
    const quota = cgroups.version === 2 ? 'cpu.max' : 'cpu.cfs_quota_us';
    expect(fs.readFileSync(path.join(cpuDir, quota), 'utf8').trim()).toMatch(/^10000( 100000)?$/);
    await pace(1_000, 'the window the CPU throttling is measured over');
    const stat = fs.readFileSync(path.join(cpuDir, 'cpu.stat'), 'utf8');
    await container.kill(0);
    const throttled = Number(/nr_throttled (\d+)/.exec(stat)?.[1]);
    expect(throttled).toBeGreaterThan(3);
  });

  it('runs without limits, and says why, when cgroups are off', async () => {
    const unlimited = createExecutor('process', { cgroups: { mode: 'off' } });
    const spec = makeSpec('cat /proc/self/cgroup', { memMb: 32 });
    const container = await unlimited.launch(spec);
    expect(container.checkpoint['cgroup']).toBeUndefined();
    expect((await container.wait()).exitCode).toBe(0);
    expect(read(spec, 'stdout')).not.toContain('/agora/');
  });
});

describe('process executor recovery', () => {
  it('re-adopts a running task in a new executor instance and sees its exit code', async () => {
    const { spec, container } = await launchReady('echo ready; sleep 0.7; exit 7');
    const recovered = await createExecutor('process').recover(spec, container.checkpoint);
    expect('wait' in recovered).toBe(true);
    expect(await (recovered as Container).wait()).toMatchObject({ exitCode: 7 });
  });

  it('kills a re-adopted task with SIGTERM', async () => {
    const { spec, container } = await launchReady('echo ready; exec sleep 30');
    const recovered = (await createExecutor('process').recover(spec, container.checkpoint)) as Container;
    await recovered.kill(3_000);
    expect(await recovered.wait()).toMatchObject({ signal: 'SIGTERM', killed: true });
  });

  it('says the exit status is unknown when the task left no record', async () => {
    const spec = makeSpec('true');
    const exit = await createExecutor('process').recover(spec, { executor: 'process', pid: 2 ** 22 + 1, pgid: 2 ** 22 + 1, startTime: 1 });
    expect(exit).toEqual({ message: UNKNOWN_EXIT_MESSAGE });
  });

  it('lets tasks outlive a SIGKILLed agent and reports their real exit codes afterwards', async () => {
    const ending = makeSpec('echo ready; sleep 0.3; echo done; exit 5');
    const lasting = makeSpec('echo ready; sleep 1.5; echo done; exit 6', { memMb: 64 });
    const checkpoints = await launchFromDoomedAgent([ending, lasting]);
    // The agent is gone; the first task ends while nobody watches.
    await until(() => fs.existsSync(statusFile(ending)), 'the first task to record its status');
    const fresh = createExecutor('process');
    const [exitWhileAway, live] = await Promise.all([fresh.recover(ending, checkpoints[0] ?? {}), fresh.recover(lasting, checkpoints[1] ?? {})]);
    expect(exitWhileAway).toEqual({ exitCode: 5, message: 'Command exited with status 5' });
    expect(read(ending, 'stdout')).toBe('ready\ndone\n');
    expect('wait' in live).toBe(true);
    expect(await (live as Container).wait()).toMatchObject({ exitCode: 6 });
    expect(read(lasting, 'stdout')).toBe('ready\ndone\n');
    const memoryDir = (checkpoints[1]?.['cgroup'] as { paths: Record<string, string> } | undefined)?.paths;
    for (const dir of Object.values(memoryDir ?? {})) expect(fs.existsSync(dir)).toBe(false);
  });
});

/** Launches the tasks from a separate node process (the "agent"), then SIGKILLs it. */
async function launchFromDoomedAgent(specs: ContainerSpec[]): Promise<ContainerCheckpoint[]> {
  const script = path.join(root, `agent-${++counter}.mts`);
  fs.writeFileSync(
    script,
    `import { createExecutor } from ${JSON.stringify(path.join(REPO, 'agent/executors/index.ts'))};\n` +
      `const specs = JSON.parse(process.argv[2]);\n` +
      `const executor = createExecutor('process');\n` +
      `const containers = [];\n` +
      `for (const spec of specs) containers.push(await executor.launch(spec));\n` +
      `process.stdout.write(JSON.stringify(containers.map((c) => c.checkpoint)) + '\\n');\n` +
      `setInterval(() => {}, 1000);\n`,
  );
  const agent = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(specs)], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      agent.stdout.on('data', (c: Buffer) => {
        buf += c.toString();
        if (buf.includes('\n')) resolve(buf.split('\n')[0] ?? '');
      });
      agent.once('exit', (code) => reject(new Error(`the agent process exited (${code}) before launching`)));
    });
    for (const spec of specs) await until(() => read(spec, 'stdout').includes('ready'), 'a task of the doomed agent to start');
    return JSON.parse(line) as ContainerCheckpoint[];
  } finally {
    agent.kill('SIGKILL');
    await new Promise((resolve) => (agent.exitCode !== null || agent.signalCode !== null ? resolve(undefined) : agent.once('exit', resolve)));
  }
}
