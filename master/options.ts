// `agora master` options: one flag for every default in ARCHITECTURE.md. Compiled once, frozen.
import { resolveAdvertiseIp } from '../core/advertise.js';
import { InvalidArgumentError } from '../core/errors.js';
import { compileOptions, opt, type OptionsOf } from '../core/options.js';
import { GRPC_LIMIT_OPTIONS, HTTP_LIMIT_OPTIONS, httpLimitsFrom, SERVER_LIMIT_OPTIONS } from '../core/server-limits.js';

export const MASTER_OPTIONS = {
  hostname: opt.string('--hostname', 'address advertised to agents and frameworks', '127.0.0.1'),
  bind: opt.string('--bind', 'address to listen on', '127.0.0.1'),
  advertiseIp: opt.optionalString('--advertise-ip', "this master's IP in its MasterInfo (default: --hostname when an IP, else --bind when not 0.0.0.0/::, else the default route's IPv4)"),
  httpPort: opt.port('--http-port', 'operator HTTP port (0 picks a free port)', 5050),
  grpcPort: opt.port('--grpc-port', 'gRPC port for agents and frameworks (0 picks a free port)', 5051),
  zk: opt.optionalString('--zk', 'ZooKeeper URL zk://[user:password@]h1:2181,h2:2181/agora (HA); else --data-dir'),
  /** The credentials read from the file (they replace the --zk URL's). */
  zkCredentialsFile: opt.credentialsFile('--zk-credentials-file', 'file holding user:password, the ZooKeeper digest credentials (instead of the --zk URL\'s); nodes are private to them'),
  dataDir: opt.string('--data-dir', 'embedded store directory when --zk is not given', '.agora/master'),
  cluster: opt.string('--cluster', 'cluster name; the store path is /agora/<cluster>', 'default', { re: /^[a-z0-9][a-z0-9-]*$/, hint: 'a lower-case name' }),
  zkSessionTimeout: opt.duration('--zk-session-timeout', 'ZooKeeper session timeout', '10s', { minMs: 100 }),
  allocationInterval: opt.duration('--allocation-interval', 'how often the allocator runs a full pass', '1s', { minMs: 1 }),
  refuseSeconds: opt.duration('--default-refuse', 'decline filter when the framework gives none', '5s'),
  // 1 min: twice the longest hold a built-in framework makes on purpose (a gang job's 30 s), 60
  // allocation intervals; a framework that never answers delays others by at most this much.
  offerTimeout: opt.duration('--offer-timeout', 'rescind offers held longer than this, and keep them from that framework for --default-refuse (0 = never)', '1m'),
  agentPingInterval: opt.duration('--agent-ping-interval', 'how often the master pings each agent', '15s', { minMs: 10 }),
  maxAgentPingTimeouts: opt.int('--max-agent-ping-timeouts', 'missed pings before an agent is unreachable', 5, { min: 1 }),
  agentReregisterTimeout: opt.duration('--agent-reregister-timeout', 'after failover, how long to wait for agents to come back', '10m', { minMs: 0 }),
  takeoverHold: opt.duration('--takeover-hold', 'how long a master being elected holds agent and framework streams before refusing them', '2s'),
  heartbeatInterval: opt.duration('--heartbeat-interval', 'scheduler heartbeat interval', '15s', { minMs: 10 }),
  maxCompletedTasksPerFramework: opt.int('--max-completed-tasks-per-framework', 'finished tasks kept for the endpoints', 1000, { min: 0 }),
  minAllocatableResources: opt.string('--min-allocatable-resources', 'an agent is offered only when this much is free', 'cpus:0.01|mem:32'),
  fairness: opt.oneOf('--fairness', 'how roles and frameworks are ordered', ['drf', 'random'] as const, 'drf'),
  seed: opt.int('--seed', 'seed for the agent shuffle', 1),
  drainGracePeriod: opt.duration('--drain-grace-period', 'default grace before a draining agent has its tasks killed', '30s'),
  insecure: opt.bool('--insecure', 'turn off TLS, authentication and authorisation: every caller may do anything (a warning is logged at every start)', false),
  tlsCa: opt.optionalString('--tls-ca', 'the cluster CA certificate (PEM): client certificates are checked against it'),
  tlsCert: opt.optionalString('--tls-cert', "this master's certificate (PEM), for its gRPC and HTTP ports"),
  tlsKey: opt.optionalString('--tls-key', "this master's private key (PEM)"),
  bootstrapTokenFile: opt.optionalString('--bootstrap-token-file', 'an admin token for the first operator: registered if it is not yet, created (mode 0600) if the file does not exist'),
  openMetrics: opt.bool('--open-metrics', 'serve /metrics without credentials (for a Prometheus without a token)', false),
  defaultTaskUser: opt.string('--default-task-user', 'user a task runs as when neither it nor its framework names one', 'nobody', { re: /^[A-Za-z0-9_][A-Za-z0-9_.-]*(:\d+)?$/, hint: 'a user name or uid' }),
  authCache: opt.duration('--auth-cache', 'how long agents and frameworks may reuse an answer of the Access service (a revoked token stops working there within this)', '5s'),
  jobsApi: {
    ...opt.optionalString('--jobs-api', "the Jobs API's URL (https://host:port) the master forwards the dashboard's workload requests to, when it does not serve the API itself and no frameworks host shares its store"),
    parse: (raw: unknown, f: string) => opt.string(f, '', undefined, { re: /^(https?:\/\/)?[A-Za-z0-9.:[\]-]+:\d{1,5}\/?$/, hint: 'https://host:port' }).parse(raw, f),
  },
  usageHistoryInterval: opt.duration('--usage-history-interval', "how often the leader samples the cluster's total, allocated and used resources for /api/v1/usage/history (0 = never)", '10s'),
  usageHistorySize: opt.int('--usage-history-size', 'samples of /api/v1/usage/history kept (360 at 10s = one hour)', 360, { min: 1, max: 100_000 }),
  logLevel: opt.oneOf('--log-level', 'log level', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, 'info'),
  // Limits of the HTTP and gRPC servers (core/server-limits.ts has the defaults and why).
  ...SERVER_LIMIT_OPTIONS,
  ...HTTP_LIMIT_OPTIONS,
  ...GRPC_LIMIT_OPTIONS,
  sseReplayEvents: opt.int('--sse-replay-events', 'events of /api/v1/events kept for clients that resume with Last-Event-ID; a client that falls further behind is dropped', 10_000, { min: 1, max: 10_000_000 }),
};

export type MasterOptions = OptionsOf<typeof MASTER_OPTIONS>;

export function compileMasterOptions(raw: Record<string, unknown>): MasterOptions {
  const options = compileOptions(MASTER_OPTIONS, raw);
  httpLimitsFrom(options);
  // The caller's token goes on only over TLS (http/forward.ts): a plain-http Jobs API behind a
  // secure master would refuse every forwarded request, for a reason no caller could see.
  if (!options.insecure && options.jobsApi?.startsWith('http://')) {
    throw new InvalidArgumentError('--jobs-api', `'${options.jobsApi}' is plain http, and this master forwards the caller's token over https only: give https://host:port (or run both --insecure)`);
  }
  return Object.freeze({ ...options, advertiseIp: resolveAdvertiseIp(options) });
}

/** The TLS files a secure master needs; a missing one names its flag. */
export function requiredTlsFiles(options: MasterOptions): { ca: string; cert: string; key: string } {
  const { tlsCa, tlsCert, tlsKey } = options;
  for (const [flag, value] of [['--tls-ca', tlsCa], ['--tls-cert', tlsCert], ['--tls-key', tlsKey]] as const) {
    if (value === undefined) throw new InvalidArgumentError(flag, 'is required unless --insecure (make them with `agora tls ca create` and `agora tls cert create --server`)');
  }
  return { ca: tlsCa as string, cert: tlsCert as string, key: tlsKey as string };
}
