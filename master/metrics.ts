// The master's Prometheus metrics. One prom-client Registry per master (several masters share a
// process in tests), so nothing goes to the global default registry. Gauges and the counters that
// mirror MasterState.stats are computed at scrape time from the state; the allocation-run histogram
// and the terminal-task counter are fed as things happen.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { scrapedCounter } from '../core/edge-metrics.js';
import { Resources } from '../core/resources.js';
import { TASK_STATES, isTerminal, type TaskState } from '../core/task-state.js';
import type { AgentConnectionState, DrainState } from './model.js';
import type { MasterState } from './state.js';

const AGENT_STATES: readonly AgentConnectionState[] = ['connected', 'disconnected', 'unreachable', 'recovering'];
const DRAIN_STATES: readonly DrainState[] = ['draining', 'drained'];
const FRAMEWORK_STATES = ['connected', 'disconnected'] as const;
const KINDS = ['cpus', 'mem', 'disk', 'gpus', 'ports'] as const;

/** `TASK_RUNNING` → `running`: the label value Prometheus users expect. */
export function taskStateLabel(state: TaskState): string {
  return state.slice('TASK_'.length).toLowerCase();
}

function amount(r: Resources, kind: (typeof KINDS)[number]): number {
  return kind === 'ports' ? r.count('ports') : r.scalar(kind);
}

export interface MasterMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** The exposition text. */
  scrape(): Promise<string>;
  /** Stop listening to the master (unhooks the allocation histogram and the event listener). */
  close(): void;
}

export function createMasterMetrics(state: MasterState): MasterMetrics {
  const registry = new Registry();
  const registers = [registry];

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

  return {
    registry,
    contentType: registry.contentType,
    scrape: () => registry.metrics(),
    close() {
      unsubscribe();
      if (state.stats.observeAllocation === observe) delete state.stats.observeAllocation;
    },
  };
}

/** Totals and allocation over the agents the allocator offers from; allocation and weight per role. */
function registerResourceGauges(state: MasterState, registers: Registry[]): void {
  const views = () => [...state.allAgents()].map((a) => state.allocator.agent(a.id)).filter((v) => v !== undefined);
  new Gauge({
    name: 'agora_resources_total',
    help: 'Resources of the agents the allocator offers from, by kind (ports: how many)',
    labelNames: ['kind'],
    registers,
    collect() {
      const total = Resources.sum(views().map((v) => v.total));
      for (const k of KINDS) this.set({ kind: k }, amount(total, k));
    },
  });
  new Gauge({
    name: 'agora_resources_allocated',
    help: 'Resources offered or used by tasks, by kind (ports: how many)',
    labelNames: ['kind'],
    registers,
    collect() {
      const allocated = Resources.sum(views().map((v) => v.allocated));
      for (const k of KINDS) this.set({ kind: k }, amount(allocated, k));
    },
  });
  new Gauge({
    name: 'agora_role_allocated',
    help: 'Resources allocated (offered or used) to each role, by kind',
    labelNames: ['role', 'kind'],
    registers,
    collect() {
      this.reset();
      for (const r of state.allocator.roles()) for (const k of KINDS) this.set({ role: r.role, kind: k }, amount(r.allocated, k));
    },
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
