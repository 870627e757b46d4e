// Docker where it is, on the suite's real engine: an agent finds the engine by DOCKER_HOST or
// --docker-socket, pings it, and advertises DOCKER (in /api/v1/agents, on its offers); image tasks
// land only on agents with it — with none, the service waits and says why; the master refuses an
// image task on an agent without it; an engine that goes away fails launches saying the engine is
// unreachable (and describe shows it), and an agent that re-checks withdraws DOCKER, then gets it
// back. "Gone" is a unix-socket relay to the test engine that the test closes and reopens.
import { afterEach, describe, expect, it } from 'vitest';
import { startUp, type Up } from '../../cli/up-command.js';
import { describeService } from '../../cli/commands/describe.js';
import { NO_AGENT_RUNS_CONTAINERS } from '../../frameworks/common/launch-protocol.js';
import type { ServiceStatus, Workload } from '../../proto/index.js';
import { dockerRelay, type DockerRelay as Relay } from '../support/docker-relay.js';
import { testServices } from '../support/services.js';
import { taskInfo } from '../support/test-framework.js';
import { MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { tempDir } from '../support/tmp.js';
import { holdsFor } from '../support/waits.js';
import { startCluster, stopClusters, until } from './services-harness.js';

const BAD_SOCKET = 'unix:///nonexistent/agora-test/docker.sock';
const ups: Up[] = [];
const relays: Relay[] = [];

afterEach(async () => {
  await stopClusters();
  for (const u of ups.splice(0)) await u.stop();
  for (const r of relays.splice(0)) await r.close();
  await stopHarnesses();
});

/** `agora up` in this process, security off, its agent killing its tasks when it stops. */
async function up(extra: Partial<Parameters<typeof startUp>[0]> = {}, agentFlags: Record<string, string> = {}): Promise<Up> {
  const dataDir = await tempDir('docker-up');
  const started = await startUp(
    { httpPort: 0, grpcPort: 0, agentHttpPort: 0, dataDir, executor: 'process', resources: 'cpus:2;mem:2048;disk:2048', hostname: '127.0.0.1', logLevel: 'silent', insecure: true, writeContext: false, allowRootTasks: false, allowPrivileged: false, ...extra },
    { agent: { killTasksOnStop: 'true', ...agentFlags } },
  );
  ups.push(started);
  await started.frameworks.waitLeading(10_000);
  return started;
}

async function api<T>(u: Up, method: string, route: string, body?: string): Promise<T> {
  const res = await fetch(`http://${u.master.httpAddress}${route}`, { method, ...(body ? { headers: { 'content-type': 'application/yaml' }, body } : {}) });
  const text = await res.text();
  expect(res.status, text).toBeLessThan(300);
  return JSON.parse(text) as T;
}

function imageService(name: string, instances = 1): string {
  const image = testServices().busyboxImage;
  return [`kind: Service`, `name: ${name}`, `instances: ${instances}`, `container: { image: ${JSON.stringify(image)}, network: NETWORK_NONE }`, 'command: "echo hi; exec sleep 600"', 'resources: { cpus: 0.05, mem: 32 }', 'killGracePeriodSeconds: 0.5', 'backoff: { seconds: 0.1 }', ''].join('\n');
}

function imageSpec(name: string, instances = 1): Record<string, unknown> {
  return { name, instances, container: { image: testServices().busyboxImage, network: 'NETWORK_NONE' }, command: 'exec sleep 600', resources: { cpus: 0.05, mem: 32 }, killGracePeriodSeconds: 0.5, backoff: { seconds: 0.1 } };
}

describe('docker where it is', () => {
  it('agora up finds the engine by DOCKER_HOST, advertises DOCKER and runs an image task', async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = `unix://${testServices().dockerSocket}`;
    let u: Up;
    try {
      u = await up();
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
    expect(u.agent.options.dockerEndpoint.url).toBe(`unix://${testServices().dockerSocket}`);
    const { agents } = await api<{ agents: { capabilities: string[] }[] }>(u, 'GET', '/api/v1/agents');
    expect(agents.map((a) => a.capabilities)).toEqual([['DOCKER']]);
    await api(u, 'POST', '/api/v1/services', imageService('boxed'));
    await until(async () => (await api<Workload>(u, 'GET', '/api/v1/services/boxed')).serviceStatus?.running === 1, 'the image task running', 30_000);
  });

  it('--docker-socket wins over DOCKER_HOST', async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = BAD_SOCKET;
    let u: Up;
    try {
      u = await up({ dockerSocket: testServices().dockerSocket });
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
    expect(u.agent.options.dockerEndpoint.url).toBe(`unix://${testServices().dockerSocket}`);
    expect(u.agent.capabilities.capabilities).toEqual(['DOCKER']);
  });

  it('an agent with a bad socket advertises no containers; image instances land only on the agent with Docker', async () => {
    const c = await startCluster({ agents: [{ dockerSocket: BAD_SOCKET }, { dockerSocket: testServices().dockerSocket }] });
    const [without, withDocker] = c.agents as [(typeof c.agents)[0], (typeof c.agents)[0]];
    expect(c.master.state.agent(without.agentId!)!.info.capabilities).toEqual([]);
    expect(c.master.state.agent(withDocker.agentId!)!.info.capabilities).toEqual(['DOCKER']);
    expect(without.capabilities.dockerProblem).toMatch(/^the Docker engine is unreachable at unix:\/\/\/nonexistent\/agora-test\/docker\.sock: /);
    await c.services.apply(imageSpec('boxes', 3));
    const status = async (): Promise<ServiceStatus> => (await c.services.get('boxes')).serviceStatus!;
    await until(async () => (await status()).running === 3, 'three image instances running', 30_000);
    expect(new Set((await status()).tasks!.map((t) => t.agentId))).toEqual(new Set([withDocker.agentId]));
  });

  it('with only a Docker-less agent an image service stays pending, saying why', async () => {
    const c = await startCluster({ agents: [{ dockerSocket: BAD_SOCKET }] });
    await c.services.apply(imageSpec('stuck'));
    const status = async (): Promise<ServiceStatus> => (await c.services.get('stuck')).serviceStatus!;
    await until(async () => (await status()).pendingReason === NO_AGENT_RUNS_CONTAINERS, 'the pending reason');
    await holdsFor(1_000, async () => (await status()).tasks!.every((t) => !t.agentId) && (await status()).pendingReason === NO_AGENT_RUNS_CONTAINERS, 'an instance placed');
    expect(describeService(await c.services.get('stuck'))).toContain(`Pending:      1 instance(s) waiting: ${NO_AGENT_RUNS_CONTAINERS}`);
  });

  it('the master refuses an image task on an agent that runs no containers', async () => {
    const h = await MasterHarness.start();
    await h.agent({ autoRun: true, resources: 'cpus:4;mem:4096' });
    const fw = await h.framework({ autoAck: true });
    const offer = await fw.nextOffer();
    expect(offer.agentCapabilities).toEqual([]);
    await fw.launch(offer, [taskInfo('boxed', 'cpus:0.1;mem:32', { container: { type: 'CONTAINER_DOCKER', docker: { image: 'busybox' } } })]);
    const status = await fw.waitForUpdate('boxed', 'TASK_ERROR');
    expect(status.reason).toBe('REASON_TASK_INVALID');
    expect(status.message).toMatch(/container: agent '[^']+' runs no containers .*needs an agent with the DOCKER capability$/);
  });

  it('an engine that goes away: the launch fails naming the unreachable engine, and describe shows it', async () => {
    const r = await dockerRelay();
    relays.push(r);
    // The agent checks only at start here, so the master still believes it runs containers.
    const u = await up({ dockerSocket: `unix://${r.socketPath}` }, { dockerCheckInterval: '0' });
    expect(u.agent.capabilities.capabilities).toEqual(['DOCKER']);
    await r.close();
    await api(u, 'POST', '/api/v1/services', imageService('orphan'));
    const failure = await until(async () => (await api<Workload>(u, 'GET', '/api/v1/services/orphan')).serviceStatus?.lastFailure ?? undefined, 'a failed launch', 30_000);
    expect(failure).toMatchObject({ state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED', agentId: u.agent.agentId });
    expect(failure!.message).toMatch(new RegExp(`^the Docker engine is unreachable at unix://${r.socketPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    const text = describeService(await api<Workload>(u, 'GET', '/api/v1/services/orphan'));
    expect(text).toMatch(/^Last failure: +Failed \(REASON_CONTAINER_LAUNCH_FAILED\) .*task orphan\.v1\.\S+: the Docker engine is unreachable at unix:\/\//m);
  });

  it('an agent that re-checks withdraws DOCKER when its engine goes, and gets it back when it returns', async () => {
    const r = await dockerRelay();
    relays.push(r);
    const c = await startCluster({ agents: [{ dockerSocket: r.socketPath, dockerCheckInterval: '100ms', dockerCheckTimeout: '1s' }] });
    const id = c.agents[0]!.agentId!;
    const capabilities = (): unknown => c.master.state.agent(id)!.info.capabilities;
    expect(capabilities()).toEqual(['DOCKER']);
    await r.close();
    await until(async () => (capabilities() as string[]).length === 0, 'DOCKER withdrawn');
    await c.services.apply(imageSpec('later'));
    const status = async (): Promise<ServiceStatus> => (await c.services.get('later')).serviceStatus!;
    await until(async () => (await status()).pendingReason === NO_AGENT_RUNS_CONTAINERS, 'the pending reason');
    await r.open();
    await until(async () => (capabilities() as string[])[0] === 'DOCKER', 'DOCKER back');
    await until(async () => (await status()).running === 1, 'the instance running once the engine is back', 30_000);
  });
});
