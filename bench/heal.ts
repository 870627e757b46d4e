// `npm run bench -- heal [--instances 50] [--docker-socket PATH] [--timeout 120s] [--no-swarm]`:
// how long a service takes to heal when all its containers die at once (a Docker daemon restart,
// an OOM storm). N instances of `sleep 3600` in the test busybox image, all `docker kill`ed in one
// call; the time from the kill until N are running again — for Agora (an `agora up` equivalent in
// this process: master, agent with the Docker executor, the services framework; secured as `agora
// up` is, the service applied through the Jobs API over HTTPS with a token) and, in the same run on
// the same engine, for Docker Swarm (`docker swarm init`, `docker service create --replicas N`, with
// Swarm's defaults; `docker swarm leave --force` after).
//
// Agora counts as running what the services framework reports RUNNING (the agent has started the
// container and the update went through the master); Swarm, what its tasks report `running`.
// Both must be N new containers: none of the killed ones.
//
// The engine: --docker-socket, else a private dockerd started here as the tests do
// (test/support/docker.ts: its own data root, no bridge, the image imported from busybox-static).
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { parseArgs, promisify } from 'node:util';
import Docker from 'dockerode';
import { LABEL_TASK_ID } from '../agent/executors/docker-spec.js';
import { benchDataDir, startSecuredUp, type SecuredUp } from './up.js';
import { parseDuration } from '../core/options.js';
import { httpAuth, requestJson } from '../frameworks/api/http-client.js';
import { ensureBusyboxImage, startDockerd, type Dockerd } from '../test/support/docker.js';

const run$ = promisify(execFile);
const SERVICE = 'heal';
const SWARM_SERVICE = 'agora-bench-heal';
const POLL_MS = 50;

interface Engine {
  readonly socketPath: string;
  readonly image: string;
  readonly docker: Docker;
  readonly own: Dockerd | undefined;
}

export async function run(argv: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: argv,
    options: {
      instances: { type: 'string', default: '50' },
      'docker-socket': { type: 'string' },
      timeout: { type: 'string', default: '120s' },
      'no-swarm': { type: 'boolean', default: false },
    },
  });
  const n = Number(values.instances);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error(`--instances must be a whole number from 1 to 1000, got ${values.instances}`);
  const timeoutMs = parseDuration(values.timeout, '--timeout');
  const engine = await openEngine(values['docker-socket']);
  try {
    const version = (await engine.docker.version()).Version;
    const agora = await healAgora(engine, n, timeoutMs);
    const swarm = values['no-swarm'] ? undefined : await healSwarm(engine, n, timeoutMs);
    return {
      instances: n,
      image: engine.image,
      docker_version: version,
      agora_heal_ms: agora.healMs,
      agora_first_back_ms: agora.firstMs,
      agora_backoff_until_ms: agora.backoffUntilMs,
      ...(swarm ? { swarm_heal_ms: swarm.healMs, swarm_first_back_ms: swarm.firstMs, swarm_restart_delay: 'default (5s)' } : {}),
      ...(swarm ? { agora_ahead_of_swarm: agora.healMs < swarm.healMs } : {}),
      goal_heal_ms: 5000,
      goal_met: agora.healMs <= 5000 && (swarm === undefined || agora.healMs < swarm.healMs),
      tls: true,
      authenticated: true,
    };
  } finally {
    await engine.own?.stop();
  }
}

async function openEngine(socket: string | undefined): Promise<Engine> {
  const own = socket === undefined ? await startDockerd() : undefined;
  const socketPath = socket ?? own!.socketPath;
  try {
    const image = await ensureBusyboxImage(socketPath);
    return { socketPath, image, docker: new Docker({ socketPath }), own };
  } catch (err) {
    await own?.stop();
    throw err;
  }
}

interface Healed {
  readonly healMs: number;
  readonly firstMs: number;
  readonly backoffUntilMs?: number;
}

// ---- Agora ----

interface Status {
  readonly running?: number;
  readonly backoffUntilMs?: number | string;
  readonly pendingReason?: string;
  readonly tasks?: readonly { readonly taskId?: string; readonly state?: string }[];
}

async function healAgora(engine: Engine, n: number, timeoutMs: number): Promise<Healed> {
  const dataDir = await benchDataDir('heal');
  let up: SecuredUp | undefined;
  try {
    up = await startSecuredUp(dataDir, 'docker', `cpus:${Math.max(8, n)};mem:${Math.max(8192, n * 64)};disk:8192;ports:[31000-31100]`, { dockerSocket: engine.socketPath });
    const auth = httpAuth(up.security.adminToken, { ca: up.security.masterTls.ca });
    const base = `https://${up.master.httpAddress}/api/v1/services`;
    const spec = {
      name: SERVICE,
      instances: n,
      container: { image: engine.image, network: 'NETWORK_HOST' },
      command: 'exec sleep 3600',
      resources: { cpus: 0.01, mem: 16 },
      killGracePeriodSeconds: 0,
    };
    // The frameworks start after their election: UNAVAILABLE until then.
    await waitFor(() => requestJson(base, { method: 'POST', body: spec, auth, timeoutMs: 10_000 }).then(() => true, (err: { code?: string }) => (err.code === 'AGORA_UNAVAILABLE' ? undefined : Promise.reject(err))), timeoutMs, 'the Jobs API');
    const status = (): Promise<Status> => requestJson<{ serviceStatus?: Status }>(`${base}/${SERVICE}`, { auth, timeoutMs: 10_000 }).then((w) => w.serviceStatus ?? {});
    const ready = await waitFor(async () => {
      const s = await status();
      return s.running === n && s.tasks?.length === n ? s : undefined;
    }, timeoutMs, `${n} Agora instances running`);
    process.stderr.write(`heal: agora: ${n} instances running\n`);
    const before = new Set(ready.tasks!.map((t) => t.taskId));
    const ids = await containers(engine.docker, { label: [LABEL_TASK_ID] });
    if (ids.length !== n) throw new Error(`expected ${n} Agora containers, found ${ids.length}`);

    const killedAt = await dockerKill(engine.socketPath, ids);
    let firstMs: number | undefined;
    const healed = await waitFor(async () => {
      const s = await status();
      const fresh = (s.tasks ?? []).filter((t) => !before.has(t.taskId) && t.state === 'TASK_RUNNING').length;
      if (fresh > 0 && firstMs === undefined) firstMs = performance.now() - killedAt;
      return fresh === n && s.running === n ? s : undefined;
    }, timeoutMs, `${n} Agora instances running again`);
    const healMs = performance.now() - killedAt;
    process.stderr.write(`heal: agora: ${n} back in ${Math.round(healMs)} ms\n`);
    await requestJson(`${base}/${SERVICE}`, { method: 'DELETE', auth, timeoutMs: 10_000 });
    await waitFor(async () => ((await containers(engine.docker, { label: [LABEL_TASK_ID] })).length === 0 ? true : undefined), timeoutMs, 'the Agora containers gone');
    return { healMs: round(healMs), firstMs: round(firstMs ?? healMs), backoffUntilMs: Number(healed.backoffUntilMs ?? 0) };
  } finally {
    await up?.stop();
    await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

// ---- Docker Swarm ----

async function healSwarm(engine: Engine, n: number, timeoutMs: number): Promise<Healed> {
  const docker = (...args: string[]): Promise<{ stdout: string }> => run$('docker', ['-H', `unix://${engine.socketPath}`, ...args], { timeout: timeoutMs });
  await docker('swarm', 'init', '--advertise-addr', '127.0.0.1');
  try {
    await docker('service', 'create', '--detach', '--quiet', '--replicas', String(n), '--name', SWARM_SERVICE, '--network', 'host', engine.image, 'sleep', '3600');
    const running = async (): Promise<string[]> => {
      const tasks = await engine.docker.listTasks({ filters: JSON.stringify({ service: [SWARM_SERVICE], 'desired-state': ['running'] }) });
      return tasks.filter((t) => t.Status?.State === 'running').map((t) => String(t.Status?.ContainerStatus?.ContainerID ?? ''));
    };
    await waitFor(async () => ((await running()).length === n ? true : undefined), timeoutMs, `${n} Swarm tasks running`);
    process.stderr.write(`heal: swarm: ${n} replicas running\n`);
    const ids = await containers(engine.docker, { label: [`com.docker.swarm.service.name=${SWARM_SERVICE}`] });
    if (ids.length !== n) throw new Error(`expected ${n} Swarm containers, found ${ids.length}`);
    const killed = new Set(ids);

    const killedAt = await dockerKill(engine.socketPath, ids);
    let firstMs: number | undefined;
    await waitFor(async () => {
      const fresh = (await running()).filter((id) => id !== '' && !killed.has(id)).length;
      if (fresh > 0 && firstMs === undefined) firstMs = performance.now() - killedAt;
      return fresh === n ? true : undefined;
    }, timeoutMs, `${n} Swarm tasks running again`);
    const healMs = performance.now() - killedAt;
    process.stderr.write(`heal: swarm: ${n} back in ${Math.round(healMs)} ms\n`);
    await docker('service', 'rm', SWARM_SERVICE);
    return { healMs: round(healMs), firstMs: round(firstMs ?? healMs) };
  } finally {
    await docker('swarm', 'leave', '--force').catch((err: unknown) => process.stderr.write(`heal: swarm leave: ${(err as Error).message}\n`));
    await waitFor(async () => ((await containers(engine.docker, { label: [`com.docker.swarm.service.name=${SWARM_SERVICE}`] })).length === 0 ? true : undefined), timeoutMs, 'the Swarm containers gone').catch(() => undefined);
  }
}

// ---- helpers ----

async function containers(docker: Docker, filters: Record<string, string[]>): Promise<string[]> {
  const list = await docker.listContainers({ filters: JSON.stringify({ ...filters, status: ['running'] }) });
  return list.map((c) => c.Id);
}

/** `docker kill` of all of them in one call; resolves with the time it was issued. */
async function dockerKill(socketPath: string, ids: readonly string[]): Promise<number> {
  const at = performance.now();
  await run$('docker', ['-H', `unix://${socketPath}`, 'kill', ...ids], { timeout: 60_000 });
  return at;
}

async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`heal: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function round(x: number): number {
  return Math.round(x);
}

