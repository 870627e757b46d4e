// The process executor when a launch fails after its cgroup was made, on real cgroups: the
// cgroup goes (every hierarchy), the failure names its cause; and a cgroup whose limits cannot
// be set leaves no directory behind. The pids limit it is given is the task's pids.max.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Container, ContainerSpec } from '../../agent/executor.js';
import { createExecutor, detectCgroups, type Cgroups, type CgroupRef } from '../../agent/executors/index.js';
import type { TaskInfo__Output } from '../../proto/index.js';
import { removeDir, tempDir } from '../support/tmp.js';
import { NOBODY } from '../support/users.js';

let root: string;
let counter = 0;
const launched: Container[] = [];

beforeAll(async () => {
  root = await tempDir('executor-failures');
});

afterAll(async () => {
  await Promise.all(launched.map((c) => c.kill(0)));
  removeDir(root);
});

/** The machine's real cgroups, remembering every task cgroup the executor makes. */
function recordingCgroups(): { cgroups: Cgroups; made: CgroupRef[] } {
  const real = detectCgroups();
  const made: CgroupRef[] = [];
  const cgroups: Cgroups = {
    version: real.version,
    disabledReason: real.disabledReason,
    attach: (ref) => real.attach(ref),
    create(name, limits) {
      const cgroup = real.create(name, limits);
      if (cgroup) made.push(cgroup.ref);
      return cgroup;
    },
  };
  return { cgroups, made };
}

function makeSpec(command: string, env: Record<string, string> = {}): ContainerSpec {
  const taskId = `f${++counter}-${process.pid}`;
  const sandbox = path.join(root, taskId);
  const runtimeDir = path.join(root, `${taskId}.meta`);
  fs.mkdirSync(sandbox, { mode: 0o700 });
  fs.chownSync(sandbox, NOBODY.uid, NOBODY.gid);
  fs.mkdirSync(runtimeDir, { mode: 0o700 });
  const task = {
    name: taskId, taskId, agentId: 'agent-1', resources: [],
    command: { shell: true, value: command, arguments: [], environment: null, user: '', uris: [] },
    container: null, healthCheck: null, readinessCheck: null, killPolicy: null, labels: {}, discovery: null,
    data: Buffer.alloc(0), fake: null, executorId: '', secrets: null,
  } as TaskInfo__Output;
  return { frameworkId: 'fw-1', taskId, task, sandbox, runtimeDir, user: NOBODY, env: { AGORA_TASK_ID: taskId, ...env }, cpus: 0.1, memMb: 32, ports: [] };
}

describe('process executor: a launch that fails frees its cgroup', () => {
  it('removes the cgroup it made when the exec is refused (E2BIG), and says why', async () => {
    const { cgroups, made } = recordingCgroups();
    const executor = createExecutor('process', { cgroups, pidsLimit: 64 });
    const container = await executor.launch(makeSpec('echo never', { BIG: 'x'.repeat(3 * 1024 * 1024) }));
    const exit = await container.wait();
    expect(exit).toMatchObject({ launchFailed: true, reason: 'REASON_CONTAINER_LAUNCH_FAILED' });
    expect(exit.message).toMatch(/^could not start the task: spawn E2BIG: the environment and command line are too big to exec/);
    expect(exit.message).toContain('environment variable BIG');
    expect(made).toHaveLength(1);
    const dirs = Object.values(made[0]?.paths ?? {});
    expect(dirs.length).toBeGreaterThan(0);
    for (const dir of dirs) expect(fs.existsSync(dir), dir).toBe(false);
  });

  it('removes the cgroup it made when the sandbox is gone (spawn ENOENT)', async () => {
    const { cgroups, made } = recordingCgroups();
    const spec = makeSpec('echo never');
    fs.rmdirSync(spec.sandbox);
    const exit = await (await createExecutor('process', { cgroups }).launch(spec)).wait();
    expect(exit).toMatchObject({ launchFailed: true, reason: 'REASON_CONTAINER_LAUNCH_FAILED' });
    expect(exit.message).toMatch(/^could not start the task: spawn .*ENOENT/);
    expect(made).toHaveLength(1);
    for (const dir of Object.values(made[0]?.paths ?? {})) expect(fs.existsSync(dir), dir).toBe(false);
  });

  it('leaves no directory behind when a limit cannot be set', () => {
    const cgroups = detectCgroups();
    const name = `refused-${process.pid}`;
    // The kernel takes at most PID_MAX_LIMIT (4,194,304) in pids.max.
    expect(() => cgroups.create(name, { cpus: 0.5, memMb: 32, pidsMax: 5_000_000 })).toThrow();
    const parents = cgroups.version === 2 ? ['/sys/fs/cgroup/agora'] : ['memory', 'cpu', 'pids'].map((c) => path.join('/sys/fs/cgroup', c, 'agora'));
    for (const parent of parents) expect(fs.existsSync(path.join(parent, name)), parent).toBe(false);
  });

  it("writes the executor's pids limit into the task's cgroup", async () => {
    const { cgroups, made } = recordingCgroups();
    const container = await createExecutor('process', { cgroups, pidsLimit: 64 }).launch(makeSpec('exec sleep 30'));
    launched.push(container);
    const ref = made[0];
    const dir = ref?.version === 2 ? ref.paths['unified'] : ref?.paths['pids'];
    expect(fs.readFileSync(path.join(dir ?? '', 'pids.max'), 'utf8').trim()).toBe('64');
    await container.kill(0);
    expect(fs.existsSync(dir ?? '')).toBe(false);
  });
});
