// `agora up` as a user runs it: one process, ports picked by the system, addresses printed; a task
// runs through it; SIGTERM shuts it down cleanly.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getJson, REPO_ROOT } from '../support/agent-harness.js';
import { TestFramework, taskInfo } from '../support/test-framework.js';
import { tempDir } from '../support/tmp.js';
import { agoraArgv } from '../support/build.js';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function startUp(dataDir: string): { output: () => string; exited: Promise<number | null>; kill: (signal: NodeJS.Signals) => void } {
  const args = agoraArgv('up', '--http-port', '0', '--grpc-port', '0', '--agent-http-port', '0', '--data-dir', dataDir);
  const child = spawn(process.execPath, [...args, '--resources', 'cpus:2;mem:2048;disk:1024;ports:[31000-31010]', '--log-level', 'warn'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { output: () => out, exited, kill: (signal) => child.kill(signal) };
}

async function waitForLines(output: () => string, timeoutMs: number): Promise<Record<string, string>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = output();
    const http = /master http: http:\/\/(\S+)/.exec(text)?.[1];
    const grpc = /master grpc: (\S+)/.exec(text)?.[1];
    const agent = /agent http: http:\/\/(\S+)/.exec(text)?.[1];
    if (http && grpc && agent) return { http, grpc, agent };
    if (Date.now() > deadline) throw new Error(`agora up printed no addresses within ${timeoutMs} ms:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('agora up', () => {
  it('runs a master and an agent in one process, runs a task, and exits 0 on SIGTERM', async () => {
    const dataDir = await tempDir('up');
    const up = startUp(dataDir);
    const addresses = await waitForLines(up.output, 30_000);
    for (const port of Object.values(addresses).map((a) => Number(a.split(':')[1]))) expect(port).toBeGreaterThan(0);

    expect((await getJson(`http://${addresses['http']}/health`)).status).toBe(200);
    const agentHealth = await getJson<{ lifecycle: string }>(`http://${addresses['agent']}/health`);
    expect(agentHealth.status).toBe(200);

    const fw = await TestFramework.subscribe(addresses['grpc'] as string, { autoAck: true });
    cleanups.push(() => fw.close());
    const offer = await fw.nextOffer({ timeoutMs: 10_000 });
    expect(offer.agentHttpAddress).toBe(addresses['agent']);
    await fw.launch(offer, [taskInfo('hello', 'cpus:0.1;mem:32', { command: { value: 'echo hello from agora' } })]);
    const finished = await fw.waitForUpdate('hello', 'TASK_FINISHED', { timeoutMs: 15_000 });
    expect(finished.exitCode).toBe(0);
    const logs = await fetch(`http://${addresses['agent']}/api/v1/tasks/hello/logs`);
    expect(await logs.text()).toBe('hello from agora\n');
    expect(existsSync(path.join(dataDir, 'store'))).toBe(true);
    expect(existsSync(path.join(dataDir, 'agent', 'meta', 'agent.json'))).toBe(true);

    await fw.close();
    up.kill('SIGTERM');
    expect(await up.exited).toBe(0);
  });
});
