// Simulated agents for the failover benchmark: many lean agents in one process, each speaking the
// real AgentGateway protocol (one Connect stream each) with a "fake executor" that runs nothing.
//
//   SimAgentPool ── one ZooKeeperDiscovery (one ZooKeeper session) ── leader changes ──┐
//     │  one connection per master address, the agents' own (grpc-js multiplexes the   │
//     │  streams; the framework's driver is not on it)                                 │
//     └─ SimAgent × N: register | reregister ─► registered ─► pong, launch → RUNNING,  ◄┘
//          ack → drop the update, reconcile → taskStates; stream gone ─► jittered backoff
//
// As a real agent (agent/connection.ts), a SimAgent whose stream to the leader breaks also says
// hello at once to the master next in line, marked LEADER_LOST_HEADER, and keeps whichever of the
// two streams is answered (or named leader) first.
//
// A SimAgent keeps what a real agent checkpoints (its id, its tasks with the latest status and the
// updates not yet acknowledged) in memory, re-registers with it after a failover, and resends the
// unacknowledged updates (same uuids) once re-registered and every 10 s.
//
// Standing in for a thousand hosts on one thread, the pool keeps the simulator from holding the
// master back: a new leader is greeted CONNECT_BATCH agents per turn of the event loop (so hellos
// go out as they are made, not all after the last), and each agent keeps its re-registration
// message encoded until its tasks change (prepareHellos() encodes them all before a failover, as
// each host would on its own CPU). The master receives the same bytes either way.
import * as grpc from '@grpc/grpc-js';
import { LEADER_LOST_HEADER, ZooKeeperDiscovery } from '../core/discovery.js';
import { NotLeaderError } from '../core/errors.js';
import { fromGrpcError } from '../core/grpc.js';
import { newUuid } from '../core/ids.js';
import { Resources } from '../core/resources.js';
import { isTerminal, type TaskState } from '../core/task-state.js';
import { resourcesToWire } from '../core/wire.js';
import {
  AgentGatewayService,
  type AgentInfo,
  type AgentMessage,
  type AgentTask,
  type FrameworkInfo,
  type MasterMessage__Output,
  type TaskInfo,
  type TaskStatus,
} from '../proto/index.js';

type Call = grpc.ClientDuplexStream<AgentMessage | Buffer, MasterMessage__Output>;

/** AgentGateway.Connect, called with our own serializer so a hello can be sent already encoded. */
const CONNECT = AgentGatewayService.Connect;
const serialize = (m: AgentMessage | Buffer): Buffer => (Buffer.isBuffer(m) ? m : CONNECT.requestSerialize(m));
const deserialize = (b: Buffer): MasterMessage__Output => CONNECT.responseDeserialize(b) as MasterMessage__Output;

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
   * Reconnect backoff, jittered and doubling, for a master that answers but does not lead yet
   * (UNAVAILABLE naming a leader: it is taking over): retry soon.
   */
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  /**
   * Backoff after a stream failed otherwise (the master is gone): slow, since the shared leader
   * watch wakes every agent at once when the leader changes.
   */
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  /** Drop a stream whose register / reregister is not answered within this long. */
  readonly registrationTimeoutMs: number;
  readonly onRegistered?: (r: Registration) => void;
  readonly onLeaderChange?: (leader: string | undefined, atMs: number) => void;
}

type SimState = 'idle' | 'backoff' | 'registering' | 'registered' | 'closed';

/** Unacknowledged updates are sent again this often (a real agent starts at 10 s and doubles). */
const RESEND_MS = 10_000;

/** Agents connected per turn of the event loop after a change of leader. */
const CONNECT_BATCH = 20;

/** The shared parts: the leader watch, one client per master, the options. */
export class SimAgentPool {
  readonly agents: SimAgent[] = [];
  /** Streams refused by a master that does not lead (yet), and streams that failed otherwise. */
  readonly failures = { notLeader: 0, other: 0 };
  readonly #clients = new Map<string, grpc.Client>();
  readonly #unwatch: () => void;
  /** Resends what is not acknowledged, as a real agent's status-update manager does. */
  readonly #resendTimer: NodeJS.Timeout;
  readonly resourcesWire: AgentInfo['resources'];
  /** Agents to connect, a batch per turn of the event loop (see connectSoon). */
  readonly #toConnect = new Set<SimAgent>();

  private constructor(
    readonly discovery: ZooKeeperDiscovery,
    readonly options: SimPoolOptions,
  ) {
    this.resourcesWire = resourcesToWire(Resources.parse(options.resources));
    this.#resendTimer = setInterval(() => {
      for (const a of this.agents) a.resendUnacknowledged();
    }, RESEND_MS);
    this.#resendTimer.unref();
    this.#unwatch = discovery.onChange(() => {
      const leader = discovery.current();
      options.onLeaderChange?.(leader, Date.now());
      for (const a of this.agents) a.leaderChanged(leader);
    });
  }

  static async open(zkUrl: string, cluster: string, options: SimPoolOptions): Promise<SimAgentPool> {
    return new SimAgentPool(await ZooKeeperDiscovery.open(zkUrl, cluster), options);
  }

  /** Create and connect `count` agents. */
  start(count: number): void {
    for (let i = 0; i < count; i++) {
      const agent = new SimAgent(this, this.agents.length);
      this.agents.push(agent);
      agent.connect();
    }
  }

  /**
   * Connect soon, CONNECT_BATCH agents per turn of the event loop. Agents on their own hosts say
   * hello the moment they see the new leader; here they share one thread, and a stream's first
   * message is only written out when the loop turns — connecting all of them in one go would hold
   * every hello back until the last was encoded.
   */
  connectSoon(agent: SimAgent): void {
    if (this.#toConnect.size === 0) setImmediate(() => this.#connectBatch());
    this.#toConnect.add(agent);
  }

  #connectBatch(): void {
    let n = 0;
    for (const agent of this.#toConnect) {
      if (n++ === CONNECT_BATCH) break;
      this.#toConnect.delete(agent);
      if (agent.state === 'backoff') agent.connect();
    }
    if (this.#toConnect.size > 0) setImmediate(() => this.#connectBatch());
  }

  /** A new Connect stream to the master at `address`; `lostLeader` marks it LEADER_LOST_HEADER. */
  connect(address: string, lostLeader?: string): Call {
    let client = this.#clients.get(address);
    if (!client) {
      // Their own connection, as agents on other hosts have: grpc-js would otherwise share one with
      // every client in this process to the same address (the framework's driver too), putting
      // the driver's calls behind megabytes of re-registrations. No channelz, as the master.
      client = new grpc.Client(address, this.options.credentials, { 'grpc.use_local_subchannel_pool': 1, 'grpc.enable_channelz': 0 });
      this.#clients.set(address, client);
    }
    const metadata = new grpc.Metadata();
    if (lostLeader !== undefined) metadata.set(LEADER_LOST_HEADER, lostLeader);
    return client.makeBidiStreamRequest(CONNECT.path, serialize, deserialize, metadata);
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
    return this.agents.filter((a) => a.state === 'registered').length;
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
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
    await this.discovery.close();
  }
}

export class SimAgent {
  state: SimState = 'idle';
  agentId: string | undefined;
  readonly hostname: string;
  /** Tasks by `frameworkId/taskId`; a task leaves once terminal and acknowledged. */
  readonly tasks = new Map<string, SimTask>();
  readonly frameworks = new Map<string, FrameworkInfo>();
  /** The master this agent last sent its hello to. */
  address: string | undefined;
  #call: Call | undefined;
  #timer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #helloAt = 0;
  /** Bumped on every change to what the hello carries; the encoded hello is kept for one version. */
  #version = 0;
  #encoded: { version: number; bytes: Buffer } | undefined;
  /** A hello waiting at the successor since the stream to the leader broke. */
  #standby: { readonly call: Call; readonly address: string; readonly helloAt: number } | undefined;
  #viaSuccessor = false;

  constructor(
    private readonly pool: SimAgentPool,
    readonly index: number,
  ) {
    this.hostname = `sim-${index}.bench`;
  }

  connect(): void {
    if (this.state === 'closed') return;
    this.#clearTimer();
    const address = this.pool.discovery.current();
    if (address === undefined) {
      this.#backoff();
      return;
    }
    this.address = address;
    this.state = 'registering';
    const call = this.#open(address);
    this.#call = call;
    this.#helloAt = Date.now();
    this.#viaSuccessor = false;
    call.write(this.#encodedHello());
    this.#armRegistrationTimeout();
  }

  /** A Connect stream whose events go to #receive and #gone (which see whether it is this agent's). */
  #open(address: string, lostLeader?: string): Call {
    const call = this.pool.connect(address, lostLeader);
    call.on('data', (m: MasterMessage__Output) => this.#receive(call, m));
    call.on('error', (err: grpc.ServiceError) => this.#gone(call, `stream error: ${err.details || err.message}`, fromGrpcError(err) instanceof NotLeaderError));
    call.on('end', () => this.#gone(call, 'the master ended the stream'));
    call.on('close', () => this.#gone(call, 'stream closed'));
    return call;
  }

  #armRegistrationTimeout(): void {
    this.#timer = setTimeout(() => this.#drop(`no answer to registration within ${this.pool.options.registrationTimeoutMs} ms`), this.pool.options.registrationTimeoutMs);
  }

  /** Not this agent's stream: the one waiting at the successor is adopted once answered, or forgotten once gone. */
  #notCurrent(call: Call, m?: MasterMessage__Output): boolean {
    if (call === this.#call) return false;
    const standby = this.#standby;
    if (call !== standby?.call) return true;
    if (m === undefined) this.#standby = undefined;
    else if (m.registered ?? m.reregistered) {
      this.#adopt(standby);
      return false;
    }
    return true;
  }

  /** The shared leader watch moved: leave a master that no longer leads, or stop waiting. */
  leaderChanged(leader: string | undefined): void {
    if (this.state === 'closed' || leader === undefined) return;
    const standby = this.#standby;
    if (standby && standby.address === leader && this.state !== 'registered') {
      this.#attempt = 0;
      this.#adopt(standby);
      return;
    }
    if (standby) this.#cancelStandby();
    if (this.state === 'backoff') {
      this.#attempt = 0;
      this.#clearTimer();
      this.pool.connectSoon(this);
    } else if (leader !== this.address) {
      this.#attempt = 0;
      this.#drop(`the leading master is now ${leader}`, true);
    }
  }

  close(): void {
    this.state = 'closed';
    this.#clearTimer();
    this.#cancelStandby();
    const call = this.#call;
    this.#call = undefined;
    call?.cancel();
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
    if (this.#encoded?.version !== this.#version) this.#encoded = { version: this.#version, bytes: serialize(this.#hello()) };
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

  #receive(call: Call, m: MasterMessage__Output): void {
    if (this.#notCurrent(call, m)) return;
    if (m.error) {
      if (m.error.fatal) this.#drop(`fatal error from the master: ${m.error.message}`);
      return;
    }
    const answer = m.registered ?? m.reregistered;
    if (answer) {
      this.#clearTimer();
      if (this.agentId !== answer.agentId) this.#changed();
      this.agentId = answer.agentId;
      this.state = 'registered';
      this.#attempt = 0;
      this.#cancelStandby();
      const now = Date.now();
      this.pool.options.onRegistered?.({ agent: this, kind: m.registered ? 'registered' : 'reregistered', master: this.address ?? '', atMs: now, rttMs: now - this.#helloAt, viaSuccessor: this.#viaSuccessor });
      for (const t of this.tasks.values()) for (const status of t.unacknowledged) this.#send({ statusUpdate: { frameworkId: t.frameworkId, status } });
      return;
    }
    if (this.state !== 'registered') return;
    if (m.ping) this.#send({ pong: { seq: m.ping.seq } });
    else if (m.launch) this.#launch(m.launch.frameworkId, m.launch.frameworkInfo, m.launch.tasks);
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
    if (this.state === 'registered') this.#call?.write(message);
  }

  #gone(call: Call, reason: string, masterAlive = false): void {
    if (this.#notCurrent(call)) return;
    if (masterAlive) this.pool.failures.notLeader += 1;
    else this.pool.failures.other += 1;
    const lost = this.address;
    this.#drop(reason, false, masterAlive);
    if (!masterAlive && lost !== undefined) void this.#waitAtSuccessor(lost);
  }

  async #waitAtSuccessor(lost: string): Promise<void> {
    const discovery = this.pool.discovery;
    if (!this.#mayWait(lost)) return;
    const address = await discovery.successor();
    if (address === undefined || address === lost || !this.#mayWait(lost)) return;
    const call = this.#open(address, lost);
    this.#standby = { call, address, helloAt: Date.now() };
    call.write(this.#encodedHello());
  }

  #mayWait(lost: string): boolean {
    const state: SimState = this.state;
    return !this.#standby && this.pool.discovery.current() === lost && state !== 'closed' && state !== 'registered';
  }

  /** The stream waiting at the successor becomes this agent's stream (registering). */
  #adopt(standby: { readonly call: Call; readonly address: string; readonly helloAt: number }): void {
    this.#standby = undefined;
    const old = this.#call;
    this.#clearTimer();
    this.#call = standby.call;
    this.address = standby.address;
    this.state = 'registering';
    this.#helloAt = standby.helloAt;
    this.#viaSuccessor = true;
    old?.cancel();
    this.#armRegistrationTimeout();
  }

  #cancelStandby(): void {
    const standby = this.#standby;
    this.#standby = undefined;
    standby?.call.cancel();
  }

  #drop(_reason: string, immediately = false, masterAlive = false): void {
    if (this.state === 'closed' || this.state === 'backoff') return;
    const call = this.#call;
    this.#call = undefined;
    this.#clearTimer();
    call?.cancel();
    this.#backoff(immediately, masterAlive);
  }

  #backoff(immediately = false, masterAlive = false): void {
    if (this.state === 'closed') return;
    this.state = 'backoff';
    const o = this.pool.options;
    const [initial, max] = masterAlive ? [o.retryInitialMs, o.retryMaxMs] : [o.backoffInitialMs, o.backoffMaxMs];
    const raw = Math.min(max, initial * 2 ** this.#attempt);
    const delay = immediately && this.#attempt === 0 ? Math.random() * 20 : raw * (0.8 + 0.4 * Math.random());
    this.#attempt += 1;
    this.#timer = setTimeout(() => this.connect(), delay);
  }

  #clearTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
