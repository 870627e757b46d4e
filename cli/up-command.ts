// `agora up`: everything in one process on the embedded store — a master, one agent, and the
// built-in frameworks with the Jobs API on the master's ports. The master's store is
// <data-dir>/store, the agent's work dir <data-dir>/agent. Port 0 picks a free port; the addresses
// are printed one per line. SIGINT/SIGTERM stop the frameworks, then the agent (tasks keep running
// and are re-adopted by the next `agora up` on the same data dir), then the master.
import path from 'node:path';
import type { Command } from 'commander';
import { createLogger, LOG_FORMATS, type Logger } from '../core/logger.js';
import { VERSION } from '../core/version.js';
import { compileOptions, opt, type OptionSpec, type OptionsOf } from '../core/options.js';
import { parseAttributes, type Attributes } from '../core/wire.js';
import { Resources } from '../core/resources.js';
import { Agent } from '../agent/agent.js';
import { EXECUTOR_KINDS } from '../agent/options.js';
import { parseDockerEndpoint } from '../agent/docker-endpoint.js';
import { Master } from '../master/master.js';
import { FrameworksHost } from '../frameworks/host.js';
import { DNS_OPTIONS } from '../frameworks/dns/options.js';
import { proxyOptionSpecs } from '../frameworks/proxy/options.js';
import { addSpecOptions, runUntilSignal } from './process.js';
import { bootstrapUpSecurity, FRAMEWORKS_PRINCIPAL, upSecretsKey, type UpSecurity } from './up-security.js';
import { writeContext } from './config.js';

// The services' L4 proxy, on loopback: a one-machine cluster opens no service to the network unless asked.
const UP_PROXY_OPTIONS = proxyOptionSpecs('127.0.0.1');

export const UP_OPTIONS = {
  httpPort: opt.port('--http-port', 'master HTTP port (0 picks a free port)', 5050),
  grpcPort: opt.port('--grpc-port', 'master gRPC port (0 picks a free port)', 5051),
  agentHttpPort: opt.port('--agent-http-port', 'agent HTTP port (0 picks a free port)', 5052),
  dataDir: opt.string('--data-dir', 'where the store (store/) and the agent work dir (agent/) live', '.agora'),
  executor: opt.oneOf('--executor', 'how tasks run', EXECUTOR_KINDS, 'process'),
  resources: optionalResources('--resources', 'the agent\u2019s resources instead of detecting them, e.g. cpus:4;mem:8192'),
  attributes: opt.custom<Attributes>('--attributes', 'the agent\u2019s attributes, as `agora agent --attributes`, e.g. rack:r1;zone:a', (raw, flag) => parseAttributes(String(raw), flag), Object.freeze({})),
  hostname: opt.string('--hostname', 'hostname the master and agent advertise', '127.0.0.1'),
  logLevel: opt.oneOf('--log-level', 'log level', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, 'info'),
  logFormat: opt.oneOf('--log-format', 'pretty (one line per entry), json (JSON lines) or auto (pretty on a terminal)', LOG_FORMATS, 'auto'),
  allowRootTasks: opt.bool('--allow-root-tasks', 'let tasks run as root (a principal must also hold tasks.run_as on root)', false),
  allowPrivileged: opt.bool('--allow-privileged', 'let Docker tasks run privileged, add capabilities and mount host paths (with tasks.privileged)', false),
  dockerSocket: dockerSocketOption('--docker-socket', 'the Docker engine the agent runs image tasks on: unix:///path (or /path) or tcp://host:port; wins over $DOCKER_HOST (default unix:///var/run/docker.sock)'),
  writeContext: opt.bool('--write-context', 'make this cluster the CLI\u2019s current context (`up` in $AGORA_CONFIG or ~/.agora/config.yaml), so `agora` finds it and its token', true),
  insecure: opt.bool('--insecure', 'no TLS, tokens or policies: anyone who reaches a port may do anything (a warning is logged at every start)', false),
  // Service DNS, as `agora frameworks` has it; --dns-bind defaults to --hostname here.
  ...DNS_OPTIONS,
  ...UP_PROXY_OPTIONS,
};

export type UpOptions = OptionsOf<typeof UP_OPTIONS>;

/**
 * --resources as text (the agent parses it again when it starts), checked with the other flags so
 * a bad value fails before the master makes its store and certificates.
 */
function optionalResources(flag: string, description: string): OptionSpec<string | undefined> {
  const parse = (raw: unknown, f: string): string => {
    const text = String(raw);
    Resources.parse(text, f);
    return text;
  };
  return { flag, description, parse, default: undefined };
}

/** --docker-socket as text (the agent resolves it again), checked with the other flags. */
function dockerSocketOption(flag: string, description: string): OptionSpec<string | undefined> {
  const parse = (raw: unknown, f: string): string => {
    parseDockerEndpoint(String(raw), f);
    return String(raw);
  };
  return { flag, description, parse, default: undefined };
}

type DnsKey = keyof typeof DNS_OPTIONS;
type ProxyFlags = keyof typeof UP_PROXY_OPTIONS;

/**
 * What startUp() needs: the compiled flags; attributes may be left out (none), and so may the DNS
 * flags (then the service DNS takes a free port: benchmarks and tests run side by side) and the
 * proxy's (its defaults).
 */
export type UpStartOptions = Omit<UpOptions, 'attributes' | 'logFormat' | 'dockerSocket' | DnsKey | ProxyFlags> & { readonly attributes?: Attributes } & Partial<Pick<UpOptions, 'logFormat' | 'dockerSocket' | DnsKey | ProxyFlags>>;

/**
 * What a one-process cluster says at info as a matter of course — its own election, its agent's
 * lifecycle, the built-in frameworks subscribing — logged at debug by `agora up`, so that a start
 * on a terminal is the banner alone (`--log-level debug` shows them). `agora master`, `agent` and
 * `frameworks` log them at info: there they are news.
 */
export const UP_DEBUG_MESSAGES: ReadonlySet<string> = new Set([
  'master listening',
  'election state changed',
  'election joined',
  'leader changed',
  'elected: recovering from the registry',
  'master leading',
  'agent lifecycle',
  'agent recovered',
  'agent registered',
  'docker engine answers: this agent runs containers',
  'no docker engine answers: this agent runs no containers',
  'service DNS listening',
  'elected: starting the frameworks',
  'framework subscribed',
  'subscribed',
  'services framework started',
  'cron framework started',
  'batch framework started',
  'answering for the services',
  'frameworks leading',
]);

function upLogger(options: Pick<UpStartOptions, 'logLevel' | 'logFormat'>): Logger {
  return createLogger({ level: options.logLevel, name: 'agora', format: options.logFormat ?? 'auto', debugMessages: UP_DEBUG_MESSAGES });
}

/**
 * The DNS and proxy flags startUp() gives the frameworks host (compiled values: it takes a
 * duration in ms as it is). Unset: DNS on a free port at --hostname, the proxy on loopback.
 */
function serviceFlags(options: UpStartOptions): Record<string, unknown> {
  const keys = [...Object.keys(DNS_OPTIONS), ...Object.keys(UP_PROXY_OPTIONS)] as (DnsKey | ProxyFlags)[];
  const given = Object.fromEntries(keys.flatMap((k) => (options[k] === undefined ? [] : [[k, options[k]]])));
  return { dnsPort: 0, dnsBind: options.hostname, proxyBind: UP_PROXY_OPTIONS.proxyBind.default, ...given };
}

export interface Up {
  readonly master: Master;
  readonly agent: Agent;
  readonly frameworks: FrameworksHost;
  /** What the first start bootstrapped (undefined with --insecure). */
  readonly security: UpSecurity | undefined;
  stop(): Promise<void>;
}

/** Start a master and an agent in this process (also used by the launch benchmark). */
export async function startUp(
  options: UpStartOptions,
  extra: { agent?: Record<string, unknown>; master?: Record<string, unknown>; frameworks?: Record<string, unknown> } = {},
): Promise<Up> {
  const logger = upLogger(options);
  const dataDir = path.resolve(options.dataDir);
  const security = options.insecure ? undefined : await bootstrapUpSecurity(dataDir, options.hostname);
  // The Jobs API is served on the master's own ports (HTTP mirror and gRPC).
  const frameworks = FrameworksHost.create({ logger });
  const master = await Master.start(
    {
      hostname: options.hostname,
      bind: options.hostname,
      httpPort: String(options.httpPort),
      grpcPort: String(options.grpcPort),
      dataDir: path.join(dataDir, 'store'),
      logLevel: options.logLevel,
      insecure: options.insecure,
      ...extra.master,
    },
    {
      logger,
      ...frameworks.masterHooks,
      ...(security
        ? {
            security: {
              tls: security.masterTls,
              tokens: [
                { token: security.adminToken, principal: 'admin', policies: ['admin'], description: `agora up: the admin token in ${security.files.adminToken}` },
                { token: security.frameworksToken, principal: FRAMEWORKS_PRINCIPAL, policies: ['frameworks'], description: 'agora up: the built-in frameworks' },
              ],
            },
          }
        : {}),
    },
  );
  let agent: Agent;
  try {
    agent = await Agent.start(
      {
        master: master.grpcAddress,
        hostname: options.hostname,
        bind: options.hostname,
        httpPort: String(options.agentHttpPort),
        workDir: path.join(dataDir, 'agent'),
        executor: options.executor,
        logLevel: options.logLevel,
        insecure: options.insecure,
        allowRootTasks: options.allowRootTasks,
        allowPrivileged: options.allowPrivileged,
        // Unset: the agent reads $DOCKER_HOST, then takes the default socket.
        ...(options.dockerSocket ? { dockerSocket: options.dockerSocket } : {}),
        ...(options.resources ? { resources: options.resources } : {}),
        attributes: formatAttributes(options.attributes ?? {}),
        ...extra.agent,
      },
      { logger, ...(security ? { tls: security.agentTls } : {}) },
    );
  } catch (err) {
    await master.stop();
    throw err;
  }
  try {
    const credentials = security ? { token: security.frameworksToken, tls: { ca: security.masterTls.ca } } : undefined;
    const secretsKeyFile = await upSecretsKey(dataDir);
    await frameworks.startEmbedded(master, credentials, { hostname: options.hostname, logLevel: options.logLevel, insecure: options.insecure, secretsKeyFile, ...serviceFlags(options), ...extra.frameworks });
  } catch (err) {
    await frameworks.stop();
    await agent.stop();
    await master.stop();
    throw err;
  }
  const stop = async (): Promise<void> => {
    await frameworks.stop();
    await agent.stop();
    await master.stop();
  };
  return { master, agent, frameworks, security, stop };
}

export function registerUpCommand(program: Command): void {
  const cmd = program.command('up').description('run a master, an agent and the built-in frameworks in one process (embedded store, no ZooKeeper)');
  addSpecOptions(cmd, UP_OPTIONS);
  cmd.action(async (raw: Record<string, unknown>) => {
    const options = compileOptions(UP_OPTIONS, raw);
    const up = await startUp(options);
    const logger = upLogger(options);
    const scheme = up.security ? 'https' : 'http';
    const context = options.writeContext ? await registerContext(up, scheme, logger) : undefined;
    process.stdout.write(
      [
        `agora ${VERSION} is up: a master, an agent and the built-in frameworks. Ctrl-C stops it; tasks keep running.`,
        `dashboard: ${scheme}://${up.master.httpAddress}/`,
        `master http: ${scheme}://${up.master.httpAddress}`,
        `master grpc: ${up.master.grpcAddress}`,
        `agent http: ${scheme}://${up.agent.httpAddress}`,
        `docker: ${up.agent.options.dockerEndpoint.url} (${up.agent.capabilities.dockerProblem === '' ? 'answers: image tasks run here' : 'not reachable: image tasks stay pending'})`,
        `service dns: ${options.dnsBind ?? options.hostname}:${up.frameworks.dnsPort ?? ''} (udp, tcp)`,
        `data dir: ${path.resolve(options.dataDir)}`,
        ...(up.security ? [`admin token: ${up.security.files.adminToken}`, `cluster CA: ${up.security.files.ca}`] : ['security: OFF (--insecure)']),
        ...(context ? [`cli context: up (${context})`] : []),
        '',
      ].join('\n'),
    );
    await Promise.race([runUntilSignal(logger, () => up.stop()), up.agent.stopped.then(() => up.master.stop())]);
  });
}

/** Make this cluster the CLI's current context `up`; a config file it cannot edit only costs a warning. */
async function registerContext(up: Up, scheme: 'http' | 'https', logger: Logger): Promise<string | undefined> {
  const master = `${scheme}://${up.master.httpAddress}`;
  try {
    const context = up.security ? { master, tokenFile: up.security.files.adminToken, ca: up.security.files.ca } : { master, insecure: true };
    return await writeContext('up', context, { makeCurrent: true });
  } catch (err) {
    logger.warn({ err }, 'could not write the CLI context; give the CLI --master, --token and --ca');
    return undefined;
  }
}

/** Attributes back in the flag's text form (`rack:r1;zone:a`), which the agent's options parse. */
function formatAttributes(attributes: Attributes): string {
  return Object.entries(attributes)
    .map(([name, value]) => `${name}:${value}`)
    .join(';');
}
