// The driver's options: compiled once into a frozen object (bad values name themselves).
import { systemClock, type Clock } from '../core/clock.js';
import { InvalidArgumentError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import { mathRandom, type Random } from '../core/random.js';
import type * as grpc from '@grpc/grpc-js';
import { grpcChannelCredentials } from '../core/security/tls.js';
import type { FrameworkCapability, FrameworkInfo } from '../proto/index.js';

/**
 * How a framework proves who it is and knows it talks to the real master: the cluster CA (PEM), a
 * bearer token (`agora acl token create …`), and/or a client certificate with its key.
 */
export interface DriverCredentials {
  readonly ca: string | Buffer;
  readonly token?: string;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

export interface FrameworkDescription {
  readonly name: string;
  /** Set to resubscribe as an existing framework (after a restart or failover). */
  readonly id?: string;
  readonly roles?: readonly string[];
  readonly user?: string;
  readonly principal?: string;
  /** How long the master keeps the tasks after the framework disconnects (default 1 week). */
  readonly failoverTimeoutSeconds?: number;
  readonly capabilities?: readonly FrameworkCapability[];
  /** Receive agentAdded / agentRemoved / agentDraining (the AGENT_EVENTS capability; default false). */
  readonly agentEvents?: boolean;
  readonly checkpoint?: boolean;
  readonly hostname?: string;
  readonly webuiUrl?: string;
  readonly apiUrl?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface DriverOptions {
  /** `host:port`, `h1:5051,h2:5051`, a list, or `zk://h1:2181,h2:2181/agora`. */
  readonly master: string | readonly string[];
  /** Cluster name, for ZooKeeper discovery (default 'default'). */
  readonly cluster?: string;
  readonly framework: FrameworkDescription;
  readonly suppressedRoles?: readonly string[];
  /** Acknowledge each update after its handler resolves (default true). */
  readonly autoAcknowledge?: boolean;
  /**
   * Default: errors only, on stderr — a handler that throws, or the master refusing the framework
   * for good, is never silent. Pass `silentLogger()` to hear nothing.
   */
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly random?: Random;
  /**
   * Reconnect backoff: jittered, exponential from `initialMs` (default 250) to `maxMs` (default
   * 15 s). Before the first subscription the driver gives up after `initialAttempts` failed
   * attempts in a row (default 8, about 45 s with the default backoff) and `closed` rejects with
   * MasterUnreachableError; once subscribed it reconnects through restarts and failovers for
   * `maxAttempts` attempts in a row (default Infinity: for as long as it runs).
   */
  readonly reconnect?: { readonly initialMs?: number; readonly maxMs?: number; readonly initialAttempts?: number; readonly maxAttempts?: number };
  /** Reconnect when no event arrives for this many heartbeat intervals (default 3). */
  readonly heartbeatMisses?: number;
  /** Explicit reconciliation retries (truncated exponential) and the implicit period. */
  readonly reconcile?: { readonly initialMs?: number; readonly maxMs?: number; readonly periodicMs?: number };
  /** Deadline of each unary call (default 10 s). */
  readonly callTimeoutMs?: number;
  /** Required unless `insecure`: TLS trusting the cluster CA, and a token or a client certificate. */
  readonly credentials?: DriverCredentials;
  /** Plaintext and no credentials, for a master started with --insecure. */
  readonly insecure?: boolean;
  /**
   * Subscribe only while this says yes, asked before every connection attempt: a framework that
   * runs only while it leads (an election's lease) passes whether it can still vouch for that. A
   * subscription already open is not ended by it. Default: always.
   */
  readonly mayConnect?: () => boolean;
}

export interface CompiledDriverOptions {
  readonly master: string | readonly string[];
  readonly cluster: string;
  readonly framework: FrameworkDescription & { readonly roles: readonly string[]; readonly failoverTimeoutSeconds: number };
  readonly suppressedRoles: readonly string[];
  readonly autoAcknowledge: boolean;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly random: Random;
  readonly reconnectInitialMs: number;
  readonly reconnectMaxMs: number;
  readonly reconnectInitialAttempts: number;
  readonly reconnectMaxAttempts: number;
  readonly heartbeatMisses: number;
  readonly reconcileInitialMs: number;
  readonly reconcileMaxMs: number;
  readonly reconcilePeriodicMs: number;
  readonly callTimeoutMs: number;
  /** The channel credentials every connection uses. */
  readonly channel: grpc.ChannelCredentials;
  readonly insecure: boolean;
  readonly mayConnect: () => boolean;
}

const WEEK_SECONDS = 7 * 24 * 3600;

function positive(value: number | undefined, def: number, field: string): number {
  if (value === undefined) return def;
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError(field, `must be a positive number, got ${value}`);
  return value;
}

/** A count of attempts: a whole number ≥ 1, or Infinity. */
function attempts(value: number | undefined, def: number, field: string): number {
  if (value === undefined) return def;
  if (value !== Infinity && (!Number.isInteger(value) || value < 1)) throw new InvalidArgumentError(field, `must be a whole number ≥ 1 (or Infinity), got ${value}`);
  return value;
}

export function compileDriverOptions(options: DriverOptions): CompiledDriverOptions {
  if (!options.framework?.name) throw new InvalidArgumentError('framework.name', 'is required');
  const failover = options.framework.failoverTimeoutSeconds ?? WEEK_SECONDS;
  if (!Number.isFinite(failover) || failover < 0) throw new InvalidArgumentError('framework.failoverTimeoutSeconds', `must be ≥ 0, got ${failover}`);
  const master = options.master;
  if (master === undefined || (typeof master === 'string' && master.trim() === '') || (Array.isArray(master) && master.length === 0)) {
    throw new InvalidArgumentError('master', 'is required: host:port, a list, or zk://hosts/agora');
  }
  return Object.freeze({
    master,
    cluster: options.cluster ?? 'default',
    framework: { ...options.framework, roles: options.framework.roles?.length ? options.framework.roles : ['*'], failoverTimeoutSeconds: failover },
    suppressedRoles: options.suppressedRoles ?? [],
    autoAcknowledge: options.autoAcknowledge ?? true,
    logger: options.logger ?? createLogger({ level: 'error', name: 'agora-sdk' }),
    clock: options.clock ?? systemClock,
    random: options.random ?? mathRandom,
    reconnectInitialMs: positive(options.reconnect?.initialMs, 250, 'reconnect.initialMs'),
    reconnectMaxMs: positive(options.reconnect?.maxMs, 15_000, 'reconnect.maxMs'),
    reconnectInitialAttempts: attempts(options.reconnect?.initialAttempts, 8, 'reconnect.initialAttempts'),
    reconnectMaxAttempts: attempts(options.reconnect?.maxAttempts, Infinity, 'reconnect.maxAttempts'),
    heartbeatMisses: positive(options.heartbeatMisses, 3, 'heartbeatMisses'),
    reconcileInitialMs: positive(options.reconcile?.initialMs, 1_000, 'reconcile.initialMs'),
    reconcileMaxMs: positive(options.reconcile?.maxMs, 30_000, 'reconcile.maxMs'),
    reconcilePeriodicMs: positive(options.reconcile?.periodicMs, 600_000, 'reconcile.periodicMs'),
    callTimeoutMs: positive(options.callTimeoutMs, 10_000, 'callTimeoutMs'),
    channel: channelOf(options),
    insecure: options.insecure === true,
    mayConnect: options.mayConnect ?? (() => true),
  });
}

function pem(value: string | Buffer | undefined): Buffer | undefined {
  return value === undefined ? undefined : Buffer.isBuffer(value) ? value : Buffer.from(value);
}

function channelOf(options: DriverOptions): grpc.ChannelCredentials {
  if (options.insecure) {
    if (options.credentials) throw new InvalidArgumentError('insecure', 'give credentials or insecure: true, not both');
    return grpcChannelCredentials(undefined);
  }
  const c = options.credentials;
  if (!c?.ca) throw new InvalidArgumentError('credentials.ca', "the cluster CA (PEM) is required to reach a secured master (or insecure: true for a master started with --insecure)");
  if ((c.cert === undefined) !== (c.key === undefined)) throw new InvalidArgumentError(c.cert === undefined ? 'credentials.cert' : 'credentials.key', 'a client certificate and its key go together');
  if (!c.token && !c.cert) throw new InvalidArgumentError('credentials.token', 'give a token (or a client certificate) so the master knows who the framework is');
  const cert = pem(c.cert);
  const key = pem(c.key);
  return grpcChannelCredentials({ ca: pem(c.ca) as Buffer, ...(cert && key ? { cert, key } : {}) }, c.token);
}

/** The FrameworkInfo a subscription sends: the described framework, with its id once it has one. */
export function frameworkInfoOf(options: CompiledDriverOptions, id: string | undefined): FrameworkInfo {
  const f = options.framework;
  return {
    id: id ?? '',
    name: f.name,
    roles: [...f.roles],
    user: f.user ?? '',
    principal: f.principal ?? '',
    failoverTimeoutSeconds: f.failoverTimeoutSeconds,
    capabilities: [...new Set([...(f.capabilities ?? []), ...(f.agentEvents ? (['AGENT_EVENTS'] as const) : [])])],
    checkpoint: f.checkpoint ?? true,
    hostname: f.hostname ?? '',
    webuiUrl: f.webuiUrl ?? '',
    apiUrl: f.apiUrl ?? '',
    labels: { ...(f.labels ?? {}) },
  };
}
