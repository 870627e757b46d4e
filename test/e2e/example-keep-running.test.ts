// The SDK's example framework, run as a user would: `agora up` in one process, the example in
// another; it keeps N copies up when one of them is killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/agent-harness.js';
import { agoraArgv } from '../support/build.js';
import { eventually } from '../support/master-harness.js';
import { tempDir } from '../support/tmp.js';
import { secureFetch } from '../support/security.js';
import { within } from '../support/waits.js';

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0).reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT'); // the example tears its framework down (killing its copies); up stops
    await within(exited, 8000, undefined);
    child.kill('SIGKILL');
  }
});

function start(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

interface TaskView {
  id: string;
  state: string;
  frameworkId: string;
}

/** HTTPS to the `agora up` in `dataDir` as its admin (the token and CA its first start made). */
function upFetch(dataDir: string): (url: string) => ReturnType<typeof secureFetch> {
  const tls = { ca: readFileSync(path.join(dataDir, 'tls', 'ca.pem')) };
  const token = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
  return (url) => secureFetch(url, { tls, token });
}

async function copies(get: ReturnType<typeof upFetch>, http: string): Promise<TaskView[]> {
  const frameworks = (await (await get(`https://${http}/api/v1/frameworks`)).json()) as { frameworks: Array<{ id: string; name: string }> };
  const id = frameworks.frameworks.find((f) => f.name === 'keep-running')?.id;
  if (!id) return [];
  const tasks = (await (await get(`https://${http}/api/v1/tasks?frameworkId=${id}&limit=1000`)).json()) as { tasks: TaskView[] };
  return tasks.tasks;
}

describe('examples/keep-running.ts', () => {
  it('keeps 3 copies running and replaces one that is killed', async () => {
    const dataDir = await tempDir('example');
    const up = start([...agoraArgv('up', '--http-port', '0', '--grpc-port', '0', '--agent-http-port', '0', '--dns-port', '0', '--data-dir', dataDir), '--resources', 'cpus:2;mem:2048;disk:1024;ports:[31000-31010]', '--log-level', 'warn', '--write-context', 'false']);
    const [http, grpc, agentHttp] = await eventually(() => {
      const out = up.output();
      const found = [/master http: https:\/\/(\S+)/, /master grpc: (\S+)/, /agent http: https:\/\/(\S+)/].map((re) => re.exec(out)?.[1]);
      if (found.some((f) => f === undefined)) throw new Error(`no addresses yet:\n${out}`);
      return found as string[];
    }, { timeoutMs: 30_000, what: 'agora up addresses' });

    const get = upFetch(dataDir);
    // As a user runs it: the CA and the admin token `agora up` made.
    const example = start(['--import', 'tsx', path.join(REPO_ROOT, 'examples/keep-running.ts'), grpc as string, '3', 'sleep 600'], {
      AGORA_CA: path.join(dataDir, 'tls', 'ca.pem'),
      AGORA_TOKEN_FILE: path.join(dataDir, 'admin-token'),
    });
    const first = await eventually(async () => {
      const running = (await copies(get, http as string)).filter((t) => t.state === 'TASK_RUNNING');
      if (running.length !== 3) throw new Error(`${running.length} copies running\n${example.output()}`);
      return running;
    }, { timeoutMs: 40_000, what: '3 copies running' });

    // Kill one copy's process group, as a crash would.
    const state = (await (await get(`https://${agentHttp}/api/v1/state`)).json()) as { tasks: Array<{ taskId: string; pid: number | null }> };
    const victim = state.tasks.find((t) => t.taskId === first[0]?.id);
    expect(victim?.pid).toBeGreaterThan(0);
    process.kill(-(victim?.pid as number), 'SIGKILL');

    const after = await eventually(async () => {
      const all = await copies(get, http as string);
      const running = all.filter((t) => t.state === 'TASK_RUNNING');
      const dead = all.find((t) => t.id === victim?.taskId);
      if (running.length !== 3 || dead?.state === 'TASK_RUNNING') throw new Error(`${running.length} running; ${victim?.taskId} is ${dead?.state}`);
      return { running, dead };
    }, { timeoutMs: 30_000, what: 'the killed copy replaced' });
    expect(after.dead?.state).toBe('TASK_FAILED');
    expect(after.running.map((t) => t.id)).not.toContain(victim?.taskId);
    expect(example.output()).toMatch(new RegExp(`${victim?.taskId} TASK_FAILED`));
  }, 120_000);
});
