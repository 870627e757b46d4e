// A cluster on hosts of their own (netns.ts), as an operator runs one across machines: ZooKeeper on
// one host, masters on others, agents on others, `agora frameworks` on one, and a client host that
// reaches them only over the network — secured, with certificates made for each host's IP by the
// test run's CA. Every process is this checkout's build (dist/), spawned inside its host.
//
//   HostsCluster.start({ masters: 2, agents: 3 })
//     hosts   zk  m1 m2  a1 a2 a3  fw  client            10.231.0.10 …
//     zk      java ZooKeeper on zk:2181 (clientPortAddress: its IP only)
//     mN      agora master --zk zk://<zk>:2181/agora --hostname <ip> --bind <ip>
//     aN      agora agent  --master zk://…  --hostname <ip> --bind <ip>   (advertises <ip>)
//             (the last master and agent: --bind 0.0.0.0 --advertise-ip <ip>)
//     fw      agora frameworks --master zk://… --hostname <ip> --bind <ip>
//     client  curl (clientJson) and the endpoint prober
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCertificate } from '../../core/security/pki.js';
import { agoraArgv } from './build.js';
import { HostNetwork, type NetHost } from './netns.js';
import { testPki } from './security.js';
import { stopService, type ServiceProcess } from './tmp.js';
import { eventually } from './waits.js';
import { JARS, jvmFlags, LOG4J, MAIN_CLASS } from './zookeeper.js';

export const ZK_PORT = 2181;
export const MASTER_HTTP_PORT = 5050;
export const JOBS_HTTP_PORT = 5060;
/** The frameworks host's service DNS (its default port) and proxy listen on its own IP. */
export const DNS_PORT = 8600;
export const CLUSTER = 'hosts';

/** Short timings: a partition is noticed in about a second, a leader replaced in about two. */
const MASTER_FLAGS = {
  '--zk-session-timeout': '2s',
  '--allocation-interval': '100ms',
  '--agent-ping-interval': '200ms',
  '--max-agent-ping-timeouts': '5',
  '--heartbeat-interval': '250ms',
  '--agent-reregister-timeout': '20s',
  '--takeover-hold': '500ms',
  '--log-level': 'info',
};
const AGENT_FLAGS = {
  '--resources': 'cpus:2;mem:1024;disk:1024;ports:[31000-31019]',
  '--status-update-retry': '300ms',
  '--status-update-retry-max': '1s',
  '--reconnect-backoff': '100ms',
  '--reconnect-backoff-max': '500ms',
  '--registration-timeout': '2s',
  '--kill-grace-period': '1s',
  '--disk-watch-interval': '1h',
  '--log-level': 'info',
};

/**
 * One Agora process (or ZooKeeper) on its host, started again by start() after a stop or a crash.
 * Each has a directory of its own (`<dir>/<name>`, its log there): stopping a process also kills
 * whatever names its directory (tmp.ts's stopService), and must not reach the others.
 */
export class HostProcess {
  proc: ServiceProcess | undefined;
  readonly dir: string;

  constructor(
    readonly name: string,
    readonly host: NetHost,
    private readonly argv: readonly string[],
    baseDir: string,
    private readonly ready: (self: HostProcess) => Promise<boolean>,
  ) {
    this.dir = path.join(baseDir, name);
    mkdirSync(this.dir, { recursive: true });
  }

  get logFile(): string {
    return path.join(this.dir, `${this.name}.log`);
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitStatus() === undefined;
  }

  async start(timeoutMs = 30_000): Promise<void> {
    if (!this.running) this.proc = this.host.run(this.argv, { dir: this.dir, name: this.name });
    await eventually(
      async () => {
        if (!this.running) throw new Error(`${this.name} exited (${this.proc?.exitStatus()}):\n${this.log().slice(-2000)}`);
        return this.ready(this);
      },
      { timeoutMs, intervalMs: 200, what: `${this.name} ready on ${this.host.ip}` },
    );
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.proc) await stopService(this.proc, signal, 3_000);
  }
}

export interface HostsClusterOptions {
  readonly masters?: number;
  readonly agents?: number;
}

export class HostsCluster {
  private constructor(
    readonly network: HostNetwork,
    readonly dir: string,
    readonly zk: HostProcess,
    readonly masters: readonly HostProcess[],
    readonly agents: readonly HostProcess[],
    readonly frameworks: HostProcess,
    readonly files: { readonly ca: string; readonly token: string },
  ) {}

  static async start(dir: string, options: HostsClusterOptions = {}): Promise<HostsCluster> {
    const masterNames = range(options.masters ?? 2).map((i) => `m${i + 1}`);
    const agentNames = range(options.agents ?? 3).map((i) => `a${i + 1}`);
    const network = await HostNetwork.create(['zk', ...masterNames, ...agentNames, 'fw', 'client']);
    try {
      const ip = (name: string): string => network.host(name).ip;
      const files = await hostCertificates(dir, [...masterNames, 'fw'].map(ip), agentNames.map(ip));
      const zkUrl = `zk://${ip('zk')}:${ZK_PORT}/agora`;
      const zkHost = network.host('zk');
      const zk = new HostProcess('zk', zkHost, standaloneZkArgv(path.join(dir, 'zk', 'server'), zkHost.ip, ZK_PORT), dir, async () => (await zkHost.exec(['sh', '-c', `echo ruok | nc -w 1 ${zkHost.ip} ${ZK_PORT}`])).stdout === 'imok');
      const serving = (host: NetHost, port: number) => async () => (await host.exec(['nc', '-z', '-w', '1', host.ip, String(port)])).code === 0;
      const masters = masterNames.map((n, i) => {
        const host = network.host(n);
        const flags = { ...MASTER_FLAGS, ...addressFlags(host, i === masterNames.length - 1), '--http-port': String(MASTER_HTTP_PORT), '--grpc-port': '5051', '--tls-ca': files.ca, '--tls-cert': files.serverCert, '--tls-key': files.serverKey, '--bootstrap-token-file': files.token, '--zk-credentials-file': files.zkCredentials };
        return new HostProcess(n, host, [process.execPath, ...agoraArgv('master', '--zk', zkUrl, '--cluster', CLUSTER, ...Object.entries(flags).flat())], dir, serving(host, MASTER_HTTP_PORT));
      });
      const agents = agentNames.map((n, i) => {
        const host = network.host(n);
        const flags = { ...AGENT_FLAGS, ...addressFlags(host, i === agentNames.length - 1), '--master': zkUrl, '--cluster': CLUSTER, '--http-port': '5052', '--work-dir': path.join(dir, n, 'work'), '--tls-ca': files.ca, '--tls-cert': files.agentCert, '--tls-key': files.agentKey };
        return new HostProcess(n, host, [process.execPath, ...agoraArgv('agent', ...Object.entries(flags).flat())], dir, serving(host, 5052));
      });
      const fwHost = network.host('fw');
      const fwFlags = { ...addressFlags(fwHost), '--master': zkUrl, '--cluster': CLUSTER, '--grpc-port': '5061', '--http-port': String(JOBS_HTTP_PORT), '--retry-delay': '200ms', '--zk-session-timeout': '2s', '--dns-port': String(DNS_PORT), '--proxy-connect-timeout': '300ms', '--tls-ca': files.ca, '--tls-cert': files.serverCert, '--tls-key': files.serverKey, '--token-file': files.token, '--zk-credentials-file': files.zkCredentials, '--log-level': 'info' };
      const frameworks = new HostProcess('fw', fwHost, [process.execPath, ...agoraArgv('frameworks', ...Object.entries(fwFlags).flat())], dir, serving(fwHost, JOBS_HTTP_PORT));
      const cluster = new HostsCluster(network, dir, zk, masters, agents, frameworks, { ca: files.ca, token: files.token });
      await zk.start(60_000);
      await Promise.all(masters.map((m) => m.start()));
      await Promise.all([...agents, frameworks].map((p) => p.start()));
      return cluster;
    } catch (err) {
      await network.destroy();
      throw err;
    }
  }

  get client(): NetHost {
    return this.network.host('client');
  }

  /**
   * A call from the client host (or `from`, e.g. a cut host asked from inside) by curl, TLS checked
   * against the cluster CA, with the admin token; the JSON answer.
   */
  async clientJson<T = Record<string, unknown>>(url: string, options: { method?: string; body?: unknown; timeoutMs?: number; from?: NetHost } = {}): Promise<{ status: number; body: T }> {
    const token = readFileSync(this.files.token, 'utf8').trim();
    const argv = ['curl', '-sS', '--max-time', String((options.timeoutMs ?? 3_000) / 1000), '--cacert', this.files.ca, '-H', `Authorization: Bearer ${token}`, '-w', '\n%{http_code}'];
    if (options.method) argv.push('-X', options.method);
    if (options.body !== undefined) argv.push('-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(options.body));
    const out = await (options.from ?? this.client).exec([...argv, url], (options.timeoutMs ?? 3_000) + 2_000);
    const cut = out.stdout.lastIndexOf('\n');
    const status = Number(out.stdout.slice(cut + 1));
    if (out.code !== 0 || !Number.isFinite(status)) throw new Error(`curl ${url} failed (${out.code}): ${out.stderr.trim()}`);
    return { status, body: (out.stdout.slice(0, cut) === '' ? {} : JSON.parse(out.stdout.slice(0, cut))) as T };
  }

  jobsUrl(route: string): string {
    return `https://${this.frameworks.host.ip}:${JOBS_HTTP_PORT}${route}`;
  }

  masterUrl(master: HostProcess, route: string): string {
    return `https://${master.host.ip}:${MASTER_HTTP_PORT}${route}`;
  }

  async stop(): Promise<void> {
    await this.network.destroy();
  }
}

/** Listening on the host's IP; or (`everywhere`, the last master and agent) on 0.0.0.0, told the IP to advertise. */
function addressFlags(host: NetHost, everywhere = false): Record<string, string> {
  return everywhere ? { '--hostname': host.ip, '--bind': '0.0.0.0', '--advertise-ip': host.ip } : { '--hostname': host.ip, '--bind': host.ip };
}

/**
 * Certificates for these hosts' IPs from the test run's CA, as an operator makes them with
 * `agora tls cert create`: one for the masters and the Jobs API, one for the agents.
 */
async function hostCertificates(dir: string, serverIps: readonly string[], agentIps: readonly string[]) {
  const pki = testPki();
  const ca = { certPem: readFileSync(pki.files.ca, 'utf8'), keyPem: readFileSync(path.join(pki.dir, 'ca-key.pem'), 'utf8') };
  const [server, agent] = await Promise.all([
    createCertificate({ ca, name: 'master', usage: 'both', hosts: serverIps, policies: ['agent'] }),
    createCertificate({ ca, name: 'agent-1', usage: 'both', hosts: agentIps, policies: ['agent'] }),
  ]);
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    writeFileSync(file, text, { mode: 0o600 });
    return file;
  };
  return {
    ca: pki.files.ca,
    token: pki.files.adminToken,
    zkCredentials: pki.files.zkCredentials,
    serverCert: write('server.pem', server.certPem),
    serverKey: write('server-key.pem', server.keyPem),
    agentCert: write('agent.pem', agent.certPem),
    agentKey: write('agent-key.pem', agent.keyPem),
  };
}

/**
 * A standalone server's directory made in `dir` (zoo.cfg, log4j.properties, data/) listening on
 * `address:port`, and the argv that runs it: a ZooKeeper on a host of its own, with zookeeper.ts's
 * JVM flags and jars.
 */
export function standaloneZkArgv(dir: string, address: string, port: number, tickTime = 500): string[] {
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  const lines = [
    `tickTime=${tickTime}`,
    `minSessionTimeout=${2 * tickTime}`,
    'maxSessionTimeout=60000',
    `dataDir=${path.join(dir, 'data')}`,
    `clientPort=${port}`,
    `clientPortAddress=${address}`,
    'admin.enableServer=false',
    '4lw.commands.whitelist=*',
    'forceSync=no',
  ];
  writeFileSync(path.join(dir, 'zoo.cfg'), lines.join('\n') + '\n');
  writeFileSync(path.join(dir, 'log4j.properties'), LOG4J);
  return ['java', ...jvmFlags(dir), '-cp', JARS.join(':'), MAIN_CLASS, path.join(dir, 'zoo.cfg')];
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
