// Agents coming and going, for a framework subscribed with `agentEvents: true` (the AGENT_EVENTS
// capability): the master sends every registered agent right after each SUBSCRIBED, then each
// agent that registers or re-registers (agentAdded), is removed (agentRemoved), or is drained or
// undrained (agentDraining). Handlers take SDK types (types.ts), never the wire's.
import { attributesFromWire, resourcesFromWire } from '../core/wire.js';
import type { Event__Output } from '../proto/index.js';
import type { Agent, AgentDrainChange, AgentRemoval } from './types.js';

type Awaitable = void | Promise<void>;

/** The handlers for agent events; `D` is the driver each gets first. */
export interface AgentHandlers<D> {
  /** An agent the framework may be offered: one per registered agent after each (re)subscription, then each that (re-)registers. */
  agentAdded?(driver: D, agent: Agent): Awaitable;
  /** The master removed the agent (unreachable); expect no more offers from it. */
  agentRemoved?(driver: D, event: AgentRemoval): Awaitable;
  /** An operator drained (`draining: true`) or undrained the agent. */
  agentDraining?(driver: D, event: AgentDrainChange): Awaitable;
}

/** Hand an agent event to its handler; false when the event is not one. */
export async function dispatchAgentEvent<D>(driver: D, handlers: AgentHandlers<D>, event: Event__Output): Promise<boolean> {
  switch (event.type) {
    case 'agentAdded': {
      const a = event.agentAdded;
      if (a) {
        const agent: Agent = { agentId: a.agentId, hostname: a.hostname, ip: a.ip, attributes: attributesFromWire(a.attributes), resources: resourcesFromWire(a.resources), draining: a.draining };
        await handlers.agentAdded?.(driver, agent);
      }
      return true;
    }
    case 'agentRemoved':
      if (event.agentRemoved) await handlers.agentRemoved?.(driver, { agentId: event.agentRemoved.agentId, reason: event.agentRemoved.reason });
      return true;
    case 'agentDraining':
      if (event.agentDraining) await handlers.agentDraining?.(driver, { agentId: event.agentDraining.agentId, draining: event.agentDraining.draining });
      return true;
    default:
      return false;
  }
}
