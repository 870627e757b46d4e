// Master failover at scale: a real 3-node ZooKeeper ensemble, three real master processes, N
// simulated agents (in this process, real AgentGateway protocol, fake executor) and one framework
// on the SDK running M tasks. The leading master is SIGKILLed at t0; from t0 we measure:
//
//   elected_ms               a standby says it leads (/api/v1/leader → self: true; polled ~20 ms)
//   agents_reregistered_ms   every simulated agent has had `reregistered` from the new leader
//   framework_reconciled_ms  the driver resubscribed, its explicit reconciliation has settled
//                            (reconciler.reconciling false) and every task had an update since t0
//   tasks_lost               tasks with a terminal / LOST / GONE / UNKNOWN update after t0, or not
//                            heard of after t0, or no longer RUNNING on exactly one agent
//
//   npm run bench -- failover [--agents 1000] [--tasks 10000] [--zk-session-timeout 2s] [--zk-tick 100ms]
//                             [--reregister-timeout 10s] [--phase-timeout 120s]
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { parseDuration } from '../core/options.js';
import { InvalidArgumentError } from '../core/errors.js';
import { Resources } from '../core/resources.js';
import { isTerminal, type TaskState } from '../core/task-state.js';
import { resourcesFromWire, resourcesToWire } from '../core/wire.js';
import { createLogger, FrameworkDriver, wasRefused, type Offer, type TaskInfo, type TaskStatus } from '../sdk/index.js';
import { grpcChannelCredentials } from '../core/security/tls.js';
import { getJson, killMasters, spawnMaster, stopMasters, type MasterProcess } from '../test/support/master-process.js';
import { makeTestPki, PKI_ENV } from '../test/support/pki.js';
import { testPki } from '../test/support/security.js';
import { startZkEnsemble, type ZkEnsemble } from '../test/support/zookeeper.js';
import { SimAgentPool, type Registration } from './sim-agent.js';

const CLUSTER = 'bench-failover';
const AGENT_RESOURCES = 'cpus:8;mem:32768;disk:100000;ports:[31000-32000]';
const TASK_RESOURCES = 'cpus:0.1;mem:16';
/** States that mean the framework has (or may have) lost the task. */
const LOST_STATES = new Set<string>(['TASK_LOST', 'TASK_GONE', 'TASK_UNKNOWN', 'TASK_UNREACHABLE', 'TASK_DROPPED']);

export async function run(argv: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: argv,
    options: {
      agents: { type: 'string', default: '1000' },
      tasks: { type: 'string', default: '10000' },
      'zk-session-timeout': { type: 'string', default: '2s' },
      'zk-tick': { type: 'string', default: '100ms' },
      'reregister-timeout': { type: 'string', default: '10s' },
      'phase-timeout': { type: 'string', default: '120s' },
    },
    strict: true,
  });
  const agents = positiveInt(values.agents, '--agents');
  const tasks = positiveInt(values.tasks, '--tasks');
  const sessionMs = parseDuration(values['zk-session-timeout'], '--zk-session-timeout');
  const tickMs = parseDuration(values['zk-tick'], '--zk-tick');
  if (tickMs * 2 > sessionMs) throw new InvalidArgumentError('--zk-tick', `ZooKeeper needs a session timeout of at least 2 ticks: ${tickMs} ms ticks allow sessions from ${tickMs * 2} ms`);
  const reregisterMs = parseDuration(values['reregister-timeout'], '--reregister-timeout');
  const phaseMs = parseDuration(values['phase-timeout'], '--phase-timeout');
  // A thousand simulated agents see their streams fail twice each at failover; grpc-js builds each
  // error's stack, and tsx would map every one through its source maps — about 0.3 s of this
  // process's CPU, taken from the cores the masters share, that agents on their own hosts would
  // not take. Stacks stay, unmapped.
  process.setSourceMapsEnabled(false);
  const bench = new FailoverBench(agents, tasks, sessionMs, tickMs, reregisterMs, phaseMs);
  try {
    return await bench.run();
  } finally {
    await bench.cleanUp();
    // Everything is closed by now; should a stray handle remain, do not hang the benchmark on it.
    setTimeout(() => process.exit(), 5000).unref();
  }
}

class FailoverBench {
  #pkiDir: string | undefined;
  #ensemble: ZkEnsemble | undefined;
  #pool: SimAgentPool | undefined;
  #driver: FrameworkDriver | undefined;
  readonly #tasks: TaskTracker;
  readonly #launcher: Launcher;
  #t0: number | undefined;
  #oldLeader: MasterProcess | undefined;
  #newLeaderAddress: string | undefined;
  /** agent index → when it was first re-registered by the new leader. */
  readonly #reregistered = new Map<number, number>();
  /** Round trips of those re-registrations (reregister sent → reregistered). */
  readonly #reregisterRtts: number[] = [];
  /** When those re-registrations were sent, from t0: is the simulator or the master behind? */
  readonly #hellosSent: number[] = [];
  #viaSuccessor = 0;
  #leaderSeenAt: number | undefined;
  #resubscribedAt: number | undefined;
  #disconnectedAt: number | undefined;

  constructor(
    private readonly agents: number,
    private readonly taskCount: number,
    private readonly sessionMs: number,
    private readonly tickMs: number,
    private readonly reregisterMs: number,
    private readonly phaseMs: number,
  ) {
    this.#tasks = new TaskTracker(taskCount);
    this.#launcher = new Launcher(taskCount, Math.ceil(taskCount / agents), Resources.parse(TASK_RESOURCES), (id) => this.#tasks.running.has(id));
  }

  async run(): Promise<Record<string, unknown>> {
    const started = performance.now();
    // Secured as a real cluster is: masters serve TLS and know an admin token, agents present
    // agent certificates, the framework a token. (spawnMaster reads the PKI from $AGORA_TEST_PKI.)
    this.#pkiDir = mkdtempSync(`${os.tmpdir()}/agora-bench-pki-`);
    await makeTestPki(this.#pkiDir);
    process.env[PKI_ENV] = this.#pkiDir;
    log(`starting a 3-node ZooKeeper ensemble`);
    this.#ensemble = await startZkEnsemble(3, { tickTime: this.tickMs });
    const zk = `zk://${this.#ensemble.connectString}/agora`;
    log(`ensemble ${this.#ensemble.connectString}; starting 3 masters`);
    // One at a time: three cold `node --import tsx` starts at once can take spawnMaster past its 20 s.
    const masters: MasterProcess[] = [];
    for (let i = 0; i < 3; i++) masters.push(await spawnMaster(zk, CLUSTER, this.#masterFlags()));
    const leader = await this.#phase('a leader is elected', async () => findLeader(masters), 50);
    log(`leader ${leader.id} at ${leader.grpcAddress}; starting ${this.agents} simulated agents`);

    this.#pool = await SimAgentPool.open(zk, CLUSTER, {
      resources: AGENT_RESOURCES,
      credentials: grpcChannelCredentials(testPki().agentTls),
      backoffInitialMs: 1000,
      backoffMaxMs: 4000,
      registrationTimeoutMs: 15_000,
      onRegistered: (r) => this.#onRegistered(r),
      onLeaderChange: (address, atMs) => {
        if (this.#t0 !== undefined && address !== undefined && address !== this.#oldLeader?.grpcAddress) this.#leaderSeenAt ??= atMs;
      },
    });
    const pool = this.#pool;
    await this.#phase('the leader is known to the agents', async () => pool.discovery.current() !== undefined || undefined, 20);
    const agentsStarted = performance.now();
    pool.start(this.agents);
    await this.#phase(`${this.agents} agents registered`, async () => pool.registeredCount() === this.agents || undefined, 50);
    const registerMs = performance.now() - agentsStarted;
    log(`${this.agents} agents registered in ${registerMs.toFixed(0)} ms; starting the framework`);

    const launchStarted = performance.now();
    this.#driver = await this.#startFramework(zk);
    const driver = this.#driver;
    await this.#phase(`${this.taskCount} tasks RUNNING`, async () => this.#tasks.running.size === this.taskCount || this.#launcher.reviveIfStuck(driver), 50, () => `${this.#tasks.running.size} running`);
    const launchMs = performance.now() - launchStarted;
    await this.#driver.suppress().catch(() => undefined);
    await this.#phase('every update acknowledged', async () => pool.unacknowledgedCount() === 0 || undefined, 50, () => `${pool.unacknowledgedCount()} unacknowledged`);
    // Each agent has its re-registration ready, as agents on their own hosts would (sim-agent.ts).
    pool.prepareHellos();
    log(`${this.taskCount} tasks running after ${launchMs.toFixed(0)} ms; killing the leader ${leader.id}`);

    const figures = await this.#failover(leader, masters);
    return { ...figures, masters: masters.length, tls: true, authenticated: true, register_ms: round(registerMs), launch_ms: round(launchMs), total_ms: round(performance.now() - started) };
  }

  async #failover(leader: MasterProcess, masters: MasterProcess[]): Promise<Record<string, unknown>> {
    const driver = this.#driver!;
    const standbys = masters.filter((m) => m !== leader);
    this.#oldLeader = leader;
    const loadAvg = os.loadavg()[0] ?? 0;
    const pool = this.#pool!;
    pool.failures.notLeader = 0;
    pool.failures.other = 0;
    const cpuAtT0 = new Map(standbys.map((m) => [m, cpuMs(m.child.pid)]));
    const benchCpuAtT0 = process.cpuUsage();
    const t0 = Date.now();
    this.#t0 = t0;
    this.#tasks.mark(t0);
    // How late this process's own timers ran: when it lags, everything measured here is late too.
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    leader.kill('SIGKILL');

    const elected = await this.#phase('a standby leads', async () => (await Promise.all(standbys.map(leads))).find((m) => m !== undefined), 20);
    const electedMs = Date.now() - t0;
    this.#newLeaderAddress = elected.grpcAddress;
    log(`${elected.id} leads after ${electedMs} ms`);

    const reconciled = (): boolean =>
      this.#resubscribedAt !== undefined && !driver.reconciler.reconciling && this.#tasks.heardSince.size === this.taskCount;
    const [agentsMs, frameworkMs] = await Promise.all([
      this.#phase('every agent re-registered with the new leader', async () => (this.#reregistered.size === this.agents ? Math.max(...this.#reregistered.values()) - t0 : undefined), 10, () => `${this.#reregistered.size}/${this.agents}`),
      this.#phase('the framework reconciled every task', async () => (reconciled() ? Date.now() - t0 : undefined), 5, () => `resubscribed: ${this.#resubscribedAt !== undefined}, reconciling: ${driver.reconciler.reconciling}, heard from ${this.#tasks.heardSince.size}/${this.taskCount}`),
    ]);
    loop.disable();
    const cpuAtReconciled = cpuMs(elected.child.pid);
    const benchCpu = process.cpuUsage(benchCpuAtT0);
    const cpuAtStart = cpuAtT0.get(elected);
    log(`agents back after ${agentsMs} ms, framework reconciled after ${frameworkMs} ms; checking tasks`);
    // A short grace so late bad news (LOST, GONE) is counted too.
    await sleep(500);
    const lost = this.#lostTasks();
    const timeline = leaderTimeline(elected, t0);
    // For digging into a run: the new leader's log (JSON lines), with t0 on the first line.
    const dump = process.env['AGORA_BENCH_FAILOVER_LOG'];
    if (dump) writeFileSync(dump, `{"t0":${t0}}\n${elected.log()}`);
    return {
      agents: this.agents,
      tasks: this.taskCount,
      zk_session_timeout_ms: this.sessionMs,
      zk_tick_ms: this.tickMs,
      elected_ms: electedMs,
      agents_reregistered_ms: agentsMs,
      framework_reconciled_ms: frameworkMs,
      tasks_lost: lost.size,
      goal_met: frameworkMs <= this.sessionMs + 1000 && lost.size === 0,
      leader_watch_ms: this.#leaderSeenAt === undefined ? null : this.#leaderSeenAt - t0,
      ...timeline,
      first_agent_reregistered_ms: this.#reregistered.size > 0 ? Math.min(...this.#reregistered.values()) - t0 : null,
      agent_hello_sent_ms_first: percentile(this.#hellosSent, 0),
      agent_hello_sent_ms_p50: percentile(this.#hellosSent, 50),
      agent_hello_sent_ms_last: percentile(this.#hellosSent, 100),
      agent_reregister_rtt_ms_p50: percentile(this.#reregisterRtts, 50),
      agent_reregister_rtt_ms_max: percentile(this.#reregisterRtts, 100),
      // Agents whose hello had waited at the successor since their stream to the old leader broke.
      agents_via_successor: this.#viaSuccessor,
      agent_streams_refused_not_leader: pool.failures.notLeader,
      agent_streams_failed: pool.failures.other,
      framework_disconnected_ms: this.#disconnectedAt === undefined ? null : this.#disconnectedAt - t0,
      framework_resubscribed_ms: this.#resubscribedAt === undefined ? null : this.#resubscribedAt - t0,
      reconcile_updates: this.#tasks.reconcileUpdates,
      // CPU the new leader used from t0 to the framework reconciled (from /proc, in 10 ms steps):
      // unlike the times above, hardly moved by other work on the machine.
      master_takeover_cpu_ms: cpuAtStart === undefined || cpuAtReconciled === undefined ? null : cpuAtReconciled - cpuAtStart,
      // The same for this process (the simulated agents and the framework), which shares the cores.
      bench_takeover_cpu_ms: round((benchCpu.user + benchCpu.system) / 1000),
      bench_loop_delay_p99_ms: round(loop.percentile(99) / 1e6),
      bench_loop_delay_max_ms: round(loop.max / 1e6),
      reregister_timeout_ms: this.reregisterMs,
      // The machine's 1-minute load average at t0 (2 cores here): other work skews every figure.
      load_avg_1m: Math.round(loadAvg * 10) / 10,
    };
  }

  #masterFlags(): Record<string, string> {
    return {
      '--zk-session-timeout': `${this.sessionMs}ms`,
      '--allocation-interval': '100ms',
      // Slow, patient pings: a busy benchmark process must not get its agents marked unreachable.
      '--agent-ping-interval': '5s',
      '--max-agent-ping-timeouts': '12',
      '--heartbeat-interval': '1s',
      '--agent-reregister-timeout': `${this.reregisterMs}ms`,
      '--log-level': 'info',
    };
  }

  async #startFramework(zk: string): Promise<FrameworkDriver> {
    let resolveDriver!: (d: FrameworkDriver) => void;
    const ready = new Promise<FrameworkDriver>((resolve) => (resolveDriver = resolve));
    const driver = await FrameworkDriver.start(
      {
        master: zk,
        cluster: CLUSTER,
        framework: { name: 'bench-failover', failoverTimeoutSeconds: 3600 },
        credentials: { ca: testPki().clientTls.ca, token: testPki().adminToken },
        reconnect: { initialMs: 50, maxMs: 500 },
        logger: createLogger({ level: 'error', name: 'sdk' }),
      },
      {
        subscribed: (_driver, s) => {
          if (!s.resubscribed) return;
          this.#resubscribedAt ??= this.#t0 === undefined ? undefined : Date.now();
          // The new master does not know we suppressed: say it again (offers would only be declined).
          void ready.then((d) => d.suppress()).catch(() => undefined);
        },
        disconnected: () => {
          if (this.#t0 !== undefined) this.#disconnectedAt ??= Date.now();
        },
        offers: async (_driver, offers) => this.#launcher.onOffers(await ready, offers),
        update: (_driver, status) => this.#tasks.onUpdate(status),
      },
      { waitSubscribedMs: this.phaseMs },
    );
    resolveDriver(driver);
    return driver;
  }

  #onRegistered(r: Registration): void {
    if (this.#t0 === undefined || r.kind !== 'reregistered' || r.master === this.#oldLeader?.grpcAddress) return;
    if (this.#newLeaderAddress !== undefined && r.master !== this.#newLeaderAddress) return;
    if (this.#reregistered.has(r.agent.index)) return;
    this.#reregistered.set(r.agent.index, r.atMs);
    this.#reregisterRtts.push(r.rttMs);
    this.#hellosSent.push(r.atMs - r.rttMs - (this.#t0 ?? 0));
    if (r.viaSuccessor) this.#viaSuccessor += 1;
  }

  /** Tasks the framework heard bad news of, did not hear of, or that no agent runs (exactly once). */
  #lostTasks(): Set<string> {
    const lost = new Set<string>(this.#tasks.badSince.keys());
    for (const id of this.#tasks.running) if (!this.#tasks.heardSince.has(id)) lost.add(id);
    const onAgents = new Map<string, number>();
    for (const agent of this.#pool?.agents ?? []) {
      for (const t of agent.tasks.values()) {
        const id = t.task.taskId ?? '';
        if (t.latest.state === 'TASK_RUNNING') onAgents.set(id, (onAgents.get(id) ?? 0) + 1);
      }
    }
    for (const id of this.#tasks.running) if (onAgents.get(id) !== 1) lost.add(id);
    if (lost.size > 0) log(`lost: ${[...lost].slice(0, 10).map((id) => `${id} (${this.#tasks.badSince.get(id) ?? (onAgents.get(id) === 1 ? 'not heard of' : 'not on an agent')})`).join(', ')}${lost.size > 10 ? ', …' : ''}`);
    return lost;
  }

  /** Poll `probe` until it returns a value; throws naming the phase after phaseMs. */
  async #phase<T>(name: string, probe: () => Promise<T | undefined>, intervalMs: number, detail?: () => string): Promise<T> {
    const deadline = Date.now() + this.phaseMs;
    for (;;) {
      const value = await probe().catch(() => undefined);
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`failover: phase '${name}' timed out after ${this.phaseMs} ms${detail ? ` (${detail()})` : ''}`);
      await sleep(intervalMs);
    }
  }

  async cleanUp(): Promise<void> {
    const steps: Array<[string, () => Promise<unknown> | undefined]> = [
      ['framework', () => this.#driver?.stop()],
      ['agents', () => this.#pool?.close()],
      // With AGORA_MASTER_NODE_ARGS (say, --cpu-prof) the masters get to exit on their own first.
      [
        'masters',
        async () => {
          if (process.env['AGORA_MASTER_NODE_ARGS']) await stopMasters(10_000);
          await killMasters();
        },
      ],
      ['ZooKeeper', () => this.#ensemble?.stop()],
      ['certificates', async () => this.#pkiDir && rmSync(this.#pkiDir, { recursive: true, force: true })],
    ];
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (err) {
        log(`stopping ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

/** What the framework heard of its tasks. */
class TaskTracker {
  /** Tasks that have reported TASK_RUNNING. */
  readonly running = new Set<string>();
  /** After t0: tasks with any update, and tasks with bad news (id → state). */
  readonly heardSince = new Set<string>();
  readonly badSince = new Map<string, string>();
  reconcileUpdates = 0;
  #t0: number | undefined;

  constructor(private readonly total: number) {}

  mark(t0: number): void {
    this.#t0 = t0;
  }

  onUpdate(status: TaskStatus): void {
    const state = status.state as TaskState;
    if (state === 'TASK_RUNNING' && this.running.size < this.total) this.running.add(status.taskId);
    if (this.#t0 === undefined) return;
    if (status.reason === 'REASON_RECONCILIATION') this.reconcileUpdates += 1;
    this.heardSince.add(status.taskId);
    if (isTerminal(state) || LOST_STATES.has(state)) this.badSince.set(status.taskId, state);
  }
}

/** Places the tasks evenly: at most `perAgent` on each agent; one Accept per offer. */
class Launcher {
  #next = 0;
  readonly #retry: string[] = [];
  /** Offers named by failed Accepts. */
  readonly #unused: Offer[] = [];
  readonly #placed = new Map<string, number>();
  readonly #wire: TaskInfo['resources'];

  #revivedAt = 0;

  constructor(
    private readonly total: number,
    private readonly perAgent: number,
    private readonly need: Resources,
    private readonly isRunning: (taskId: string) => boolean,
  ) {
    this.#wire = resourcesToWire(need);
  }

  /**
   * Tasks wait to be placed again after a failed Accept. The offer it named may still be valid
   * (the master refused the call): give it back so it comes again, and revive (declined offers
   * are filtered for an hour).
   */
  reviveIfStuck(driver: FrameworkDriver): undefined {
    const waiting = this.#retry.some((id) => !this.isRunning(id));
    if (!waiting || Date.now() - this.#revivedAt < 1000) return undefined;
    this.#revivedAt = Date.now();
    for (const offer of this.#unused.splice(0)) {
      driver.decline([offer], { refuseSeconds: 0 }).catch((err: unknown) => {
        // Gone (used, rescinded) or refused for good: nothing to give back. Else try again.
        if (!wasRefused(err)) this.#unused.push(offer);
      });
    }
    void driver.revive().catch(() => undefined);
    return undefined;
  }

  async onOffers(driver: FrameworkDriver, offers: Offer[]): Promise<void> {
    const declines: Offer[] = [];
    const launches: Promise<void>[] = [];
    for (const offer of offers) {
      const ids = this.#take(offer);
      if (ids.length === 0) {
        declines.push(offer);
        continue;
      }
      const infos: TaskInfo[] = ids.map((taskId) => ({ name: taskId, taskId, agentId: offer.agentId, resources: this.#wire, fake: {} }));
      launches.push(
        driver.accept([offer], [{ launch: { taskInfos: infos } }], { refuseSeconds: 3600 }).catch((err: unknown) => {
          // The outcome may be unknown (a deadline): tasks that turn out to run are not placed again.
          log(`launch on ${offer.agentId} failed (${err instanceof Error ? err.message : String(err)}); placing again`);
          this.#placed.set(offer.agentId, (this.#placed.get(offer.agentId) ?? 0) - ids.length);
          this.#retry.push(...ids);
          this.#unused.push(offer);
        }),
      );
    }
    if (declines.length > 0) launches.push(driver.decline(declines, { refuseSeconds: 3600 }).catch(() => undefined));
    await Promise.all(launches);
  }

  /** Task ids to launch on this offer: as many as fit, up to the agent's share. */
  #take(offer: Offer): string[] {
    const have = resourcesFromWire(offer.resources);
    const fit = Math.min(...[...this.need.scalars()].map(([name, amount]) => Math.floor(have.scalar(name) / amount + 1e-9)));
    const room = Math.min(fit, this.perAgent - (this.#placed.get(offer.agentId) ?? 0));
    const ids: string[] = [];
    while (ids.length < room) {
      let id = this.#retry.pop();
      while (id !== undefined && this.isRunning(id)) id = this.#retry.pop();
      id ??= this.#next < this.total ? `task-${String(this.#next++).padStart(6, '0')}` : undefined;
      if (id === undefined) break;
      ids.push(id);
    }
    if (ids.length > 0) this.#placed.set(offer.agentId, (this.#placed.get(offer.agentId) ?? 0) + ids.length);
    return ids;
  }
}

/** The master that says it leads, once one does. */
async function findLeader(masters: readonly MasterProcess[]): Promise<MasterProcess | undefined> {
  return (await Promise.all(masters.map(leads))).find((m) => m !== undefined);
}

async function leads(master: MasterProcess): Promise<MasterProcess | undefined> {
  const view = (await getJson(master.httpAddress, '/api/v1/leader').catch(() => undefined))?.body as { self?: boolean } | undefined;
  return view?.self ? master : undefined;
}

/** From the new leader's log: when it took over, when it led, when the framework came back. */
function leaderTimeline(master: MasterProcess, t0: number): Record<string, number | null> {
  const lines = master.log().split('\n');
  const times = (msg: string): number[] => {
    const out: number[] = [];
    for (const line of lines) {
      if (!line.includes(msg)) continue;
      try {
        const entry = JSON.parse(line) as { msg?: string; time?: number };
        if (entry.msg === msg && typeof entry.time === 'number' && entry.time >= t0) out.push(entry.time - t0);
      } catch {
        // not a JSON line
      }
    }
    return out;
  };
  const at = (msg: string): number | null => times(msg)[0] ?? null;
  const reregistered = times('agent re-registered');
  return {
    master_recovering_ms: at('elected: recovering from the registry'),
    master_first_agent_reregistered_ms: reregistered[0] ?? null,
    master_last_agent_reregistered_ms: reregistered.at(-1) ?? null,
    master_leading_ms: at('master leading'),
    master_framework_subscribed_ms: at('framework subscribed'),
  };
}

/** User + system CPU time of a process so far, from /proc (Linux), in ms. */
function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command name (in parentheses, which may hold spaces): field 14 utime, 15 stime.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

function positiveInt(raw: string | undefined, flag: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer, got ${String(raw)}`);
  return n;
}

function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? null;
}

function round(ms: number): number {
  return Math.round(ms);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function log(message: string): void {
  process.stderr.write(`failover: ${message}\n`);
}
