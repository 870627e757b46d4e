// `npm run bench -- jobs [--tasks 10000] [--applies 10000] [--in-flight 50] [--instances 1000]
//                        [--phase-timeout 180s]`: the built-in frameworks where users feel their speed,
// on an in-process `agora up` (master, one agent with the fake executor, the frameworks host on the
// embedded store; TLS and tokens on, the Jobs API called over HTTPS as the CLI calls it).
//
//   1. batch:   one job of --tasks tasks (parallelism = completions) → every task RUNNING on the
//               agent, then every status update acknowledged by the framework; then DELETE → every
//               task gone from the agent and acknowledged.
//   2. service: one service of --instances instances → all RUNNING (the framework's own view).
//   3. applies: --applies distinct jobs applied, --in-flight at a time (suspended, so the figure is
//               the API and its store write, not launches).
//
// Times are wall-clock from the call; everything runs in this one process, as `agora up` does.
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Agent } from '../agent/agent.js';
import { benchDataDir, startSecuredUp, type SecuredUp } from './up.js';
import { parseDuration } from '../core/options.js';
import { httpAuth, requestJson, type HttpAuth } from '../frameworks/api/http-client.js';

const POLL_MS = 20;
const PHASES = ['batch', 'service', 'applies'];
const GOALS = { batch_running_ms: 10_000, applies_per_s: 500, service_running_ms: 5_000 };

export async function run(argv: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: argv,
    options: {
      tasks: { type: 'string', default: '10000' },
      applies: { type: 'string', default: '10000' },
      'in-flight': { type: 'string', default: '50' },
      instances: { type: 'string', default: '1000' },
      'phase-timeout': { type: 'string', default: '180s' },
      phases: { type: 'string', default: 'batch,service,applies' },
    },
  });
  const tasks = positive(values.tasks, '--tasks');
  const applies = positive(values.applies, '--applies');
  const inFlight = positive(values['in-flight'], '--in-flight');
  const instances = positive(values.instances, '--instances');
  const timeoutMs = parseDuration(values['phase-timeout'], '--phase-timeout');
  const phases = new Set(values.phases.split(','));
  for (const p of phases) if (!PHASES.includes(p)) throw new Error(`--phases: unknown phase '${p}' (${PHASES.join(', ')})`);
  const dataDir = await benchDataDir('jobs');
  let up: SecuredUp | undefined;
  try {
    up = await startSecuredUp(dataDir, 'fake', 'cpus:4096;mem:1048576;disk:8192;ports:[31000-31100]');
    const api = new Api(`https://${up.master.httpAddress}/api/v1`, httpAuth(up.security.adminToken, { ca: up.security.masterTls.ca }));
    await waitFor(() => api.call('GET', '/jobs').then(() => true, (err: { code?: string }) => (err.code === 'AGORA_UNAVAILABLE' ? undefined : Promise.reject(err))), timeoutMs, 'the Jobs API');
    const batch = phases.has('batch') ? await batchPhase(api, up.agent, tasks, timeoutMs) : undefined;
    const service = phases.has('service') ? await servicePhase(api, up.agent, instances, timeoutMs) : undefined;
    const apply = phases.has('applies') ? await applyPhase(api, applies, inFlight) : undefined;
    return {
      tasks,
      instances,
      applies,
      in_flight: inFlight,
      executor: 'fake',
      ...batch,
      ...service,
      ...apply,
      goal_batch_running_ms: GOALS.batch_running_ms,
      goal_applies_per_s: GOALS.applies_per_s,
      goal_service_running_ms: GOALS.service_running_ms,
      goal_met:
        batch !== undefined && batch.batch_running_ms <= GOALS.batch_running_ms && apply !== undefined && apply.applies_per_s >= GOALS.applies_per_s && service !== undefined && service.service_running_ms <= GOALS.service_running_ms,
      tls: true,
      authenticated: true,
    };
  } finally {
    await up?.stop();
    await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

class Api {
  constructor(
    private readonly base: string,
    private readonly auth: HttpAuth,
  ) {}

  call<T>(method: 'GET' | 'POST' | 'DELETE', route: string, body?: unknown): Promise<T> {
    return requestJson<T>(`${this.base}${route}`, { method, auth: this.auth, timeoutMs: 60_000, ...(body === undefined ? {} : { body }) });
  }
}

/** The agent's view of a workload's tasks (ids start with its name): how many run, how many are live. */
function agentTasks(agent: Agent, name: string): { running: number; live: number } {
  let running = 0;
  let live = 0;
  for (const entry of agent.tasks.tasks.values()) {
    if (!entry.taskId.startsWith(`${name}.`)) continue;
    if (entry.state === 'TASK_RUNNING') running++;
    if (entry.state === 'TASK_RUNNING' || entry.state === 'TASK_STAGING' || entry.state === 'TASK_STARTING' || entry.state === 'TASK_KILLING') live++;
  }
  return { running, live };
}

async function batchPhase(api: Api, agent: Agent, n: number, timeoutMs: number) {
  const name = 'bench-batch';
  const resentBefore = agent.updates.stats.resent;
  const started = performance.now();
  await api.call('POST', '/jobs', { name, completions: n, parallelism: n, task: { command: 'true', resources: { cpus: 0.01, mem: 4 } } });
  const applied = performance.now();
  await waitFor(async () => (agentTasks(agent, name).running === n ? true : undefined), timeoutMs, `${n} batch tasks RUNNING`);
  const running = performance.now();
  log(`batch: ${n} RUNNING in ${ms(running - started)} ms`);
  await waitFor(async () => (agent.updates.pendingCount() === 0 ? true : undefined), timeoutMs, 'every batch update acknowledged');
  const acked = performance.now();
  log(`batch: acknowledged in ${ms(acked - started)} ms`);
  const deleting = performance.now();
  await api.call('DELETE', `/jobs/${name}`);
  const deleteAnswered = performance.now();
  await waitFor(async () => (agentTasks(agent, name).live === 0 && agent.updates.pendingCount() === 0 ? true : undefined), timeoutMs, 'the batch tasks gone');
  const gone = performance.now();
  log(`batch: deleted in ${ms(gone - deleting)} ms`);
  return {
    batch_apply_ms: ms(applied - started),
    batch_running_ms: ms(running - started),
    batch_acked_ms: ms(acked - started),
    batch_running_per_s: Math.round((n / (running - started)) * 1000),
    batch_resends: agent.updates.stats.resent - resentBefore,
    batch_delete_call_ms: ms(deleteAnswered - deleting),
    batch_delete_ms: ms(gone - deleting),
  };
}

async function servicePhase(api: Api, agent: Agent, n: number, timeoutMs: number) {
  const name = 'bench-service';
  const started = performance.now();
  await api.call('POST', '/services', { name, instances: n, command: 'true', resources: { cpus: 0.01, mem: 4 }, killGracePeriodSeconds: 0 });
  await waitFor(async () => (agentTasks(agent, name).running === n ? true : undefined), timeoutMs, `${n} service instances RUNNING on the agent`);
  const onAgent = performance.now();
  await waitFor(async () => {
    const w = await api.call<{ serviceStatus?: { running?: number } }>('GET', `/services/${name}`);
    return w.serviceStatus?.running === n ? true : undefined;
    // A view of a thousand tasks per poll: not so often that the polling is what is measured.
  }, timeoutMs, `${n} service instances running`, 100);
  const running = performance.now();
  log(`service: ${n} running in ${ms(running - started)} ms`);
  await api.call('DELETE', `/services/${name}`);
  await waitFor(async () => (agentTasks(agent, name).live === 0 ? true : undefined), timeoutMs, 'the service tasks gone');
  return { service_agent_running_ms: ms(onAgent - started), service_running_ms: ms(running - started) };
}

async function applyPhase(api: Api, n: number, inFlight: number) {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    for (let i = next++; i < n; i = next++) {
      const t0 = performance.now();
      const body = { name: `bench-apply-${i}`, suspend: true, task: { command: 'true', resources: { cpus: 0.01, mem: 4 } } };
      await api.call('POST', '/jobs', body).catch((err: unknown) => {
        failures++;
        if (failures <= 3) log(`applies: ${(err as Error).message}`);
      });
      latencies.push(performance.now() - t0);
      if (latencies.length % 1000 === 0) log(`applies: ${latencies.length}/${n}`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = performance.now() - started;
  return {
    applies_ms: ms(elapsed),
    applies_per_s: Math.round(((n - failures) / elapsed) * 1000),
    apply_failures: failures,
    apply_ms_p50: ms(percentile(latencies, 50)),
    apply_ms_p99: ms(percentile(latencies, 99)),
  };
}

function positive(raw: string | undefined, flag: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: expected a positive integer, got '${raw}'`);
  return n;
}

async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string, pollMs = POLL_MS): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`jobs: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function ms(v: number): number {
  return Math.round(v);
}

function log(line: string): void {
  process.stderr.write(`jobs: ${line}\n`);
}
