// The agent's Prometheus metrics. One prom-client Registry per agent (several agents share a
// process in tests); everything is computed at scrape time from the agent's state, and the
// counters mirror StatusUpdateManager.stats.
import { Counter, Gauge, Registry } from 'prom-client';
import { Resources } from '../core/resources.js';
import { TASK_STATES } from '../core/task-state.js';
import { usedResources, type AgentContext } from './context.js';

const KINDS = ['cpus', 'mem', 'disk', 'gpus', 'ports'] as const;

function amount(r: Resources, kind: (typeof KINDS)[number]): number {
  return kind === 'ports' ? r.count('ports') : r.scalar(kind);
}

export interface AgentMetrics {
  readonly contentType: string;
  scrape(): Promise<string>;
}

export function createAgentMetrics(agent: AgentContext): AgentMetrics {
  const registry = new Registry();
  const registers = [registry];
  new Gauge({
    name: 'agora_agent_tasks',
    help: 'Tasks the agent holds (until their terminal update is acknowledged), by state',
    labelNames: ['state'],
    registers,
    collect() {
      for (const s of TASK_STATES) this.set({ state: s.slice('TASK_'.length).toLowerCase() }, 0);
      for (const t of agent.tasks.tasks.values()) this.inc({ state: t.state.slice('TASK_'.length).toLowerCase() });
    },
  });
  new Gauge({
    name: 'agora_agent_resources_total',
    help: 'Resources the agent offers (ports counted one by one)',
    labelNames: ['resource'],
    registers,
    collect() {
      for (const k of KINDS) this.set({ resource: k }, amount(agent.total, k));
    },
  });
  new Gauge({
    name: 'agora_agent_resources_used',
    help: 'Resources held by the tasks that have not ended',
    labelNames: ['resource'],
    registers,
    collect() {
      const used = usedResources(agent.tasks);
      for (const k of KINDS) this.set({ resource: k }, amount(used, k));
    },
  });
  new Gauge({
    name: 'agora_agent_status_updates_pending',
    help: 'Status updates not yet acknowledged',
    registers,
    collect() {
      this.set(agent.updates.pendingCount());
    },
  });
  mirrorCounter(registers, 'agora_agent_status_updates_generated_total', 'Status updates generated (journaled)', () => agent.updates.stats.generated);
  mirrorCounter(registers, 'agora_agent_status_updates_sent_total', 'Status updates sent to the master, resends included', () => agent.updates.stats.sent);
  mirrorCounter(registers, 'agora_agent_status_updates_resent_total', 'Status updates sent again for want of an acknowledgement', () => agent.updates.stats.resent);
  mirrorCounter(registers, 'agora_agent_status_updates_acknowledged_total', 'Status updates acknowledged', () => agent.updates.stats.acknowledged);
  new Gauge({
    name: 'agora_agent_connected',
    help: '1 when the agent is registered with a master, else 0',
    registers,
    collect() {
      this.set(agent.master === undefined ? 0 : 1);
    },
  });
  return { contentType: registry.contentType, scrape: () => registry.metrics() };
}

/** A counter that follows a monotonic number kept elsewhere. */
function mirrorCounter(registers: Registry[], name: string, help: string, read: () => number): void {
  let seen = 0;
  new Counter({
    name,
    help,
    registers,
    collect() {
      const now = read();
      if (now > seen) this.inc(now - seen);
      seen = now;
    },
  });
}
