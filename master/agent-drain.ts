// Draining an agent for maintenance: no more offers from it, its tasks killed (each within the
// drain's grace period and its own kill policy), "drained" once none is active; undrain offers it
// again. Validate → persist → apply: a drain the registry did not take changes nothing.
import { NotFoundError } from '../core/errors.js';
import { isActive } from '../core/task-state.js';
import { schedulable } from './agent-cordon.js';
import { agentDrainingEvent } from './agent-events.js';
import { agentEntry } from './agent-records.js';
import type { AgentRecord } from './model.js';
import type { MasterState } from './state.js';

export async function drainAgent(state: MasterState, agentId: string, gracePeriodMs: number): Promise<void> {
  const agent = state.agent(agentId);
  if (!agent) throw new NotFoundError('agent', agentId);
  if (agent.drain) return;
  const drain = { state: 'draining', gracePeriodMs, startedAtMs: state.now() } as const;
  await state.registry.putAgent(agentEntry({ ...agent, drain }));
  if (agent.drain) return; // drained meanwhile by another call, which did the rest
  agent.drain = drain;
  if (state.allocator.agent(agentId)) state.allocator.setAgentActive(agentId, false);
  state.rescindOffersWhere((o) => o.agentId === agentId, 'agent draining');
  for (const task of state.tasksOnAgent(agentId)) {
    if (!isActive(task.state)) continue;
    const taskGrace = task.info.killPolicy?.gracePeriodSeconds;
    const graceSeconds = Math.min(taskGrace ?? Infinity, gracePeriodMs / 1000);
    state.sendToAgent(agentId, { kill: { frameworkId: task.frameworkId, taskId: task.taskId, killPolicy: { gracePeriodSeconds: graceSeconds } } });
  }
  state.logger.info({ agentId, gracePeriodMs }, 'agent draining');
  state.emit({ type: 'AGENT_DRAINING', agentId });
  agentDrainingEvent(state, agentId, true);
  checkDrained(state, agent);
}

export function checkDrained(state: MasterState, agent: AgentRecord): void {
  if (agent.drain?.state !== 'draining') return;
  if (state.tasksOnAgent(agent.id).some((t) => isActive(t.state))) return;
  agent.drain = { ...agent.drain, state: 'drained' };
  void state.registry.putAgent(agentEntry(agent)).catch((err: unknown) => state.logger.error({ err }, 'registry write failed'));
  state.emit({ type: 'AGENT_DRAINED', agentId: agent.id });
}

export async function undrainAgent(state: MasterState, agentId: string): Promise<void> {
  const agent = state.agent(agentId);
  if (!agent) throw new NotFoundError('agent', agentId);
  if (!agent.drain) return;
  await state.registry.putAgent(agentEntry({ ...agent, drain: undefined }));
  agent.drain = undefined;
  state.logger.info({ agentId }, 'agent undrained');
  agentDrainingEvent(state, agentId, false);
  if (state.allocator.agent(agentId)) state.allocator.setAgentActive(agentId, agent.state === 'connected' && schedulable(agent));
  state.requestAllocation([agentId]);
}
