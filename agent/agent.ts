// The agent process: composes detection, the checkpoint, the task manager, the status-update
// manager, the master connection and the HTTP endpoints (see agent/README.md for the picture).
//
// Lifecycle: INITIALIZED → RECOVERING (checkpoint read, containers re-adopted) → REGISTERING
// (HTTP up, stream to the master) ⇄ RUNNING (registered) → STOPPING → STOPPED.
import { systemClock, type Clock } from '../core/clock.js';
import { discoverMasters, type MasterDiscovery } from '../core/discovery.js';
import { createHttpServer, listenHttp, type HttpServer } from '../core/http.js';
import { httpLimitsFrom } from '../core/server-limits.js';
import { createLogger, type Logger } from '../core/logger.js';
import type { Random } from '../core/random.js';
import type { Resources } from '../core/resources.js';
import { VERSION } from '../core/version.js';
import { attributesToWire, resourcesToWire } from '../core/wire.js';
import type { AgentCapability, AgentInfo, AgentMessage, AgentRegistered__Output, MasterMessage__Output, TaskStatus } from '../proto/index.js';
import { CapabilityWatch } from './capabilities.js';
import { Checkpoint } from './checkpoint.js';
import { MasterConnection } from './connection.js';
import type { AgentContext, AgentLifecycle } from './context.js';
import type { Executor, ExecutorKind } from './executor.js';
import { createExecutor } from './executors/index.js';
import { startHealthChecker, type CheckOutcome, type HealthCheckerOptions } from './health/index.js';
import { registerAgentRoutes } from './http.js';
import { ExecSessions } from './exec.js';
import { compileAgentOptions, type AgentOptions } from './options.js';
import { detectResources, type MachineFacts } from './resources-detect.js';
import { StatusUpdateManager } from './status-updates.js';
import { TaskManager, type CheckEvents, type CheckStarter } from './task-manager.js';
import { recoverTasks } from './task-recovery.js';
import { SandboxWatch } from './sandbox-watch.js';
import { UsageSampler, usageSummary } from './usage.js';
import { AGENT_SHUTDOWN, AGENT_STOPPING, FRAMEWORK_REMOVED } from './task-spec.js';
import { requireAuthentication } from '../core/security/edge.js';
import type { ServerTls } from '../core/security/tls.js';
import { agentSecurity, type AgentSecurity } from './security.js';
import { UserDb } from './user-db.js';

export type { AgentLifecycle } from './context.js';

/** Makes the executor of a kind; the agent calls it once per kind, on first use. */
export type ExecutorFactory = (kind: ExecutorKind, options: AgentOptions, logger: Logger) => Executor;

export interface AgentDeps {
  /** Default: agent/executors' createExecutor. */
  createExecutor?: ExecutorFactory;
  /** Default: agent/health's HealthChecker. */
  startCheck?: CheckStarter;
  clock?: Clock;
  random?: Random;
  logger?: Logger;
  /** Facts instead of probing the machine (tests). */
  machine?: MachineFacts;
  /** TLS material in memory (agora up, tests) instead of --tls-* files. */
  tls?: ServerTls;
  /** The host's users; default /etc/passwd and /etc/group, then getent. */
  users?: UserDb;
}

const TRANSITIONS: Readonly<Record<AgentLifecycle, readonly AgentLifecycle[]>> = {
  INITIALIZED: ['RECOVERING', 'STOPPING'],
  RECOVERING: ['REGISTERING', 'STOPPING'],
  REGISTERING: ['RUNNING', 'STOPPING'],
  RUNNING: ['REGISTERING', 'STOPPING'],
  STOPPING: ['STOPPED'],
  STOPPED: [],
};

export class Agent implements AgentContext {
  #lifecycle: AgentLifecycle = 'INITIALIZED';
  #agentId: string | undefined;
  #httpPort = 0;
  #http: HttpServer | undefined;
  #stopping: Promise<void> | undefined;
  /** The capabilities the master was last told of (hello or update). */
  #announced: readonly AgentCapability[] = [];
  #resolveStopped!: () => void;
  readonly stopped: Promise<void> = new Promise((resolve) => (this.#resolveStopped = resolve));
  readonly tasks: TaskManager;
  readonly updates: StatusUpdateManager;
  readonly checkpoint: Checkpoint;
  readonly #connection: MasterConnection;
  readonly #executors = new Map<ExecutorKind, Executor>();
  readonly security: AgentSecurity;
  /** Disk limits and log rotation of the running tasks' sandboxes. */
  readonly sandboxLimits: SandboxWatch;
  /** Every --usage-interval, what each live task has used. */
  readonly usage: UsageSampler;
  /** Whether its Docker engine answers (the DOCKER capability), checked every --docker-check-interval. */
  readonly capabilities: CapabilityWatch;

  private constructor(
    readonly options: AgentOptions,
    readonly total: Resources,
    readonly logger: Logger,
    private readonly deps: AgentDeps & { clock: Clock },
    readonly discovery: MasterDiscovery,
  ) {
    // Callers of the HTTP endpoints are checked with the master the agent is registered with (any
    // master can answer; before registration, the one discovery names).
    this.security = agentSecurity(options, logger, () => this.#connection.master ?? discovery.current(), deps.tls);
    this.checkpoint = new Checkpoint(options.workDir);
    const checkpoint = this.checkpoint;
    this.updates = new StatusUpdateManager({
      clock: deps.clock,
      retryMs: options.statusUpdateRetry,
      retryMaxMs: options.statusUpdateRetryMax,
      logger: logger.child({ component: 'status-updates' }),
      journal: {
        recordUpdate: (fw, task, status) => checkpoint.journal(fw, task).append({ update: status }, true),
        recordAck: (fw, task, uuid) => checkpoint.journal(fw, task).append({ ack: uuid }, false),
      },
      send: (frameworkId, status) => this.#sendUpdate(frameworkId, status),
      onTerminalAcknowledged: (fw, task) => void this.tasks.forget(fw, task).catch((err: unknown) => logger.error({ err }, 'could not forget a task')),
    });
    this.tasks = new TaskManager({
      checkpoint,
      updates: this.updates,
      executor: (kind) => this.#executor(kind),
      defaultExecutor: options.executor,
      clock: deps.clock,
      logger: logger.child({ component: 'tasks' }),
      hostname: options.hostname,
      agentId: () => this.#agentId ?? '',
      killGracePeriodMs: options.killGracePeriod,
      users: { users: deps.users ?? new UserDb(), allowRoot: options.allowRootTasks },
      startCheck: deps.startCheck ?? ((check, spec, events) => startHealthChecker({ check, target: spec, host: this.advertiseIp, clock: deps.clock, log: logger.child({ component: 'checks', taskId: spec.taskId }), ...checkCallbacks(events) })),
    });
    this.sandboxLimits = new SandboxWatch({ options, clock: deps.clock, logger, tasks: this.tasks });
    this.usage = new UsageSampler({
      clock: deps.clock,
      intervalMs: options.usageInterval,
      log: logger.child({ component: 'usage' }),
      tasks: () => this.tasks.tasks.values(),
      frameworkRoles: (frameworkId) => this.tasks.frameworks.get(frameworkId)?.roles ?? [],
      diskBytes: (frameworkId, taskId) => this.sandboxLimits.diskUsage(frameworkId, taskId)?.usedBytes,
    });
    this.capabilities = new CapabilityWatch({
      ping: async () => this.#executor('docker').ping?.(),
      endpoint: options.dockerEndpoint.url,
      clock: deps.clock,
      intervalMs: options.dockerCheckInterval,
      logger: logger.child({ component: 'capabilities' }),
      onChange: (capabilities) => this.#capabilitiesChanged(capabilities),
    });
    this.#connection = new MasterConnection(
      {
        discovery,
        clock: deps.clock,
        ...(deps.random ? { random: deps.random } : {}),
        backoffMs: options.reconnectBackoff,
        backoffMaxMs: options.reconnectBackoffMax,
        registrationTimeoutMs: options.registrationTimeout,
        logger: logger.child({ component: 'connection' }),
        credentials: this.security.channel,
      },
      {
        hello: () => this.#hello(),
        usage: () => usageSummary(this.usage.all()),
        onRegistered: (answer, master) => this.#onRegistered(answer, master),
        onConnected: () => this.#onConnected(),
        onMessage: (message) => this.#onMessage(message),
        onDisconnected: () => this.#onDisconnected(),
      },
    );
  }

  /** Detect resources, recover from the work dir, serve HTTP, and start registering. */
  static async start(raw: Record<string, unknown> | AgentOptions, deps: AgentDeps = {}): Promise<Agent> {
    const options = Object.isFrozen(raw) ? (raw as AgentOptions) : compileAgentOptions(raw);
    const logger = (deps.logger ?? createLogger({ level: options.logLevel, name: 'agent' })).child({ component: 'agent' });
    const total = await detectResources({ flag: options.resources, memReserve: options.memReserve, workDir: options.workDir }, deps.machine);
    const discovery = await discoverMasters(options.master.kind === 'zk' ? options.master.url : options.master.addresses, options.cluster);
    const agent = new Agent(options, total, logger, { ...deps, clock: deps.clock ?? systemClock }, discovery);
    try {
      await agent.#recover();
      agent.sandboxLimits.start();
      agent.usage.start();
      await agent.#serveHttp();
      // Before the first registration, which carries the answer.
      await agent.capabilities.start();
    } catch (err) {
      await agent.stop();
      throw err;
    }
    agent.#transition('REGISTERING');
    agent.#connection.start();
    return agent;
  }

  get lifecycle(): AgentLifecycle {
    return this.#lifecycle;
  }

  get agentId(): string | undefined {
    return this.#agentId;
  }

  get master(): string | undefined {
    return this.#connection.master;
  }

  get hostname(): string {
    return this.options.hostname;
  }

  /** The IP its tasks are reached at (--advertise-ip, resolved when the options were compiled). */
  get advertiseIp(): string {
    return this.options.advertiseIp ?? this.options.hostname;
  }

  get httpPort(): number {
    return this.#httpPort;
  }

  get httpAddress(): string {
    return `${this.options.hostname}:${this.#httpPort}`;
  }

  agentInfo(): AgentInfo {
    return {
      id: this.#agentId ?? '',
      hostname: this.options.hostname,
      resources: resourcesToWire(this.total),
      attributes: attributesToWire(this.options.attributes),
      httpAddress: this.httpAddress,
      port: this.#httpPort,
      version: VERSION,
      ip: this.advertiseIp,
      capabilities: [...this.capabilities.capabilities],
    };
  }

  /** Stop intake (the stream), then either leave the tasks running (default) or kill them; close. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #stop(): Promise<void> {
    this.#transition('STOPPING');
    this.#connection.stop();
    this.capabilities.stop();
    this.sandboxLimits.stop();
    this.usage.stop();
    if (this.options.killTasksOnStop) await this.tasks.killAll(AGENT_STOPPING);
    this.tasks.detach();
    await this.tasks.idle();
    this.updates.close();
    await this.checkpoint.close();
    await this.#http?.close();
    this.security.authenticator.close?.();
    await Promise.allSettled([...this.#executors.values()].map((e) => e.close()));
    await this.discovery.close().catch((err: unknown) => this.logger.warn({ err }, 'closing master discovery failed'));
    this.#transition('STOPPED');
    this.#resolveStopped();
  }

  #transition(to: AgentLifecycle): void {
    const from = this.#lifecycle;
    if (from === to) return;
    if (!TRANSITIONS[from].includes(to)) throw new Error(`agent cannot go from ${from} to ${to}`);
    this.#lifecycle = to;
    this.logger.info({ from, to, agentId: this.#agentId }, 'agent lifecycle');
  }

  async #recover(): Promise<void> {
    this.#transition('RECOVERING');
    const state = await this.checkpoint.recover();
    this.#agentId = state.agentId;
    const summary = await recoverTasks(this.tasks, state);
    this.logger.info({ agentId: this.#agentId, tasks: state.tasks.length, ...summary, resources: this.total.format() }, 'agent recovered');
  }

  async #serveHttp(): Promise<void> {
    const { tls, authenticator } = this.security;
    this.#http = createHttpServer({ logger: this.logger, limits: httpLimitsFrom(this.options), ...(tls ? { tls } : {}) });
    requireAuthentication(this.#http, authenticator, { open: ['/health', ...(this.options.openMetrics ? ['/metrics'] : [])] });
    registerAgentRoutes(this.#http, this);
    new ExecSessions({
      tasks: this.tasks,
      maxSessions: this.options.execMaxSessions,
      idleTimeoutMs: this.options.execIdleTimeout,
      dockerSocket: this.options.dockerSocket ?? '/var/run/docker.sock',
      clock: this.deps.clock,
      log: this.logger.child({ component: 'exec' }),
    }).register(this.#http);
    this.#httpPort = await listenHttp(this.#http, this.options.bind, this.options.httpPort);
  }

  #executor(kind: ExecutorKind): Executor {
    let executor = this.#executors.get(kind);
    if (!executor) {
      const log = this.logger.child({ component: 'executor', executor: kind });
      executor =
        this.deps.createExecutor?.(kind, this.options, log) ??
        createExecutor(kind, {
          log,
          clock: this.deps.clock,
          allowPrivileged: this.options.allowPrivileged,
          logLimits: { maxBytes: this.options.logMaxSize, maxFiles: this.options.logMaxFiles },
          pidsLimit: this.options.taskPidsLimit,
          portCheckTimeoutMs: this.options.dockerPortCheckTimeout,
          dockerEndpoint: this.options.dockerEndpoint,
          dockerPingTimeoutMs: this.options.dockerCheckTimeout,
        });
      this.#executors.set(kind, executor);
    }
    return executor;
  }

  #hello(): AgentMessage {
    const agentInfo = this.agentInfo();
    this.#announced = agentInfo.capabilities ?? [];
    if (this.#agentId === undefined) return { register: { agentInfo, version: VERSION } };
    return {
      reregister: { agentId: this.#agentId, agentInfo, tasks: this.tasks.agentTasks(), frameworks: this.tasks.frameworkInfos(), version: VERSION },
    };
  }

  async #onRegistered(answer: AgentRegistered__Output, master: string): Promise<void> {
    if (answer.agentId !== this.#agentId) {
      if (this.#agentId !== undefined) this.logger.warn({ old: this.#agentId, new: answer.agentId }, 'the master gave the agent a new id');
      this.#agentId = answer.agentId;
      // Durable before any launch is handled: tasks are only ever reported under this id.
      await this.checkpoint.writeAgentId(answer.agentId);
    }
    this.logger.info({ agentId: this.#agentId, master, pingIntervalSeconds: answer.pingIntervalSeconds }, 'agent registered');
  }

  #onConnected(): void {
    if (this.#lifecycle === 'REGISTERING') this.#transition('RUNNING');
    // A change between the hello and now would otherwise wait for the next one.
    const now = this.capabilities.capabilities;
    if (now.join() !== this.#announced.join()) this.#capabilitiesChanged(now);
    this.updates.connected();
  }

  #onDisconnected(): void {
    this.updates.disconnected();
    if (this.#lifecycle === 'RUNNING') this.#transition('REGISTERING');
  }

  /** Registered: tell the master now. Not: the next (re)registration carries them. */
  #capabilitiesChanged(capabilities: readonly AgentCapability[]): void {
    if (this.#lifecycle !== 'RUNNING') return;
    this.#announced = capabilities;
    this.#connection.send({ capabilitiesUpdate: { capabilities: [...capabilities] } });
  }

  #sendUpdate(frameworkId: string, status: TaskStatus): void {
    this.#connection.send({ statusUpdate: { frameworkId, status } });
  }

  #onMessage(m: MasterMessage__Output): void {
    if (this.#lifecycle !== 'RUNNING') return;
    if (m.launch) for (const task of m.launch.tasks) this.tasks.launch(m.launch.frameworkId, m.launch.frameworkInfo, task);
    // A group's tasks run side by side; Agora has no shared executor to put them in.
    else if (m.launchGroup) for (const task of m.launchGroup.taskGroup?.tasks ?? []) this.tasks.launch(m.launchGroup.frameworkId, m.launchGroup.frameworkInfo, task);
    else if (m.kill) this.tasks.kill(m.kill.frameworkId, m.kill.taskId, m.kill.killPolicy);
    else if (m.acknowledgement) void this.updates.acknowledge(m.acknowledgement.frameworkId, m.acknowledgement.taskId, m.acknowledgement.uuid).catch(this.#failed('acknowledgement'));
    else if (m.acknowledgements) void this.updates.acknowledgeAll(m.acknowledgements.acknowledgements).catch(this.#failed('acknowledgements'));
    else if (m.reconcile) this.#connection.send({ taskStates: { seq: m.reconcile.seq, tasks: this.tasks.agentTasks(m.reconcile.frameworkId, m.reconcile.taskIds) } });
    else if (m.shutdownFramework) this.tasks.killFramework(m.shutdownFramework.frameworkId, FRAMEWORK_REMOVED);
    else if (m.updateFramework?.frameworkInfo) void this.tasks.updateFramework(m.updateFramework.frameworkInfo).catch(this.#failed('updateFramework'));
    else if (m.shutdown) void this.#shutdown(m.shutdown.reason).catch(this.#failed('shutdown'));
    else if (m.frameworkMessage) this.logger.debug({ frameworkId: m.frameworkMessage.frameworkId }, 'framework message dropped: no custom executors');
  }

  /** A handler for a master message whose work failed: logged, so it is not an unhandled rejection. */
  #failed(message: string): (err: unknown) => void {
    return (err) => this.logger.error({ err, message }, 'handling a master message failed');
  }

  /** The master removed this agent: kill everything, forget the id, and stop. */
  async #shutdown(reason: string): Promise<void> {
    this.logger.warn({ reason }, 'the master shut this agent down');
    await this.tasks.killAll(AGENT_SHUTDOWN);
    await this.checkpoint.clearAgentId();
    await this.stop();
  }
}

function checkCallbacks(events: CheckEvents): Pick<HealthCheckerOptions, 'onResult' | 'onFailed' | 'onCheck'> {
  const onFailed = events.onFailed?.bind(events);
  const onCheck = events.onCheck?.bind(events);
  return {
    onResult: (ok, message) => events.onResult(ok, message),
    ...(onFailed ? { onFailed } : {}),
    ...(onCheck ? { onCheck: (outcome: CheckOutcome) => onCheck(outcome.healthy, outcome.ignored) } : {}),
  };
}
