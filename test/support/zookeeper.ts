// Real ZooKeeper servers for tests: a standalone server, or an ensemble whose members tests can
// kill and restart. Started from the machine's installation (Debian's `zookeeper` package; see
// scripts/test-services.mjs ensure), each in its own directory under the run directory (tmp.ts),
// with short ticks so tests can use short session timeouts (minimum 1 s).
//
//   startZooKeeper()     one standalone server                      ready ≈ 2-3 s
//   startZkEnsemble(3)   three servers on loopback; one leader      ready ≈ 5-8 s
//
// Usable from the global setup and from inside test files; whatever a test does not stop dies
// with its process (tmp.ts).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePorts, isAddressInUse, LOOPBACK } from './ports.js';
import { logTail, makeServiceDir, removeDir, spawnService, stopService, type ServiceProcess } from './tmp.js';

export const JARS = ['zookeeper.jar', 'slf4j-log4j12.jar', 'log4j-1.2.jar'].map((j) => `/usr/share/java/${j}`);
export const MAIN_CLASS = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';
const START_ATTEMPTS = 3;

export type ZkMode = 'leader' | 'follower' | 'standalone';

export interface ZkOptions {
  /** Milliseconds per tick (default 500); session timeouts must lie within [minSession, maxSession]. */
  tickTime?: number;
  /** Default 1000 ms. */
  minSessionTimeout?: number;
  /** Default 60000 ms. */
  maxSessionTimeout?: number;
  /** How long to wait for the server (or the quorum) to serve; default 60 s. */
  readyTimeoutMs?: number;
  /**
   * More zoo.cfg lines. Keys ZooKeeper does not know become `zookeeper.<key>` system properties,
   * e.g. 'enforce.auth.enabled=true'.
   */
  extraConfig?: readonly string[];
}

export interface ZkServer {
  /** `127.0.0.1:<port>` */
  readonly connectString: string;
  readonly port: number;
  readonly dir: string;
  readonly logFile: string;
  readonly pid: number;
  /** SIGTERM, SIGKILL after 10 s; removes the directory. Idempotent. */
  stop(): Promise<void>;
  /** Sends `signal` (default SIGKILL) and waits for the exit; keeps the directory. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface ZkEnsembleMember {
  /** The server id (myid), 1-based; the member's index in `servers` is id - 1. */
  readonly id: number;
  readonly port: number;
  readonly peerPort: number;
  readonly electionPort: number;
  readonly dir: string;
  readonly logFile: string;
  /** The current process, undefined while the member is stopped. */
  readonly pid: number | undefined;
  readonly running: boolean;
}

export interface ZkEnsemble {
  /** `127.0.0.1:p1,127.0.0.1:p2,…` */
  readonly connectString: string;
  readonly servers: readonly ZkEnsembleMember[];
  /** Stops member `index` (0-based) with `signal` (default SIGKILL); its data stays. */
  stopServer(index: number, signal?: NodeJS.Signals): Promise<void>;
  /** Restarts member `index` with its data and ports; resolves once it serves again. */
  startServer(index: number): Promise<void>;
  /** Waits until the running members form a quorum: one leader, the rest followers. */
  waitForQuorum(timeoutMs?: number): Promise<void>;
  /** What member `index` says it is, or undefined when it is down or not serving. */
  mode(index: number): Promise<ZkMode | undefined>;
  /** The index of the current leader, if any. */
  leader(): Promise<number | undefined>;
  /** Stops every member and removes the directories. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Sends a four-letter command (srvr, stat, ruok, mntr, …) and returns the answer. */
export function zkCommand(port: number, command: string, timeoutMs = 2_000, host = LOOPBACK): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host, port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`${command} to ${host}:${port} timed out`)));
    socket.on('connect', () => socket.end(command));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', (hadError) => {
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** The `Mode:` a server reports, or undefined when it is unreachable or not serving. */
export async function zkMode(port: number): Promise<ZkMode | undefined> {
  try {
    const match = /^Mode: (\w+)/m.exec(await zkCommand(port, 'srvr', 1_000));
    const mode = match?.[1];
    return mode === 'leader' || mode === 'follower' || mode === 'standalone' ? mode : undefined;
  } catch {
    return undefined;
  }
}

export async function startZooKeeper(opts: ZkOptions = {}): Promise<ZkServer> {
  for (let attempt = 1; ; attempt++) {
    const [port] = await freePorts(1);
    const node = new ZkNode(makeServiceDir('zk'), 0, port!, opts, []);
    try {
      await node.start(opts.readyTimeoutMs ?? 60_000, ['standalone']);
      return standaloneHandle(node);
    } catch (err) {
      await node.destroy();
      if (!(err instanceof PortTakenError) || attempt >= START_ATTEMPTS) throw err;
    }
  }
}

export async function startZkEnsemble(size = 3, opts: ZkOptions = {}): Promise<ZkEnsemble> {
  for (let attempt = 1; ; attempt++) {
    const ports = await freePorts(3 * size);
    const dir = makeServiceDir('zk-ensemble');
    const peers = Array.from({ length: size }, (_, i) => ({
      id: i + 1,
      client: ports[3 * i]!,
      peer: ports[3 * i + 1]!,
      election: ports[3 * i + 2]!,
    }));
    const nodes = peers.map((p) => new ZkNode(path.join(dir, `server-${p.id}`), p.id, p.client, opts, peers));
    const ensemble = new Ensemble(dir, nodes);
    try {
      await Promise.all(nodes.map((n) => n.launch()));
      await ensemble.waitForQuorum(opts.readyTimeoutMs ?? 60_000);
      return ensemble;
    } catch (err) {
      await ensemble.stop();
      if (!(err instanceof PortTakenError) || attempt >= START_ATTEMPTS) throw err;
    }
  }
}

function standaloneHandle(node: ZkNode): ZkServer {
  const pid = node.pid ?? -1;
  return {
    connectString: `${LOOPBACK}:${node.port}`,
    port: node.port,
    dir: node.dir,
    logFile: node.logFile,
    pid,
    stop: () => node.destroy(),
    kill: (signal = 'SIGKILL') => node.halt(signal),
    [Symbol.asyncDispose]: () => node.destroy(),
  };
}

class PortTakenError extends Error {}

interface Peer {
  id: number;
  client: number;
  peer: number;
  election: number;
}

/** One ZooKeeper server process and its directory; restartable. */
class ZkNode {
  private proc: ServiceProcess | undefined;
  /** Launched and not halted on purpose: an exit now is a crash. */
  private wanted = false;
  readonly logFile: string;

  constructor(
    readonly dir: string,
    readonly id: number,
    readonly port: number,
    private readonly opts: ZkOptions,
    private readonly peers: Peer[],
  ) {
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    this.logFile = path.join(dir, 'zookeeper.log');
    this.writeConfig();
  }

  get pid(): number | undefined {
    return this.running ? this.proc?.pid : undefined;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitStatus() === undefined;
  }

  peer(): Peer | undefined {
    return this.peers.find((p) => p.id === this.id);
  }

  /** Spawns the process without waiting for it. */
  launch(): void {
    if (this.running) return;
    this.wanted = true;
    const cfg = path.join(this.dir, 'zoo.cfg');
    this.proc = spawnService({
      name: 'zookeeper',
      dir: this.dir,
      command: 'java',
      args: [...jvmFlags(this.dir), '-cp', JARS.join(':'), MAIN_CLASS, cfg],
      endpoint: `${LOOPBACK}:${this.port}`,
      logFile: this.logFile,
    });
  }

  /** Spawns the process and waits until it serves in one of `modes`. */
  async start(timeoutMs: number, modes: ZkMode[]): Promise<void> {
    this.launch();
    await this.waitFor(modes, timeoutMs);
  }

  async waitFor(modes: ZkMode[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.checkAlive();
      const mode = await zkMode(this.port);
      if (mode && modes.includes(mode) && (await this.answersOnItsPort())) return;
      if (Date.now() > deadline) throw this.failure(`did not serve as ${modes.join(' or ')} within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /**
   * Whether the server on our port is this one, not another run's that took the port first (ours
   * then dies of a BindException, which checkAlive reports): `conf` names its data directory.
   */
  async answersOnItsPort(): Promise<boolean> {
    try {
      return (await zkCommand(this.port, 'conf', 1_000)).includes(`dataDir=${path.join(this.dir, 'data')}`);
    } catch {
      return false;
    }
  }

  /** Throws (PortTakenError when a port was taken) if the process has exited unasked. */
  checkAlive(): void {
    const status = this.proc?.exitStatus();
    if (status === undefined || !this.wanted) return;
    const tail = logTail(this.logFile);
    const message = `ZooKeeper ${this.label()} exited (${status}) before serving\n${tail}`;
    throw isAddressInUse(readLog(this.logFile)) ? new PortTakenError(message) : new Error(message);
  }

  failure(what: string): Error {
    return new Error(`ZooKeeper ${this.label()} ${what}\n${logTail(this.logFile)}`);
  }

  async halt(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    this.wanted = false;
    if (this.proc) await stopService(this.proc, signal);
  }

  async destroy(): Promise<void> {
    await this.halt('SIGTERM');
    removeDir(this.dir);
  }

  private label(): string {
    return `${this.id ? `server ${this.id} ` : ''}on ${LOOPBACK}:${this.port} (${this.dir})`;
  }

  private writeConfig(): void {
    const tickTime = this.opts.tickTime ?? 500;
    const lines = [
      `tickTime=${tickTime}`,
      `minSessionTimeout=${this.opts.minSessionTimeout ?? 2 * tickTime}`,
      `maxSessionTimeout=${this.opts.maxSessionTimeout ?? 60_000}`,
      `dataDir=${path.join(this.dir, 'data')}`,
      `clientPort=${this.port}`,
      `clientPortAddress=${LOOPBACK}`,
      'admin.enableServer=false',
      '4lw.commands.whitelist=*',
      // Tests need speed, not durability; small log files keep seven servers' disks small.
      'forceSync=no',
      'preAllocSize=1024',
      'snapCount=10000',
      ...(this.opts.extraConfig ?? []),
    ];
    if (this.peers.length > 0) {
      lines.push('initLimit=10', 'syncLimit=5', 'cnxTimeout=1000', 'electionPortBindRetry=3');
      for (const p of this.peers) lines.push(`server.${p.id}=${LOOPBACK}:${p.peer}:${p.election}`);
      fs.writeFileSync(path.join(this.dir, 'data', 'myid'), `${this.id}\n`);
    }
    fs.writeFileSync(path.join(this.dir, 'zoo.cfg'), lines.join('\n') + '\n');
    fs.writeFileSync(path.join(this.dir, 'log4j.properties'), LOG4J);
  }
}

class Ensemble implements ZkEnsemble {
  readonly connectString: string;
  readonly servers: readonly ZkEnsembleMember[];

  constructor(
    private readonly dir: string,
    private readonly nodes: ZkNode[],
  ) {
    this.connectString = nodes.map((n) => `${LOOPBACK}:${n.port}`).join(',');
    this.servers = nodes.map((n) => memberView(n));
  }

  async stopServer(index: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.node(index).halt(signal);
  }

  async startServer(index: number): Promise<void> {
    await this.node(index).start(60_000, ['leader', 'follower']);
  }

  async waitForQuorum(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const n of this.nodes) n.checkAlive();
      const running = this.nodes.filter((n) => n.running);
      const modes = await Promise.all(running.map((n) => zkMode(n.port)));
      const leaders = modes.filter((m) => m === 'leader').length;
      const serving = running.length > this.nodes.length / 2;
      const formed = serving && leaders === 1 && modes.every((m) => m === 'leader' || m === 'follower');
      if (formed && (await Promise.all(running.map((n) => n.answersOnItsPort()))).every(Boolean)) return;
      if (Date.now() > deadline) {
        const report = this.nodes.map((n) => `server ${n.id}: ${n.running ? (modes[running.indexOf(n)] ?? 'not serving') : 'stopped'}`);
        throw new Error(`ZooKeeper ensemble ${this.connectString} has no quorum after ${timeoutMs} ms (${report.join(', ')})\n` + this.nodes.map((n) => logTail(n.logFile, 15)).join('\n'));
      }
      await sleep(100);
    }
  }

  async mode(index: number): Promise<ZkMode | undefined> {
    const node = this.node(index);
    return node.running ? zkMode(node.port) : undefined;
  }

  async leader(): Promise<number | undefined> {
    const modes = await Promise.all(this.nodes.map((_, i) => this.mode(i)));
    const index = modes.indexOf('leader');
    return index < 0 ? undefined : index;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.halt('SIGTERM')));
    removeDir(this.dir);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  private node(index: number): ZkNode {
    const node = this.nodes[index];
    if (!node) throw new RangeError(`no ensemble member ${index} (members are 0..${this.nodes.length - 1})`);
    return node;
  }
}

function memberView(node: ZkNode): ZkEnsembleMember {
  const peer = node.peer()!;
  return {
    id: node.id,
    port: node.port,
    peerPort: peer.peer,
    electionPort: peer.election,
    dir: node.dir,
    logFile: node.logFile,
    get pid() {
      return node.pid;
    },
    get running() {
      return node.running;
    },
  };
}

/** The JVM flags of a test ZooKeeper whose directory is `dir` (its log4j.properties is there). */
export function jvmFlags(dir: string): string[] {
  return [
    // Small, quick-starting JVMs: up to seven of them share two cores in a test run.
    '-Xms32m',
    '-Xmx256m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-XX:-UsePerfData',
    '-Djava.awt.headless=true',
    '-Dzookeeper.jmx.log4j.disable=true',
    `-Dlog4j.configuration=file:${path.join(dir, 'log4j.properties')}`,
  ];
}

export const LOG4J = `log4j.rootLogger=INFO, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] %m%n
`;

function readLog(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
