// Real agents for tests: in-process (Agent.start on a temp work dir, short timeouts) or as a child
// process (the built CLI: `node dist/cli/main.js agent …`) that a test can SIGKILL and start again on the
// same work dir. Plus the framework-side helpers the agent tests share.
//
//   const h = await MasterHarness.start();
//   const agent = await startTestAgent(h.address);                  // in-process, stopped by stopTestAgents()
//   const child = await AgentProcess.start(h.address, { workDir });  // a real process; child.kill('SIGKILL')
//   const fw = await h.framework({ autoAck: true });
//   await launchTask(fw, taskInfo('t1', 'cpus:0.1;mem:32', { command: { value: 'true' } }));
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from '../../agent/agent.js';
import type { Offer__Output, TaskInfo } from '../../proto/index.js';
import type { TestFramework } from './test-framework.js';
import { tempDir } from './tmp.js';
import { agoraArgv } from './build.js';
import { secureFetch, testPki } from './security.js';
import { TEST_AGENT_FLAGS } from '../../sdk/testing/index.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Agent flags for tests (as the CLI takes them: short timeouts, port 0, silent) and their resources: the testing kit's. */
export { TEST_AGENT_FLAGS, TEST_AGENT_RESOURCES } from '../../sdk/testing/index.js';

const agents = new Set<Agent>();

export async function startTestAgent(master: string, flags: Record<string, string> = {}): Promise<Agent> {
  const workDir = flags['workDir'] ?? (await tempDir('agent'));
  const agent = await Agent.start({ ...TEST_AGENT_FLAGS, master, workDir, ...flags }, { tls: testPki().agentTls });
  agents.add(agent);
  return agent;
}

/** Stop every in-process agent, killing their tasks so no process outlives the test. */
export async function stopTestAgents(): Promise<void> {
  await Promise.allSettled(
    [...agents].map(async (agent) => {
      agents.delete(agent);
      await agent.tasks.killAll({ state: 'TASK_KILLED', reason: 'REASON_AGENT_REMOVED', message: 'test over' });
      await agent.stop();
    }),
  );
}

/** An agent in a child process. */
export class AgentProcess {
  #output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly child: ChildProcess,
    readonly workDir: string,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.#output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.#output += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static async start(master: string, options: { workDir: string; flags?: Record<string, string> }): Promise<AgentProcess> {
    const pki = testPki();
    const flags = { ...TEST_AGENT_FLAGS, master, workDir: options.workDir, tlsCa: pki.files.ca, tlsCert: pki.files.agentCert, tlsKey: pki.files.agentKey, ...options.flags };
    const argv = Object.entries(flags).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, v]);
    const child = spawn(process.execPath, agoraArgv('agent', ...argv), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const agent = new AgentProcess(child, options.workDir);
    await agent.waitForOutput(/agent listening: http https?:\/\/(\S+)/, 20_000);
    return agent;
  }

  get output(): string {
    return this.#output;
  }

  /** host:port of its HTTP endpoint. */
  get httpAddress(): string {
    return /agent listening: http https?:\/\/(\S+),/.exec(this.#output)?.[1] ?? '';
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }

  async waitForOutput(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.#output);
      if (match) return match;
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`agent process exited before ${pattern}:\n${this.#output}`);
      if (Date.now() > deadline) throw new Error(`agent process: no ${pattern} within ${timeoutMs} ms:\n${this.#output}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** Launch `tasks` on the framework's next offer (unused resources are offered again at once). */
export async function launchTask(fw: TestFramework, ...tasks: TaskInfo[]): Promise<Offer__Output> {
  const offer = await fw.nextOffer({ timeoutMs: 10_000 });
  await fw.launch(offer, tasks, { refuseSeconds: 0 });
  return offer;
}

/** GET as the test admin, over HTTPS trusting the test CA (an http:// URL is made https://). */
export async function getJson<T = Record<string, unknown>>(url: string): Promise<{ status: number; body: T }> {
  const res = await secureFetch(url.replace(/^http:/, 'https:'));
  return { status: res.status, body: (await res.json()) as T };
}

/** Is this pid a live process (not a zombie)? */
export async function processAlive(pid: number): Promise<boolean> {
  try {
    const { readFile } = await import('node:fs/promises');
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
