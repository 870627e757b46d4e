// `agora frameworks` options (also what `agora up` passes to the in-process host). Compiled once,
// frozen; a bad flag names itself.
import { compileOptions, opt, type OptionsOf } from '../core/options.js';
import { DNS_OPTIONS } from './dns/options.js';
import { proxyOptionSpecs } from './proxy/options.js';
import { GRPC_LIMIT_OPTIONS, HTTP_LIMIT_OPTIONS, httpLimitsFrom, SERVER_LIMIT_OPTIONS } from '../core/server-limits.js';

export const FRAMEWORKS_OPTIONS = {
  master: opt.string('--master', 'the masters: host:port[,host:port] or zk://h1:2181,h2:2181/agora'),
  masterHttp: opt.optionalString('--master-http', "the master's HTTP address, to find tasks' logs (default: from ZooKeeper, else the --master host on port 5050)"),
  store: opt.optionalString('--store', 'framework state and the election: zk://[user:password@]h1:2181/agora or a directory (default: --master when it is zk://, else .agora/frameworks)'),
  /** The credentials read from the file: for the store (they replace its URL's). */
  zkCredentialsFile: opt.credentialsFile('--zk-credentials-file', "file holding user:password, the ZooKeeper digest credentials for the store (instead of its URL's); state is private to them"),
  cluster: opt.string('--cluster', 'cluster name; state lives under /agora/<cluster>/frameworks', 'default', { re: /^[a-z0-9][a-z0-9-]*$/, hint: 'a lower-case name' }),
  role: opt.string('--role', 'the role the built-in frameworks run tasks as unless a spec names one', '*'),
  hostname: opt.string('--hostname', 'address advertised to clients and to the other instances', '127.0.0.1'),
  bind: opt.string('--bind', 'address to listen on', '127.0.0.1'),
  grpcPort: opt.port('--grpc-port', 'Jobs API gRPC port (0 picks a free port)', 5061),
  httpPort: opt.port('--http-port', 'Jobs API HTTP/JSON port (0 picks a free port)', 5060),
  zkSessionTimeout: opt.duration('--zk-session-timeout', 'ZooKeeper session timeout', '10s', { minMs: 100 }),
  retryDelay: opt.duration('--retry-delay', 'after the frameworks fail to start, wait this long (doubling, to 1m) and stand for election again', '2s', { minMs: 1 }),
  insecure: opt.bool('--insecure', 'turn off TLS and authentication (for masters started with --insecure); a warning is logged at every start', false),
  tlsCa: opt.optionalString('--tls-ca', 'the cluster CA certificate (PEM): the masters, agents and callers are checked against it'),
  tlsCert: opt.optionalString('--tls-cert', "the Jobs API's certificate (PEM)"),
  tlsKey: opt.optionalString('--tls-key', "the Jobs API's private key (PEM)"),
  secretsKeyFile: opt.optionalString('--secrets-key-file', 'a file holding the key Secrets are sealed with in the store (32 bytes, base64; mode 0600): head -c 32 /dev/urandom | base64. Without it no Secret can be stored, and a store holding some refuses to start'),
  tokenFile: opt.optionalString('--token-file', "a file holding the built-in frameworks' token (a principal with the `frameworks` policy: agora acl token create --principal agora-frameworks --policy frameworks)"),
  openMetrics: opt.bool('--open-metrics', 'serve /metrics without credentials (for a Prometheus without a token), as the masters do', false),
  taskUser: opt.string('--task-user', 'the user tasks run as when a spec names none', 'nobody', { re: /^[A-Za-z0-9_][A-Za-z0-9_.-]*(:\d+)?$/, hint: 'a user name or uid' }),
  autoscaleInterval: opt.duration('--autoscale-interval', 'how often services with autoscale are measured (their agents\' /api/v1/containers) and scaled', '15s', { minMs: 10 }),
  logLevel: opt.oneOf('--log-level', 'log level', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, 'info'),
  // Service DNS (dns/README.md): port, address, TTL, domain, TCP bounds.
  ...DNS_OPTIONS,
  // The services' L4 proxy (proxy/): on every interface, as a load balancer is.
  ...proxyOptionSpecs('0.0.0.0'),
  // Limits of the Jobs API's HTTP and gRPC servers (core/server-limits.ts has the defaults and why).
  ...SERVER_LIMIT_OPTIONS,
  ...HTTP_LIMIT_OPTIONS,
  ...GRPC_LIMIT_OPTIONS,
};

export type FrameworksOptions = OptionsOf<typeof FRAMEWORKS_OPTIONS>;

export function compileFrameworksOptions(raw: Record<string, unknown>): FrameworksOptions {
  const options = compileOptions(FRAMEWORKS_OPTIONS, raw);
  httpLimitsFrom(options);
  return options;
}

/** The store URL: --store, else --master when it is a ZooKeeper URL, else a local directory. */
export function storeUrl(options: FrameworksOptions): string {
  return options.store ?? (options.master.startsWith('zk://') ? options.master : '.agora/frameworks');
}
