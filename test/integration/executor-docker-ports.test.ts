// Docker tasks' ports against the test run's own dockerd, which has no default bridge and no
// iptables (test/support/docker.ts): a port mapping on the missing bridge fails the launch naming
// the port and why (rather than running unreachable); network none cannot publish; host
// networking needs no mapping and its port answers; on a user-defined bridge (created here; the
// engine publishes through docker-proxy, no iptables needed) the task is not reachable — and,
// through a real agent, not `ready` — until its container listens, though the published port
// accepts connections all along (docker-proxy); one that never listens fails when the bound passes;
// an agent restarted before the port answered probes it again.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { ContainerSpec, Executor } from '../../agent/executor.js';
import { createExecutor } from '../../agent/executors/index.js';
import type { DockerInfo__Output, TaskInfo__Output } from '../../proto/index.js';
import { createTestNetwork, type TestNetwork } from '../support/docker-network.js';
import { Agent } from '../../agent/agent.js';
import { launchTask, startTestAgent, stopTestAgents, TEST_AGENT_FLAGS } from '../support/agent-harness.js';
import { MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { freePorts } from '../support/ports.js';
import { testPki } from '../support/security.js';
import { testServices } from '../support/services.js';
import { taskInfo } from '../support/test-framework.js';
import { removeDir, tempDir } from '../support/tmp.js';
import { NOBODY } from '../support/users.js';
import { eventually, holdsFor, within } from '../support/waits.js';

let network: TestNetwork;
let NETWORK = '';
let root: string;
let executor: Executor;
let docker: Docker;
let counter = 0;

beforeAll(async () => {
  root = await tempDir('executor-docker-ports');
  executor = createExecutor('docker', { dockerSocket: testServices().dockerSocket, portCheckTimeoutMs: 10_000 });
  docker = new Docker({ socketPath: testServices().dockerSocket });
  network = await createTestNetwork(docker);
  NETWORK = network.name;
});

afterAll(async () => {
  await executor.close();
  const mine = await docker.listContainers({ all: true, filters: { label: ['agora.framework-id=fw-ports'] } });
  await Promise.allSettled(mine.map((c) => docker.getContainer(c.Id).remove({ force: true })));
  await network?.remove();
  removeDir(root);
});

afterEach(async () => {
  await stopTestAgents();
  await stopHarnesses();
});

const HTTP = 'http';

function spec(command: string, docker: Partial<DockerInfo__Output>, hostPort: number): ContainerSpec {
  const taskId = `p${++counter}-${process.pid}`;
  const sandbox = path.join(root, taskId);
  fs.mkdirSync(sandbox, { mode: 0o700 });
  fs.chownSync(sandbox, NOBODY.uid, NOBODY.gid);
  const info: DockerInfo__Output = { image: testServices().busyboxImage, forcePull: false, network: 'NETWORK_HOST', networkName: '', portMappings: [], parameters: [], privileged: false, ...docker };
  const task: TaskInfo__Output = {
    name: taskId, taskId, agentId: 'agent-1', resources: [],
    command: { value: command, arguments: [], environment: null, user: '', uris: [] },
    container: { type: 'CONTAINER_DOCKER', docker: info, volumes: [], hostname: '' },
    healthCheck: null, readinessCheck: null, killPolicy: null, labels: {}, discovery: null,
    data: Buffer.alloc(0), fake: null, executorId: '', secrets: null,
  };
  return { frameworkId: 'fw-ports', taskId, task, sandbox, runtimeDir: `${sandbox}.meta`, user: NOBODY, env: {}, cpus: 0, memMb: 0, ports: [{ number: hostPort, name: HTTP }] };
}

const mapping = (containerPort: number): DockerInfo__Output['portMappings'][number] => ({ hostPort: 0, containerPort, protocol: 'tcp', name: HTTP });

/** Whether a TCP connect to 127.0.0.1:port is accepted (by the task, or by docker-proxy in front of it). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(1_000, () => done(false));
  });
}

/** What 127.0.0.1:port says to an HTTP GET, or the error. */
async function httpStatus(port: number): Promise<number | string> {
  return fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.status, (e: Error) => String(e.cause ?? e.message));
}

async function ownContainers(taskId: string): Promise<number> {
  return (await docker.listContainers({ all: true, filters: { label: [`agora.task-id=${taskId}`] } })).length;
}

describe('docker executor: published ports', () => {
  it('fails a port mapping on an engine with no bridge, naming the port and the cause, and leaves no container', async () => {
    const [port] = await freePorts(1);
    const s = spec('sleep 30', { network: 'NETWORK_BRIDGE', portMappings: [mapping(8080)] }, port!);
    const exit = await (await executor.launch(s)).wait();
    expect(exit).toEqual({
      launchFailed: true,
      reason: 'REASON_CONTAINER_LAUNCH_FAILED',
      message: `port http (container 8080, host ${port}) is not published: the engine has no bridge network; use network: host or give the engine a bridge`,
    });
    expect(await ownContainers(s.taskId)).toBe(0);
  });

  it('fails a port mapping on network none: it cannot publish', async () => {
    const [port] = await freePorts(1);
    const exit = await (await executor.launch(spec('sleep 30', { network: 'NETWORK_NONE', portMappings: [mapping(8080)] }, port!))).wait();
    expect(exit).toMatchObject({ launchFailed: true, reason: 'REASON_CONTAINER_LAUNCH_FAILED' });
    expect(exit.message).toMatch(/^port http \(container 8080, host \d+\) is not published: network none cannot publish ports/);
  });

  it('runs a task on host networking, with nothing to map: its port answers', async () => {
    const [port] = await freePorts(1);
    const container = await executor.launch(spec(`exec httpd -f -p ${port} -h /tmp`, {}, port!));
    expect(container.reachable).toBeUndefined();
    await eventually(async () => expect(await httpStatus(port!)).toBe(404), { what: 'httpd on the host port', timeoutMs: 10_000 });
    await container.kill(0);
  });

  it('on a user-defined bridge: reachable only once the container listens, though docker-proxy accepts from the start', async () => {
    const [port] = await freePorts(1);
    const container = await executor.launch(spec('sleep 2; exec httpd -f -p 8080 -h /tmp', { network: 'NETWORK_USER', networkName: NETWORK, portMappings: [mapping(8080)] }, port!));
    const started = Date.now();
    expect(container.reachable).toBeDefined();
    let answer: { ok: boolean; message: string } | undefined;
    void container.reachable!(new AbortController().signal).then((a) => (answer = a));
    // The published port accepts at once: a connect to it says nothing about the task.
    await eventually(async () => expect(await accepts(port!)).toBe(true), { what: 'docker-proxy on the host port', timeoutMs: 5_000 });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(answer).toBeUndefined();
    await holdsFor(Math.max(0, 1_500 - (Date.now() - started)), () => answer === undefined, 'the probe answered before the container listens');
    await eventually(() => expect(answer).toEqual({ ok: true, message: 'its port answers' }), { what: 'the probe', timeoutMs: 10_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    // Published without iptables: the host port reaches the task.
    expect(await httpStatus(port!)).toBe(404);
    await container.kill(0);
  });

  it('a container that never listens is not reachable, and says so naming the port, once the bound passes', async () => {
    const quick = createExecutor('docker', { dockerSocket: testServices().dockerSocket, portCheckTimeoutMs: 1_200 });
    const [port] = await freePorts(1);
    const container = await quick.launch(spec('sleep 30', { network: 'NETWORK_USER', networkName: NETWORK, portMappings: [mapping(8080)] }, port!));
    const answer = await within(container.reachable!(new AbortController().signal), 10_000, undefined);
    expect(answer?.ok).toBe(false);
    expect(answer?.message).toMatch(new RegExp(`^port http \\(container 8080, host ${port}\\) did not answer within 1.2 s \\(last: connect to 10\\.213\\.\\d+\\.\\d+:8080: ECONNREFUSED\\)$`));
    await container.kill(0);
    await quick.close();
  });
});

describe('agent: a Docker task on a bridge is not ready until its port answers', () => {
  const boxed = (taskId: string, port: number, command: string): Parameters<typeof launchTask>[1] =>
    taskInfo(taskId, `cpus:0.1;mem:64;ports:[${port}-${port}]`, {
      command: { value: command },
      discovery: { name: taskId, ports: [{ number: port, name: HTTP }] },
      container: { type: 'CONTAINER_DOCKER', docker: { image: testServices().busyboxImage, network: 'NETWORK_USER', networkName: NETWORK, portMappings: [mapping(8080)] } },
    });

  it('RUNNING says ready false, then ready true once the container listens (2 s later)', async () => {
    const [port] = await freePorts(1);
    const h = await MasterHarness.start();
    await startTestAgent(h.address, { dockerSocket: testServices().dockerSocket, resources: `cpus:4;mem:4096;disk:4096;ports:[${port}-${port}]` });
    const fw = await h.framework({ autoAck: true });
    await launchTask(fw, boxed('late', port!, 'sleep 2; exec httpd -f -p 8080 -h /tmp'));
    const running = await fw.waitForUpdate('late', 'TASK_RUNNING', { timeoutMs: 30_000 });
    expect(running.ready).toBe(false);
    await eventually(() => expect(fw.updates('late').at(-1)).toMatchObject({ state: 'TASK_RUNNING', ready: true, reason: 'REASON_TASK_CHECK_STATUS_UPDATED' }), { what: 'ready', timeoutMs: 15_000 });
    const ready = fw.updates('late').at(-1)!;
    expect(Number(ready.timestampMs) - Number(running.timestampMs)).toBeGreaterThanOrEqual(1_000);
    expect(await httpStatus(port!)).toBe(404);
    expect(fw.updates('late').map((u) => `${u.state}${u.ready === true ? '+' : u.ready === false ? '-' : ''}`)).toEqual(['TASK_STARTING', 'TASK_RUNNING-', 'TASK_RUNNING+']);
  });

  it('probes again after an agent restart a task that was not ready yet', async () => {
    const [port] = await freePorts(1);
    const h = await MasterHarness.start();
    const flags = { dockerSocket: testServices().dockerSocket, workDir: await tempDir('agent-ports'), resources: `cpus:4;mem:4096;disk:4096;ports:[${port}-${port}]` };
    // Not startTestAgent's: its clean-up would kill through this stopped agent, whose detached container never ends.
    const first = await Agent.start({ ...TEST_AGENT_FLAGS, master: h.address, ...flags }, { tls: testPki().agentTls });
    // Stopped below; stopped here too when the test fails before then, or it would run on, reconnecting.
    onTestFinished(() => first.stop());
    const fw = await h.framework({ autoAck: true, failoverTimeoutSeconds: 60 });
    await launchTask(fw, boxed('slow', port!, 'sleep 4; exec httpd -f -p 8080 -h /tmp'));
    expect((await fw.waitForUpdate('slow', 'TASK_RUNNING', { timeoutMs: 30_000 })).ready).toBe(false);
    await eventually(() => first.updates.pendingCount() === 0, { what: 'updates acknowledged' });
    await first.stop();
    expect(fw.updates('slow').some((u) => u.ready === true)).toBe(false);
    await startTestAgent(h.address, flags);
    await eventually(() => expect(fw.updates('slow').at(-1)).toMatchObject({ state: 'TASK_RUNNING', ready: true }), { what: 'ready after the restart', timeoutMs: 20_000 });
    expect(await httpStatus(port!)).toBe(404);
  });

  it('fails one whose port never answers within --docker-port-check-timeout', async () => {
    const [port] = await freePorts(1);
    const h = await MasterHarness.start();
    await startTestAgent(h.address, { dockerSocket: testServices().dockerSocket, dockerPortCheckTimeout: '1s', resources: `cpus:4;mem:4096;disk:4096;ports:[${port}-${port}]` });
    const fw = await h.framework({ autoAck: true });
    await launchTask(fw, boxed('deaf', port!, 'sleep 30'));
    const failed = await fw.waitForUpdate('deaf', 'TASK_FAILED', { timeoutMs: 30_000 });
    expect(failed.reason).toBe('REASON_READINESS_CHECK_FAILED');
    expect(failed.message).toMatch(new RegExp(`^port http \\(container 8080, host ${port}\\) did not answer within 1 s`));
    expect(fw.updates('deaf').map((u) => u.state)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
  });
});
