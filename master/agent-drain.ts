// Draining an agent for maintenance: no more offers from it, its tasks killed (each within the
// drain's grace period and its own kill policy), "drained" once none is active; undrain offers it
// again. Validate → persist → apply (agent-cordon.ts holdAgent): a drain the registry did not take
// changes nothing.
import { isActive } from '../core/task-state.js';
import { holdAgent, releaseAgent } from './agent-cordon.js';
import { agentDrainingEvent } from './agent-events.js';
import { agentEntry } from './agent-records.js';
import type { AgentRecord } from './model.js';
import type { MasterState } from './state.js';

export async function drainAgent(state: MasterState, agentId: string, gracePeriodMs: number): Promise<void> {
  const agent = await holdAgent(state, agentId, 'drain', { state: 'draining', gracePeriodMs, startedAtMs: state.now() }, 'agent draining');
  if (!agent) return;
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
  if (!(await releaseAgent(state, agentId, 'drain'))) return;
  state.logger.info({ agentId }, 'agent undrained');
  agentDrainingEvent(state, agentId, false);
}
