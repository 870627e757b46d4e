// Holding an agent back from the allocator: a cordon (Kubernetes' cordon, Mesos'
// DEACTIVATE_AGENT: no new offers from it, its outstanding offers rescinded, its running tasks
// left alone) or a drain (agent-drain.ts: the same, and its tasks killed). Either is written to
// the agent's registry entry first, so a failover keeps it and a write the registry did not take
// changes nothing. An agent is offered only when it is neither drained nor cordoned.
import { NotFoundError } from '../core/errors.js';
import type { AgentRecord } from './model.js';
import { agentEntry } from './agent-records.js';
import type { MasterState } from './state.js';

type Hold = 'drain' | 'cordon';

/** May the allocator offer this agent's resources (connection aside)? */
export function schedulable(agent: AgentRecord): boolean {
  return agent.drain === undefined && agent.cordon === undefined;
}

/**
 * Put `hold` on the agent: persisted, then no offers from it. The agent when this call set the
 * hold; undefined when it was already held (or another call set it meanwhile, and did the rest).
 */
export async function holdAgent<K extends Hold>(state: MasterState, agentId: string, hold: K, value: NonNullable<AgentRecord[K]>, reason: string): Promise<AgentRecord | undefined> {
  const agent = state.agent(agentId);
  if (!agent) throw new NotFoundError('agent', agentId);
  if (agent[hold]) return undefined;
  await state.registry.putAgent(agentEntry({ ...agent, [hold]: value }));
  if (agent[hold]) return undefined;
  agent[hold] = value;
  if (state.allocator.agent(agentId)) state.allocator.setAgentActive(agentId, false);
  state.rescindOffersWhere((o) => o.agentId === agentId, reason);
  return agent;
}

/** Lift `hold`: persisted, then offered again if nothing else holds it. The agent when this call lifted it. */
export async function releaseAgent(state: MasterState, agentId: string, hold: Hold): Promise<AgentRecord | undefined> {
  const agent = state.agent(agentId);
  if (!agent) throw new NotFoundError('agent', agentId);
  if (!agent[hold]) return undefined;
  await state.registry.putAgent(agentEntry({ ...agent, [hold]: undefined }));
  agent[hold] = undefined;
  if (state.allocator.agent(agentId)) state.allocator.setAgentActive(agentId, agent.state === 'connected' && schedulable(agent));
  state.requestAllocation([agentId]);
  return agent;
}

export async function cordonAgent(state: MasterState, agentId: string, principal: string): Promise<void> {
  if (!(await holdAgent(state, agentId, 'cordon', { cordonedAtMs: state.now(), principal }, 'agent cordoned'))) return;
  state.logger.info({ agentId, principal }, 'agent cordoned');
  state.emit({ type: 'AGENT_CORDONED', agentId, principal });
}

export async function uncordonAgent(state: MasterState, agentId: string, principal: string): Promise<void> {
  if (!(await releaseAgent(state, agentId, 'cordon'))) return;
  state.logger.info({ agentId, principal }, 'agent uncordoned');
  state.emit({ type: 'AGENT_UNCORDONED', agentId, principal });
}
