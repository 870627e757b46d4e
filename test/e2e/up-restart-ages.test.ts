// A task re-adopted after `agora up` restarts keeps its age: the agent's checkpoint keeps when it
// launched the task and reports it on re-registering, so the master's task list (AGE in `agora get
// tasks`) counts from the launch, not from the restart.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/agent-harness.js';
import { CLI, killProcessesUnder, runCli, stopCliProcesses } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';
import { eventually, pace } from '../support/waits.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await stopCliProcesses();
});

function up(dataDir: string, config: string): { exited: Promise<number | null>; output: () => string; stop: () => Promise<number | null> } {
  // The same resources at every start (an agent's resources must not change across a recovery).
  const args = [...CLI, 'up', '--http-port', '0', '--grpc-port', '0', '--agent-http-port', '0', '--dns-port', '0', '--data-dir', dataDir, '--resources', 'cpus:1;mem:256;disk:64;ports:[]', '--log-level', 'warn'];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AGORA_CONFIG: config } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  cleanups.push(async () => {
    await stop();
  });
  return { exited, output: () => out, stop };
}

interface TaskRow {
  id: string;
  state: string;
  launchedAtMs: number;
}

describe('agora up restarted', () => {
  it('shows a re-adopted task with the age it had, counted from its launch', async () => {
    const dir = await tempDir('up-ages');
    const dataDir = path.join(dir, 'data');
    const config = path.join(dir, 'config.yaml');
    cleanups.push(async () => void (await killProcessesUnder(dataDir)));
    const agora = (...args: string[]): ReturnType<typeof runCli> => runCli(args, { env: { AGORA_CONFIG: config } });
    const tasks = async (): Promise<TaskRow[]> => (JSON.parse((await agora('get', 'tasks', '-o', 'json')).stdout || '{"items":[]}') as { items: TaskRow[] }).items;

    const first = up(dataDir, config);
    await eventually(() => expect(first.output()).toContain('cli context: up'), { timeoutMs: 30_000, intervalMs: 50, what: 'agora up started' });
    const spec = path.join(dir, 'sleeper.yaml');
    writeFileSync(spec, 'kind: Service\nname: sleeper\ninstances: 1\ncommand: exec sleep 3600\nresources: { cpus: 0.1, mem: 16 }\n');
    const applied = await agora('apply', '-f', spec);
    expect(applied.code, applied.stderr).toBe(0);
    const before = await eventually(async () => {
      const running = (await tasks()).find((t) => t.id.startsWith('sleeper.') && t.state === 'TASK_RUNNING');
      expect(running).toBeDefined();
      return running!;
    }, { timeoutMs: 20_000, intervalMs: 200, what: 'the task running' });

    expect(await first.stop()).toBe(0);
    await pace(2_000, 'long enough that an age counted from the restart would be visibly younger');
    const restartedAt = Date.now();
    const second = up(dataDir, config);
    await eventually(() => expect(second.output()).toContain('cli context: up'), { timeoutMs: 30_000, intervalMs: 50, what: 'agora up restarted' });
    const after = await eventually(async () => {
      const same = (await tasks()).find((t) => t.id === before.id && t.state === 'TASK_RUNNING');
      expect(same).toBeDefined();
      return same!;
    }, { timeoutMs: 20_000, intervalMs: 200, what: 'the task re-adopted' });

    expect(after.launchedAtMs).toBeLessThan(restartedAt - 1_500);
    expect(Math.abs(after.launchedAtMs - before.launchedAtMs)).toBeLessThan(1_000);
  });
});
