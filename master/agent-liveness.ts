// Is the agent there? Pings on its stream, a stream that closes (disconnected: its offers go, its
// tasks stay), and too many missed pings (unreachable: its tasks are UNREACHABLE, or LOST for
// frameworks that are not partition-aware, and it leaves the allocator).
import type { TaskState } from '../core/task-state.js';
import { agentRemovedEvent } from './agent-events.js';
import { agentEntry } from './agent-records.js';
import type { AgentRemovalReason } from './events.js';
import type { AgentRecord } from './model.js';
import type { MasterState } from './state.js';

export function startPinging(state: MasterState, agent: AgentRecord): void {
  state.clock.clearInterval(agent.pingTimer);
  agent.pingTimer = state.clock.setInterval(() => {
    if (agent.pingSeq - agent.pongSeq >= state.options.maxAgentPingTimeouts) {
      markUnreachable(state, agent, `missed ${state.options.maxAgentPingTimeouts} pings`, 'missed_pings');
      return;
    }
    agent.pingSeq += 1;
    state.sendToAgent(agent.id, { ping: { seq: agent.pingSeq } });
  }, state.options.agentPingInterval);
}

export function agentDisconnected(state: MasterState, agent: AgentRecord): void {
  agent.link = undefined;
  if (agent.state !== 'connected') return;
  agent.state = 'disconnected';
  if (state.allocator.agent(agent.id)) state.allocator.setAgentActive(agent.id, false);
  state.rescindOffersWhere((o) => o.agentId === agent.id, 'agent disconnected');
  state.logger.warn({ agentId: agent.id }, 'agent disconnected');
  state.emit({ type: 'AGENT_DISCONNECTED', agentId: agent.id });
}

/** The agent missed too many pings: its tasks are UNREACHABLE (LOST for frameworks that are not partition-aware). */
export function markUnreachable(state: MasterState, agent: AgentRecord, why: string, reason: AgentRemovalReason): void {
  if (agent.state === 'unreachable') return;
  state.clock.clearInterval(agent.pingTimer);
  agent.pingTimer = undefined;
  state.rescindOffersWhere((o) => o.agentId === agent.id, 'agent unreachable');
  agent.state = 'unreachable';
  agent.unreachableSinceMs = state.now();
  agent.link?.close('unreachable');
  agent.link = undefined;
  for (const task of state.tasksOnAgent(agent.id)) {
    const partitionAware = state.framework(task.frameworkId)?.partitionAware ?? false;
    const to: TaskState = partitionAware ? 'TASK_UNREACHABLE' : 'TASK_LOST';
    const status = state.masterStatus(task, to, 'REASON_AGENT_UNREACHABLE', `agent ${agent.id} is unreachable: ${why}`);
    if (state.applyStatus(task, status)) state.forwardStatus(task.frameworkId, status);
  }
  if (state.allocator.agent(agent.id)) state.allocator.removeAgent(agent.id);
  void state.registry.putAgent(agentEntry(agent)).catch((err: unknown) => state.logger.error({ err, agentId: agent.id }, 'registry write failed'));
  for (const framework of state.allFrameworks()) state.sendEvent(framework.id, { failure: { agentId: agent.id, executorId: '' } });
  state.logger.warn({ agentId: agent.id, why }, 'agent unreachable');
  state.emit({ type: 'AGENT_UNREACHABLE', agentId: agent.id, reason });
  agentRemovedEvent(state, agent.id, `unreachable: ${why}`);
}

export function stopAgentTimers(state: MasterState): void {
  for (const agent of state.allAgents()) {
    state.clock.clearInterval(agent.pingTimer);
    agent.pingTimer = undefined;
  }
}
