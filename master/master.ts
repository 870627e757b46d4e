// The master process: composes the store, registry, allocator, gRPC services and operator HTTP.
// Lifecycle: INITIALIZED → RECOVERING (registry read, waiting for agents) → LEADING → STOPPING → STOPPED.
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { createGrpcServer, type GrpcServer } from '../core/grpc.js';
import { createHttpServer, listenHttp, type HttpServer } from '../core/http.js';
import { shortId } from '../core/ids.js';
import { createLogger, type Logger } from '../core/logger.js';
import { Resources } from '../core/resources.js';
import { openStore, type Store } from '../core/store/index.js';
import { VERSION } from '../core/version.js';
import { AgentGatewayService, SchedulerService, SERVICE_NAMES, type AgentInfo__Output, type FrameworkInfo__Output, type MasterInfo } from '../proto/index.js';
import { createAllocator } from './allocator/index.js';
import { markUnreachable } from './agents.js';
import { startFailoverTimer } from './frameworks.js';
import { agentGatewayHandlers, schedulerHandlers } from './grpc-services.js';
import { registerOperatorRoutes } from './http/routes.js';
import { attributesFromWire, resourcesFromWire } from '../core/wire.js';
import { compileMasterOptions, type MasterOptions } from './options.js';
import { Registry, type RegistrySnapshot } from './registry.js';
import { MasterState } from './state.js';

export type MasterLifecycle = 'INITIALIZED' | 'RECOVERING' | 'LEADING' | 'STOPPING' | 'STOPPED';

export interface MasterDeps {
  /** An open store (its chroot is the Agora root, /agora); else opened from --zk / --data-dir. */
  store?: Store;
  clock?: Clock;
  logger?: Logger;
}

export class Master {
  lifecycle: MasterLifecycle = 'INITIALIZED';
  grpcPort = 0;
  httpPort = 0;
  readonly #ownsStore: boolean;
  #grpc: GrpcServer | undefined;
  #http: HttpServer | undefined;
  #allocationTimer: TimerHandle | undefined;
  #reregisterTimer: TimerHandle | undefined;

  private constructor(
    readonly options: MasterOptions,
    readonly state: MasterState,
    readonly store: Store,
    ownsStore: boolean,
  ) {
    this.#ownsStore = ownsStore;
  }

  /** Open the store, read the registry, and start serving. */
  static async start(raw: Record<string, unknown> | MasterOptions, deps: MasterDeps = {}): Promise<Master> {
    const options = Object.isFrozen(raw) ? (raw as MasterOptions) : compileMasterOptions(raw);
    const clock = deps.clock ?? systemClock;
    const logger = (deps.logger ?? createLogger({ level: options.logLevel, name: 'master' })).child({ component: 'master' });
    const store = deps.store ?? (await openStore(options.zk ?? options.dataDir, { chroot: options.zk ? '' : '/agora', sessionTimeoutMs: options.zkSessionTimeout }));
    const { registry, snapshot } = await Registry.open(store, options.cluster);
    const allocator = createAllocator({
      fairness: options.fairness,
      seed: options.seed,
      minAllocatable: options.minAllocatableResources.split('|').filter((s) => s.trim() !== '').map((s) => Resources.parse(s, '--min-allocatable-resources')),
    });
    const masterInfo: MasterInfo = {
      id: shortId(8),
      hostname: options.hostname,
      ip: options.hostname,
      version: VERSION,
      cluster: options.cluster,
      startedAtMs: clock.now(),
      electedAtMs: clock.now(),
    };
    const state = new MasterState(options, clock, logger, allocator, registry, masterInfo);
    const master = new Master(options, state, store, deps.store === undefined);
    await master.#serve();
    master.#recover(snapshot);
    return master;
  }

  get masterInfo(): MasterInfo {
    return this.state.masterInfo;
  }

  get grpcAddress(): string {
    return `${this.options.hostname}:${this.grpcPort}`;
  }

  get httpAddress(): string {
    return `${this.options.hostname}:${this.httpPort}`;
  }

  async #serve(): Promise<void> {
    const guard = (): void => {
      // Single master for now; HA adds the leadership check here.
    };
    this.#grpc = createGrpcServer({ health: { '': 'SERVING', [SERVICE_NAMES.Scheduler]: 'SERVING', [SERVICE_NAMES.AgentGateway]: 'SERVING' } });
    this.#grpc.server.addService(SchedulerService, schedulerHandlers(this.state, guard));
    this.#grpc.server.addService(AgentGatewayService, agentGatewayHandlers(this.state, guard));
    this.grpcPort = await this.#grpc.bind(this.options.bind, this.options.grpcPort);
    this.#http = createHttpServer({ logger: this.state.logger });
    registerOperatorRoutes(this.#http, this);
    this.httpPort = await listenHttp(this.#http, this.options.bind, this.options.httpPort);
    this.state.masterInfo.grpcAddress = this.grpcAddress;
    this.state.masterInfo.httpAddress = this.httpAddress;
    this.state.logger.info({ grpc: this.grpcAddress, http: this.httpAddress, masterId: this.state.masterInfo.id }, 'master listening');
  }

  /** Rebuild from the registry; offer only once the agents we knew are back (or the timeout passes). */
  #recover(snapshot: RegistrySnapshot): void {
    const { state } = this;
    this.lifecycle = 'RECOVERING';
    state.weights = { ...snapshot.weights };
    for (const [role, weight] of Object.entries(snapshot.weights)) state.allocator.setWeight(role, weight);
    state.quota = { ...snapshot.quota };
    for (const [role, q] of Object.entries(snapshot.quota)) {
      state.allocator.setQuota(role, { guarantee: Resources.parse(q.guarantee), ...(q.limit ? { limit: Resources.parse(q.limit) } : {}) });
    }
    for (const [id, entry] of snapshot.removedFrameworks) state.removedFrameworks.set(id, entry);
    for (const entry of snapshot.frameworks.values()) {
      const info = entry.info as FrameworkInfo__Output;
      const roles = info.roles.length > 0 ? [...info.roles] : ['*'];
      const framework = {
        id: entry.id,
        info,
        roles,
        suppressedRoles: new Set<string>(),
        partitionAware: info.capabilities.includes('PARTITION_AWARE'),
        failoverTimeoutMs: entry.failoverTimeoutMs,
        state: 'disconnected' as const,
        stream: undefined,
        registeredAtMs: entry.registeredAtMs,
        reregisteredAtMs: undefined,
        disconnectedAtMs: state.now(),
        heartbeatTimer: undefined,
        failoverTimer: undefined,
        completed: [],
      };
      state.frameworks.set(entry.id, framework);
      state.allocator.addFramework({ id: entry.id, roles });
      state.allocator.setFrameworkActive(entry.id, false);
      startFailoverTimer(state, framework);
    }
    let waiting = 0;
    for (const entry of snapshot.agents.values()) {
      const info = entry.info as AgentInfo__Output;
      const recovering = entry.state === 'admitted';
      if (recovering) waiting += 1;
      state.agents.set(entry.id, {
        id: entry.id,
        info,
        hostname: entry.hostname,
        httpAddress: info.httpAddress,
        total: safeResources(info),
        attributes: attributesFromWire(info.attributes),
        state: recovering ? 'recovering' : 'unreachable',
        drain: entry.drain,
        registeredAtMs: entry.registeredAtMs,
        reregisteredAtMs: undefined,
        unreachableSinceMs: entry.unreachableSinceMs,
        link: undefined,
        pingSeq: 0,
        pongSeq: 0,
        pingTimer: undefined,
        version: info.version,
      });
    }
    this.#allocationTimer = state.clock.setInterval(() => state.runAllocation(), this.options.allocationInterval);
    if (waiting === 0) {
      this.#lead();
      return;
    }
    state.logger.info({ agents: waiting, timeoutMs: this.options.agentReregisterTimeout }, 'waiting for agents to re-register');
    const unsubscribe = state.events.subscribe((e) => {
      if (e.type === 'AGENT_REREGISTERED' && ![...state.agents.values()].some((a) => a.state === 'recovering')) {
        unsubscribe();
        this.#lead();
      }
    });
    this.#reregisterTimer = state.clock.setTimeout(() => {
      unsubscribe();
      for (const agent of state.agents.values()) if (agent.state === 'recovering') markUnreachable(state, agent, 'did not re-register after the master started');
      this.#lead();
    }, this.options.agentReregisterTimeout);
  }

  #lead(): void {
    if (this.lifecycle !== 'RECOVERING') return;
    this.state.clock.clearTimeout(this.#reregisterTimer);
    this.lifecycle = 'LEADING';
    this.state.offering = true;
    this.state.logger.info({ masterId: this.state.masterInfo.id }, 'master leading');
    this.state.requestAllocation();
  }

  /** Stop intake, close streams, stop timers, close the store (when ours). */
  async stop(): Promise<void> {
    if (this.lifecycle === 'STOPPED' || this.lifecycle === 'STOPPING') return;
    this.lifecycle = 'STOPPING';
    const { state } = this;
    state.offering = false;
    state.cancelAllocation();
    state.clock.clearInterval(this.#allocationTimer);
    state.clock.clearTimeout(this.#reregisterTimer);
    // Links and streams are detached before they close, so their close handlers see a replaced
    // connection and do nothing: no failover timers, offers or registry writes after stop.
    for (const agent of state.agents.values()) {
      state.clock.clearInterval(agent.pingTimer);
      const link = agent.link;
      agent.link = undefined;
      link?.close('master stopping');
    }
    for (const framework of state.frameworks.values()) {
      state.clock.clearInterval(framework.heartbeatTimer);
      state.clock.clearTimeout(framework.failoverTimer);
      const stream = framework.stream;
      framework.stream = undefined;
      stream?.end();
    }
    for (const offer of state.offers.values()) state.clock.clearTimeout(offer.timer);
    await Promise.allSettled([this.#grpc?.shutdown(1000), this.#http?.close()]);
    if (this.#ownsStore) await this.store.close();
    this.lifecycle = 'STOPPED';
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

function safeResources(info: AgentInfo__Output): Resources {
  try {
    return resourcesFromWire(info.resources);
  } catch {
    return Resources.EMPTY;
  }
}
