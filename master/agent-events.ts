// Agents coming and going, told to the frameworks that ask (capability AGENT_EVENTS): the agents
// registered when a framework subscribes (right after SUBSCRIBED), then each registration and
// re-registration (AGENT_ADDED), each removal (AGENT_REMOVED) and each drain or undrain
// (AGENT_DRAINING). Frameworks without the capability get none of these, so older SDKs see nothing new.
//
// Every agent is sent to every framework that asks: any of them may be offered any agent (roles
// and reservations decide which resources, not which agents). What is sent is what an offer shows
// of an agent — hostname, IP, total resources, attributes — plus whether it is draining; never its
// HTTP address, principal or anything secret.
import { resourcesToWire } from '../core/wire.js';
import type { Event } from '../proto/index.js';
import type { AgentRecord, FrameworkRecord } from './model.js';
import type { MasterState } from './state.js';

export function wantsAgentEvents(framework: FrameworkRecord): boolean {
  return framework.info.capabilities.includes('AGENT_EVENTS');
}

/** Is the agent registered now (so announced)? Not while still expected back after a failover, nor once removed. */
function registered(agent: AgentRecord): boolean {
  return agent.state === 'connected' || agent.state === 'disconnected';
}

function agentAdded(agent: AgentRecord): Event {
  return {
    agentAdded: {
      agentId: agent.id,
      hostname: agent.hostname,
      resources: resourcesToWire(agent.total),
      attributes: agent.info.attributes,
      draining: agent.drain !== undefined,
      ip: agent.info.ip ?? '',
    },
  };
}

function toAll(state: MasterState, event: Event): void {
  for (const framework of state.allFrameworks()) {
    if (framework.stream && wantsAgentEvents(framework)) state.sendEvent(framework.id, event);
  }
}

/** Right after SUBSCRIBED: every agent registered at this moment, to a framework that asks. */
export function announceAgents(state: MasterState, framework: FrameworkRecord): void {
  if (!wantsAgentEvents(framework)) return;
  for (const agent of state.allAgents()) if (registered(agent)) state.sendEvent(framework.id, agentAdded(agent));
}

/** The agent registered or re-registered. */
export function agentAddedEvent(state: MasterState, agent: AgentRecord): void {
  toAll(state, agentAdded(agent));
}

/** The master removed the agent. */
export function agentRemovedEvent(state: MasterState, agentId: string, reason: string): void {
  toAll(state, { agentRemoved: { agentId, reason } });
}

/** An operator drained or undrained the agent. */
export function agentDrainingEvent(state: MasterState, agentId: string, draining: boolean): void {
  toAll(state, { agentDraining: { agentId, draining } });
}
