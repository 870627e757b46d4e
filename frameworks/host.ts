// The frameworks host: what `agora frameworks` runs (and `agora up` runs in-process). It serves
// the Jobs API at once, stands for election among its instances ('agora-frameworks'), and only
// the elected one starts the built-in frameworks (host-modules.ts); standbys point clients at it.
//
//   store ─ electFrameworkLeader ─► onElected: start modules ─► ControllerRegistry ◄─ JobsApi ◄─ gRPC / HTTP
//                                 └► onLost:    clear registry, stop modules      (standby: UNAVAILABLE + leader / 307)
//
// Lifecycle: INITIALIZED → STANDBY ⇄ STARTING → LEADING → STANDBY …; any → STOPPING → STOPPED.
// A lost ZooKeeper connection is ridden out while the session may live (2/3 of its timeout, as
// the masters do): the frameworks keep running; the Jobs API answers only while the session is
// vouched for. The frameworks stop on session expiry, or when the grace runs out unconnected.
import { VERSION } from '../core/version.js';
import type { Clock } from '../core/clock.js';
import { createGrpcServer, type GrpcServer } from '../core/grpc.js';
import { createHttpServer, listenHttp, type HttpServer } from '../core/http.js';
import { grpcLimitsFrom, httpLimitsFrom } from '../core/server-limits.js';
import { createLogger, type Logger } from '../core/logger.js';
import { discoverMasters, type MasterDiscovery } from '../core/discovery.js';
import type { Authenticator } from '../core/security/authenticate.js';
import { requireAuthentication } from '../core/security/edge.js';
import type { Registry } from 'prom-client';
import { requireZkCredentials } from '../core/store/credentials.js';
import { openStore, type Store } from '../core/store/index.js';
import { JobsService, SERVICE_NAMES } from '../proto/index.js';
import { electFrameworkLeader, type FrameworkLeadership } from '../sdk/leader.js';
import { ControllerRegistry, JobsApi, jobsGrpcHandlers, MasterTaskLocator, registerJobsHttp, type LeaderAddresses, type ServingGate } from './api/index.js';
import { masterHttpFinder, type MasterHttpFinder } from './host-master.js';
import { startServiceDns, type DnsServer } from './dns/index.js';
import { FrameworksMetrics } from './metrics.js';
import { FRAMEWORK_MODULES, type FrameworkModule, type RunningController } from './host-modules.js';
import { compileFrameworksOptions, storeUrl, type FrameworksOptions } from './host-options.js';
import { embeddedHostSecurity, hostSecurityFromOptions, type HostCredentials, type HostSecurity } from './host-security.js';
import { ServiceProxy } from './proxy/proxy.js';
import type { TaskLocator, WorkloadKind } from './workload.js';
import { SecretKey } from '../core/security/secret-box.js';
import { systemClock } from '../core/clock.js';
import { ConfigObjects } from './objects/store.js';

export const FRAMEWORKS_ELECTION_NAME = 'agora-frameworks';

/** The kind of workload a built-in framework runs, by its name with the master. */
function kindOfFramework(name: string): WorkloadKind | undefined {
  return FRAMEWORK_MODULES.find((m) => m.name === name)?.kind;
}
const MAX_RETRY_MS = 60_000;
/** The part of the session timeout a leader acts on its last word from the store (the masters' lease). */
const VOUCHED_FRACTION = 2 / 3;

export type HostLifecycle = 'INITIALIZED' | 'STANDBY' | 'STARTING' | 'LEADING' | 'STOPPING' | 'STOPPED';

export interface HostDeps {
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Default FRAMEWORK_MODULES. */
  readonly modules?: readonly FrameworkModule[];
  /** SSE heartbeat of the HTTP mirror (ms). */
  readonly heartbeatMs?: number;
  /** Who calls the Jobs API, instead of asking the master (a host with no master: tests). */
  readonly authenticator?: Authenticator;
}

export interface StartOverrides {
  /** An open store (chroot /agora) to use instead of opening options.store; not closed by stop(). */
  readonly store?: Store;
  /** Where this instance's Jobs API is reached, when it is served on someone else's servers. */
  readonly advertise?: Required<LeaderAddresses>;
  /** Trust as the embedding master gives it (instead of the host's flags). */
  readonly security?: HostSecurity;
}

/** The master a host is embedded in (agora up). */
export interface EmbeddingMaster {
  readonly grpcAddress: string;
  readonly httpAddress: string;
  /** Its open store (chroot /agora). */
  readonly store: Store;
  /** How callers of the master's ports are authenticated (the Jobs API is served there too). */
  readonly edge: { readonly authenticator: Authenticator };
}

export class FrameworksHost {
  lifecycle: HostLifecycle = 'INITIALIZED';
  readonly registry = new ControllerRegistry();
  readonly api: JobsApi;
  readonly gate: ServingGate;
  /** /metrics: the host's own figures, and its frameworks' workloads while it leads (metrics.ts). */
  readonly metrics: FrameworksMetrics;
  readonly logger: Logger;
  /** The logger modules get (each binds its own component). */
  readonly #baseLogger: Logger;
  #options: FrameworksOptions | undefined;
  /** The key Secrets are sealed with (--secrets-key-file), checked against the store at start. */
  #secretsKey: SecretKey | undefined;
  #store: Store | undefined;
  #ownsStore = false;
  #grpc: GrpcServer | undefined;
  #http: HttpServer | undefined;
  #advertise: Required<LeaderAddresses> | undefined;
  #leadership: FrameworkLeadership<Required<LeaderAddresses>> | undefined;
  #masterHttp: MasterHttpFinder | undefined;
  #running: RunningController[] = [];
  #term = 0;
  /** Aborted when the term ends: a framework still subscribing gives up at once (it would keep the process alive). */
  #termEnded = new AbortController();
  #retryTimer: NodeJS.Timeout | undefined;
  /** Consecutive failed starts: the retry delay doubles with each, up to MAX_RETRY_MS. */
  #failures = 0;
  #leadingWaiters: (() => void)[] = [];
  #security: HostSecurity | undefined;
  #discovery: MasterDiscovery | undefined;
  #dns: DnsServer | undefined;
  /** The services' L4 proxy (--proxy), following the services while this host leads. */
  #proxy: ServiceProxy | undefined;

  private constructor(readonly deps: HostDeps) {
    this.#baseLogger = deps.logger ?? createLogger({ name: 'agora-frameworks' });
    this.logger = this.#baseLogger.child({ component: 'frameworks-host' });
    // The locator learns the master's address and the host's credentials at start.
    const host = this;
    const locator: TaskLocator = {
      locate: (taskId) => host.#locator()?.locate(taskId) ?? Promise.resolve(undefined),
      agents: () => host.#locator()?.agents() ?? Promise.resolve([]),
      get http() {
        return host.#security?.http ?? {};
      },
    };
    this.api = new JobsApi(this.registry, locator);
    this.metrics = new FrameworksMetrics({
      leading: () => this.gate.serving(),
      figures: () => this.#running.flatMap((c) => (c.figures ? [c.figures()] : [])),
    });
    this.gate = {
      serving: () => this.lifecycle === 'LEADING' && this.#vouched(),
      leader: () => (this.#leadership?.isLeader ? undefined : this.#leadership?.leader?.data),
    };
  }

  /** A host that serves nothing yet: register it on servers (registerHttp / registerGrpc), then start(). */
  static create(deps: HostDeps = {}): FrameworksHost {
    return new FrameworksHost(deps);
  }

  /** `agora frameworks`: its own gRPC and HTTP servers, its own store. */
  static async run(options: FrameworksOptions, deps: HostDeps = {}): Promise<FrameworksHost> {
    const host = FrameworksHost.create(deps);
    await host.#serve(options);
    try {
      await host.start(options);
    } catch (err) {
      await host.stop();
      throw err;
    }
    return host;
  }

  /** Serve the HTTP mirror on `app` (before it listens), behind `app`'s authentication. */
  registerHttp(app: HttpServer): void {
    registerJobsHttp(app, this.api, this.gate, { metrics: this.metrics.api, ...(this.deps.heartbeatMs === undefined ? {} : { heartbeatMs: this.deps.heartbeatMs }) });
  }

  /** Serve the Jobs gRPC service on `grpc`; callers are authenticated by `auth`. */
  registerGrpc(grpc: GrpcServer, auth: Authenticator): void {
    grpc.server.addService(JobsService, jobsGrpcHandlers(this.api, this.gate, auth, this.logger, this.metrics.api));
    grpc.setServingStatus(SERVICE_NAMES.Jobs, 'SERVING');
  }

  /**
   * For `Master.start(…, { ...host.masterHooks })`: serve the Jobs API on the master's own servers,
   * and the host's metrics on the master's /metrics (behind its authentication and --open-metrics).
   */
  get masterHooks(): {
    routes: (app: HttpServer) => void;
    grpcServices: (grpc: GrpcServer, edge: { authenticator: Authenticator }) => void;
    metrics: () => readonly Registry[];
  } {
    return { routes: (app) => this.registerHttp(app), grpcServices: (grpc, edge) => this.registerGrpc(grpc, edge.authenticator), metrics: () => this.metrics.registries() };
  }

  /**
   * `agora up`: run against the master in this process — its store, its addresses, its
   * authenticator; the frameworks subscribe with `credentials` (undefined: the master is
   * --insecure). Resolves after the first election round; the frameworks start in the background
   * (waitLeading() to wait), and the API answers UNAVAILABLE until they have. `raw` holds more
   * FRAMEWORKS_OPTIONS.
   */
  async startEmbedded(master: EmbeddingMaster, credentials: HostCredentials | undefined, raw: Record<string, unknown> = {}): Promise<void> {
    const options = compileFrameworksOptions({ master: master.grpcAddress, masterHttp: master.httpAddress, ...raw });
    const security = embeddedHostSecurity(master.edge.authenticator, credentials);
    await this.start(options, { store: master.store, advertise: { grpcAddress: master.grpcAddress, httpAddress: master.httpAddress }, security });
  }

  #locator(): MasterTaskLocator | undefined {
    const security = this.#security;
    const finder = this.#masterHttp;
    if (!security || !finder) return undefined;
    return new MasterTaskLocator({ masterHttp: () => finder.current(), http: security.http, scheme: security.scheme, kindOf: kindOfFramework });
  }

  get grpcAddress(): string | undefined {
    return this.#advertise?.grpcAddress;
  }

  get httpAddress(): string | undefined {
    return this.#advertise?.httpAddress;
  }

  /** The service DNS port, UDP and TCP (once started). */
  get dnsPort(): number | undefined {
    return this.#dns?.port;
  }

  /** Open the store (unless given) and stand for election. Resolves after the first round. */
  async start(options: FrameworksOptions, overrides: StartOverrides = {}): Promise<void> {
    if (this.lifecycle !== 'INITIALIZED') throw new Error(`cannot start a frameworks host that is ${this.lifecycle}`);
    this.#options = options;
    this.#advertise = overrides.advertise ?? this.#advertise;
    if (!this.#advertise) throw new Error('frameworks host: no address to advertise (register on servers and pass advertise, or use run())');
    this.#ownsStore = overrides.store === undefined;
    this.#security ??= overrides.security ?? hostSecurityFromOptions(options, () => this.#discovery?.current(), this.logger);
    this.api.taskUser = options.taskUser;
    if (options.proxy) this.#proxy = new ServiceProxy(options, this.#baseLogger.child({ component: 'proxy' }), this.metrics.own);
    const url = storeUrl(options);
    if (!options.insecure && overrides.store === undefined) requireZkCredentials(url, options.zkCredentialsFile !== undefined, options.store === undefined ? '--master' : '--store');
    this.#store = overrides.store ?? (await openStore(url, { chroot: url.startsWith('zk://') ? '' : '/agora', sessionTimeoutMs: options.zkSessionTimeout, credentials: options.zkCredentialsFile }));
    // Refuse to start with secrets in the store and no key, or the wrong one (objects/store.ts).
    this.#secretsKey = options.secretsKeyFile === undefined ? undefined : await SecretKey.readFile(options.secretsKeyFile);
    await ConfigObjects.checkKey(ConfigObjects.namespace(this.#store, options.cluster), this.#secretsKey);
    this.#masterHttp = await masterHttpFinder(options);
    // Standbys answer too (REFUSED), so a resolver given every instance moves on to the leader.
    this.#dns = await startServiceDns({ ...options, dnsBind: options.dnsBind ?? options.bind }, { api: this.api, registry: this.registry, serving: () => this.gate.serving(), logger: this.#baseLogger });
    this.lifecycle = 'STANDBY';
    await this.#join();
  }

  /** Resolves once this instance leads with every framework started (or rejects after timeoutMs). */
  waitLeading(timeoutMs: number): Promise<void> {
    if (this.lifecycle === 'LEADING') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the frameworks did not start within ${timeoutMs} ms (lifecycle ${this.lifecycle})`)), timeoutMs);
      this.#leadingWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async #serve(options: FrameworksOptions): Promise<void> {
    const fromFlags = hostSecurityFromOptions(options, () => this.#discovery?.current(), this.logger);
    const security = this.deps.authenticator ? { ...fromFlags, authenticator: this.deps.authenticator } : fromFlags;
    this.#security = security;
    // The master to ask about callers' credentials: any will do (standbys know the tokens too).
    this.#discovery = await discoverMasters(options.master, options.cluster);
    const tls = security.serverTls;
    this.#grpc = createGrpcServer({
      health: { '': 'SERVING' },
      limits: grpcLimitsFrom(options),
      onListenError: (err) => this.logger.warn({ err }, 'gRPC server cannot accept a connection'),
      ...(tls ? { tls } : {}),
      reflectionAuth: security.authenticator,
    });
    this.registerGrpc(this.#grpc, security.authenticator);
    const grpcPort = await this.#grpc.bind(options.bind, options.grpcPort);
    this.#http = createHttpServer({ logger: this.logger, limits: httpLimitsFrom(options), ...(tls ? { tls } : {}) });
    // /metrics as the masters serve it: `cluster.view`, or anyone with --open-metrics.
    requireAuthentication(this.#http, security.authenticator, { open: ['/health', ...(options.openMetrics ? ['/metrics'] : [])] });
    this.#http.get('/health', async () => ({ status: 'ok', lifecycle: this.lifecycle, leader: this.gate.leader() ?? null }));
    // Any authenticated caller, as the masters' /version (`agora version` asks both).
    this.#http.get('/version', async () => ({ version: VERSION }));
    this.metrics.serve(this.#http);
    this.registerHttp(this.#http);
    const httpPort = await listenHttp(this.#http, options.bind, options.httpPort);
    this.#advertise = { grpcAddress: `${options.hostname}:${grpcPort}`, httpAddress: `${options.hostname}:${httpPort}` };
  }

  async #join(): Promise<void> {
    const options = this.#options as FrameworksOptions;
    this.#leadership = await electFrameworkLeader({
      store: this.#store as Store,
      cluster: options.cluster,
      framework: FRAMEWORKS_ELECTION_NAME,
      data: this.#advertise as Required<LeaderAddresses>,
      onElected: () => this.#lead(),
      onLost: (reason) => this.#standDown(reason),
      // Ride out a lost connection while the session may live, as the masters do: losing one
      // ZooKeeper server of three must not restart every framework. #vouched() is the lease.
      suspendedGraceMs: (this.#store as Store).sessionTimeoutMs * VOUCHED_FRACTION,
      logger: this.logger,
    });
  }

  /** Is the store's session vouched for (heard from within 2/3 of its timeout)? */
  #vouched(): boolean {
    const store = this.#store;
    return store !== undefined && store.contactAgeMs() < store.sessionTimeoutMs * VOUCHED_FRACTION;
  }

  async #lead(): Promise<void> {
    if (this.lifecycle !== 'STANDBY') return;
    const term = ++this.#term;
    this.#termEnded = new AbortController();
    this.lifecycle = 'STARTING';
    this.logger.info({ modules: this.#modules().map((m) => m.name) }, 'elected: starting the frameworks');
    try {
      const options = this.#options as FrameworksOptions;
      const objects = await ConfigObjects.open(this.#store as Store, options.cluster, this.#secretsKey, this.deps.clock ?? systemClock);
      if (term !== this.#term) return;
      this.api.objects = objects;
      for (const module of this.#modules()) {
        const controller = await module.start(this.#moduleContext(objects));
        if (term !== this.#term) {
          await controller.stop();
          return;
        }
        this.#running.push(controller);
        this.registry.set(controller);
      }
    } catch (err) {
      if (term !== this.#term) return;
      const retryMs = this.#nextRetryMs();
      this.logger.error({ err, retryMs }, 'the frameworks failed to start: resigning');
      await this.#resignAndRetry(retryMs);
      return;
    }
    this.lifecycle = 'LEADING';
    this.#failures = 0;
    this.#proxy?.follow(this.registry);
    this.logger.info({ grpc: this.grpcAddress, http: this.httpAddress }, 'frameworks leading');
    for (const waiter of this.#leadingWaiters.splice(0)) waiter();
  }

  #moduleContext(objects: ConfigObjects): Parameters<FrameworkModule['start']>[0] {
    const options = this.#options as FrameworksOptions;
    return {
      master: options.master,
      store: this.#store as Store,
      cluster: options.cluster,
      role: options.role,
      apiUrl: `${this.#security?.scheme ?? 'https'}://${this.httpAddress ?? ''}`,
      logger: this.#baseLogger,
      // The frameworks subscribe only while the host can vouch for its leadership: a host riding out
      // a lost connection keeps its subscriptions but makes no new one (another may lead by then).
      access: { ...(this.#security?.access ?? { insecure: true }), mayConnect: () => this.#vouched() },
      taskUser: options.taskUser,
      usage: { masterHttp: () => this.#masterHttp?.current(), http: this.#security?.http ?? {}, scheme: this.#security?.scheme ?? 'https', autoscaleIntervalMs: options.autoscaleInterval },
      onRefused: (message) => void this.#frameworkRefused(message),
      signal: this.#termEnded.signal,
      values: (kind, name, key) => objects.value(kind, name, key),
      ...(this.deps.clock ? { clock: this.deps.clock } : {}),
    };
  }

  /**
   * A framework the master refused for good — its subscription replaced by one with its id (a
   * host that led before and has not yet noticed it lost), or its id removed — has stopped, and
   * would stay stopped. The host resigns and stands again, so whichever instance leads next starts
   * every framework afresh, with its stored id.
   */
  async #frameworkRefused(message: string): Promise<void> {
    if (this.lifecycle !== 'LEADING' && this.lifecycle !== 'STARTING') return;
    this.#endTerm();
    const retryMs = this.#nextRetryMs();
    this.logger.error({ message, retryMs }, 'the master refused a framework: resigning to start the frameworks afresh');
    await this.#resignAndRetry(retryMs);
  }

  /** Whatever the frameworks were doing under the current term is void. */
  #endTerm(): void {
    this.#term += 1;
    this.#termEnded.abort();
  }

  #modules(): readonly FrameworkModule[] {
    return this.deps.modules ?? FRAMEWORK_MODULES;
  }

  async #standDown(reason: string): Promise<void> {
    this.#endTerm();
    if (this.lifecycle === 'STARTING' || this.lifecycle === 'LEADING') {
      this.logger.warn({ reason }, 'lost leadership: stopping the frameworks');
      this.lifecycle = 'STANDBY';
    }
    await this.#stopControllers();
  }

  async #stopControllers(): Promise<void> {
    this.registry.clear();
    this.api.objects = undefined;
    const running = this.#running.splice(0).reverse();
    for (const controller of running) {
      await controller.stop().catch((err: unknown) => this.logger.error({ err, kind: controller.kind }, 'stopping a framework failed'));
    }
  }

  /** One more failure in a row: stand again after --retry-delay, doubling up to a minute. */
  #nextRetryMs(): number {
    this.#failures += 1;
    return Math.min(MAX_RETRY_MS, (this.#options?.retryDelay ?? 2_000) * 2 ** (this.#failures - 1));
  }

  async #resignAndRetry(retryMs: number): Promise<void> {
    await this.#leadership?.resign();
    await this.#stopControllers();
    if (this.lifecycle === 'STOPPING' || this.lifecycle === 'STOPPED') return;
    this.lifecycle = 'STANDBY';
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.lifecycle === 'STANDBY') void this.#join().catch((err: unknown) => this.logger.error({ err }, 'cannot rejoin the election'));
    }, retryMs);
  }

  /** Leave the election, stop the frameworks, close the servers we own and the store if ours. */
  async stop(): Promise<void> {
    if (this.lifecycle === 'STOPPING' || this.lifecycle === 'STOPPED') return;
    this.lifecycle = 'STOPPING';
    this.#endTerm();
    clearTimeout(this.#retryTimer);
    await this.#leadership?.resign().catch((err: unknown) => this.logger.warn({ err }, 'resign failed'));
    this.#proxy?.close();
    await this.#stopControllers();
    await Promise.allSettled([this.#grpc?.shutdown(1000), this.#http?.close(), this.#dns?.close()]);
    await this.#masterHttp?.close();
    this.#security?.authenticator.close?.();
    await this.#discovery?.close().catch(() => undefined);
    if (this.#ownsStore) await this.#store?.close();
    this.lifecycle = 'STOPPED';
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
