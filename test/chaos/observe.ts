// What the chaos run looks at: the probes taken while it runs (capacity, leaders) and the views
// taken at the end (what the master, the agents, the frameworks and /proc each say is live).
import fs from 'node:fs';
import path from 'node:path';
import { call, callAny } from './api.js';
import type { ChaosCluster } from './cluster.js';
import { isLive, type CapacityProbe, type LeaderClaim, type LiveView, type RecordedTask } from './judge.js';
import { CRONJOB, JOB, SERVICE, type Marks } from './workloads.js';

/**
 * Probes every `everyMs` until stopped: instances available (heartbeats), and each master's
 * `/api/v1/leader`. A master keeps at most one leader probe in flight, frozen or not: a frozen
 * one answers it when it wakes, as it would any client's queued request, and a stale `self: true`
 * then is what the leader claims catch.
 */
export class Prober {
  readonly capacity: CapacityProbe[] = [];
  readonly claims: LeaderClaim[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #inFlight = new Set<string>();

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly marks: Marks,
    /** How long a leader probe may wait for its answer (a frozen master's hold, and more). */
    private readonly claimTimeoutMs: number,
    private readonly everyMs = 500,
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.#probe(), this.everyMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #probe(): void {
    const atMs = Date.now();
    const available = [...this.marks.available(atMs).values()].reduce((a, b) => a + b, 0);
    this.capacity.push({ atMs, available });
    for (const m of this.cluster.masters) {
      const address = m.address;
      if (!address || this.#inFlight.has(address)) continue;
      this.#inFlight.add(address);
      void selfClaim(address, this.claimTimeoutMs)
        .then((self) => void (self && this.claims.push({ master: address, atMs: Date.now() })))
        .finally(() => this.#inFlight.delete(address));
    }
  }
}

async function selfClaim(address: string, timeoutMs: number): Promise<boolean> {
  try {
    const answer = await call(address, '/api/v1/leader', { timeoutMs });
    return answer.status === 200 && (answer.body as { self?: boolean }).self === true;
  } catch {
    return false;
  }
}

/** The address of the master that says it leads, if exactly one does. */
export async function leadingMaster(cluster: ChaosCluster): Promise<string | undefined> {
  const addresses = cluster.masters.map((m) => m.address).filter((a): a is string => a !== undefined);
  const claims = await Promise.all(addresses.map((a) => selfClaim(a, 400)));
  const leaders = addresses.filter((_, i) => claims[i]);
  return leaders.length === 1 ? leaders[0] : undefined;
}

export interface ServiceView {
  readonly version: string;
  readonly running: number;
  readonly healthy: number;
  readonly deploymentPhase: string;
  /** The framework's reason for what it does not do yet ('' when nothing waits). */
  readonly pendingReason: string;
  readonly tasks: readonly { taskId: string; state: string; version: string }[];
}

export interface JobView {
  readonly phase: string;
  readonly completedIndexes: readonly number[];
  readonly tasks: readonly { taskId: string; state: string; index: number }[];
}

export interface CronView {
  readonly active: readonly Run[];
  readonly history: readonly Run[];
}

export interface Run {
  readonly id: string;
  readonly phase: string;
  readonly scheduledForMs: number | string;
  readonly taskIds: readonly string[];
}

export async function workload<T>(cluster: ChaosCluster, plural: string, name: string): Promise<T | undefined> {
  const answer = await callAny(frameworkAddresses(cluster), `/api/v1/${plural}/${name}`);
  return answer?.body as T | undefined;
}

export function frameworkAddresses(cluster: ChaosCluster): (string | undefined)[] {
  return cluster.frameworks.map((f) => (f.frozen ? undefined : f.address));
}

export async function serviceView(cluster: ChaosCluster): Promise<ServiceView | undefined> {
  const doc = await workload<{ version: string; serviceStatus: { running: number; healthy: number; deployments: { phase: string }[]; tasks: ServiceView['tasks']; pendingReason?: string } }>(cluster, 'services', SERVICE);
  if (!doc) return undefined;
  const s = doc.serviceStatus;
  return { version: doc.version, running: s.running, healthy: s.healthy, deploymentPhase: s.deployments[0]?.phase ?? '', pendingReason: s.pendingReason ?? '', tasks: s.tasks };
}

export async function jobView(cluster: ChaosCluster): Promise<JobView | undefined> {
  return (await workload<{ jobStatus: JobView }>(cluster, 'jobs', JOB))?.jobStatus;
}

export async function cronView(cluster: ChaosCluster): Promise<CronView | undefined> {
  const s = (await workload<{ cronjobStatus: { active?: Run[]; history?: Run[] } }>(cluster, 'cronjobs', CRONJOB))?.cronjobStatus;
  return s ? { active: s.active ?? [], history: s.history ?? [] } : undefined;
}

/** What the batch and cron frameworks recorded for each task they ran. */
export function recordedTasks(job: JobView | undefined, cron: CronView | undefined): { batch: RecordedTask[]; cron: RecordedTask[] } {
  const batch = (job?.tasks ?? []).map((t) => ({ taskId: t.taskId, state: t.state }));
  const runs = [...(cron?.active ?? []), ...(cron?.history ?? [])];
  // A cron run's phase is its verdict on its last task; earlier attempts of a retried run failed.
  const cronTasks = runs.flatMap((r) => r.taskIds.map((taskId, i) => ({ taskId, state: i === r.taskIds.length - 1 ? r.phase : 'ATTEMPT_FAILED' })));
  return { batch, cron: cronTasks };
}

/** Each side's live tasks, for the orphan check, and every state the master knows (for the report); undefined when some side does not answer. */
export async function liveView(cluster: ChaosCluster): Promise<(LiveView & { masterStates: Record<string, string> }) | undefined> {
  const leader = await leadingMaster(cluster);
  if (!leader) return undefined;
  const tasks = await call(leader, '/api/v1/tasks?limit=10000').catch(() => undefined);
  if (tasks?.status !== 200) return undefined;
  const all = (tasks.body as { tasks: { id: string; state: string }[] }).tasks;
  const master = all.filter((t) => isLive(t.state)).map((t) => t.id);
  const masterStates = Object.fromEntries(all.map((t) => [t.id, t.state]));
  const agents: string[] = [];
  for (const agent of cluster.agents) {
    if (!agent.address) return undefined;
    const state = await call(agent.address, '/api/v1/state').catch(() => undefined);
    if (state?.status !== 200) return undefined;
    agents.push(...(state.body as { tasks: { taskId: string; state: string }[] }).tasks.filter((t) => isLive(t.state)).map((t) => t.taskId));
  }
  const [service, job, cron] = await Promise.all([serviceView(cluster), jobView(cluster), cronView(cluster)]);
  if (!service || !job || !cron) return undefined;
  const frameworks = [
    ...service.tasks.filter((t) => isLive(t.state)).map((t) => t.taskId),
    ...job.tasks.filter((t) => isLive(t.state)).map((t) => t.taskId),
    ...cron.active.flatMap((r) => r.taskIds.slice(-1)),
  ];
  const processes = cluster.agents.flatMap((_, i) => taskProcesses(cluster.agentWorkDir(i)));
  return { master, agents, frameworks, processes, masterStates };
}

/** Task ids of the processes whose working directory is a task sandbox under `workDir`. */
export function taskProcesses(workDir: string): string[] {
  const prefix = path.resolve(workDir, 'frameworks') + '/';
  const ids = new Set<string>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cwd: string;
    try {
      cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
    } catch {
      continue;
    }
    if (!cwd.startsWith(prefix)) continue;
    // <workDir>/frameworks/<frameworkId>/tasks/<taskId>[/…]
    const parts = cwd.slice(prefix.length).split('/');
    if (parts[1] === 'tasks' && parts[2]) ids.add(parts[2]);
  }
  return [...ids];
}
