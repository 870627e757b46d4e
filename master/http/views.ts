// JSON views of the master's records for the operator endpoints: one place that turns records into
// what operators read (camelCase; resources as numbers per kind plus the canonical text).
import { formatRanges } from '../../core/ranges.js';
import { Resources } from '../../core/resources.js';
import { TASK_STATES, isActive, type TaskState } from '../../core/task-state.js';
import type { FrameworkView, RoleView } from '../allocator/types.js';
import type { AgentRecord, FrameworkRecord, OfferRecord, TaskRecord } from '../model.js';
import type { MasterState } from '../state.js';
import { usedJson } from '../usage.js';
import type { OperatorContext } from './context.js';

export interface ResourcesJson {
  cpus: number;
  mem: number;
  disk: number;
  gpus: number;
  /** Port ranges without brackets: `31000-31010,32000-32001` ("" when none). */
  ports: string;
  /** Canonical text, e.g. `cpus:4;mem:4096;ports:[31000-31010]`; it also carries custom and reserved resources. */
  text: string;
}

export function resourcesJson(r: Resources): ResourcesJson {
  return {
    cpus: r.scalar('cpus'),
    mem: r.scalar('mem'),
    disk: r.scalar('disk'),
    gpus: r.scalar('gpus'),
    ports: formatRanges(r.ranges('ports')).slice(1, -1),
    text: r.format(),
  };
}

export function masterJson(self: OperatorContext): Record<string, unknown> {
  const info = self.state.masterInfo;
  return {
    id: info.id ?? '',
    hostname: info.hostname ?? '',
    grpcAddress: self.grpcAddress,
    httpAddress: self.httpAddress,
    version: info.version ?? '',
    cluster: info.cluster ?? '',
    startedAtMs: Number(info.startedAtMs ?? 0),
    electedAtMs: Number(info.electedAtMs ?? 0),
    lifecycle: self.lifecycle,
  };
}

// ---- one pass over the state per request, so views stay linear in its size ----

export interface StateIndex {
  readonly offeredByAgent: Map<string, Resources[]>;
  readonly offeredByFramework: Map<string, Resources[]>;
  readonly liveByFramework: Map<string, TaskRecord[]>;
  readonly frameworkViews: Map<string, FrameworkView>;
}

export function indexState(state: MasterState): StateIndex {
  const push = <T>(map: Map<string, T[]>, key: string, value: T): void => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  const index: StateIndex = { offeredByAgent: new Map(), offeredByFramework: new Map(), liveByFramework: new Map(), frameworkViews: new Map() };
  for (const o of state.outstandingOffers()) {
    push(index.offeredByAgent, o.agentId, o.resources);
    push(index.offeredByFramework, o.frameworkId, o.resources);
  }
  for (const t of state.liveTasks()) push(index.liveByFramework, t.frameworkId, t);
  for (const v of state.allocator.frameworks()) index.frameworkViews.set(v.id, v);
  return index;
}

// ---- agents ----

export interface AgentResources {
  total: Resources;
  /** Offered or used (the allocator's accounting). */
  allocated: Resources;
  /** Held by live tasks. */
  used: Resources;
  /** In outstanding offers. */
  offered: Resources;
  available: Resources;
}

export function agentResources(state: MasterState, agent: AgentRecord, index = indexState(state)): AgentResources {
  const used = Resources.sum(state.tasksOnAgent(agent.id).filter((t) => t.holdsResources).map((t) => t.resources));
  const offered = Resources.sum(index.offeredByAgent.get(agent.id) ?? []);
  const view = state.allocator.agent(agent.id);
  if (view) return { total: view.total, allocated: view.allocated, used, offered, available: view.available };
  // Not in the allocator (unreachable, recovering): nothing is offerable; report what tasks hold.
  return { total: agent.total, allocated: used, used, offered, available: agent.total.subtractOrUndefined(used) ?? Resources.EMPTY };
}

export function agentJson(state: MasterState, agent: AgentRecord, index = indexState(state)): Record<string, unknown> {
  const r = agentResources(state, agent, index);
  const tasks = state.tasksOnAgent(agent.id);
  return {
    id: agent.id,
    hostname: agent.hostname,
    ip: agent.info.ip ?? '',
    httpAddress: agent.httpAddress,
    // What it can run beyond commands: DOCKER when its engine answered its last check.
    capabilities: [...(agent.info.capabilities ?? [])],
    state: agent.state,
    drain: agent.drain ? { state: agent.drain.state, gracePeriodSeconds: agent.drain.gracePeriodMs / 1000, startedAtMs: agent.drain.startedAtMs } : null,
    cordon: agent.cordon ? { cordonedAtMs: agent.cordon.cordonedAtMs, principal: agent.cordon.principal } : null,
    active: state.allocator.agent(agent.id)?.active ?? false,
    version: agent.version,
    attributes: { ...agent.attributes },
    resources: {
      total: resourcesJson(r.total),
      allocated: resourcesJson(r.allocated),
      used: resourcesJson(r.used),
      offered: resourcesJson(r.offered),
      available: resourcesJson(r.available),
    },
    // Measured use of its tasks (master/usage.ts), beside `resources.used`, what they were allocated.
    used: usedJson(agent),
    activeTasks: tasks.filter((t) => isActive(t.state)).length,
    registeredAtMs: agent.registeredAtMs,
    reregisteredAtMs: agent.reregisteredAtMs ?? null,
    unreachableSinceMs: agent.unreachableSinceMs ?? null,
  };
}

export function agentsJson(state: MasterState): Record<string, unknown>[] {
  const index = indexState(state);
  return sortedById([...state.allAgents()]).map((a) => agentJson(state, a, index));
}

// ---- tasks ----

export function taskJson(task: TaskRecord): Record<string, unknown> {
  const s = task.status;
  return {
    id: task.taskId,
    name: task.info.name,
    frameworkId: task.frameworkId,
    agentId: task.agentId,
    state: task.state,
    role: task.role,
    resources: resourcesJson(task.resources),
    status: {
      state: s.state ?? task.state,
      reason: s.reason ?? 'REASON_UNSPECIFIED',
      message: s.message ?? '',
      source: s.source ?? 'SOURCE_UNSPECIFIED',
      ...(s.healthy === undefined ? {} : { healthy: s.healthy }),
      ...(s.ready === undefined ? {} : { ready: s.ready }),
      ...(s.exitCode === undefined ? {} : { exitCode: s.exitCode }),
      timestampMs: Number(s.timestampMs ?? 0),
    },
    labels: { ...task.info.labels },
    launchedAtMs: task.launchedAtMs,
    updatedAtMs: task.updatedAtMs,
  };
}

/** Every task the master holds, live and completed, in launch order (ties: framework id, task id). */
export function allTasks(state: MasterState): TaskRecord[] {
  const out: TaskRecord[] = [...state.liveTasks()];
  for (const f of state.allFrameworks()) out.push(...f.completed);
  return out.sort(compareTasks);
}

function compareTasks(a: TaskRecord, b: TaskRecord): number {
  return a.launchedAtMs - b.launchedAtMs || cmp(a.frameworkId, b.frameworkId) || cmp(a.taskId, b.taskId) || a.updatedAtMs - b.updatedAtMs;
}

// ---- frameworks ----

export function frameworkJson(state: MasterState, f: FrameworkRecord, index = indexState(state)): Record<string, unknown> {
  const live = [...(index.liveByFramework.get(f.id) ?? [])].sort(compareTasks);
  const view = index.frameworkViews.get(f.id);
  const offered = Resources.sum(index.offeredByFramework.get(f.id) ?? []);
  return {
    id: f.id,
    name: f.info.name,
    user: f.info.user,
    principal: f.info.principal,
    hostname: f.info.hostname,
    webuiUrl: f.info.webuiUrl,
    apiUrl: f.info.apiUrl,
    roles: [...f.roles],
    suppressedRoles: [...f.suppressedRoles].sort(),
    capabilities: [...f.info.capabilities],
    state: f.state,
    active: view?.active ?? false,
    failoverTimeoutSeconds: f.failoverTimeoutMs / 1000,
    registeredAtMs: f.registeredAtMs,
    reregisteredAtMs: f.reregisteredAtMs ?? null,
    disconnectedAtMs: f.disconnectedAtMs ?? null,
    resources: {
      allocated: resourcesJson(view?.allocated ?? Resources.EMPTY),
      used: resourcesJson(Resources.sum(live.filter((t) => t.holdsResources).map((t) => t.resources))),
      offered: resourcesJson(offered),
    },
    dominantShare: view?.share ?? 0,
    tasks: live.map(taskJson),
    completedTasks: [...f.completed].sort(compareTasks).map(taskJson),
  };
}

export function frameworksJson(state: MasterState): Record<string, unknown>[] {
  const index = indexState(state);
  return sortedById([...state.allFrameworks()]).map((f) => frameworkJson(state, f, index));
}

export function removedFrameworksJson(state: MasterState): Record<string, unknown>[] {
  return [...state.allRemovals()]
    .sort((a, b) => a.removedAtMs - b.removedAtMs || cmp(a.id, b.id))
    .map((r) => ({ id: r.id, name: r.name, removedAtMs: r.removedAtMs, reason: r.reason }));
}

// ---- offers, roles ----

export function offerJson(state: MasterState, o: OfferRecord): Record<string, unknown> {
  return {
    id: o.id,
    frameworkId: o.frameworkId,
    agentId: o.agentId,
    hostname: state.agent(o.agentId)?.hostname ?? '',
    role: o.role,
    resources: resourcesJson(o.resources),
    createdAtMs: o.createdAtMs,
  };
}

export function offersJson(state: MasterState): Record<string, unknown>[] {
  return [...state.outstandingOffers()].sort((a, b) => a.createdAtMs - b.createdAtMs || cmp(a.id, b.id)).map((o) => offerJson(state, o));
}

export function roleJson(view: RoleView): Record<string, unknown> {
  return {
    role: view.role,
    weight: view.weight,
    quota: view.quota
      ? { guarantee: resourcesJson(view.quota.guarantee), limit: view.quota.limit ? resourcesJson(view.quota.limit) : null }
      : null,
    allocated: resourcesJson(view.allocated),
    dominantShare: view.share,
    frameworks: [...view.frameworks],
  };
}

// ---- summary ----

export function countTasksByState(tasks: Iterable<TaskRecord>): Record<TaskState, number> {
  const out = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
  for (const t of tasks) out[t.state] += 1;
  return out;
}

/** Cluster totals as the allocator sees them (agents it offers from, connected or briefly disconnected). */
export function clusterResources(state: MasterState): { total: Resources; allocated: Resources; available: Resources } {
  const views = [...state.allAgents()].map((a) => state.allocator.agent(a.id)).filter((v) => v !== undefined);
  return {
    total: Resources.sum(views.map((v) => v.total)),
    allocated: Resources.sum(views.map((v) => v.allocated)),
    available: Resources.sum(views.map((v) => v.available)),
  };
}

export function summaryJson(self: OperatorContext): Record<string, unknown> {
  const { state } = self;
  const agents = [...state.allAgents()];
  const frameworks = [...state.allFrameworks()];
  const completed = frameworks.reduce((n, f) => n + f.completed.length, 0);
  const cluster = clusterResources(state);
  return {
    master: masterJson(self),
    agents: {
      total: agents.length,
      connected: agents.filter((a) => a.state === 'connected').length,
      disconnected: agents.filter((a) => a.state === 'disconnected').length,
      unreachable: agents.filter((a) => a.state === 'unreachable').length,
      recovering: agents.filter((a) => a.state === 'recovering').length,
      draining: agents.filter((a) => a.drain?.state === 'draining').length,
      drained: agents.filter((a) => a.drain?.state === 'drained').length,
    },
    frameworks: {
      total: frameworks.length,
      connected: frameworks.filter((f) => f.state === 'connected').length,
      disconnected: frameworks.filter((f) => f.state === 'disconnected').length,
      removed: state.removedCount(),
    },
    tasks: { live: state.liveTaskCount(), completed, byState: countTasksByState(allTasks(state)) },
    offers: state.offerCount(),
    resources: { total: resourcesJson(cluster.total), allocated: resourcesJson(cluster.allocated), available: resourcesJson(cluster.available) },
  };
}

function sortedById<T extends { readonly id: string }>(list: T[]): T[] {
  return list.sort((a, b) => cmp(a.id, b.id));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
