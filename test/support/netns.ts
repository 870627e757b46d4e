// Hosts of their own for tests: one network namespace per host, each with a veth pair to a bridge
// that lives in a namespace of its own, so no address or interface of the network appears in the
// machine's root namespace (and two runs at once never meet: each has its own bridge).
//
//   root namespace (nothing added)
//   agora-<pid>-br      br0 ── h0 ── h1 ── h2 …          (bridge ports, no addresses)
//                              │     │     │
//   agora-<pid>-<name>   eth0 10.231.0.10/24, eth0 10.231.0.11/24, …   lo up
//
//   const net = await HostNetwork.create(['zk', 'm1', 'a1', 'client']);
//   const a1 = net.host('a1');
//   const agent = a1.run(['node', 'dist/cli/main.js', 'agent', '--bind', a1.ip, …], { dir });
//   await net.host('client').exec(['curl', '-s', `http://${a1.ip}:8080/`]);
//   await a1.cut();  …  await a1.heal();        // its bridge port down / up: frames silently dropped
//   await net.destroy();                          // processes in the namespaces killed, namespaces deleted
//
// A cut is a cable pulled at the switch: the host keeps its address, its packets go nowhere and
// nothing reaches it; TCP connections hang until their own timeouts, as across a real partition.
// Namespaces are named after the process that made them; one whose process is gone (a crashed or
// SIGKILLed run) is removed by the next HostNetwork.create. Needs root and iproute2.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { spawnService, stopService, type ServiceProcess } from './tmp.js';

const run = promisify(execFile);

/** Addresses live only inside the namespaces; the range is checked unused on this machine at creation. */
export const SUBNET = '10.231.0';
/** Namespaces are `<prefix><pid>-<host>`; AGORA_TEST_NETNS_PREFIX sets another prefix (default `agora-`). */
const PREFIX = process.env['AGORA_TEST_NETNS_PREFIX'] ?? 'agora-';
const NAME = /^[a-z][a-z0-9]{0,9}$/;

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** The process's directory (its log goes there as `<name>.log`). */
  readonly dir: string;
  readonly env?: NodeJS.ProcessEnv;
  /** The log's base name; default the host's name. */
  readonly name?: string;
  /** Where it serves, for the run directory's records; default the host's IP. */
  readonly endpoint?: string;
}

export class NetHost {
  readonly #processes = new Set<ServiceProcess>();

  constructor(
    readonly name: string,
    readonly ns: string,
    readonly ip: string,
    private readonly bridgeNs: string,
    private readonly port: string,
  ) {}

  /** Spawn `argv` inside this host (detached, its own process group, output to a log file). */
  run(argv: readonly string[], options: RunOptions): ServiceProcess {
    const [command, ...args] = argv;
    if (command === undefined) throw new Error('run: argv is empty');
    const proc = spawnService({
      name: options.name ?? this.name,
      dir: options.dir,
      command: 'ip',
      args: ['netns', 'exec', this.ns, command, ...args],
      endpoint: options.endpoint ?? this.ip,
      ...(options.env ? { env: options.env } : {}),
    });
    this.#processes.add(proc);
    return proc;
  }

  /** Run `argv` inside this host to its end (killed after `timeoutMs`); never rejects. */
  async exec(argv: readonly string[], timeoutMs = 5_000): Promise<ExecResult> {
    try {
      const { stdout, stderr } = await run('ip', ['netns', 'exec', this.ns, ...argv], { timeout: timeoutMs, maxBuffer: 16 << 20 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number | string; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
    }
  }

  /** Cut the host off: its port on the bridge goes down, so its frames are dropped both ways. */
  async cut(): Promise<void> {
    await ip('-n', this.bridgeNs, 'link', 'set', this.port, 'down');
  }

  /** Connect it again. */
  async heal(): Promise<void> {
    await ip('-n', this.bridgeNs, 'link', 'set', this.port, 'up');
  }

  /** Stop what run() started here (SIGTERM, then SIGKILL after `graceMs`). */
  async stopAll(graceMs = 2_000): Promise<void> {
    await Promise.allSettled([...this.#processes].map((p) => stopService(p, 'SIGTERM', graceMs)));
    this.#processes.clear();
  }
}

export class HostNetwork {
  #destroyed = false;

  private constructor(
    readonly bridgeNs: string,
    readonly hosts: ReadonlyMap<string, NetHost>,
  ) {}

  /** One host per name (lower-case letters and digits), addresses 10.231.0.10, .11, … in order. */
  static async create(names: readonly string[]): Promise<HostNetwork> {
    for (const n of names) if (!NAME.test(n)) throw new Error(`host name '${n}': lower-case letters and digits, at most 10`);
    if (new Set(names).size !== names.length) throw new Error('host names must be unique');
    removeStaleNamespaces();
    await checkSubnetUnused();
    const base = `${PREFIX}${process.pid}`;
    const bridgeNs = `${base}-br`;
    const hosts = new Map(names.map((n, i) => [n, new NetHost(n, `${base}-${n}`, `${SUBNET}.${10 + i}`, bridgeNs, `h${i}`)]));
    const network = new HostNetwork(bridgeNs, hosts);
    cleanupOnExit.add(network);
    try {
      await ip('netns', 'add', bridgeNs);
      await ip('-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge');
      await ip('-n', bridgeNs, 'link', 'set', 'br0', 'up');
      await ip('-n', bridgeNs, 'link', 'set', 'lo', 'up');
      for (const [i, host] of [...hosts.values()].entries()) await addHost(host, bridgeNs, `h${i}`);
    } catch (err) {
      await network.destroy();
      throw err;
    }
    return network;
  }

  host(name: string): NetHost {
    const host = this.hosts.get(name);
    if (host === undefined) throw new Error(`no host '${name}' (hosts: ${[...this.hosts.keys()].join(', ')})`);
    return host;
  }

  /** Stop every process started in the hosts, kill whatever else is left in them, delete the namespaces. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    await Promise.allSettled([...this.hosts.values()].map((h) => h.stopAll()));
    deleteNamespaces([...[...this.hosts.values()].map((h) => h.ns), this.bridgeNs]);
    cleanupOnExit.delete(this);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }
}

async function addHost(host: NetHost, bridgeNs: string, port: string): Promise<void> {
  await ip('netns', 'add', host.ns);
  // Both ends are made where they live: no interface of ours ever appears in the root namespace.
  await ip('-n', host.ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', port, 'netns', bridgeNs);
  await ip('-n', bridgeNs, 'link', 'set', port, 'master', 'br0');
  await ip('-n', bridgeNs, 'link', 'set', port, 'up');
  await ip('-n', host.ns, 'addr', 'add', `${host.ip}/24`, 'dev', 'eth0');
  await ip('-n', host.ns, 'link', 'set', 'eth0', 'up');
  await ip('-n', host.ns, 'link', 'set', 'lo', 'up');
}

async function ip(...args: string[]): Promise<void> {
  try {
    await run('ip', args, { timeout: 10_000 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`ip ${args.join(' ')} failed: ${stderr.trim() || String(err)}`);
  }
}

/** The range must not be routed in the root namespace, or a test could reach (or hide) real hosts. */
async function checkSubnetUnused(): Promise<void> {
  const { stdout } = await run('ip', ['-4', 'route', 'show', 'match', `${SUBNET}.0/24`]);
  const clash = stdout.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('default'));
  if (clash.length > 0) throw new Error(`${SUBNET}.0/24 is in use on this machine (${clash.join('; ')}): the test network needs it free`);
}

/** Kill every process inside the namespaces and delete them (synchronous: also runs at exit). */
function deleteNamespaces(names: readonly string[]): void {
  for (const ns of names) {
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
    for (const pid of pids.split('\n').filter((p) => /^\d+$/.test(p))) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    spawnSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
  }
}

/** Namespaces of ours whose process is gone (a crashed run's). */
function removeStaleNamespaces(): void {
  const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  const stale = listed
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((name) => {
      const owner = new RegExp(`^${PREFIX}(\\d+)-`).exec(name)?.[1];
      return owner !== undefined && Number(owner) !== process.pid && !alive(Number(owner));
    });
  deleteNamespaces(stale);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const cleanupOnExit = new Set<HostNetwork>();
process.once('exit', () => {
  for (const network of cleanupOnExit) deleteNamespaces([...[...network.hosts.values()].map((h) => h.ns), network.bridgeNs]);
});
