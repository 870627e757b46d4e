// The tutorial's framework (examples/daemon.ts, walked through in sdk/README.md) run as its author
// would: its own process, against a master and real agents in processes of their own, with
// security on. One copy on each agent with role:web, through a restart of the framework, a restart
// of the master, an agent that joins, a copy that is killed, and a teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentProcess, REPO_ROOT, processAlive } from '../support/agent-harness.js';
import { killMasters, spawnMaster, type MasterProcess } from '../support/master-process.js';
import { freePorts } from '../support/ports.js';
import { secureFetch, testPki } from '../support/security.js';
import { testServices } from '../support/services.js';
import { tempDir } from '../support/tmp.js';
import { eventually, within } from '../support/waits.js';

const processes: Array<{ kill(signal: NodeJS.Signals): void }> = [];
afterAll(async () => {
  for (const p of processes.splice(0)) p.kill('SIGKILL');
  await killMasters();
});

interface Daemon {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

/** examples/daemon.ts as its author runs it, with the test cluster's CA and admin token. */
function daemon(master: string, stateDir: string, ...args: string[]): Daemon {
  const pki = testPki();
  const argv = ['--import', 'tsx', path.join(REPO_ROOT, 'examples/daemon.ts'), '--master', master, '--state', stateDir, ...args];
  const env: NodeJS.ProcessEnv = { ...process.env, AGORA_CA: pki.files.ca, AGORA_TOKEN_FILE: pki.files.adminToken, AGORA_LOG_LEVEL: 'debug' };
  delete env['AGORA_TOKEN'];
  const child = spawn(process.execPath, argv, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
  const killable = { kill: (signal: NodeJS.Signals) => child.kill(signal) };
  processes.push(killable);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => out };
}

interface TaskView {
  id: string;
  agentId: string;
  state: string;
}

async function json<T>(url: string): Promise<T> {
  const res = await secureFetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** The id of the framework named `daemon`, once it has registered. */
async function daemonId(master: MasterProcess): Promise<string> {
  const { frameworks } = await json<{ frameworks: Array<{ id: string; name: string }> }>(`https://${master.httpAddress}/api/v1/frameworks`);
  const id = frameworks.find((f) => f.name === 'daemon')?.id;
  if (!id) throw new Error('no framework named daemon yet');
  return id;
}

/** The framework's tasks as the master knows them. */
async function tasksOf(master: MasterProcess, frameworkId: string): Promise<TaskView[]> {
  return (await json<{ tasks: TaskView[] }>(`https://${master.httpAddress}/api/v1/tasks?frameworkId=${frameworkId}&limit=1000`)).tasks;
}

const live = (tasks: TaskView[]): TaskView[] => tasks.filter((t) => ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING'].includes(t.state));

/** Wait until exactly one copy runs on each of `agents` and none elsewhere; returns agent id → task id. */
async function onePerAgent(master: MasterProcess, agents: readonly string[], what: string, daemonOut: () => string): Promise<Map<string, string>> {
  return eventually(async () => {
    const all = live(await tasksOf(master, await daemonId(master)));
    const running = all.filter((t) => t.state === 'TASK_RUNNING');
    const placed = new Map(running.map((t) => [t.agentId, t.id]));
    const ok = all.length === agents.length && running.length === agents.length && agents.every((a) => placed.has(a));
    if (!ok) throw new Error(`${what}: live ${JSON.stringify(all)}, want one on each of ${agents.join(', ')}\n${daemonOut().slice(-3000)}`);
    return placed;
  }, { timeoutMs: 25_000, intervalMs: 100, what });
}

/** The agent's id and the pid of each task it runs (its /api/v1/state). */
async function agentState(agent: AgentProcess): Promise<{ agent: { id: string | null }; tasks: Array<{ taskId: string; pid: number | null }> }> {
  return json(`https://${agent.httpAddress}/api/v1/state`);
}

describe('examples/daemon.ts', () => {
  it('keeps one copy on every matching agent through restarts, a new agent, a killed copy, and tears down', async () => {
    const zk = `zk://${testServices().zk}/agora`;
    const cluster = `e2e-daemon-${process.pid}`;
    const [grpcPort, httpPort] = await freePorts(2);
    const masterFlags = { '--grpc-port': String(grpcPort), '--http-port': String(httpPort) };
    let master = await spawnMaster(zk, cluster, masterFlags);
    const address = master.grpcAddress;

    const startAgent = async (attributes: string): Promise<AgentProcess> => {
      const agent = await AgentProcess.start(address, { workDir: await tempDir('daemon-agent'), flags: { attributes, resources: 'cpus:1;mem:512;disk:512' } });
      processes.push(agent);
      return agent;
    };
    const [web1, web2, db] = await Promise.all([startAgent('role:web;zone:a'), startAgent('role:web;zone:b'), startAgent('role:db')]);
    const idOf = (agent: AgentProcess): Promise<string> =>
      eventually(async () => (await agentState(agent)).agent.id ?? Promise.reject(new Error('not registered')), { timeoutMs: 10_000, what: 'the agent registered' });
    const webIds = [await idOf(web1 as AgentProcess), await idOf(web2 as AgentProcess)];
    const dbId = await idOf(db as AgentProcess);

    const stateDir = await tempDir('daemon-state');
    const flags = ['--selector', 'role:web', '--resources', 'cpus:0.1;mem:32', 'sleep 600'];

    // 2 agents with role:web, 1 without: exactly one copy on each web agent.
    let fw = daemon(address, stateDir, ...flags);
    const first = await onePerAgent(master, webIds, 'one copy on each web agent', fw.output);
    const frameworkId = await daemonId(master);
    expect([...first.keys()]).not.toContain(dbId);

    // SIGTERM stops the framework and leaves its copies; a new process takes them over, adds none.
    fw.child.kill('SIGTERM');
    expect(await within(fw.exited, 10_000, 'still running')).toBe(0);
    fw = daemon(address, stateDir, ...flags);
    // recover() finds both copies running, then the offers (held until then) are answered, nothing launched.
    await eventually(() => expect(fw.output()).toMatch(/recovered: 2 running, 0 ended, 0 forgotten[^]*suppressed: 2 copies/), { timeoutMs: 20_000, what: 'recovery, then offers answered after the restart' });
    expect(fw.output()).not.toMatch(/launched /);
    expect(await onePerAgent(master, webIds, 'the same copies after a framework restart', fw.output)).toEqual(first);

    // The master restarts (same ports): agents re-register, the framework resubscribes.
    master.kill('SIGKILL');
    await master.exited;
    master = await spawnMaster(zk, cluster, masterFlags);
    await eventually(() => expect(fw.output().match(/subscribed as /g)?.length).toBe(2), { timeoutMs: 20_000, what: 'the framework resubscribed' });
    // Offers after the second subscription: counted from its line, not from when this test looked —
    // on a loaded machine the offers can be answered before the poll above sees the subscription.
    const resubscribedAt = fw.output().lastIndexOf('subscribed as ');
    await eventually(() => expect(fw.output().slice(resubscribedAt), fw.output().slice(-6000)).toMatch(/suppressed: 2 copies/), { timeoutMs: 20_000, what: 'offers answered after the master restart' });
    expect(fw.output()).not.toMatch(/launched /);
    expect(await onePerAgent(master, webIds, 'the same copies after a master restart', fw.output)).toEqual(first);

    // An agent with role:web joins: a copy appears there (the framework was suppressed).
    const web3 = await startAgent('role:web;zone:c');
    const all = [...webIds, await idOf(web3)];
    const joined = await onePerAgent(master, all, 'a copy on the agent that joined', fw.output);
    for (const [agent, task] of first) expect(joined.get(agent)).toBe(task);

    // Kill one copy's process group, as a crash would: relaunched on the same agent.
    const victimTask = joined.get(webIds[0] as string) as string;
    const pid = (await agentState(web1 as AgentProcess)).tasks.find((t) => t.taskId === victimTask)?.pid;
    expect(pid).toBeGreaterThan(0);
    process.kill(-(pid as number), 'SIGKILL');
    const relaunched = await eventually(async () => {
      const placed = await onePerAgent(master, all, 'the killed copy relaunched', fw.output);
      if (placed.get(webIds[0] as string) === victimTask) throw new Error('the killed copy is still the one running');
      return placed;
    }, { timeoutMs: 25_000, what: 'a new copy on the agent whose copy was killed' });
    expect((await tasksOf(master, frameworkId)).find((t) => t.id === victimTask)?.state).toBe('TASK_FAILED');
    expect(relaunched.get(webIds[1] as string)).toBe(first.get(webIds[1] as string));

    // Stop, then --teardown: the framework is removed and every copy's process is gone.
    fw.child.kill('SIGINT');
    expect(await within(fw.exited, 10_000, 'still running')).toBe(0);
    const copies = live(await tasksOf(master, frameworkId)).map((t) => t.id);
    expect(copies).toHaveLength(3);
    const onAgents = (await Promise.all([web1, web2, web3].map(async (a) => (await agentState(a as AgentProcess)).tasks))).flat();
    const pids = onAgents.filter((t) => copies.includes(t.taskId)).map((t) => t.pid ?? 0);
    expect(pids.filter((p) => p > 0)).toHaveLength(3);
    const teardown = daemon(address, stateDir, '--teardown');
    expect(await within(teardown.exited, 20_000, 'still running')).toBe(0);
    expect(teardown.output()).toMatch(/tore down /);
    await eventually(async () => {
      expect(live(await tasksOf(master, frameworkId))).toEqual([]);
      for (const p of pids) expect(await processAlive(p)).toBe(false);
    }, { timeoutMs: 15_000, what: 'every copy killed' });
  }, 90_000);

  it('refuses a bad flag before it connects or writes its state, naming the flag', async () => {
    const stateDir = path.join(await tempDir('daemon-bad'), 'state');
    const cases: Array<[string[], RegExp]> = [
      [['--resources', 'cpus:lots'], /^--resources: /m],
      [['--selector', 'role'], /^--selector: "role" is not attribute:value/m],
      [['--selector', 'role:web:x'], /^--selector: "role:web:x" is not attribute:value/m],
      [['--failover-seconds', '1.5'], /^--failover-seconds: /m],
    ];
    // No master listens at this address: a flag that got past the check would wait for one.
    const runs = cases.map(([args]) => daemon('127.0.0.1:1', stateDir, ...args));
    for (const [i, run] of runs.entries()) {
      expect(await within(run.exited, 20_000, 'still running')).toBe(2);
      expect(run.output()).toMatch(cases[i]?.[1] as RegExp);
    }
    expect(existsSync(stateDir)).toBe(false);
  }, 60_000);
});
