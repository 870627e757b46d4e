// An agent's record and its registry entry: made from what the agent says, written as the registry
// keeps it, and what its tasks hold as the allocator counts it.
import type { Principal } from '../core/security/principal.js';
import { attributesFromWire } from '../core/wire.js';
import type { Resources } from '../core/resources.js';
import type { AgentInfo__Output } from '../proto/index.js';
import type { UsedResources } from './allocator/types.js';
import type { AgentLink, AgentRecord, TaskRecord } from './model.js';
import type { AgentEntry } from './registry.js';
import type { MasterState } from './state.js';

/** An agent's registry entry (give a changed copy of the record for the entry it is to have). */
export function agentEntry(agent: AgentRecord): AgentEntry {
  return {
    id: agent.id,
    hostname: agent.hostname,
    info: agent.info,
    state: agent.state === 'unreachable' ? 'unreachable' : 'admitted',
    ...(agent.drain ? { drain: agent.drain } : {}),
    ...(agent.cordon ? { cordon: agent.cordon } : {}),
    registeredAtMs: agent.registeredAtMs,
    ...(agent.unreachableSinceMs === undefined ? {} : { unreachableSinceMs: agent.unreachableSinceMs }),
    ...(agent.principal === undefined ? {} : { principal: agent.principal }),
  };
}

/** The principal an agent id is bound to (security off: nobody can be told apart). */
export function agentPrincipal(principal: Principal): string | undefined {
  return principal.via === 'insecure' ? undefined : principal.name;
}

/** What an agent's (re-)registration sets: what it reports, and a fresh connected session. */
export function connectedFields(id: string, info: AgentInfo__Output, total: Resources, link: AgentLink, version: string) {
  return {
    info: { ...info, id },
    hostname: info.hostname,
    httpAddress: info.httpAddress,
    total,
    attributes: attributesFromWire(info.attributes),
    state: 'connected',
    link,
    unreachableSinceMs: undefined,
    pingSeq: 0,
    pongSeq: 0,
    version: version || info.version,
  } satisfies Partial<AgentRecord>;
}

export function newAgentRecord(state: MasterState, id: string, info: AgentInfo__Output, total: Resources, link: AgentLink, version: string, principal: string | undefined): AgentRecord {
  return {
    id,
    ...connectedFields(id, info, total, link, version),
    drain: undefined,
    registeredAtMs: state.now(),
    reregisteredAtMs: undefined,
    pingTimer: undefined,
    principal,
  };
}

export function usedOf(task: TaskRecord): UsedResources {
  return { frameworkId: task.frameworkId, agentId: task.agentId, role: task.role, resources: task.resources };
}
