// The master's Prometheus metrics. Registries per master (several masters share a process in
// tests), so nothing goes to prom-client's global registry:
//
//   processMetrics()  core/process-metrics.ts: process and Node.js figures, agora_build_info
//   own               agora_master_leader, and the HTTP server's edge metrics (routes.ts adds them)
//   cluster           what the master knows of the cluster: agents, frameworks, tasks, offers,
//                     resources, roles, allocation, registrations and removals, registry writes
//
// Every master serves the first two; only the acting leader serves `cluster`. A standby's picture
// of the cluster is empty or stale (it tracks no agents; a master that led once stops), so were it
// served, sum() over the masters would count twice or count what is gone. Gauges and the counters
// that mirror MasterState.stats are computed at scrape time from the state; the allocation-run
// histogram and the event counters (metrics-operator.ts) are fed as things happen.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { scrapedCounter } from '../core/edge-metrics.js';
import { exposition, processMetrics } from '../core/process-metrics.js';
import { registerResourceGauges as resourceGauges } from '../core/resource-metrics.js';
import { Resources } from '../core/resources.js';
import { TASK_STATES, isTerminal, type TaskState } from '../core/task-state.js';
import { registerOperatorMetrics } from './metrics-operator.js';
import type { AgentConnectionState, DrainState } from './model.js';
import type { MasterState } from './state.js';
import { registerUsageGauges } from './usage.js';

const AGENT_STATES: readonly AgentConnectionState[] = ['connected', 'disconnected', 'unreachable', 'recovering'];
const DRAIN_STATES: readonly DrainState[] = ['draining', 'drained'];
const FRAMEWORK_STATES = ['connected', 'disconnected'] as const;

/** `TASK_RUNNING` → `running`: the label value Prometheus users expect. */
export function taskStateLabel(state: TaskState): string {
  return state.slice('TASK_'.length).toLowerCase();
}

export interface MasterMetrics {
  /** The registry every master serves, leader or standby (the HTTP edge metrics go here). */
  readonly registry: Registry;
  readonly contentType: string;
  /** The exposition text: the cluster's figures only while this master acts as leader. */
  scrape(): Promise<string>;
  /** Stop listening to the master (unhooks the allocation histogram, the registry and the event listeners). */
  close(): void;
}

/**
 * `leads`: does this master act as leader right now (elected, and its session vouched for)?
 * `more`: registries served after the master's, whether it leads or not (`agora up`: the frameworks').
 */
export function createMasterMetrics(state: MasterState, leads: () => boolean, more: () => readonly Registry[] = () => []): MasterMetrics {
  const own = new Registry();
  let leading = false;
  new Gauge({
    name: 'agora_master_leader',
    help: '1 on the master acting as leader, 0 on a standby',
    registers: [own],
    collect() {
      this.set(leading ? 1 : 0);
    },
  });
  const cluster = new Registry();
  const registers = [cluster];

  new Gauge({
    name: 'agora_agents',
    help: 'Agents known to the master, by connection state',
    labelNames: ['state'],
    registers,
    collect() {
      for (const s of AGENT_STATES) this.set({ state: s }, 0);
      for (const a of state.allAgents()) this.inc({ state: a.state });
    },
  });
  new Gauge({
    name: 'agora_agents_drain',
    help: 'Agents being drained or drained (maintenance), by drain state',
    labelNames: ['state'],
    registers,
    collect() {
      for (const s of DRAIN_STATES) this.set({ state: s }, 0);
      for (const a of state.allAgents()) if (a.drain) this.inc({ state: a.drain.state });
    },
  });
  new Gauge({
    name: 'agora_frameworks',
    help: 'Frameworks known to the master, by connection state',
    labelNames: ['state'],
    registers,
    collect() {
      for (const s of FRAMEWORK_STATES) this.set({ state: s }, 0);
      for (const f of state.allFrameworks()) this.inc({ state: f.state });
    },
  });
  new Gauge({
    name: 'agora_frameworks_removed',
    help: 'Removed framework ids the master remembers',
    registers,
    collect() {
      this.set(state.removedCount());
    },
  });
  new Gauge({
    name: 'agora_tasks',
    help: 'Live (not yet terminal) tasks, by state',
    labelNames: ['state'],
    registers,
    collect() {
      for (const s of TASK_STATES) if (!isTerminal(s)) this.set({ state: taskStateLabel(s) }, 0);
      for (const t of state.liveTasks()) this.inc({ state: taskStateLabel(t.state) });
    },
  });
  new Gauge({
    name: 'agora_offers_outstanding',
    help: 'Offers sent and not yet accepted, declined or rescinded',
    registers,
    collect() {
      this.set(state.offerCount());
    },
  });
  new Gauge({
    name: 'agora_agent_streams',
    help: 'Open agent streams (connected agents)',
    registers,
    collect() {
      this.set([...state.allAgents()].filter((a) => a.link !== undefined).length);
    },
  });
  new Gauge({
    name: 'agora_framework_streams',
    help: 'Open framework event streams (subscribed frameworks)',
    registers,
    collect() {
      this.set([...state.allFrameworks()].filter((f) => f.stream !== undefined).length);
    },
  });
  registerResourceGauges(state, registers);
  registerUsageGauges(state, registers);
  registerStatsCounters(state, registers);

  const terminal = new Counter({
    name: 'agora_tasks_terminal_total',
    help: 'Tasks that reached a terminal state, by state',
    labelNames: ['state'],
    registers,
  });
  for (const s of TASK_STATES) if (isTerminal(s)) terminal.inc({ state: taskStateLabel(s) }, 0);
  const unsubscribe = state.events.subscribe((e) => {
    if (e.type === 'TASK_UPDATED' && isTerminal(e.state)) terminal.inc({ state: taskStateLabel(e.state) });
  });

  const runs = new Histogram({
    name: 'agora_allocation_run_seconds',
    help: 'Time one allocation run takes',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers,
  });
  const observe = (seconds: number): void => runs.observe(seconds);
  state.stats.observeAllocation = observe;

  const closeOperator = registerOperatorMetrics(state, registers);

  return {
    registry: own,
    contentType: own.contentType,
    scrape() {
      leading = leads();
      return exposition([processMetrics(), own, ...(leading ? [cluster] : []), ...more()]);
    },
    close() {
      unsubscribe();
      closeOperator();
      if (state.stats.observeAllocation === observe) delete state.stats.observeAllocation;
    },
  };
}

/** Capacity and allocation over the agents the allocator offers from; per role, allocation, weight and share. */
function registerResourceGauges(state: MasterState, registers: Registry[]): void {
  const views = () => [...state.allAgents()].map((a) => state.allocator.agent(a.id)).filter((v) => v !== undefined);
  resourceGauges(registers, {
    name: 'agora_resources_capacity',
    help: 'Resources of the agents the allocator offers from',
    read: () => [{ labels: {}, resources: Resources.sum(views().map((v) => v.total)) }],
  });
  resourceGauges(registers, {
    name: 'agora_resources_allocated',
    help: 'Resources offered or used by tasks',
    read: () => [{ labels: {}, resources: Resources.sum(views().map((v) => v.allocated)) }],
  });
  resourceGauges(registers, {
    name: 'agora_role_allocated',
    help: 'Resources allocated (offered or used) to each role',
    labelNames: ['role'],
    read: () => state.allocator.roles().map((r) => ({ labels: { role: r.role }, resources: r.allocated })),
  });
  new Gauge({
    name: 'agora_role_weight',
    help: 'Weight of each role the allocator knows',
    labelNames: ['role'],
    registers,
    collect() {
      this.reset();
      for (const r of state.allocator.roles()) this.set({ role: r.role }, r.weight);
    },
  });
  new Gauge({
    name: 'agora_role_dominant_share',
    help: 'Weighted dominant share of each role',
    labelNames: ['role'],
    registers,
    collect() {
      this.reset();
      for (const r of state.allocator.roles()) this.set({ role: r.role }, r.share);
    },
  });
}

/** Counters that mirror MasterState.stats (the master counts; we read at scrape time). */
function registerStatsCounters(state: MasterState, registers: Registry[]): void {
  const mirror = (name: string, help: string, read: () => number): void => scrapedCounter(registers, name, help, read);
  mirror('agora_offers_sent_total', 'Offers sent to frameworks', () => state.stats.offersSent);
  mirror('agora_offers_rescinded_total', 'Offers rescinded (agent gone, timeout, framework gone, draining)', () => state.stats.offersRescinded);
  mirror('agora_tasks_launched_total', 'Tasks sent to agents to launch', () => state.stats.tasksLaunched);
  mirror('agora_status_updates_total', 'Task status updates received from agents', () => state.stats.statusUpdates);
  mirror('agora_allocation_runs_total', 'Allocation runs', () => state.stats.allocationRuns);
}
