// The agent's Prometheus metrics. One prom-client Registry per agent (several agents share a
// process in tests); everything is computed at scrape time from the agent's state, and the
// counters mirror StatusUpdateManager.stats and the tasks' health checks. Served after the
// process's own figures (core/process-metrics.ts: default collectors, agora_build_info).
//
// Which agent: `agora_agent_info{agent_id, hostname} 1`, once the agent has an id — an info
// metric, not a label on every series. Each agent is its own scrape target, so its series are
// already told apart by the target's labels (`instance`); the id joins onto them in PromQL
// (`* on (instance) group_left (agent_id) agora_agent_info`), and a new id (an agent the master
// removed registers afresh) does not restart every series of the agent.
import { Counter, Gauge, Registry } from 'prom-client';
import { exposition, processMetrics } from '../core/process-metrics.js';
import { registerResourceGauges } from '../core/resource-metrics.js';
import { isActive, TASK_STATES } from '../core/task-state.js';
import { usedResources, type AgentContext } from './context.js';
import { registerUsageMetrics } from './usage-metrics.js';

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
  registerResourceGauges(registers, {
    name: 'agora_agent_resources_capacity',
    help: 'Resources the agent offers',
    read: () => [{ labels: {}, resources: agent.total }],
  });
  registerResourceGauges(registers, {
    name: 'agora_agent_resources_used',
    help: 'Resources held by the tasks that have not ended',
    read: () => [{ labels: {}, resources: usedResources(agent.tasks) }],
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
  new Gauge({
    name: 'agora_agent_info',
    help: 'Always 1, once the agent has an id: the id the master gave it and its hostname',
    labelNames: ['agent_id', 'hostname'],
    registers,
    collect() {
      this.reset();
      if (agent.agentId) this.set({ agent_id: agent.agentId, hostname: agent.hostname }, 1);
    },
  });
  new Counter({
    name: 'agora_agent_health_check_failures_total',
    help: 'Failed health checks of each task with one (not those inside its grace period); the series goes when the task ends',
    labelNames: ['framework_id', 'task_id'],
    registers,
    collect() {
      this.reset();
      for (const t of agent.tasks.tasks.values()) {
        if (!isActive(t.state) || !t.info.healthCheck) continue;
        this.inc({ framework_id: t.frameworkId, task_id: t.taskId }, t.healthCheckFailures);
      }
    },
  });
  registerUsageMetrics(registers, agent.usage);
  return { contentType: registry.contentType, scrape: () => exposition([processMetrics(), registry]) };
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
