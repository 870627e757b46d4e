// Agora across hosts of their own (network namespaces, test/support/netns.ts): ZooKeeper, two
// masters, three agents, `agora frameworks` and a client each on a host with its own IP. A
// 3-instance service spread over the agent hosts is reached from the client host at each
// endpoint's ip:port; an agent host is cut off during a rolling update (its task unreachable,
// replaced elsewhere, the service answering throughout) and healed (the surplus killed, counts
// exact); the leading master's host is cut off (another leads; healed and restarted, the old one
// stands by; never two acting at once).
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../support/build.js';
import { DNS_PORT, HostsCluster, type HostProcess } from '../support/hosts-cluster.js';
import { stopService, tempDir, type ServiceProcess } from '../support/tmp.js';
import { eventually, holdsFor } from '../support/waits.js';

interface EndpointView {
  taskId: string;
  ip: string;
  host: string;
  ports: { number: number }[];
  healthy?: boolean;
}
interface TaskView {
  taskId: string;
  agentIp: string;
  state: string;
  version: string;
}
interface ServiceView {
  serviceStatus: { running: number; instances: number; version: string; tasks: TaskView[]; deployments: { phase: string; version: string }[] };
}
interface Probe {
  t: number;
  ok: boolean;
  by?: string;
  body?: string;
  tried: { at: string; error: string }[];
}

const SERVICE_PORT = 30080;

let cluster: HostsCluster;
let dir: string;

beforeAll(async () => {
  dir = await tempDir('hosts');
  cluster = await HostsCluster.start(dir, { masters: 2, agents: 3 });
}, 120_000);
afterAll(async () => cluster?.stop());

function spec(version: string): Record<string, unknown> {
  return {
    name: 'web',
    instances: 3,
    servicePort: SERVICE_PORT,
    command: 'mkdir -p www && echo "$V $HOST" > www/index.html && exec busybox httpd -f -p $PORT0 -h www',
    env: { V: version },
    resources: { cpus: 0.1, mem: 32 },
    ports: [{ name: 'http' }],
    healthCheck: { http: { port: 'http', path: '/' }, delaySeconds: 0, intervalSeconds: 0.3, timeoutSeconds: 1, gracePeriodSeconds: 2, consecutiveFailures: 2 },
    killGracePeriodSeconds: 0.5,
    backoff: { seconds: 0.1 },
    unreachableStrategy: { inactiveAfterSeconds: 1, expungeAfterSeconds: 120 },
  };
}

const endpoints = async (): Promise<EndpointView[]> => (await cluster.clientJson<{ endpoints: EndpointView[] }>(cluster.jobsUrl('/api/v1/services/web/endpoints'))).body.endpoints ?? [];
const service = async (): Promise<ServiceView> => (await cluster.clientJson<ServiceView>(cluster.jobsUrl('/api/v1/services/web'))).body;

/**
 * Each master's answer to /api/v1/leader — does it act as the leader? (undefined: no answer) —
 * asked from the client host, or from the master's own host for those in `fromOwnHost` (cut off).
 */
async function selves(fromOwnHost: readonly HostProcess[] = []): Promise<(boolean | undefined)[]> {
  return Promise.all(
    cluster.masters.map(async (m) => {
      try {
        const from = fromOwnHost.includes(m) ? m.host : cluster.client;
        return (await cluster.clientJson<{ self?: boolean }>(cluster.masterUrl(m, '/api/v1/leader'), { timeoutMs: 800, from })).body.self === true;
      } catch {
        return undefined;
      }
    }),
  );
}

/** eventually(), for a check that returns its value once there, false until then. */
async function found<T>(check: () => Promise<T | false>, options: Parameters<typeof eventually>[1]): Promise<T> {
  return (await eventually(check, options)) as T;
}

function startProber(): ServiceProcess {
  const loader = pathToFileURL(path.join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;
  const script = path.join(REPO, 'test/support/endpoint-prober.ts');
  const own = path.join(dir, 'prober');
  mkdirSync(own, { recursive: true });
  return cluster.client.run([process.execPath, '--import', loader, script, cluster.jobsUrl(''), 'web', cluster.files.ca, cluster.files.token, '100'], { dir: own, name: 'prober' });
}

/** `dig` from the client host at the frameworks host's service DNS: the answers' data, sorted. */
async function dig(name: string, type: 'A' | 'SRV'): Promise<string[]> {
  const out = await cluster.client.exec(['dig', `@${cluster.frameworks.host.ip}`, '-p', String(DNS_PORT), name, type, '+short', '+time=1', '+tries=2']);
  return out.stdout.split('\n').filter((l) => l.trim() !== '').sort();
}

/** Through the service port from the client host, a new connection every 100 ms: `ok|fail <ms>` lines. */
function startServicePortProber(): ServiceProcess {
  const own = path.join(dir, 'lb-prober');
  mkdirSync(own, { recursive: true });
  const url = `http://${cluster.frameworks.host.ip}:${SERVICE_PORT}/`;
  const loop = `while :; do if curl -sS -o /dev/null --max-time 2 ${url}; then echo "ok $(date +%s%3N)"; else echo "fail $(date +%s%3N)"; fi; sleep 0.1; done`;
  return cluster.client.run(['sh', '-c', loop], { dir: own, name: 'lb-prober' });
}

function servicePortProbes(proc: ServiceProcess): { ok: boolean; t: number }[] {
  return readFileSync(proc.logFile, 'utf8')
    .split('\n')
    .map((l) => /^(ok|fail) (\d+)$/.exec(l))
    .flatMap((m) => (m ? [{ ok: m[1] === 'ok', t: Number(m[2]) }] : []));
}

function probes(proc: ServiceProcess): Probe[] {
  return readLines(proc.logFile).map((l) => JSON.parse(l) as Probe);
}

function readLines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'));
}

describe('on hosts of their own', () => {
  it('a 3-instance service over 3 agent hosts, reached from the client; an agent host cut during a rolling update, then healed', async () => {
    const agentIps = cluster.agents.map((a) => a.host.ip);
    const leader = await found(async () => cluster.masters[(await selves()).indexOf(true)] ?? false, { timeoutMs: 20_000, intervalMs: 200, what: 'a leading master' });
    await eventually(
      async () => {
        const { body } = await cluster.clientJson<{ agents: { ip: string; hostname: string }[] }>(cluster.masterUrl(leader, '/api/v1/agents'));
        expect(body.agents.map((a) => a.ip).sort()).toEqual([...agentIps].sort());
        expect(body.agents.every((a) => a.hostname === a.ip)).toBe(true);
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'three agents registered with their IPs' },
    );

    // The Jobs API answers 503 until the frameworks host leads and has subscribed.
    await eventually(async () => expect((await cluster.clientJson(cluster.jobsUrl('/api/v1/services'), { method: 'POST', body: spec('1') })).status).toBe(201), {
      timeoutMs: 20_000,
      intervalMs: 250,
      what: 'the service created',
    });
    const first = await found(
      async () => {
        const list = await endpoints();
        return list.length === 3 && list.every((e) => e.healthy === true) && list;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: '3 healthy endpoints' },
    );
    // Spread one per agent host, each reached from the client host at its ip:port.
    expect(first.map((e) => e.ip).sort()).toEqual([...agentIps].sort());
    for (const e of first) {
      const got = await cluster.client.exec(['curl', '-sS', '--max-time', '2', `http://${e.ip}:${e.ports[0]!.number}/`]);
      expect(got.stdout).toBe(`1 ${e.ip}\n`);
    }

    // Found by DNS from the client host: an A record per agent host, an SRV record per instance.
    await eventually(async () => expect(await dig('web.services.agora.', 'A')).toEqual([...agentIps].sort()), { timeoutMs: 5_000, intervalMs: 200, what: 'the A records' });
    const srv = await dig('_http._tcp.web.services.agora.', 'SRV');
    expect(srv.map((l) => Number(l.split(' ')[2])).sort()).toEqual(first.map((e) => e.ports[0]!.number).sort());
    // Reached through the service port: the frameworks host's proxy hands it to an instance.
    const viaPort = await cluster.client.exec(['curl', '-sS', '--max-time', '2', `http://${cluster.frameworks.host.ip}:${SERVICE_PORT}/`]);
    expect(agentIps.map((ip) => `1 ${ip}\n`)).toContain(viaPort.stdout);

    const prober = startProber();
    const lbProber = startServicePortProber();
    await eventually(() => probes(prober).filter((p) => p.ok).length >= 5, { timeoutMs: 15_000, intervalMs: 200, what: 'the prober answered' });
    await eventually(() => servicePortProbes(lbProber).filter((p) => p.ok).length >= 5, { timeoutMs: 15_000, intervalMs: 200, what: 'the service port answered' });

    // The rolling update to v2 starts, and the first agent's host is cut off at once.
    const victim = cluster.agents[0]!;
    const victimEndpoint = first.find((e) => e.ip === victim.host.ip)!;
    expect((await cluster.clientJson(cluster.jobsUrl('/api/v1/services'), { method: 'PUT', body: spec('2') })).status).toBe(200);
    await victim.host.cut();
    const cutAt = Date.now();
    const direct = await cluster.client.exec(['curl', '-sS', '--max-time', '1', `http://${victim.host.ip}:${victimEndpoint.ports[0]!.number}/`]);
    expect(direct.code).not.toBe(0);
    await eventually(
      async () => (await service()).serviceStatus.tasks.some((t) => t.taskId === victimEndpoint.taskId && t.state === 'TASK_UNREACHABLE'),
      { timeoutMs: 15_000, intervalMs: 200, what: "the cut host's task unreachable" },
    );
    const replaced = await found(
      async () => {
        const list = await endpoints();
        const bodies = await Promise.all(list.map(async (e) => (await cluster.client.exec(['curl', '-sS', '--max-time', '1', `http://${e.ip}:${e.ports[0]!.number}/`])).stdout));
        return list.length === 3 && bodies.every((b, i) => b === `2 ${list[i]!.ip}\n`) && list;
      },
      { timeoutMs: 40_000, intervalMs: 250, what: '3 endpoints of v2, none on the cut host' },
    );
    expect(replaced.map((e) => e.ip)).not.toContain(victim.host.ip);
    const healedAt = Date.now();
    await victim.host.heal();

    // Back: its old task reports in again and is killed as surplus; the counts are exact.
    await eventually(
      async () => {
        const s = (await service()).serviceStatus;
        const live = s.tasks.filter((t) => t.state === 'TASK_RUNNING');
        expect(live.map((t) => t.version)).toEqual(['v2', 'v2', 'v2']);
        expect(s.tasks.some((t) => t.taskId === victimEndpoint.taskId && t.state !== 'TASK_KILLED')).toBe(false);
        expect(await endpoints()).toHaveLength(3);
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'exactly 3 running v2 tasks and 3 endpoints after the heal' },
    );
    const { body: tasks } = await cluster.clientJson<{ tasks: { state: string }[] }>(cluster.masterUrl(leader, '/api/v1/tasks'));
    expect(tasks.tasks.filter((t) => t.state === 'TASK_RUNNING')).toHaveLength(3);

    // DNS follows: the A records are the hosts of the 3 live endpoints.
    const liveIps = [...new Set((await endpoints()).map((e) => e.ip))].sort();
    await eventually(async () => expect(await dig('web.services.agora.', 'A')).toEqual(liveIps), { timeoutMs: 5_000, intervalMs: 200, what: 'the A records after the heal' });

    await stopService(prober, 'SIGTERM', 1_000);
    await stopService(lbProber, 'SIGTERM', 1_000);
    // Through the service port the service answered every time, also while the host was cut off.
    const viaProxy = servicePortProbes(lbProber);
    expect(viaProxy.filter((p) => p.t >= cutAt && p.t <= healedAt).length).toBeGreaterThan(5);
    expect(viaProxy.filter((p) => !p.ok)).toEqual([]);
    const seen = probes(prober);
    const during = seen.filter((p) => p.t >= cutAt && p.t <= healedAt);
    expect(during.length).toBeGreaterThan(10);
    // Through the endpoints list the service always answered; connections failed only to the cut host.
    expect(seen.filter((p) => !p.ok)).toEqual([]);
    const failedAt = new Set(seen.flatMap((p) => p.tried.map((x) => x.at.split(':')[0])));
    expect([...failedAt].filter((ip) => ip !== victim.host.ip)).toEqual([]);
    const failedConnections = seen.flatMap((p) => p.tried).length;
    console.info(JSON.stringify({ scenario: 'agent cut', probes: seen.length, probesDuringCut: during.length, failedProbes: 0, failedConnections, servicePortProbes: viaProxy.length, cutToHealMs: healedAt - cutAt }));
  }, 120_000);

  it('a partitioned leading master loses leadership; another leads; healed and restarted, the old one stands by', async () => {
    const before = await found(async () => {
      const s = await selves();
      return s.filter((x) => x === true).length === 1 && s;
    }, { timeoutMs: 10_000, intervalMs: 200, what: 'one leading master' });
    const old = cluster.masters[before.indexOf(true)]!;
    const other = cluster.masters[before.indexOf(true) === 0 ? 1 : 0]!;
    await old.host.cut();
    const cutAt = Date.now();
    // Asked every 100 ms — the old leader from inside its own (cut) host, the other from the client —
    // until the other leads: never both at once.
    const rounds: { t: number; old: boolean | undefined; other: boolean | undefined }[] = [];
    await eventually(
      async () => {
        const s = await selves([old]);
        rounds.push({ t: Date.now(), old: s[cluster.masters.indexOf(old)], other: s[cluster.masters.indexOf(other)] });
        return rounds.at(-1)!.other === true;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'the other master leading' },
    );
    const tookMs = Date.now() - cutAt;
    expect(rounds.filter((r) => r.old === true && r.other === true)).toEqual([]);
    // The old leader stopped acting on its own (its lease), and then stepped down for want of ZooKeeper (its process ends, as Mesos's does).
    expect(rounds.at(-1)!.old).not.toBe(true);
    await eventually(() => /lost leadership: stopping/.test(old.log()), { timeoutMs: 10_000, intervalMs: 200, what: 'the old leader stepping down' });
    await old.host.heal();
    await eventually(() => !old.running, { timeoutMs: 10_000, intervalMs: 200, what: 'the old master process ending' });
    await old.start();
    await holdsFor(1_500, async () => expect(await selves()).toEqual(old === cluster.masters[0] ? [false, true] : [true, false]), 'the old master, back, stays a standby');
    expect(tookMs).toBeLessThan(8_000);
    console.info(JSON.stringify({ scenario: 'leader cut', newLeaderAfterMs: tookMs, rounds: rounds.length }));
  }, 60_000);
});
