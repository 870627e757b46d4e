// The master process: composes the store, registry, allocator, gRPC services and operator HTTP,
// and takes part in the master election.
//
//   INITIALIZED ─► STANDBY ─(elected)─► RECOVERING ─(agents back or timeout)─► LEADING
//        any ─(stop, or leadership lost)─► STOPPING ─► STOPPED
//
// A standby serves /health, /version, /metrics and /api/v1/leader; every other HTTP request is
// redirected (307) to the leader (503 when none is known; http/leader-guard.ts), and every gRPC
// call fails with UNAVAILABLE carrying the leader's address. A leader whose session is not
// vouched for (the lease below) answers HTTP and gRPC as a standby that knows no leader. A master that loses leadership stops at once — it
// never leads again in this process (as Mesos, it is for a supervisor to start a fresh one) — and
// even before it hears of the loss it acts only while its store session is fresh (a lease), and
// its registry writes are fenced on its election node.
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { LeaderElection } from '../core/election.js';
import { NotLeaderError } from '../core/errors.js';
import { createGrpcServer, type GrpcServer } from '../core/grpc.js';
import { createHttpServer, listenHttp, type HttpServer } from '../core/http.js';
import { grpcLimitsFrom, httpLimitsFrom } from '../core/server-limits.js';
import { shortId } from '../core/ids.js';
import { createLogger, type Logger } from '../core/logger.js';
import { Resources } from '../core/resources.js';
import { openStore, type Store } from '../core/store/index.js';
import { VERSION } from '../core/version.js';
import { requireAuthentication } from '../core/security/edge.js';
import { DASHBOARD_OPEN_PATHS, registerDashboard } from './http/dashboard.js';
import type { Authenticator } from '../core/security/authenticate.js';
import type { ServerTls } from '../core/security/tls.js';
import { AccessService, AgentGatewayService, SchedulerService, SERVICE_NAMES, type MasterInfo } from '../proto/index.js';
import { accessHandlers } from './access.js';
import { createAllocator } from './allocator/index.js';
import { markUnreachable } from './agent-liveness.js';
import { agentGatewayHandlers, schedulerHandlers } from './grpc-services.js';
import type { LeaderView } from './http/context.js';
import { registerLeaderGuard } from './http/leader-guard.js';
import { registerOperatorRoutes } from './http/routes.js';
import { registerJobsForward } from './http/jobs-forward.js';
import { compileMasterOptions, type MasterOptions } from './options.js';
import { recoveryOver } from './reconciliation.js';
import { recoverFromRegistry } from './recovery.js';
import { Registry } from './registry.js';
import type { Registry as MetricsRegistry } from 'prom-client';
import { openMasterSecurity, type MasterSecurity, type MasterSecurityDeps } from './security.js';
import { requireZkCredentials } from '../core/store/credentials.js';
import { MasterState } from './state.js';

export type MasterLifecycle = 'INITIALIZED' | 'STANDBY' | 'RECOVERING' | 'LEADING' | 'STOPPING' | 'STOPPED';

/** What a master advertises in its election node (the SDK and agents read grpcAddress). */
export interface MasterAdvert {
  readonly id: string;
  readonly hostname: string;
  readonly grpcAddress: string;
  readonly httpAddress: string;
  readonly version: string;
}

export interface MasterDeps {
  /** An open store (its chroot is the Agora root, /agora); else opened from --zk / --data-dir. */
  store?: Store;
  clock?: Clock;
  logger?: Logger;
  /** Called once if this master loses leadership (it has stopped by then). */
  onLostLeadership?: (reason: string) => void;
  /** Extra HTTP routes on the master's port (the Jobs API mirror in `agora up`); behind its authentication. */
  routes?: (app: HttpServer, edge: MasterEdge) => void;
  /** More registries served on the master's /metrics after its own (the frameworks host's in `agora up`); each decides what it shows. */
  metrics?: () => readonly MetricsRegistry[];
  /** Extra gRPC services on the master's server (the Jobs API in `agora up`); they authenticate with `edge`. */
  grpcServices?: (server: GrpcServer, edge: MasterEdge) => void;
  /** TLS material and tokens given in memory (agora up, tests) rather than by flags. */
  security?: MasterSecurityDeps;
  /** The built dashboard's files (default: dist/web, found by dashboardDir()). */
  dashboardDir?: string;
}

/** What services sharing the master's ports use to know their callers. */
export interface MasterEdge {
  readonly authenticator: Authenticator;
  /** Undefined when the master is --insecure (plaintext). */
  readonly tls: ServerTls | undefined;
}

export class Master {
  #lifecycle: MasterLifecycle = 'INITIALIZED';
  /** Resolved (and replaced) whenever the lifecycle or the known leader changes: streams held in #admit wait on it. */
  #changed = signal();
  grpcPort = 0;
  httpPort = 0;
  readonly #ownsStore: boolean;
  #grpc: GrpcServer | undefined;
  #http: HttpServer | undefined;
  #election: LeaderElection<MasterAdvert> | undefined;
  #allocationTimer: TimerHandle | undefined;
  #reregisterTimer: TimerHandle | undefined;
  #stopped: Promise<void> | undefined;
  #recoveredFrom: 'warm' | 'store' | undefined;
  #resolveSettled: (() => void) | undefined;
  /** Resolves once this master leads (recovering) or knows another leader: start() waits for it. */
  readonly #settled = new Promise<void>((resolve) => {
    this.#resolveSettled = resolve;
  });

  private constructor(
    readonly options: MasterOptions,
    readonly state: MasterState,
    readonly store: Store,
    ownsStore: boolean,
    private readonly deps: MasterDeps,
    readonly security: MasterSecurity,
  ) {
    this.#ownsStore = ownsStore;
  }

  /** Open the store, start serving as a standby, and stand for election. Resolves once elected or standing by. */
  static async start(raw: Record<string, unknown> | MasterOptions, deps: MasterDeps = {}): Promise<Master> {
    const options = Object.isFrozen(raw) ? (raw as MasterOptions) : compileMasterOptions(raw);
    const clock = deps.clock ?? systemClock;
    const logger = (deps.logger ?? createLogger({ level: options.logLevel, name: 'master' })).child({ component: 'master' });
    // Checked before the store is opened: opening it creates nodes.
    if (!options.insecure && deps.store === undefined) requireZkCredentials(options.zk, options.zkCredentialsFile !== undefined, '--zk');
    const store = deps.store ?? (await openStore(options.zk ?? options.dataDir, { chroot: options.zk ? '' : '/agora', sessionTimeoutMs: options.zkSessionTimeout, credentials: options.zkCredentialsFile }));
    const registry = await Registry.create(store, options.cluster);
    const allocator = createAllocator({
      fairness: options.fairness,
      seed: options.seed,
      minAllocatable: options.minAllocatableResources.split('|').filter((s) => s.trim() !== '').map((s) => Resources.parse(s, '--min-allocatable-resources')),
    });
    const masterInfo: MasterInfo = { id: shortId(8), hostname: options.hostname, ip: options.advertiseIp ?? options.hostname, version: VERSION, cluster: options.cluster, startedAtMs: clock.now() };
    const state = new MasterState(options, clock, logger, allocator, registry, masterInfo);
    let security: MasterSecurity;
    try {
      security = await openMasterSecurity(options, store, logger, clock, deps.security);
    } catch (err) {
      if (deps.store === undefined) await store.close();
      throw err;
    }
    const master = new Master(options, state, store, deps.store === undefined, deps, security);
    state.canAct = () => master.#acting();
    await master.#serve();
    master.#stand();
    // Usually settled within one election round; a master that cannot tell yet (the store is
    // slow, no leader is known) is still a working standby, so start() does not wait forever.
    await Promise.race([master.#settled, clock.sleep(Math.max(1000, store.sessionTimeoutMs))]);
    return master;
  }

  get masterInfo(): MasterInfo {
    return this.state.masterInfo;
  }

  get grpcAddress(): string {
    return `${this.options.hostname}:${this.grpcPort}`;
  }

  /** How services on the master's ports authenticate callers. */
  get edge(): MasterEdge {
    return { authenticator: this.security.authenticator, tls: this.security.tls };
  }

  /** `https` unless --insecure. */
  get httpScheme(): 'http' | 'https' {
    return this.security.tls ? 'https' : 'http';
  }

  get httpAddress(): string {
    return `${this.options.hostname}:${this.httpPort}`;
  }

  /** Where this master's take-over read the registry: its warm copy as a standby, or the store. */
  get recoveredFrom(): 'warm' | 'store' | undefined {
    return this.#recoveredFrom;
  }

  get lifecycle(): MasterLifecycle {
    return this.#lifecycle;
  }

  #setLifecycle(to: MasterLifecycle): void {
    this.#lifecycle = to;
    this.#wake();
  }

  #wake(): void {
    this.#changed.resolve();
    this.#changed = signal();
  }

  get isLeader(): boolean {
    return this.lifecycle === 'RECOVERING' || this.lifecycle === 'LEADING';
  }

  /**
   * The leader as this master knows it (itself when leading). `self` only while it acts as leader:
   * elected but with its session not vouched for (resumed from a freeze), it does not say so.
   */
  leader(): LeaderView {
    const data = this.#election?.leader?.data;
    const self = this.#acting();
    // Itself, unvouched for, is no leader to name.
    const known = data && (self || data.id !== this.state.masterInfo.id) ? data : undefined;
    return { self, ...(known ? { leader: known } : {}) };
  }

  /**
   * May this master act as leader right now? Elected, not stopping, and its store session heard
   * from within 2/3 of the session timeout (after a long freeze the session may already be gone).
   */
  #acting(): boolean {
    if (!this.isLeader || !this.#election?.isLeader) return false;
    return this.store.contactAgeMs() < (this.store.sessionTimeoutMs * 2) / 3;
  }

  /** For tests and operators: is this master acting as leader right now? */
  get acting(): boolean {
    return this.#acting();
  }

  #guard = (): void => {
    if (this.#acting()) return;
    // Elected but still reading the registry (or our own lease lapsed): name no leader, so
    // clients back off instead of bouncing straight back here.
    const leader = this.#election?.leader?.data.grpcAddress;
    throw new NotLeaderError(this.isLeader || this.#election?.isLeader || leader === this.grpcAddress ? undefined : leader);
  };

  /**
   * Let a stream in (an agent's Connect, a framework's Subscribe), or throw as #guard does. Agents
   * and frameworks find the leader in the store, often before the elected master has read the
   * registry, or even before its own election watch has fired. Refused, each would back off and
   * come back at random later — a thousand of them is what makes a failover slow — so such a
   * stream is held, up to --takeover-hold, until this master leads. A standby that looks again
   * and finds another leader refuses at once, naming it.
   *
   * `lostLeader` is the client's word that its stream to that master broke. The master next in
   * line (the successor) then holds the stream while that master still holds the election: if it
   * is dead, its session expires within the session timeout and the successor takes over, and
   * the stream (its hello already read) is served at once. Held at most the session timeout plus
   * --takeover-hold; should the leader be alive after all, the client finds it meanwhile on its
   * own stream, cancelling this one, or is refused here naming it.
   */
  #admit = async (lostLeader?: string): Promise<void> => {
    if (this.#acting()) return;
    const election = this.#election;
    const { clock } = this.state;
    const start = clock.now();
    let holdUntil = start + this.options.takeoverHold;
    const until = async (event: Promise<unknown>): Promise<void> => {
      let timer: TimerHandle | undefined;
      await Promise.race([event, new Promise<void>((resolve) => (timer = clock.setTimeout(resolve, Math.max(0, holdUntil - clock.now()))))]);
      clock.clearTimeout(timer);
    };
    if (election && this.lifecycle === 'STANDBY' && !election.isLeader) await until(election.recheck());
    let elected = false;
    while (election && this.lifecycle === 'STANDBY') {
      // Elected, or about to be (the election names us before it says so): hold while taking over.
      if (election.isLeader || election.leader?.data.grpcAddress === this.grpcAddress) {
        if (!elected) holdUntil = Math.max(holdUntil, clock.now() + this.options.takeoverHold);
        elected = true;
      } else if (this.#succeeds(lostLeader)) {
        holdUntil = Math.max(holdUntil, start + this.store.sessionTimeoutMs + this.options.takeoverHold);
      } else {
        break;
      }
      if (clock.now() >= holdUntil) break;
      await until(this.#changed.promise);
    }
    this.#guard();
  };

  /** Is this master next in line behind `lostLeader`, which (as far as it knows) still leads? */
  #succeeds(lostLeader: string | undefined): boolean {
    const election = this.#election;
    if (lostLeader === undefined || lostLeader === this.grpcAddress || !election) return false;
    return election.position === 1 && election.leader?.data.grpcAddress === lostLeader;
  }

  async #serve(): Promise<void> {
    const { authenticator, tls } = this.security;
    this.#grpc = createGrpcServer({
      health: { '': 'SERVING', [SERVICE_NAMES.Scheduler]: 'SERVING', [SERVICE_NAMES.AgentGateway]: 'SERVING', [SERVICE_NAMES.Access]: 'SERVING' },
      // Channelz (gRPC's own introspection) costs work on every call and stream — a failover opens
      // thousands at once — and nothing here reads it.
      serverOptions: { 'grpc.enable_channelz': 0 },
      limits: grpcLimitsFrom(this.options),
      onListenError: (err) => this.state.logger.warn({ err }, 'gRPC server cannot accept a connection'),
      ...(tls ? { tls } : {}),
      reflectionAuth: authenticator,
    });
    this.#grpc.server.addService(SchedulerService, schedulerHandlers(this.state, { guard: this.#guard, admit: this.#admit }, authenticator));
    this.#grpc.server.addService(AgentGatewayService, agentGatewayHandlers(this.state, { guard: this.#guard, admit: this.#admit }, authenticator));
    this.#grpc.server.addService(AccessService, accessHandlers(authenticator, this.options.authCache));
    this.deps.grpcServices?.(this.#grpc, this.edge);
    this.grpcPort = await this.#grpc.bind(this.options.bind, this.options.grpcPort);
    const http = createHttpServer({ logger: this.state.logger, limits: httpLimitsFrom(this.options), ...(tls ? { tls } : {}) });
    this.#http = http;
    requireAuthentication(http, authenticator, { open: ['/health', ...DASHBOARD_OPEN_PATHS, ...(this.options.openMetrics ? ['/metrics'] : [])] });
    const master = this;
    registerLeaderGuard(http, {
      acting: () => this.#acting(),
      leaderHttpAddress: () => this.#election?.leader?.data.httpAddress,
      get httpAddress() {
        return master.httpAddress;
      },
      scheme: this.httpScheme,
    });
    registerOperatorRoutes(http, this, this.deps.metrics ? { metrics: this.deps.metrics } : {});
    registerDashboard(http, { authenticator, tls: tls !== undefined, ...(this.deps.dashboardDir ? { dir: this.deps.dashboardDir } : {}) });
    this.deps.routes?.(http, this.edge);
    registerJobsForward(http, { jobsApi: this.options.jobsApi, store: this.store, cluster: this.options.cluster, tls, insecure: this.security.insecure, logger: this.state.logger });
    this.httpPort = await listenHttp(http, this.options.bind, this.options.httpPort);
    this.state.masterInfo.grpcAddress = this.grpcAddress;
    this.state.masterInfo.httpAddress = this.httpAddress;
    this.state.logger.info({ grpc: this.grpcAddress, http: this.httpAddress, masterId: this.state.masterInfo.id }, 'master listening');
  }

  /** Stand for election; the lowest candidate leads. */
  #stand(): void {
    this.#setLifecycle('STANDBY');
    const advert: MasterAdvert = {
      id: this.state.masterInfo.id ?? '',
      hostname: this.options.hostname,
      grpcAddress: this.grpcAddress,
      httpAddress: this.httpAddress,
      version: VERSION,
    };
    const election = new LeaderElection<MasterAdvert>({
      store: this.store,
      path: `/${this.options.cluster}/master/election`,
      data: advert,
      logger: this.state.logger,
      clock: this.state.clock,
      // Losing one ZooKeeper server moves the session to another in well under this; meanwhile
      // the lease in #acting() keeps the master from acting on a session it cannot vouch for.
      suspendedGraceMs: (this.store.sessionTimeoutMs * 2) / 3,
    });
    this.#election = election;
    election.on('elected', () => {
      void this.#takeOver().catch((err: unknown) => {
        this.state.logger.error({ err }, 'taking over failed; stepping down');
        this.#lose('taking over failed');
      });
    });
    election.on('lost', (reason) => this.#lose(String(reason)));
    election.on('leaderChanged', (leader) => {
      this.state.logger.info({ leader: leader?.data }, 'leader changed');
      this.#wake();
      if (!leader || leader.data.id === advert.id) return;
      this.#resolveSettled?.();
      // Another master leads: keep a warm copy of its registry, to take over from memory.
      if (this.lifecycle === 'STANDBY') this.state.registry.follow();
    });
    election.start().then(
      () => {
        const current = election.leader;
        if (current && current.data.id !== advert.id) this.#resolveSettled?.();
      },
      (err: unknown) => this.state.logger.error({ err }, 'election failed to start'),
    );
  }

  /** Elected: read the registry, wait for the agents we knew, then offer. */
  async #takeOver(): Promise<void> {
    if (this.lifecycle !== 'STANDBY') return;
    const { state } = this;
    state.registry.fence(this.#election?.memberPath);
    const snapshot = await state.registry.load();
    state.registry.unfollow();
    if (this.lifecycle !== 'STANDBY' || !this.#election?.isLeader) return;
    this.#setLifecycle('RECOVERING');
    this.#recoveredFrom = snapshot.source;
    this.#resolveSettled?.();
    state.masterInfo.electedAtMs = state.now();
    state.logger.info({ masterId: state.masterInfo.id, registry: snapshot.source, agents: snapshot.agents.size }, 'elected: recovering from the registry');
    const waiting = recoverFromRegistry(state, snapshot);
    this.#allocationTimer = state.clock.setInterval(() => state.runAllocation(), this.options.allocationInterval);
    if (waiting === 0) {
      this.#lead();
      return;
    }
    state.logger.info({ agents: waiting, timeoutMs: this.options.agentReregisterTimeout }, 'waiting for agents to re-register');
    // Checked on each of (possibly thousands of) re-registrations: only the last one scans.
    const recovering = new Set([...state.allAgents()].filter((a) => a.state === 'recovering').map((a) => a.id));
    const unsubscribe = state.events.subscribe((e) => {
      if (e.type !== 'AGENT_REREGISTERED') return;
      recovering.delete(e.agentId);
      if (recovering.size === 0 && ![...state.allAgents()].some((a) => a.state === 'recovering')) {
        unsubscribe();
        this.#lead();
      }
    });
    this.#reregisterTimer = state.clock.setTimeout(() => {
      unsubscribe();
      for (const agent of state.allAgents()) if (agent.state === 'recovering') markUnreachable(state, agent, 'did not re-register after the master was elected', 'not_reregistered');
      this.#lead();
    }, this.options.agentReregisterTimeout);
  }

  #lead(): void {
    if (this.lifecycle !== 'RECOVERING') return;
    this.state.clock.clearTimeout(this.#reregisterTimer);
    this.#setLifecycle('LEADING');
    recoveryOver(this.state);
    this.state.offering = true;
    this.state.logger.info({ masterId: this.state.masterInfo.id }, 'master leading');
    this.state.requestAllocation();
  }

  /** Leadership is gone (or in doubt): stop acting now, then stop the process's master. */
  #lose(reason: string): void {
    if (this.lifecycle === 'STOPPING' || this.lifecycle === 'STOPPED') return;
    const wasLeader = this.isLeader;
    this.state.offering = false;
    this.state.cancelAllocation();
    this.state.logger.error({ reason, wasLeader }, 'lost leadership: stopping');
    this.#resolveSettled?.();
    // Stop acting now; the rest of stop() may wait on a store without quorum, so it is bounded.
    const stopped = this.stop();
    void bounded(stopped, 2000).finally(() => this.deps.onLostLeadership?.(reason));
  }

  /** Stop intake, close streams, stop timers, leave the election, close the store (when ours). */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#setLifecycle('STOPPING');
    this.#resolveSettled?.();
    const { state } = this;
    state.offering = false;
    state.cancelAllocation();
    state.clock.clearInterval(this.#allocationTimer);
    state.clock.clearTimeout(this.#reregisterTimer);
    state.registry.unfollow();
    // Links and streams are detached before they close, so their close handlers see a replaced
    // connection and do nothing: no failover timers, offers or registry writes after stop.
    for (const agent of state.allAgents()) {
      state.clock.clearInterval(agent.pingTimer);
      const link = agent.link;
      agent.link = undefined;
      link?.close('master stopping');
    }
    for (const framework of state.allFrameworks()) {
      state.clock.clearInterval(framework.heartbeatTimer);
      state.clock.clearTimeout(framework.failoverTimer);
      const stream = framework.stream;
      framework.stream = undefined;
      stream?.end();
    }
    for (const offer of state.outstandingOffers()) state.clock.clearTimeout(offer.timer);
    // Leaving the election and closing the store need the store; without quorum they would wait
    // forever, so each gets a bounded wait (the session's ephemerals expire on their own).
    await bounded(this.#election?.resign(), 1000);
    await Promise.allSettled([this.#grpc?.shutdown(1000), this.#http?.close()]);
    this.security.close();
    if (this.#ownsStore) await bounded(this.store.close(), 1000);
    this.#setLifecycle('STOPPED');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Wait for `work` at most `ms`; its failure is ignored. */
async function bounded(work: Promise<unknown> | undefined, ms: number): Promise<void> {
  if (!work) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
