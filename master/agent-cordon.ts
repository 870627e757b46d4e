// Cordoning an agent (Kubernetes' cordon, Mesos' DEACTIVATE_AGENT): no new offers from it, its
// outstanding offers rescinded, its running tasks left alone; uncordon offers it again. The cordon
// is written to the agent's registry entry first, so a failover keeps it and a write the registry
// did not take changes nothing. A drain is the stronger state: an agent is offered only when it is
// neither drained nor cordoned.
import { NotFoundError } from '../core/errors.js';
import type { AgentRecord } from './model.js';
import { agentEntry } from './agent-records.js';
import type { MasterState } from './state.js';

/** May the allocator offer this agent's resources (connection aside)? */
export function schedulable(agent: AgentRecord): boolean {
  return agent.drain === undefined && agent.cordon === undefined;
}

export async function cordonAgent(state: MasterState, agentId: string, principal: string): Promise<void> {
  const agent = state.agent(agentId);
  if (!agent) throw new NotFoundError('agent', agentId);
  if (agent.cordon) return;
  const cordon = { cordonedAtMs: state.now(), principal };
  await state.registry.putAgent(agentEntry({ ...agent, cordon }));
  if (agent.cordon) return; // cordoned meanwhile by another call, which did the rest
  agent.cordon = cordon;
  if (state.allocator.agent(agentId)) state.allocator.setAgentActive(agentId, false);
  state.rescindOffersWhere((o) => o.agentId === agentId, 'agent cordoned');
  state.logger.info({ agentId, principal }, 'agent cordoned');
  state.emit({ type: 'AGENT_CORDONED', agentId, principal });
}

export async function uncordonAgent(state: MasterState, agentId: string, principal: string): Promise<void> {
  const agent = state.agent(agentId);
  if (!agent) throw new NotFoundError('agent', agentId);
  if (!agent.cordon) return;
  await state.registry.putAgent(agentEntry({ ...agent, cordon: undefined }));
  agent.cordon = undefined;
  state.logger.info({ agentId, principal }, 'agent uncordoned');
  state.emit({ type: 'AGENT_UNCORDONED', agentId, principal });
  if (state.allocator.agent(agentId)) state.allocator.setAgentActive(agentId, agent.state === 'connected' && schedulable(agent));
  state.requestAllocation([agentId]);
}
