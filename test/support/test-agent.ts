// A test agent that speaks the real agent protocol to a master over gRPC: one AgentGateway.Connect
// stream, register (or re-register with an id and tasks), pongs, status updates with fresh uuids,
// acknowledgements. It runs nothing: tests (or `autoRun`) decide what each task reports.
//
//   TestAgent.connect(address, options) ──► Connect stream ──► register / reregister
//        │ every MasterMessage ──► Recorder (waitFor, expectNone, summary on timeout)
//        │ ping ──► pong (unless answerPings is false: a partition)
//        │ launch ──► tracked task (TASK_STAGING); autoRun ──► TASK_RUNNING
//        │ acknowledgement ──► the update leaves `unacknowledged`
//        └ disconnect() ends the stream; crash() cancels it
//
// Recorder, the waiting machinery, is shared with test-framework.ts.
import * as grpc from '@grpc/grpc-js';
import { LEADER_LOST_HEADER } from '../../core/discovery.js';
import { newUuid } from '../../core/ids.js';
import { fromGrpcError } from '../../core/grpc.js';
import { Resources } from '../../core/resources.js';
import { isTerminal, type TaskState } from '../../core/task-state.js';
import { attributesToWire, parseAttributes, resourcesToWire } from '../../core/wire.js';
import { agentChannel } from './security.js';
import {
  AgentGatewayClient,
  type AgentInfo,
  type AgentMessage,
  type AgentTask,
  type FrameworkInfo,
  type MasterMessage__Output,
  type StatusAcknowledgement__Output,
  type TaskInfo,
  type TaskStatus,
  type TaskStatusReason,
} from '../../proto/index.js';

// ---- Recorder: everything a peer received, and waiting for what it has not yet ----------------

export interface WaitOptions {
  /** Default 5000 ms. */
  timeoutMs?: number;
  /** Only items received at or after this index (see `mark()`); default 0 (everything so far). */
  since?: number;
  /** What the test is waiting for, for the timeout message. */
  what?: string;
}

interface Waiter<T> {
  predicate: (item: T) => boolean;
  since: number;
  resolve: (item: T) => void;
  reject: (err: Error) => void;
}

export class Recorder<T> {
  readonly items: T[] = [];
  /** Date.now() when each item arrived. */
  readonly times: number[] = [];
  readonly #waiters = new Set<Waiter<T>>();
  #ended: string | undefined;

  constructor(
    private readonly label: string,
    private readonly describe: (item: T) => string,
  ) {}

  get ended(): string | undefined {
    return this.#ended;
  }

  push(item: T): void {
    this.items.push(item);
    this.times.push(Date.now());
    const index = this.items.length - 1;
    for (const w of [...this.#waiters]) {
      if (index >= w.since && safeTest(w.predicate, item)) {
        this.#waiters.delete(w);
        w.resolve(item);
      }
    }
  }

  /** No more items will come: pending and later waits for unseen items fail at once. */
  end(reason: string): void {
    if (this.#ended !== undefined) return;
    this.#ended = reason;
    for (const w of [...this.#waiters]) {
      this.#waiters.delete(w);
      w.reject(new Error(`${this.label}: stream ended (${reason}) while waiting; received ${this.summary(w.since)}`));
    }
  }

  /** The index the next item will have: pass it as `since` to wait only for later items. */
  mark(): number {
    return this.items.length;
  }

  find(predicate: (item: T) => boolean, since = 0): T | undefined {
    for (let i = since; i < this.items.length; i++) if (safeTest(predicate, this.items[i] as T)) return this.items[i];
    return undefined;
  }

  filter(predicate: (item: T) => boolean, since = 0): T[] {
    return this.items.slice(since).filter((item) => safeTest(predicate, item));
  }

  /** The first item (at or after `since`) matching `predicate`, now or when it arrives. */
  waitFor(predicate: (item: T) => boolean, options: WaitOptions = {}): Promise<T> {
    const since = options.since ?? 0;
    const found = this.find(predicate, since);
    if (found !== undefined) return Promise.resolve(found);
    const timeoutMs = options.timeoutMs ?? 5000;
    const what = options.what ?? 'a matching message';
    if (this.#ended !== undefined) {
      return Promise.reject(new Error(`${this.label}: stream ended (${this.#ended}) before ${what}; received ${this.summary(since)}`));
    }
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        predicate,
        since,
        resolve: (item) => {
          clearTimeout(timer);
          resolve(item);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`${this.label}: timed out after ${timeoutMs} ms waiting for ${what}; received ${this.summary(since)}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Waits `ms` and fails if an item (at or after `since`) matching `predicate` arrived. */
  async expectNone(predicate: (item: T) => boolean, ms: number, options: { since?: number; what?: string } = {}): Promise<void> {
    const since = options.since ?? this.mark();
    await new Promise((resolve) => setTimeout(resolve, ms));
    const found = this.find(predicate, since);
    if (found !== undefined) {
      throw new Error(`${this.label}: expected no ${options.what ?? 'matching message'} within ${ms} ms, got ${this.describe(found)}; received ${this.summary(since)}`);
    }
  }

  /** A compact list of what arrived (runs of the same description collapsed as `xN`). */
  summary(since = 0): string {
    const parts: string[] = [];
    let last: string | undefined;
    let count = 0;
    const flush = (): void => {
      if (last !== undefined) parts.push(count > 1 ? `${last} x${count}` : last);
    };
    for (const item of this.items.slice(since)) {
      const d = this.describe(item);
      if (d === last) count += 1;
      else {
        flush();
        last = d;
        count = 1;
      }
    }
    flush();
    const total = this.items.length - since;
    return `${total} [${parts.join(', ')}]${this.#ended === undefined ? '' : ` (ended: ${this.#ended})`}`;
  }
}

function safeTest<T>(predicate: (item: T) => boolean, item: T): boolean {
  try {
    return predicate(item);
  } catch {
    return false;
  }
}

// ---- the agent ------------------------------------------------------------------------------

export const DEFAULT_AGENT_RESOURCES = 'cpus:4;mem:4096;disk:10240;ports:[31000-31099]';

export interface TestAgentOptions {
  hostname?: string;
  /** AgentInfo.ip, the IP it advertises (default none: an agent older than the field). */
  ip?: string;
  /** Resource text, e.g. `cpus:2;mem:1024` (default DEFAULT_AGENT_RESOURCES). */
  resources?: string;
  /** `rack:r1;zone:a`. */
  attributes?: string;
  /** Re-register with this id instead of registering. */
  agentId?: string;
  /** Tasks to report when re-registering (default none). */
  tasks?: readonly TrackedTask[];
  /** Frameworks to report when re-registering (default: those of `tasks`). */
  frameworks?: readonly FrameworkInfo[];
  /** Answer pings (default true); false simulates a partition. */
  answerPings?: boolean;
  /** Answer each launched task with TASK_RUNNING and each kill with TASK_KILLED (default false). */
  autoRun?: boolean;
  /** How long connect() waits for registered / reregistered (default 5000 ms). */
  timeoutMs?: number;
  /** Mark the stream "my stream to this leader broke" (LEADER_LOST_HEADER), as an agent does at the successor. */
  leaderLost?: string;
  /** How the agent authenticates (default: the test agent certificate). */
  credentials?: grpc.ChannelCredentials;
}

/** What the agent knows of a task: as it reports it when re-registering. */
export interface TrackedTask {
  frameworkId: string;
  task: TaskInfo;
  latest: TaskStatus;
  unacknowledged: TaskStatus[];
  frameworkInfo?: FrameworkInfo;
}

export interface UpdateOptions {
  reason?: TaskStatusReason;
  message?: string;
  exitCode?: number;
  healthy?: boolean;
  /** Reuse a uuid (a resend); default a fresh one. */
  uuid?: string;
}

let agentCounter = 0;

export class TestAgent {
  readonly messages: Recorder<MasterMessage__Output>;
  readonly acknowledgements: StatusAcknowledgement__Output[] = [];
  /** Tasks by `frameworkId/taskId`; a task leaves once terminal and acknowledged. */
  readonly tasks = new Map<string, TrackedTask>();
  /** Frameworks seen in launches (for re-registration). */
  readonly frameworks = new Map<string, FrameworkInfo>();
  answerPings: boolean;
  /** What the agent's pongs report its tasks use (none when undefined; no diskBytes: as an agent older than the field). */
  usage: { cpus: number; memBytes: number; diskBytes?: number } | undefined;
  autoRun: boolean;
  readonly hostname: string;
  readonly resources: string;
  #agentId: string | undefined;
  readonly #client: InstanceType<typeof AgentGatewayClient>;
  readonly #call: grpc.ClientDuplexStream<AgentMessage, MasterMessage__Output>;
  readonly #closed: Promise<void>;
  #error: Error | undefined;

  private constructor(
    readonly address: string,
    private readonly options: TestAgentOptions,
  ) {
    this.hostname = options.hostname ?? `agent-${++agentCounter}.test`;
    this.resources = options.resources ?? DEFAULT_AGENT_RESOURCES;
    this.answerPings = options.answerPings ?? true;
    this.autoRun = options.autoRun ?? false;
    this.#agentId = options.agentId;
    for (const t of options.tasks ?? []) this.tasks.set(`${t.frameworkId}/${t.task.taskId}`, cloneTracked(t));
    for (const f of options.frameworks ?? []) if (f.id) this.frameworks.set(f.id, f);
    for (const t of this.tasks.values()) if (t.frameworkInfo?.id) this.frameworks.set(t.frameworkInfo.id, t.frameworkInfo);
    this.messages = new Recorder(`agent ${this.hostname}`, describeMasterMessage);
    this.#client = new AgentGatewayClient(address, options.credentials ?? agentChannel());
    const metadata = new grpc.Metadata();
    if (options.leaderLost !== undefined) metadata.set(LEADER_LOST_HEADER, options.leaderLost);
    this.#call = this.#client.connect(metadata);
    this.#closed = new Promise((resolve) => {
      this.#call.on('data', (m: MasterMessage__Output) => this.#receive(m));
      this.#call.on('error', (err) => {
        this.#error = fromGrpcError(err);
        this.messages.end(`error: ${this.#error.message}`);
      });
      this.#call.on('status', (s: grpc.StatusObject) => {
        this.messages.end(`status ${grpc.status[s.code]}${s.details ? `: ${s.details}` : ''}`);
        resolve();
      });
      this.#call.on('close', () => {
        this.messages.end('closed');
        resolve();
      });
    });
  }

  /** Open a stream and register (or re-register, with `options.agentId`); resolves once answered. */
  static async connect(address: string, options: TestAgentOptions = {}): Promise<TestAgent> {
    const agent = TestAgent.open(address, options);
    try {
      await agent.register();
    } catch (err) {
      agent.crash();
      throw err;
    }
    return agent;
  }

  /** Open a stream without registering: the test sends what it likes with `send`. */
  static open(address: string, options: TestAgentOptions = {}): TestAgent {
    return new TestAgent(address, options);
  }

  get agentId(): string {
    if (this.#agentId === undefined) throw new Error(`agent ${this.hostname} has no id yet`);
    return this.#agentId;
  }

  /** The stream's error, if it failed. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Resolves when the stream is over (ended by either side, or failed). */
  get closed(): Promise<void> {
    return this.#closed;
  }

  get isClosed(): boolean {
    return this.messages.ended !== undefined;
  }

  agentInfo(): AgentInfo {
    return {
      id: this.#agentId ?? '',
      hostname: this.hostname,
      resources: resourcesToWire(Resources.parse(this.resources)),
      attributes: this.options.attributes ? attributesToWire(parseAttributes(this.options.attributes)) : [],
      httpAddress: `${this.hostname}:5052`,
      port: 5052,
      version: 'test',
      ...(this.options.ip === undefined ? {} : { ip: this.options.ip }),
    };
  }

  /** Send register (no id) or reregister (with an id and the tracked tasks); wait for the answer. */
  async register(): Promise<string> {
    const since = this.messages.mark();
    if (this.#agentId === undefined) this.send({ register: { agentInfo: this.agentInfo(), version: 'test' } });
    else this.send({ reregister: { agentId: this.#agentId, agentInfo: this.agentInfo(), tasks: this.agentTasks(), frameworks: [...this.frameworks.values()], version: 'test' } });
    const answer = await this.messages.waitFor((m) => m.type === 'registered' || m.type === 'reregistered' || m.type === 'error', {
      since,
      timeoutMs: this.options.timeoutMs ?? 5000,
      what: 'registered / reregistered',
    });
    if (answer.error) throw new Error(`agent ${this.hostname}: registration refused: ${answer.error.message}`);
    const registered = answer.registered ?? answer.reregistered;
    this.#agentId = registered?.agentId;
    return this.agentId;
  }

  send(message: AgentMessage): void {
    this.#call.write(message);
  }

  /** What this agent reports about its tasks when re-registering. */
  agentTasks(): AgentTask[] {
    return [...this.tasks.values()].map((t) => ({ frameworkId: t.frameworkId, task: t.task, latestStatus: t.latest, unacknowledged: [...t.unacknowledged] }));
  }

  /** A copy of the tracked tasks, to hand to a new connection (`TestAgent.connect(.., { tasks })`). */
  trackedTasks(): TrackedTask[] {
    return [...this.tasks.values()].map(cloneTracked);
  }

  task(frameworkId: string, taskId: string): TrackedTask | undefined {
    return this.tasks.get(`${frameworkId}/${taskId}`);
  }

  waitFor(predicate: (m: MasterMessage__Output) => boolean, options?: WaitOptions): Promise<MasterMessage__Output> {
    return this.messages.waitFor(predicate, options);
  }

  /** The next `launch` (or `launchGroup`) carrying `taskId` (any, when omitted). */
  waitForLaunch(taskId?: string, options: WaitOptions = {}): Promise<MasterMessage__Output> {
    return this.messages.waitFor(
      (m) => (m.launch?.tasks ?? m.launchGroup?.taskGroup?.tasks ?? []).some((t) => taskId === undefined || t.taskId === taskId) && (m.type === 'launch' || m.type === 'launchGroup'),
      { what: `launch of ${taskId ?? 'any task'}`, ...options },
    );
  }

  /** The message acknowledging `uuid`: alone (`acknowledgement`) or in a batch (`acknowledgements`). */
  waitForAck(uuid: string, options: WaitOptions = {}): Promise<MasterMessage__Output> {
    return this.messages.waitFor((m) => acknowledgementsIn(m).some((a) => a.uuid === uuid), { what: `acknowledgement ${uuid}`, ...options });
  }

  /** Send a status update with a fresh uuid (tracked until acknowledged); returns the status sent. */
  update(frameworkId: string, taskId: string, state: TaskState, options: UpdateOptions = {}): TaskStatus {
    const status: TaskStatus = {
      taskId,
      state,
      reason: options.reason ?? 'REASON_UNSPECIFIED',
      message: options.message ?? '',
      source: 'SOURCE_EXECUTOR',
      uuid: options.uuid ?? newUuid(),
      timestampMs: Date.now(),
      agentId: this.#agentId ?? '',
      executorId: taskId,
      ...(options.exitCode === undefined ? {} : { exitCode: options.exitCode }),
      ...(options.healthy === undefined ? {} : { healthy: options.healthy }),
    };
    const tracked = this.task(frameworkId, taskId);
    if (tracked) {
      tracked.latest = status;
      if (!tracked.unacknowledged.some((s) => s.uuid === status.uuid)) tracked.unacknowledged.push(status);
    }
    this.send({ statusUpdate: { frameworkId, status } });
    return status;
  }

  /** Send every unacknowledged update again (same uuids), oldest first. */
  resendUnacknowledged(): number {
    let n = 0;
    for (const t of this.tasks.values()) {
      for (const status of t.unacknowledged) {
        this.send({ statusUpdate: { frameworkId: t.frameworkId, status } });
        n += 1;
      }
    }
    return n;
  }

  /** Stop (false) or resume (true) answering pings. */
  setAnswerPings(answer: boolean): void {
    this.answerPings = answer;
  }

  /** End the stream cleanly (half-close; the master closes its side). */
  async disconnect(): Promise<void> {
    if (!this.isClosed) this.#call.end();
    await Promise.race([this.#closed, new Promise((resolve) => setTimeout(resolve, 2000))]);
    if (!this.isClosed) this.#call.cancel();
    this.#client.close();
  }

  /** Cancel the stream abruptly, as a crashed process would. */
  crash(): void {
    this.#call.cancel();
    this.#client.close();
  }

  /** Close whatever is open (for afterEach). */
  async close(): Promise<void> {
    if (!this.isClosed) this.crash();
    else this.#client.close();
    await Promise.race([this.#closed, new Promise((resolve) => setTimeout(resolve, 1000))]);
  }

  #receive(m: MasterMessage__Output): void {
    this.messages.push(m);
    if (m.ping) {
      if (this.answerPings) this.send({ pong: { seq: m.ping.seq, ...(this.usage ? { usage: { ...this.usage, roles: [], sampledAtMs: Date.now() } } : {}) } });
    } else if (m.launch) {
      this.#track(m.launch.frameworkId, m.launch.frameworkInfo ?? undefined, m.launch.tasks);
    } else if (m.launchGroup) {
      this.#track(m.launchGroup.frameworkId, m.launchGroup.frameworkInfo ?? undefined, m.launchGroup.taskGroup?.tasks ?? []);
    } else if (m.acknowledgement || m.acknowledgements) {
      for (const ack of acknowledgementsIn(m)) this.#acknowledged(ack);
    } else if (m.kill) {
      const tracked = this.task(m.kill.frameworkId, m.kill.taskId);
      if (this.autoRun && tracked && !isTerminal(tracked.latest.state as TaskState)) this.update(m.kill.frameworkId, m.kill.taskId, 'TASK_KILLED', { reason: 'REASON_KILLED_BY_FRAMEWORK' });
    } else if (m.shutdownFramework) {
      for (const [key, t] of this.tasks) if (t.frameworkId === m.shutdownFramework.frameworkId) this.tasks.delete(key);
      this.frameworks.delete(m.shutdownFramework.frameworkId);
    } else if (m.reconcile) {
      const { frameworkId, taskIds, seq } = m.reconcile;
      const tasks = this.agentTasks().filter((t) => (!frameworkId || t.frameworkId === frameworkId) && (taskIds.length === 0 || taskIds.includes(t.task?.taskId ?? '')));
      this.send({ taskStates: { seq, tasks } });
    }
  }

  #track(frameworkId: string, frameworkInfo: FrameworkInfo | undefined, tasks: readonly TaskInfo[]): void {
    if (frameworkInfo) this.frameworks.set(frameworkId, frameworkInfo);
    for (const task of tasks) {
      const taskId = task.taskId ?? '';
      this.tasks.set(`${frameworkId}/${taskId}`, {
        frameworkId,
        task,
        latest: { taskId, state: 'TASK_STAGING', agentId: this.#agentId ?? '', source: 'SOURCE_AGENT', uuid: '', timestampMs: Date.now() },
        unacknowledged: [],
        ...(frameworkInfo ? { frameworkInfo } : {}),
      });
      if (this.autoRun) this.update(frameworkId, taskId, 'TASK_RUNNING');
    }
  }

  #acknowledged(ack: StatusAcknowledgement__Output): void {
    this.acknowledgements.push(ack);
    const key = `${ack.frameworkId}/${ack.taskId}`;
    const tracked = this.tasks.get(key);
    if (!tracked) return;
    tracked.unacknowledged = tracked.unacknowledged.filter((s) => s.uuid !== ack.uuid);
    if (tracked.unacknowledged.length === 0 && isTerminal(tracked.latest.state as TaskState)) this.tasks.delete(key);
  }
}

function cloneTracked(t: TrackedTask): TrackedTask {
  return { ...t, latest: { ...t.latest }, unacknowledged: t.unacknowledged.map((s) => ({ ...s })) };
}

/** A tracked task for re-registration tests: `reportedTask(frameworkId, task, 'TASK_RUNNING')`. */
export function reportedTask(frameworkId: string, task: TaskInfo, state: TaskState, agentId = ''): TrackedTask {
  return {
    frameworkId,
    task,
    latest: { taskId: task.taskId ?? '', state, agentId, source: 'SOURCE_EXECUTOR', uuid: newUuid(), timestampMs: Date.now() },
    unacknowledged: [],
  };
}

export function describeMasterMessage(m: MasterMessage__Output): string {
  switch (m.type) {
    case 'launch':
      return `launch(${m.launch?.tasks.map((t) => t.taskId).join(',')})`;
    case 'launchGroup':
      return `launchGroup(${m.launchGroup?.taskGroup?.tasks.map((t) => t.taskId).join(',')})`;
    case 'kill':
      return `kill(${m.kill?.taskId})`;
    case 'acknowledgement':
      return `ack(${m.acknowledgement?.taskId})`;
    case 'acknowledgements':
      return `acks(${m.acknowledgements?.acknowledgements.map((a) => a.taskId).join(',')})`;
    case 'error':
      return `error(${m.error?.message})`;
    case 'shutdownFramework':
      return `shutdownFramework(${m.shutdownFramework?.frameworkId})`;
    case 'registered':
    case 'reregistered':
      return `${m.type}(${(m.registered ?? m.reregistered)?.agentId})`;
    default:
      return m.type ?? 'unknown';
  }
}

/** The acknowledgements a master message carries: one (`acknowledgement`) or a batch (`acknowledgements`). */
export function acknowledgementsIn(m: MasterMessage__Output): StatusAcknowledgement__Output[] {
  if (m.acknowledgement) return [m.acknowledgement];
  return m.acknowledgements?.acknowledgements ?? [];
}
