// Simulated agents for the failover benchmark: many lean agents in one process, each with a "fake
// executor" that runs nothing, and each reaching the master through the agent's own connection
// (agent/connection.ts, MasterConnection): connect, register / reregister, follow the leader, wait at
// the successor when the stream to the leader breaks, back off, answer pings — the code a real agent
// runs, so the benchmark measures it and not a copy.
//
//   SimAgentPool ── one ZooKeeperDiscovery (one ZooKeeper session) ── leader changes ──┐
//     │  one GatewayChannels: a channel per master address, the agents' own (grpc-js   │
//     │  multiplexes the streams; the framework's driver is not on it)                 │
//     └─ SimAgent × N ── MasterConnection ◄─────────────────────────────────────────────┘
//          registered ─► resend unacknowledged; launch → RUNNING, ack → drop the update,
//          reconcile → taskStates
//
// A SimAgent keeps what a real agent checkpoints (its id, its tasks with the latest status and the
// updates not yet acknowledged) in memory, re-registers with it after a failover, and resends the
// unacknowledged updates (same uuids) once re-registered and every 10 s.
//
// Standing in for a thousand hosts on one thread, the pool keeps the simulator from holding the
// master back: a new leader is greeted CONNECT_BATCH agents per turn of the event loop (the
// connection's `wake` hook, so hellos go out as they are made, not all after the last), and each
// agent keeps its re-registration message encoded until its tasks change (prepareHellos() encodes
// them all before a failover, as each host would on its own CPU). The master receives the same
// bytes either way.
import type * as grpc from '@grpc/grpc-js';
import { MasterConnection } from '../agent/connection.js';
import { encodeAgentMessage, GatewayChannels } from '../agent/gateway-transport.js';
import { systemClock } from '../core/clock.js';
import { ZooKeeperDiscovery } from '../core/discovery.js';
import { newUuid } from '../core/ids.js';
import { silentLogger } from '../core/logger.js';
import { Resources } from '../core/resources.js';
import { isTerminal, type TaskState } from '../core/task-state.js';
import { resourcesToWire } from '../core/wire.js';
import type { AgentInfo, AgentMessage, AgentRegistered__Output, AgentTask, FrameworkInfo, MasterMessage__Output, TaskInfo, TaskStatus } from '../proto/index.js';

export interface SimTask {
  readonly frameworkId: string;
  readonly task: TaskInfo;
  latest: TaskStatus;
  unacknowledged: TaskStatus[];
}

/** A (re)registration answered by a master. */
export interface Registration {
  readonly agent: SimAgent;
  readonly kind: 'registered' | 'reregistered';
  /** The master's gRPC address the stream went to. */
  readonly master: string;
  readonly atMs: number;
  /** From sending register / reregister on this stream to the answer. */
  readonly rttMs: number;
  /** The hello had waited at the successor (sent when the stream to the old leader broke). */
  readonly viaSuccessor: boolean;
}

export interface SimPoolOptions {
  /** Resource text every agent advertises. */
  readonly resources: string;
  /** How every agent reaches the master: TLS with an agent certificate, as real agents do. */
  readonly credentials: grpc.ChannelCredentials;
  /**
   * The agent's reconnect backoff (`--reconnect-backoff`, `--reconnect-backoff-max`), jittered and
   * doubling. A master that does not lead yet is asked again sooner, as a real agent does.
   */
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  /** Drop a stream whose register / reregister is not answered within this long (`--registration-timeout`). */
  readonly registrationTimeoutMs: number;
  readonly onRegistered?: (r: Registration) => void;
  readonly onLeaderChange?: (leader: string | undefined, atMs: number) => void;
}

/** Unacknowledged updates are sent again this often (a real agent starts at 10 s and doubles). */
const RESEND_MS = 10_000;

/** Agents connected per turn of the event loop after a change of leader. */
const CONNECT_BATCH = 20;

/** The shared parts: the leader watch, the channels to the masters, the options. */
export class SimAgentPool {
  readonly agents: SimAgent[] = [];
  /** Streams refused by a master that does not lead (yet), and streams that failed otherwise. */
  readonly failures = { notLeader: 0, other: 0 };
  /**
   * Their own channels, as agents on other hosts have: grpc-js would otherwise share one with
   * every client in this process to the same address (the framework's driver too), putting the
   * driver's calls behind megabytes of re-registrations. No channelz, as the master.
   */
  readonly transport: GatewayChannels;
  readonly #unwatch: () => void;
  /** Resends what is not acknowledged, as a real agent's status-update manager does. */
  readonly #resendTimer: NodeJS.Timeout;
  readonly resourcesWire: AgentInfo['resources'];
  /** Connects the election asked for, a batch per turn of the event loop (see wake). */
  readonly #toConnect: Array<() => void> = [];

  private constructor(
    readonly discovery: ZooKeeperDiscovery,
    readonly options: SimPoolOptions,
  ) {
    this.transport = new GatewayChannels(options.credentials, { 'grpc.use_local_subchannel_pool': 1, 'grpc.enable_channelz': 0 });
    this.resourcesWire = resourcesToWire(Resources.parse(options.resources));
    this.#resendTimer = setInterval(() => {
      for (const a of this.agents) a.resendUnacknowledged();
    }, RESEND_MS);
    this.#resendTimer.unref();
    this.#unwatch = discovery.onChange(() => options.onLeaderChange?.(discovery.current(), Date.now()));
  }

  static async open(zkUrl: string, cluster: string, options: SimPoolOptions): Promise<SimAgentPool> {
    return new SimAgentPool(await ZooKeeperDiscovery.open(zkUrl, cluster), options);
  }

  /** Create and connect `count` agents. */
  start(count: number): void {
    for (let i = 0; i < count; i++) {
      const agent = new SimAgent(this, this.agents.length);
      this.agents.push(agent);
      agent.start();
    }
  }

  /**
   * Run a connect the election asked for soon, CONNECT_BATCH per turn of the event loop. Agents on
   * their own hosts say hello the moment they see the new leader; here they share one thread, and a
   * stream's first message is only written out when the loop turns — connecting all of them in one
   * go would hold every hello back until the last was made.
   */
  wake(connect: () => void): void {
    if (this.#toConnect.length === 0) setImmediate(() => this.#connectBatch());
    this.#toConnect.push(connect);
  }

  #connectBatch(): void {
    for (const connect of this.#toConnect.splice(0, CONNECT_BATCH)) connect();
    if (this.#toConnect.length > 0) setImmediate(() => this.#connectBatch());
  }

  /**
   * Have every agent's re-registration message encoded now. Each agent on its own host builds its
   * message on its own CPU, in parallel with the others; here a thousand share one thread, which
   * would make the master wait on the simulator. The bytes are the same: an agent whose tasks
   * change afterwards encodes again.
   */
  prepareHellos(): void {
    for (const a of this.agents) a.prepareHello();
  }

  registeredCount(): number {
    return this.agents.filter((a) => a.registered).length;
  }

  unacknowledgedCount(): number {
    let n = 0;
    for (const a of this.agents) for (const t of a.tasks.values()) n += t.unacknowledged.length;
    return n;
  }

  async close(): Promise<void> {
    clearInterval(this.#resendTimer);
    this.#unwatch();
    for (const a of this.agents) a.close();
    this.transport.close();
    await this.discovery.close();
  }
}

export class SimAgent {
  agentId: string | undefined;
  readonly hostname: string;
  /** Tasks by `frameworkId/taskId`; a task leaves once terminal and acknowledged. */
  readonly tasks = new Map<string, SimTask>();
  readonly frameworks = new Map<string, FrameworkInfo>();
  readonly #connection: MasterConnection;
  /** Bumped on every change to what the hello carries; the encoded hello is kept for one version. */
  #version = 0;
  #encoded: { version: number; bytes: Buffer } | undefined;

  constructor(
    private readonly pool: SimAgentPool,
    readonly index: number,
  ) {
    this.hostname = `sim-${index}.bench`;
    const o = pool.options;
    this.#connection = new MasterConnection(
      {
        discovery: pool.discovery,
        clock: systemClock,
        backoffMs: o.backoffInitialMs,
        backoffMaxMs: o.backoffMaxMs,
        registrationTimeoutMs: o.registrationTimeoutMs,
        logger: silentLogger(),
        transport: pool.transport,
        wake: (connect) => pool.wake(connect),
      },
      {
        hello: () => this.#encodedHello(),
        onRegistered: (answer, master, details) => this.#registered(answer, master, details),
        onConnected: () => this.resendUnacknowledged(),
        onMessage: (m) => this.#receive(m),
        onDisconnected: () => undefined,
        onStreamLost: (kind) => {
          if (kind === 'not-leader') pool.failures.notLeader += 1;
          else pool.failures.other += 1;
        },
      },
    );
  }

  get registered(): boolean {
    return this.#connection.state === 'REGISTERED';
  }

  /** The master this agent is registered with. */
  get address(): string | undefined {
    return this.#connection.master;
  }

  start(): void {
    this.#connection.start();
  }

  close(): void {
    this.#connection.stop();
  }

  /** Send the unacknowledged updates again (same uuids), if registered. */
  resendUnacknowledged(): void {
    for (const t of this.tasks.values()) for (const status of t.unacknowledged) this.#send({ statusUpdate: { frameworkId: t.frameworkId, status } });
  }

  agentTasks(): AgentTask[] {
    return [...this.tasks.values()].map((t) => ({ frameworkId: t.frameworkId, task: t.task, latestStatus: t.latest, unacknowledged: [...t.unacknowledged] }));
  }

  prepareHello(): void {
    this.#encodedHello();
  }

  #encodedHello(): Buffer {
    if (this.#encoded?.version !== this.#version) this.#encoded = { version: this.#version, bytes: encodeAgentMessage(this.#hello()) };
    return this.#encoded.bytes;
  }

  #changed(): void {
    this.#version += 1;
  }

  #hello(): AgentMessage {
    const agentInfo: AgentInfo = {
      id: this.agentId ?? '',
      hostname: this.hostname,
      resources: this.pool.resourcesWire,
      attributes: [],
      httpAddress: `${this.hostname}:5052`,
      port: 5052,
      version: 'bench',
    };
    if (this.agentId === undefined) return { register: { agentInfo, version: 'bench' } };
    return { reregister: { agentId: this.agentId, agentInfo, tasks: this.agentTasks(), frameworks: [...this.frameworks.values()], version: 'bench' } };
  }

  #registered(answer: AgentRegistered__Output, master: string, details: { helloSentAtMs: number; viaSuccessor: boolean }): void {
    const kind = this.agentId === undefined ? 'registered' : 'reregistered';
    if (this.agentId !== answer.agentId) this.#changed();
    this.agentId = answer.agentId;
    const now = Date.now();
    this.pool.options.onRegistered?.({ agent: this, kind, master, atMs: now, rttMs: now - details.helloSentAtMs, viaSuccessor: details.viaSuccessor });
  }

  #receive(m: MasterMessage__Output): void {
    if (m.launch) this.#launch(m.launch.frameworkId, m.launch.frameworkInfo, m.launch.tasks);
    else if (m.launchGroup) this.#launch(m.launchGroup.frameworkId, m.launchGroup.frameworkInfo, m.launchGroup.taskGroup?.tasks ?? []);
    else if (m.acknowledgement) this.#acknowledged(m.acknowledgement.frameworkId, m.acknowledgement.taskId, m.acknowledgement.uuid);
    else if (m.kill) {
      const t = this.tasks.get(`${m.kill.frameworkId}/${m.kill.taskId}`);
      if (t && !isTerminal(t.latest.state as TaskState)) this.#update(t, 'TASK_KILLED');
    } else if (m.shutdownFramework) {
      for (const [key, t] of this.tasks) if (t.frameworkId === m.shutdownFramework.frameworkId) this.tasks.delete(key);
      this.frameworks.delete(m.shutdownFramework.frameworkId);
      this.#changed();
    } else if (m.reconcile) {
      const { frameworkId, taskIds, seq } = m.reconcile;
      const tasks = this.agentTasks().filter((t) => (!frameworkId || t.frameworkId === frameworkId) && (taskIds.length === 0 || taskIds.includes(t.task?.taskId ?? '')));
      this.#send({ taskStates: { seq, tasks } });
    } else if (m.shutdown) {
      process.stderr.write(`failover: agent ${this.hostname} told to shut down: ${m.shutdown.reason}\n`);
    }
  }

  /** The fake executor: a task costs nothing and is RUNNING at once. */
  #launch(frameworkId: string, frameworkInfo: FrameworkInfo | null, tasks: readonly TaskInfo[]): void {
    this.#changed();
    if (frameworkInfo) this.frameworks.set(frameworkId, frameworkInfo);
    for (const task of tasks) {
      const taskId = task.taskId ?? '';
      const t: SimTask = {
        frameworkId,
        task,
        latest: { taskId, state: 'TASK_STAGING', agentId: this.agentId ?? '', source: 'SOURCE_AGENT', uuid: '', timestampMs: Date.now() },
        unacknowledged: [],
      };
      this.tasks.set(`${frameworkId}/${taskId}`, t);
      this.#update(t, 'TASK_RUNNING');
    }
  }

  #update(t: SimTask, state: TaskState): void {
    const taskId = t.task.taskId ?? '';
    const status: TaskStatus = {
      taskId,
      state,
      reason: state === 'TASK_KILLED' ? 'REASON_KILLED_BY_FRAMEWORK' : 'REASON_UNSPECIFIED',
      message: '',
      source: 'SOURCE_EXECUTOR',
      uuid: newUuid(),
      timestampMs: Date.now(),
      agentId: this.agentId ?? '',
      executorId: taskId,
    };
    this.#changed();
    t.latest = status;
    t.unacknowledged.push(status);
    this.#send({ statusUpdate: { frameworkId: t.frameworkId, status } });
  }

  #acknowledged(frameworkId: string, taskId: string, uuid: string): void {
    const key = `${frameworkId}/${taskId}`;
    const t = this.tasks.get(key);
    if (!t) return;
    this.#changed();
    t.unacknowledged = t.unacknowledged.filter((s) => s.uuid !== uuid);
    if (t.unacknowledged.length === 0 && isTerminal(t.latest.state as TaskState)) this.tasks.delete(key);
  }

  #send(message: AgentMessage): void {
    this.#connection.send(message);
  }
}
