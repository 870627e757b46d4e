// `agora agent` options: every timeout of ARCHITECTURE.md's defaults is a flag, so tests run in seconds.
// Compiled once into a frozen object; a bad flag fails at start and names itself.
import { resolveAdvertiseIp } from '../core/advertise.js';
import { AgoraError, InvalidArgumentError } from '../core/errors.js';
import { compileOptions, opt, parseAddress, type OptionSpec, type OptionsOf } from '../core/options.js';
import { HTTP_LIMIT_OPTIONS, httpLimitsFrom, SERVER_LIMIT_OPTIONS } from '../core/server-limits.js';
import { Resources } from '../core/resources.js';
import { parseStoreUrl } from '../core/store/index.js';
import { parseAttributes, type Attributes } from '../core/wire.js';
import { resolveDockerEndpoint, type DockerEndpoint } from './docker-endpoint.js';
import type { ExecutorKind } from './executor.js';
import { SANDBOX_LIMIT_OPTIONS } from './sandbox-limits.js';

/** Where the masters are: a list of host:port (tried in turn), or a ZooKeeper URL. */
export type MasterLocation = { readonly kind: 'addresses'; readonly addresses: readonly string[] } | { readonly kind: 'zk'; readonly url: string };

/** Memory kept back for the OS and the agent: MiB, or a percentage of the total. */
export type MemReserve = { readonly mib: number } | { readonly percent: number };

export const EXECUTOR_KINDS: readonly ExecutorKind[] = ['process', 'docker', 'fake'];

/**
 * Processes and threads a task may have at once unless --task-pids-limit says otherwise: room for
 * a busy JVM or a pre-forking server, while a fork bomb stops at a small share of the host's
 * pid_max (32,768 on many hosts). Why this and not another: agent/README.md.
 */
export const DEFAULT_TASK_PIDS_LIMIT = 1024;
/** --exec-max-sessions: `agora exec` sessions at once per agent. */
export const DEFAULT_EXEC_MAX_SESSIONS = 16;
/** The kernel's PID_MAX_LIMIT (64-bit): pids.max takes no more. */
const MAX_TASK_PIDS_LIMIT = 4_194_304;

export function parseMasterLocation(raw: unknown, flag: string): MasterLocation {
  const text = String(raw).trim();
  if (text.startsWith('zk://')) {
    checkStoreUrl(text, flag);
    return Object.freeze({ kind: 'zk', url: text });
  }
  const addresses = text.split(',').map((a) => a.trim()).filter((a) => a !== '');
  if (addresses.length === 0) throw new InvalidArgumentError(flag, 'expected host:port[,host:port] or zk://…');
  return Object.freeze({ kind: 'addresses', addresses: Object.freeze(addresses.map((a) => parseAddress(a, flag))) });
}

/** A zk:// URL as the store will parse it, checked now so that the flag names itself. */
function checkStoreUrl(url: string, flag: string): void {
  try {
    parseStoreUrl(url);
  } catch (err) {
    if (!(err instanceof AgoraError) || err.code !== 'AGORA_INVALID_ARGUMENT') throw err;
    const reason = err.field !== undefined && err.message.startsWith(`${err.field}: `) ? err.message.slice(err.field.length + 2) : err.message;
    throw new InvalidArgumentError(flag, reason);
  }
}

export function parseMemReserve(raw: unknown, flag: string): MemReserve {
  const text = String(raw).trim();
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (percent) {
    const p = Number(percent[1]);
    if (p >= 100) throw new InvalidArgumentError(flag, `a percentage must be below 100, got '${text}'`);
    return Object.freeze({ percent: p });
  }
  if (!/^\d+(?:\.\d+)?$/.test(text)) throw new InvalidArgumentError(flag, `expected MiB (e.g. 1024) or a percentage (e.g. 10%), got '${text}'`);
  return Object.freeze({ mib: Number(text) });
}

function parseResourcesFlag(raw: unknown, flag: string): Resources {
  return Resources.parse(String(raw), flag);
}

function parseAttributesFlag(raw: unknown, flag: string): Attributes {
  return parseAttributes(String(raw), flag);
}

/** An option whose absence means "detect" / "not set" (opt.custom without a default is required). */
function optional<T>(flag: string, description: string, parse: (raw: unknown, flag: string) => T): OptionSpec<T | undefined> {
  return { flag, description, parse, default: undefined };
}

export const AGENT_OPTIONS = {
  master: opt.custom<MasterLocation>('--master', 'the masters: host:port[,host:port] (or zk://h1:2181,h2:2181/agora)', parseMasterLocation),
  cluster: opt.string('--cluster', 'cluster name (with zk://, the election read is /agora/<cluster>/master/election)', 'default', { re: /^[a-z0-9][a-z0-9-]*$/, hint: 'a lower-case name' }),
  hostname: opt.string('--hostname', 'hostname advertised to the master (and in http_address)', '127.0.0.1'),
  bind: opt.string('--bind', 'address the agent HTTP server listens on', '127.0.0.1'),
  advertiseIp: opt.optionalString('--advertise-ip', "the IP others reach this agent's tasks at (default: --hostname when an IP, else --bind when not 0.0.0.0/::, else the default route's IPv4)"),
  httpPort: opt.port('--http-port', 'agent HTTP port (0 picks a free port)', 5052),
  workDir: opt.string('--work-dir', 'checkpoints and task sandboxes', '.agora/agent'),
  resources: optional('--resources', 'resources to offer, e.g. cpus:4;mem:8192;ports:[31000-32000] (overrides detection per name)', parseResourcesFlag),
  memReserve: optional('--mem-reserve', 'memory kept back from detection: MiB or a percentage (default 1024 MiB, half below 2 GiB)', parseMemReserve),
  attributes: opt.custom<Attributes>('--attributes', 'attributes, e.g. rack:r1;zone:a', parseAttributesFlag, Object.freeze({})),
  executor: opt.oneOf<ExecutorKind>('--executor', 'how tasks run (a task with a container image always uses docker)', EXECUTOR_KINDS, 'process'),
  dockerSocket: opt.optionalString('--docker-socket', 'the Docker engine: unix:///path (or /path) or tcp://host:port; wins over $DOCKER_HOST (default unix:///var/run/docker.sock)'),
  dockerCheckInterval: opt.duration('--docker-check-interval', 'how often the agent pings its Docker engine to advertise whether it runs containers (0 = only at start)', '30s', { maxMs: 24 * 3600 * 1000 }),
  dockerCheckTimeout: opt.duration('--docker-check-timeout', 'how long the Docker engine may take to answer a ping before it counts as unreachable', '5s', { minMs: 1, maxMs: 3600 * 1000 }),
  dockerPortCheckTimeout: opt.duration('--docker-port-check-timeout', "how long a Docker task's published ports may take to answer before it fails (not ready until then; a longer health check delay + grace wins)", '60s', { minMs: 1, maxMs: 24 * 3600 * 1000 }),
  statusUpdateRetry: opt.duration('--status-update-retry', 'first resend of an unacknowledged status update (then doubling)', '10s', { minMs: 1 }),
  statusUpdateRetryMax: opt.duration('--status-update-retry-max', 'longest interval between resends', '10m', { minMs: 1 }),
  reconnectBackoff: opt.duration('--reconnect-backoff', 'first delay before reconnecting to the master (jittered, doubling)', '1s', { minMs: 1 }),
  reconnectBackoffMax: opt.duration('--reconnect-backoff-max', 'longest delay between reconnection attempts', '30s', { minMs: 1 }),
  registrationTimeout: opt.duration('--registration-timeout', 'how long to wait for the master to answer register / reregister', '10s', { minMs: 10 }),
  killGracePeriod: opt.duration('--kill-grace-period', 'SIGTERM → SIGKILL when the task has no kill policy', '5s'),
  killTasksOnStop: opt.bool('--kill-tasks-on-stop', 'kill every task when the agent stops (default: leave them running; a restart re-adopts them)', false),
  allowRootTasks: opt.bool('--allow-root-tasks', 'let tasks run as root (uid 0 or gid 0); without it a task whose user is root fails to launch', false),
  taskPidsLimit: opt.int('--task-pids-limit', 'most processes and threads a task may have at once (cgroup pids.max, Docker PidsLimit); 0 = no limit', DEFAULT_TASK_PIDS_LIMIT, {
    min: 0,
    max: MAX_TASK_PIDS_LIMIT,
  }),
  allowPrivileged: opt.bool('--allow-privileged', 'let Docker tasks run privileged, add capabilities (cap-add) and mount host paths outside their sandbox', false),
  execMaxSessions: opt.int('--exec-max-sessions', 'most `agora exec` sessions running at once on this agent', DEFAULT_EXEC_MAX_SESSIONS, { min: 1, max: 10_000 }),
  execIdleTimeout: opt.duration('--exec-idle-timeout', 'an `agora exec` session with nothing read or written for this long is ended (its command killed)', '30m', { minMs: 1, maxMs: 7 * 24 * 3600 * 1000 }),
  ...SANDBOX_LIMIT_OPTIONS,
  usageInterval: opt.duration('--usage-interval', 'how often each live task\u2019s usage (CPU, memory, throttling, OOM kills) is read from its cgroup or Docker', '10s', { minMs: 10, maxMs: 24 * 3600 * 1000 }),
  insecure: opt.bool('--insecure', 'turn off TLS and authentication (to a master that is --insecure too); a warning is logged at every start', false),
  tlsCa: opt.optionalString('--tls-ca', 'the cluster CA certificate (PEM): the master and callers are checked against it'),
  tlsCert: opt.optionalString('--tls-cert', "this agent's certificate (PEM; OU agent): presented to the master and served on the agent's HTTP port"),
  tlsKey: opt.optionalString('--tls-key', "this agent's private key (PEM)"),
  openMetrics: opt.bool('--open-metrics', 'serve /metrics without credentials', false),
  logLevel: opt.oneOf('--log-level', 'log level', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, 'info'),
  // Limits of the agent's HTTP server (core/server-limits.ts has the defaults and why).
  ...SERVER_LIMIT_OPTIONS,
  ...HTTP_LIMIT_OPTIONS,
};

export type AgentOptions = OptionsOf<typeof AGENT_OPTIONS> & {
  /** Where the Docker engine is: --docker-socket, else $DOCKER_HOST, else the default socket. */
  readonly dockerEndpoint: DockerEndpoint;
};

/** `env` is where $DOCKER_HOST is read (process.env unless a test says otherwise). */
export function compileAgentOptions(raw: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): AgentOptions {
  const options = compileOptions(AGENT_OPTIONS, raw);
  httpLimitsFrom(options);
  if (options.statusUpdateRetryMax < options.statusUpdateRetry) {
    throw new InvalidArgumentError('--status-update-retry-max', `must be at least --status-update-retry (${options.statusUpdateRetry} ms)`);
  }
  if (options.reconnectBackoffMax < options.reconnectBackoff) {
    throw new InvalidArgumentError('--reconnect-backoff-max', `must be at least --reconnect-backoff (${options.reconnectBackoff} ms)`);
  }
  // The advertised IP is chosen once, here, so every part of the agent reports the same one.
  return Object.freeze({ ...options, advertiseIp: resolveAdvertiseIp(options), dockerEndpoint: resolveDockerEndpoint(options.dockerSocket, env) });
}
