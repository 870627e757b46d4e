// Event-stream clients that never read, against a real `agora master` process (issue 16: 400 such
// clients and a 10,000-task job took a master from 117 MB to 4.1 GB and /health to 18 s):
//
//   npm run bench -- sse [--clients 400] [--tasks 10000] [--agents 100] [--sse-max-buffered 1MiB]
//                        [--sse-replay-events 10000] [--phase-timeout 180s]
//
// One ZooKeeper, one master (TLS, tokens; --sse-max-clients raised to admit every client), N
// simulated agents (bench/sim-agent.ts: real AgentGateway streams, tasks RUNNING at once) and one
// SDK framework. With the master idle, `--clients` event streams are opened that read the response
// head and never another byte, plus one client that reads everything. Then the framework launches
// `--tasks` tasks (TASK_ADDED and TASK_UPDATED each) and tears itself down (the master kills
// them all at once: a TASK_UPDATED each, in one turn of its event loop). Throughout, /health is timed back to back and the master's RSS read from /proc every
// 100 ms; /metrics is read every 500 ms (bytes queued for event streams, clients dropped).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseDuration } from '../core/options.js';
import { Resources } from '../core/resources.js';
import { grpcChannelCredentials } from '../core/security/tls.js';
import { resourcesFromWire, resourcesToWire } from '../core/wire.js';
import { createLogger, FrameworkDriver, type Offer, type TaskInfo } from '../sdk/index.js';
import { ensureFreshBuild } from '../test/support/build.js';
import { killMasters, spawnMaster, type MasterProcess } from '../test/support/master-process.js';
import { makeTestPki, PKI_ENV } from '../test/support/pki.js';
import { secureFetch, testPki } from '../test/support/security.js';
import { closeSseClients, readSse, stalledSse, type SseClient } from '../test/support/sse-client.js';
import { startZooKeeper, type ZkServer } from '../test/support/zookeeper.js';
import { SimAgentPool } from './sim-agent.js';

const CLUSTER = 'bench-sse';
const AGENT_RESOURCES = 'cpus:64;mem:262144;disk:100000;ports:[31000-32000]';
const TASK = Resources.parse('cpus:0.1;mem:16');

export async function run(argv: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: argv,
    options: {
      clients: { type: 'string', default: '400' },
      tasks: { type: 'string', default: '10000' },
      agents: { type: 'string', default: '100' },
      'sse-max-buffered': { type: 'string', default: '1MiB' },
      'sse-replay-events': { type: 'string', default: '10000' },
      'phase-timeout': { type: 'string', default: '180s' },
    },
    strict: true,
  });
  const clients = Number(values.clients);
  const tasks = Number(values.tasks);
  const agents = Number(values.agents);
  if (![clients, tasks, agents].every((n) => Number.isInteger(n) && n > 0)) throw new Error('--clients, --tasks and --agents are positive integers');
  ensureFreshBuild();
  const pkiDir = mkdtempSync(`${os.tmpdir()}/agora-bench-pki-`);
  await makeTestPki(pkiDir);
  process.env[PKI_ENV] = pkiDir;
  const bench = new SseBench(clients, tasks, agents, parseDuration(values['phase-timeout']));
  try {
    return await bench.run({ '--sse-max-clients': String(clients + 10), '--sse-max-buffered': values['sse-max-buffered'], '--sse-replay-events': values['sse-replay-events'] });
  } finally {
    await bench.cleanUp();
    rmSync(pkiDir, { recursive: true, force: true });
    setTimeout(() => process.exit(), 5000).unref();
  }
}

class SseBench {
  #zk: ZkServer | undefined;
  #pool: SimAgentPool | undefined;
  #driver: FrameworkDriver | undefined;
  readonly #running = new Set<string>();
  #next = 0;
  #go = false;
  #probe: Probe | undefined;

  constructor(
    private readonly clients: number,
    private readonly tasks: number,
    private readonly agents: number,
    private readonly phaseMs: number,
  ) {}

  async run(flags: Record<string, string>): Promise<Record<string, unknown>> {
    this.#zk = await startZooKeeper();
    const zk = `zk://${this.#zk.connectString}/agora`;
    const master = await spawnMaster(zk, CLUSTER, { ...flags, '--allocation-interval': '100ms', '--agent-ping-interval': '5s', '--max-agent-ping-timeouts': '12', '--heartbeat-interval': '1s', '--log-level': 'warn' });
    void master.exited.then((code) => {
      if (this.#running.size < this.tasks || code !== 'SIGKILL') log(`the master exited (${code}):\n${master.log().slice(-4000)}`);
    });
    await this.#phase('the master leads', async () => ((await json(master, '/api/v1/leader')) as { self?: boolean }).self || undefined);
    this.#pool = await SimAgentPool.open(zk, CLUSTER, {
      resources: AGENT_RESOURCES,
      credentials: grpcChannelCredentials(testPki().agentTls),
      backoffInitialMs: 1000,
      backoffMaxMs: 4000,
      registrationTimeoutMs: 15_000,
    });
    const pool = this.#pool;
    await this.#phase('the agents know the leader', async () => pool.discovery.current() !== undefined || undefined);
    pool.start(this.agents);
    await this.#phase(`${this.agents} agents registered`, async () => pool.registeredCount() === this.agents || undefined);
    this.#driver = await this.#framework(zk);
    const idle = { rssMb: rssMb(master), health: await healthSamples(master, 20) };
    log(`idle: rss ${idle.rssMb} MB, /health p50 ${percentile(idle.health, 50)} ms; opening ${this.clients} streams that never read`);

    const reader = await readSse(`https://${master.httpAddress}/api/v1/events`);
    for (let i = 0; i < this.clients; i += 50) await Promise.all(Array.from({ length: Math.min(50, this.clients - i) }, () => stalledSse(master.httpAddress, '/api/v1/events')));
    const withClients = rssMb(master);
    const probe = new Probe(master);
    this.#probe = probe;
    const t0 = performance.now();
    log(`rss ${withClients} MB with the clients; launching ${this.tasks} tasks`);
    this.#go = true;
    await this.#driver.revive();
    await this.#phase(`${this.tasks} tasks RUNNING`, async () => this.#running.size === this.tasks || undefined, () => `${this.#running.size} running`);
    const launchMs = performance.now() - t0;
    log(`${this.tasks} running after ${Math.round(launchMs)} ms; tearing the framework down`);
    const driver = this.#driver;
    await driver.teardown();
    this.#driver = undefined;
    await this.#phase('every task gone from the agents', async () => tasksOnAgents(pool) === 0 || undefined, () => `${tasksOnAgents(pool)} left`);
    const burstMs = performance.now() - t0;
    const events = 3 * this.tasks;
    await this.#phase('the reading client has every task event', async () => taskEvents(reader) >= events || undefined, () => `${taskEvents(reader)}/${events}`).catch((err: unknown) => log(String(err)));
    await sleep(2000);
    const figures = await probe.stop();
    const m = await metrics(master);
    return {
      clients: this.clients,
      tasks: this.tasks,
      agents: this.agents,
      events_expected: events,
      events_read_by_reader: taskEvents(reader),
      reader_dropped: reader.frames.length > 0 && (await Promise.race([reader.ended.then(() => true), sleep(10).then(() => false)])),
      sse_clients_left: m('agora_http_sse_clients'),
      sse_dropped: m('agora_http_sse_dropped_total'),
      sse_buffered_mb_max: round(figures.bufferedMax / 2 ** 20),
      rss_mb_idle: idle.rssMb,
      rss_mb_with_clients: withClients,
      rss_mb_max: figures.rssMax,
      rss_mb_end: rssMb(master),
      health_ms_idle_p50: percentile(idle.health, 50),
      health_ms_p50: percentile(figures.health, 50),
      health_ms_p99: percentile(figures.health, 99),
      health_ms_max: percentile(figures.health, 100),
      health_samples: figures.health.length,
      health_failures: figures.failures,
      launch_ms: Math.round(launchMs),
      burst_ms: Math.round(burstMs),
      tls: true,
      authenticated: true,
    };
  }

  async #framework(zk: string): Promise<FrameworkDriver> {
    let resolve!: (d: FrameworkDriver) => void;
    const ready = new Promise<FrameworkDriver>((r) => (resolve = r));
    const driver = await FrameworkDriver.start(
      {
        master: zk,
        cluster: CLUSTER,
        framework: { name: 'bench-sse', failoverTimeoutSeconds: 0 },
        credentials: { ca: testPki().clientTls.ca, token: testPki().adminToken },
        logger: createLogger({ level: 'error', name: 'sdk' }),
      },
      {
        offers: async (_driver, offers) => this.#launch(await ready, offers),
        update: (_driver, status) => {
          if (status.state === 'TASK_RUNNING') this.#running.add(status.taskId);
        },
      },
      { waitSubscribedMs: this.phaseMs },
    );
    await driver.suppress();
    resolve(driver);
    return driver;
  }

  /** As many tasks as each offer holds, until all are placed. */
  async #launch(driver: FrameworkDriver, offers: Offer[]): Promise<void> {
    // Offers made before the framework suppressed go back when it does.
    if (!this.#go) return;
    await Promise.all(
      offers.map((offer) => {
        const have = resourcesFromWire(offer.resources);
        const fit = Math.min(...[...TASK.scalars()].map(([name, amount]) => Math.floor(have.scalar(name) / amount + 1e-9)));
        const infos: TaskInfo[] = [];
        while (infos.length < fit && this.#next < this.tasks) {
          const taskId = `task-${String(this.#next++).padStart(6, '0')}`;
          infos.push({ name: taskId, taskId, agentId: offer.agentId, resources: resourcesToWire(TASK), fake: {} });
        }
        // An offer made before the framework suppressed may be gone by the time it is declined.
        return infos.length > 0 ? driver.accept([offer], [{ launch: { taskInfos: infos } }], { refuseSeconds: 3600 }) : driver.decline([offer], { refuseSeconds: 3600 }).catch(() => undefined);
      }),
    );
  }

  async #phase<T>(name: string, probe: () => Promise<T | undefined>, detail?: () => string): Promise<T> {
    const deadline = Date.now() + this.phaseMs;
    for (;;) {
      const value = await probe().catch(() => undefined);
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`sse: phase '${name}' timed out after ${this.phaseMs} ms${detail ? ` (${detail()})` : ''}`);
      await sleep(50);
    }
  }

  async cleanUp(): Promise<void> {
    await this.#probe?.stop();
    closeSseClients();
    for (const step of [() => this.#driver?.stop(), () => this.#pool?.close(), () => killMasters(), () => this.#zk?.stop()]) {
      await Promise.resolve()
        .then(step)
        .catch((err: unknown) => log(`cleaning up: ${String(err)}`));
    }
  }
}

/** /health back to back, RSS every 100 ms, /metrics every 500 ms, until stopped. */
class Probe {
  readonly health: number[] = [];
  /** /health requests that failed (the connection refused or cut). */
  failures = 0;
  #rssMax = 0;
  #bufferedMax = 0;
  #running = true;
  readonly #loops: Promise<void>[];

  constructor(master: MasterProcess) {
    this.#loops = [
      (async () => {
        while (this.#running) {
          const ms = await timedHealth(master).catch((err: unknown) => {
            this.failures += 1;
            log(`/health failed: ${String((err as { cause?: unknown }).cause ?? err)}`);
            return undefined;
          });
          if (ms !== undefined) this.health.push(ms);
          await sleep(20);
        }
      })(),
      (async () => {
        while (this.#running) {
          this.#rssMax = Math.max(this.#rssMax, rssMb(master));
          await sleep(100);
        }
      })(),
      (async () => {
        while (this.#running) {
          this.#bufferedMax = Math.max(this.#bufferedMax, (await metrics(master).catch(() => () => 0))('agora_http_sse_buffered_bytes'));
          await sleep(500);
        }
      })(),
    ];
  }

  async stop(): Promise<{ health: number[]; failures: number; rssMax: number; bufferedMax: number }> {
    this.#running = false;
    await Promise.all(this.#loops);
    return { health: this.health, failures: this.failures, rssMax: this.#rssMax, bufferedMax: this.#bufferedMax };
  }
}

async function timedHealth(master: MasterProcess): Promise<number> {
  const t0 = performance.now();
  const res = await secureFetch(`https://${master.httpAddress}/health`, { token: null });
  await res.text();
  return Math.round((performance.now() - t0) * 10) / 10;
}

async function healthSamples(master: MasterProcess, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i += 1) out.push(await timedHealth(master));
  return out;
}

async function json(master: MasterProcess, path: string): Promise<unknown> {
  return (await secureFetch(`https://${master.httpAddress}${path}`)).json();
}

async function metrics(master: MasterProcess): Promise<(series: string) => number> {
  const text = await (await secureFetch(`https://${master.httpAddress}/metrics`)).text();
  return (series) => Number(text.split('\n').find((l) => l.startsWith(`${series} `))?.slice(series.length + 1) ?? NaN);
}

/** The master's resident memory (0 once it has exited). */
function rssMb(master: MasterProcess): number {
  let status = '';
  try {
    status = readFileSync(`/proc/${master.child.pid}/status`, 'utf8');
  } catch {
    return 0;
  }
  return Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024);
}

function tasksOnAgents(pool: SimAgentPool): number {
  let n = 0;
  for (const agent of pool.agents) n += agent.tasks.size;
  return n;
}

function taskEvents(reader: SseClient): number {
  return reader.frames.filter((f) => f.event === 'task_added' || f.event === 'task_updated').length;
}

function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? null;
}

const round = (n: number): number => Math.round(n * 10) / 10;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function log(message: string): void {
  process.stderr.write(`sse: ${message}\n`);
}
