// Service scenarios driven through the `agora` CLI. Against `agora up`: a killed task is replaced,
// scale up and down (the oldest kept), a rolling update never drops below the healthy minimum, a
// version whose health check fails is rolled back (apply exits non-zero), canaries are promoted or
// aborted. Against separate processes (a master on ZooKeeper, agents, `agora frameworks`): a
// hostname UNIQUE constraint spreads the instances one per agent, and a SIGKILLed agent's instances
// come back on the other agent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess } from '../support/agent-harness.js';
import { killProcessesUnder, runCli, startFrameworksProcess, startUpProcess, stopCliProcesses, type CliResult, type UpProcess } from '../support/cli.js';
import { eventually } from '../support/master-harness.js';
import { killMasters, spawnMaster, type MasterProcess } from '../support/master-process.js';
import { httpGet } from '../support/http-get.js';
import { freePorts } from '../support/ports.js';
import { testServices } from '../support/services.js';
import { tempDir } from '../support/tmp.js';
import { pace, within } from '../support/waits.js';

interface TaskJson {
  taskId: string;
  version?: string;
  state?: string;
  healthy?: boolean;
  canary?: boolean;
  startedAtMs?: number | string;
  stagedAtMs?: number | string;
  agentId?: string;
  hostname?: string;
  host?: string;
  ports?: { number?: number | string }[];
}

interface ServiceJson {
  version?: string;
  serviceStatus?: {
    healthy?: number;
    running?: number;
    deployments?: { id?: string; version?: string; phase?: string; fromVersion?: string }[];
    tasks?: TaskJson[];
    endpoints?: { taskId?: string; host?: string; ports?: { number?: number | string }[] }[];
  };
}

function expectOk(r: CliResult): CliResult {
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return r;
}

function parseService(r: CliResult): ServiceJson {
  if (r.code !== 0) throw new Error(r.stderr);
  // `get -o json` prints the document apply takes back: the service's status is under `status`.
  const doc = JSON.parse(r.stdout) as { status?: ServiceJson['serviceStatus'] & { version?: string } };
  return { version: doc.status?.version, serviceStatus: doc.status };
}

/** GET http://127.0.0.1:port/path → status (0 when nothing answers). */
function probe(host: string, port: number, path = '/'): Promise<{ status: number; body: string }> {
  return httpGet({ host, port, path, timeoutMs: 1000 }).catch(() => ({ status: 0, body: '' }));
}

const running = (s: ServiceJson): TaskJson[] => (s.serviceStatus?.tasks ?? []).filter((t) => t.state === 'TASK_RUNNING');

describe('agora CLI service scenarios against agora up', () => {
  let up: UpProcess;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await tempDir('cli-scen-up');
    up = await startUpProcess(dataDir);
    await eventually(async () => (await up.fetch(`${up.masterUrl}/api/v1/services`)).status === 200, { timeoutMs: 20_000, what: 'the Jobs API' });
  }, 60_000);

  afterAll(async () => {
    await up.fetch(`${up.masterUrl}/api/v1/services/web`, { method: 'DELETE' }).catch(() => undefined);
    up.kill('SIGTERM');
    await within(up.exited, 10_000, undefined);
    up.kill('SIGKILL');
    await stopCliProcesses();
    await killProcessesUnder(dataDir);
  });

  const agora = (args: string[], stdin?: string): Promise<CliResult> => runCli([...args, '--master', up.masterUrl], stdin === undefined ? {} : { stdin });
  const service = async (): Promise<ServiceJson> => parseService(await agora(['get', 'services', 'web', '-o', 'json']));

  function spec(o: { instances?: number; colour?: string; path?: string; canary?: number; rolling?: boolean } = {}): string {
    return [
      'kind: Service',
      'name: web',
      `instances: ${o.instances ?? 3}`,
      `command: 'mkdir -p www && echo "ok $AGORA_SERVICE_VERSION $COLOUR" > www/index.html && exec busybox httpd -f -p $PORT0 -h www'`,
      `env: { COLOUR: ${o.colour ?? 'red'} }`,
      'resources: { cpus: 0.05, mem: 16 }',
      'ports: [{ name: http }]',
      `healthCheck: { type: HTTP, http: { portName: http, path: ${o.path ?? '/'} }, delaySeconds: 0, intervalSeconds: 0.2, timeoutSeconds: 1, gracePeriodSeconds: 1, consecutiveFailures: 2 }`,
      'killGracePeriodSeconds: 0.5',
      'backoff: { seconds: 0.1 }',
      ...(o.rolling ? ['upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 0.34 }'] : []),
      ...(o.canary ? [`canary: { instances: ${o.canary} }`] : []),
      '',
    ].join('\n');
  }

  /** Healthy endpoints, from the endpoints API, that answer 200 over HTTP. */
  async function answering(): Promise<string[]> {
    const { endpoints } = (await (await up.fetch(`${up.masterUrl}/api/v1/services/web/endpoints`)).json()) as { endpoints: { host: string; ports: { number: number }[] }[] };
    const res = await Promise.all(endpoints.map((e) => probe(e.host, Number(e.ports[0]?.number ?? 0))));
    return res.filter((r) => r.status === 200).map((r) => r.body);
  }

  async function settled(n: number, version?: string): Promise<ServiceJson> {
    return eventually(async () => {
      const s = await service();
      const live = running(s);
      if (s.serviceStatus?.healthy !== n || live.length !== n || (s.serviceStatus?.tasks ?? []).length !== n) throw new Error(`not ${n} healthy: ${JSON.stringify(s.serviceStatus?.tasks?.map((t) => [t.taskId, t.state, t.healthy]))}`);
      if (version !== undefined && (s.version !== version || live.some((t) => t.version !== version))) throw new Error(`not all ${version}: ${s.version}`);
      const bodies = await answering();
      if (bodies.length !== n) throw new Error(`${bodies.length} endpoints answer`);
      return s;
    }, { timeoutMs: 60_000, intervalMs: 200, what: `${n} healthy instances${version ? ` of ${version}` : ''}` });
  }

  it('replaces a killed task, scales, rolls, rolls back a failing version, promotes and aborts canaries', async () => {
    expectOk(await agora(['apply', '-f', '-', '--timeout', '60s'], spec()));
    const v1 = await settled(3);

    // Kill one task's process group: the service replaces it.
    const state = (await (await up.fetch(`${up.agentUrl}/api/v1/state`)).json()) as { tasks: { taskId: string; pid: number | null; state: string }[] };
    const victim = state.tasks.find((t) => t.state === 'TASK_RUNNING' && typeof t.pid === 'number');
    expect(victim).toBeDefined();
    process.kill(-(victim?.pid ?? 0), 'SIGKILL');
    const replaced = await eventually(async () => {
      const s = await settled(3);
      const ids = running(s).map((t) => t.taskId);
      if (ids.includes(victim?.taskId ?? '')) throw new Error('the killed task is still listed');
      return s;
    }, { timeoutMs: 60_000, what: 'the killed task replaced' });
    const before = running(v1).map((t) => t.taskId);
    const after = running(replaced).map((t) => t.taskId);
    expect(after.filter((id) => !before.includes(id))).toHaveLength(1);

    // Scale up to 6 and down to 1: the oldest instance is kept.
    expectOk(await agora(['scale', 'service/web', '6', '--wait', '--timeout', '60s']));
    const six = await settled(6);
    expect(running(six).map((t) => t.taskId)).toEqual(expect.arrayContaining(after));
    expectOk(await agora(['scale', 'service/web', '1', '--wait', '--timeout', '60s']));
    const one = await settled(1);
    // The kept one is of the first batch (staged earliest), not one the scale-up added.
    const staged = (t: TaskJson | undefined): number => Number(t?.stagedAtMs ?? 0);
    const kept = running(one);
    expect(kept).toHaveLength(1);
    expect(after).toContain(kept[0]?.taskId);
    expect(staged(kept[0])).toBe(Math.min(...running(six).map(staged)));
    expectOk(await agora(['scale', 'service/web', '3', '--wait', '--timeout', '60s']));
    const three = await settled(3);

    // A rolling update one instance at a time; sample what answers over HTTP all along.
    const samples: number[] = [];
    let applying = true;
    const applied = agora(['apply', '-f', '-', '--timeout', '60s'], spec({ colour: 'blue', rolling: true })).finally(() => (applying = false));
    while (applying) {
      const s = (await (await up.fetch(`${up.masterUrl}/api/v1/services/web`)).json()) as ServiceJson;
      const res = await Promise.all((s.serviceStatus?.tasks ?? []).map((t) => probe('127.0.0.1', Number(t.ports?.[0]?.number ?? 0))));
      samples.push(res.filter((r) => r.status === 200).length);
      await pace(50, 'the sampling interval');
    }
    expectOk(await applied);
    expect(samples.length).toBeGreaterThanOrEqual(3);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(3);
    const rolled = await settled(3);
    expect(rolled.version).not.toBe(three.version);
    expect((await answering()).every((b) => b.endsWith(' blue\n'))).toBe(true);

    // A version whose health check path is missing: apply fails, the service returns to the previous version.
    const broken = await agora(['apply', '-f', '-', '--timeout', '60s'], spec({ colour: 'blue', rolling: true, path: '/missing' }));
    expect(broken.code).not.toBe(0);
    const back = await settled(3, rolled.version);
    expect(back.serviceStatus?.deployments?.[0]?.phase).toBe('DEPLOYMENT_FAILED');

    // Canary, promoted.
    expectOk(await agora(['apply', '-f', '-', '--timeout', '60s'], spec({ colour: 'green', canary: 1 })));
    const paused = await eventually(async () => {
      const s = await service();
      if (s.serviceStatus?.deployments?.[0]?.phase !== 'DEPLOYMENT_PAUSED') throw new Error(String(s.serviceStatus?.deployments?.[0]?.phase));
      return s;
    }, { timeoutMs: 30_000, what: 'the canary to pause' });
    const canaryVersion = paused.serviceStatus?.deployments?.[0]?.version;
    expect(running(paused).filter((t) => t.canary).map((t) => t.version)).toEqual([canaryVersion]);
    expect(expectOk(await agora(['rollout', 'promote', 'service/web'])).stdout).toMatch(/^service\/web promoted /);
    expectOk(await agora(['rollout', 'status', 'service/web', '--timeout', '60s']));
    await settled(3, canaryVersion);
    expect((await answering()).every((b) => b.endsWith(' green\n'))).toBe(true);

    // Canary, aborted.
    expectOk(await agora(['apply', '-f', '-', '--timeout', '60s'], spec({ colour: 'yellow', canary: 1 })));
    await eventually(async () => (await service()).serviceStatus?.deployments?.[0]?.phase === 'DEPLOYMENT_PAUSED', { timeoutMs: 30_000, what: 'the second canary to pause' });
    expect(expectOk(await agora(['rollout', 'abort', 'service/web'])).stdout).toMatch(/^service\/web aborted /);
    await settled(3, canaryVersion);
    expect((await answering()).every((b) => b.endsWith(' green\n'))).toBe(true);

    expectOk(await agora(['delete', 'service/web']));
  }, 150_000);
});

describe('agora CLI service scenarios against separate processes', () => {
  const cluster = `e2e-scen-${process.pid}`;
  const zk = () => `zk://${testServices().zk}/agora`;
  let master: MasterProcess;
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    master = await spawnMaster(zk(), cluster, { '--agent-ping-interval': '200ms', '--max-agent-ping-timeouts': '5', '--log-level': 'warn' });
  }, 60_000);

  afterAll(async () => {
    for (const name of ['spread', 'moving']) await agora(['delete', `service/${name}`]).catch(() => undefined);
    await stopCliProcesses();
    await Promise.all(agents.map(stopAgent));
    await killMasters();
  });

  async function stopAgent(a: AgentProcess): Promise<void> {
    if (a.child.exitCode === null && a.child.signalCode === null) {
      a.kill('SIGTERM');
      const t = setTimeout(() => a.kill('SIGKILL'), 5000);
      await a.exited;
      clearTimeout(t);
    }
    await killProcessesUnder(a.workDir);
  }

  async function startAgent(hostname: string): Promise<AgentProcess> {
    const ports = (await freePorts(4)).map((p) => `${p}-${p}`).join(',');
    const a = await AgentProcess.start(master.grpcAddress, {
      workDir: await tempDir(`agent-${hostname}`),
      flags: { hostname, httpPort: '0', resources: `cpus:1;mem:512;disk:256;ports:[${ports}]`, killTasksOnStop: 'true', logLevel: 'warn' },
    });
    agents.push(a);
    return a;
  }

  const agora = (args: string[], stdin?: string): Promise<CliResult> => runCli([...args, '--master', `https://${master.httpAddress}`], stdin === undefined ? {} : { stdin });
  const service = async (name: string): Promise<ServiceJson> => parseService(await agora(['get', 'services', name, '-o', 'json']));

  function sleepSpec(name: string, instances: number, extra: string[] = []): string {
    return [
      'kind: Service',
      `name: ${name}`,
      `instances: ${instances}`,
      "command: 'exec sleep 600'",
      'resources: { cpus: 0.05, mem: 16 }',
      'killGracePeriodSeconds: 0.5',
      'backoff: { seconds: 0.1 }',
      ...extra,
      '',
    ].join('\n');
  }

  async function hostsOf(name: string, n: number): Promise<string[]> {
    return eventually(async () => {
      const s = await service(name);
      const live = running(s);
      // A dead agent's tasks stay listed as UNREACHABLE (the services framework is partition-aware) until forgotten.
      const listed = (s.serviceStatus?.tasks ?? []).filter((t) => t.state !== 'TASK_UNREACHABLE');
      if (live.length !== n || listed.length !== n) throw new Error(`tasks: ${JSON.stringify(s.serviceStatus?.tasks?.map((t) => [t.taskId, t.state, t.hostname]))}`);
      return live.map((t) => String(t.hostname)).sort();
    }, { timeoutMs: 60_000, intervalMs: 250, what: `${n} running instances of ${name}` });
  }

  it('spreads a hostname UNIQUE service one instance per agent; a SIGKILLed agent\'s instances come back on the other', async () => {
    const [a1, a2, a3] = [await startAgent('a1.test'), await startAgent('a2.test'), await startAgent('a3.test')];
    await startFrameworksProcess(['--master', zk(), '--cluster', cluster, '--zk-session-timeout', '2s', '--log-level', 'warn']);
    await eventually(async () => (await agora(['get', 'services'])).code === 0, { timeoutMs: 30_000, what: 'the Jobs API' });
    await eventually(async () => (JSON.parse(expectOk(await agora(['get', 'agents', '-o', 'json'])).stdout) as { items: unknown[] }).items.length === 3, { timeoutMs: 20_000, what: '3 agents' });

    expectOk(await agora(['apply', '-f', '-', '--timeout', '60s'], sleepSpec('spread', 3, ['constraints: [["hostname", "UNIQUE"]]'])));
    expect(await hostsOf('spread', 3)).toEqual(['a1.test', 'a2.test', 'a3.test']);
    const wide = expectOk(await agora(['get', 'tasks', '-o', 'wide'])).stdout;
    // `get tasks -o wide` names the agent of each: three different ones.
    const agentCol = wide.split('\n')[0]?.split(/\s{2,}/).indexOf('AGENT') ?? -1;
    const rows = wide.split('\n').filter((l) => l.startsWith('spread.')).map((l) => l.split(/\s+/)[agentCol]);
    expect(agentCol).toBeGreaterThan(0);
    expect(new Set(rows).size).toBe(3);
    expectOk(await agora(['delete', 'service/spread']));
    await eventually(async () => running(await service('spread')).length === 0, { timeoutMs: 30_000, what: 'the spread service gone' }).catch(() => undefined);

    // Down to two agents, then SIGKILL one of them.
    await stopAgent(a3);
    expectOk(await agora(['apply', '-f', '-', '--timeout', '60s'], sleepSpec('moving', 4)));
    const hosts = await hostsOf('moving', 4);
    // SIGKILL the agent with the most instances (it has at least one); they come back on the other.
    const onA1 = hosts.filter((h) => h === 'a1.test').length;
    const [victim, survivor] = onA1 >= 2 ? [a1, 'a2.test'] : [a2, 'a1.test'];
    victim.kill('SIGKILL');
    await victim.exited;
    await killProcessesUnder(victim.workDir);
    expect(await eventually(async () => {
      const h = await hostsOf('moving', 4);
      if (h.some((x) => x !== survivor)) throw new Error(`still on ${h.join(',')}`);
      return h;
    }, { timeoutMs: 90_000, intervalMs: 500, what: `all instances on ${survivor}` })).toEqual([survivor, survivor, survivor, survivor]);
    expectOk(await agora(['delete', 'service/moving']));
  }, 150_000);
});
