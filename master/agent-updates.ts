// What a registered agent reports on its own: status updates of its tasks (only for tasks it runs),
// a change of its resources, and a change of its capabilities (its Docker engine came or went).
import { InvalidArgumentError } from '../core/errors.js';
import { resourcesFromWire } from '../core/wire.js';
import type { AgentCapability__Output, AgentInfo__Output, TaskStatus } from '../proto/index.js';
import { checkDrained } from './agent-drain.js';
import type { AgentRecord } from './model.js';
import type { MasterState } from './state.js';

export function handleStatusUpdate(state: MasterState, agent: AgentRecord, frameworkId: string, status: TaskStatus | null | undefined): void {
  if (!status?.taskId || !status.uuid) throw new InvalidArgumentError('statusUpdate.status', 'needs a task id and a uuid');
  state.stats.statusUpdates += 1;
  const full: TaskStatus = { ...status, agentId: agent.id, source: status.source || 'SOURCE_EXECUTOR' };
  const framework = state.framework(frameworkId);
  if (!framework) {
    // Nobody will ever acknowledge it: do it for the framework so the agent stops resending.
    state.sendToAgent(agent.id, { acknowledgement: { frameworkId, taskId: status.taskId, uuid: status.uuid } });
    return;
  }
  const task = state.task(frameworkId, status.taskId);
  // Only the agent running a task may move it or speak for it: an update about a task the master
  // knows on another agent (live, or ended there) is dropped (acknowledged, so the sender stops resending).
  const ranOn = task?.agentId ?? state.completedTask(frameworkId, status.taskId)?.agentId;
  if (ranOn !== undefined && ranOn !== agent.id) {
    state.logger.warn({ agentId: agent.id, frameworkId, taskId: status.taskId, runsOn: ranOn }, 'status update for a task on another agent; dropped');
    state.sendToAgent(agent.id, { acknowledgement: { frameworkId, taskId: status.taskId, uuid: status.uuid } });
    return;
  }
  // A terminal update is kept until the framework acknowledges it: reconciliation answers with it.
  if (task && state.applyStatus(task, full)) state.awaitAcknowledgement(task);
  state.forwardStatus(frameworkId, full);
  state.awaited.relayed(frameworkId, status.taskId, agent.id, status.uuid);
  checkDrained(state, agent);
}

export function updateAgentResources(state: MasterState, agent: AgentRecord, resources: AgentInfo__Output['resources']): void {
  const total = resourcesFromWire(resources, 'resourceUpdate.resources');
  // Offers are given back first, so only tasks must fit; the allocator checks before anything changes.
  state.rescindOffersWhere((o) => o.agentId === agent.id, 'agent resources changed');
  if (state.allocator.agent(agent.id)) state.allocator.updateAgentTotal(agent.id, total);
  agent.total = total;
  agent.info = { ...agent.info, resources };
  state.requestAllocation([agent.id]);
}

const KNOWN_CAPABILITIES: ReadonlySet<string> = new Set<AgentCapability__Output>(['DOCKER']);

/** The capabilities this master knows, once each, in order (a newer agent's others are left out). */
export function knownCapabilities(list: readonly (AgentCapability__Output | number)[] | null | undefined): AgentCapability__Output[] {
  return [...new Set((list ?? []).filter((c): c is AgentCapability__Output => typeof c === 'string' && KNOWN_CAPABILITIES.has(c)))];
}

/**
 * The agent runs containers now, or no longer: its offers are made again with the new list, so
 * no framework places an image task on the strength of an old one.
 */
export function updateAgentCapabilities(state: MasterState, agent: AgentRecord, list: readonly (AgentCapability__Output | number)[]): void {
  const capabilities = knownCapabilities(list);
  state.logger.info({ agentId: agent.id, capabilities }, 'agent capabilities changed');
  state.rescindOffersWhere((o) => o.agentId === agent.id, 'agent capabilities changed');
  agent.info = { ...agent.info, capabilities };
  state.requestAllocation([agent.id]);
}
