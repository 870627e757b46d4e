// Taking over: rebuild the master's state from the registry (weights, quota, removed frameworks,
// frameworks with their failover timeouts, agents to wait for). Tasks come back later, from the
// agents that re-register.
import { Resources } from '../core/resources.js';
import { attributesFromWire, resourcesFromWireCached } from '../core/wire.js';
import type { AgentInfo__Output, FrameworkInfo__Output } from '../proto/index.js';
import { startFailoverTimer } from './frameworks.js';
import type { RegistrySnapshot } from './registry.js';
import type { MasterState } from './state.js';

/** Fill `state` from the snapshot; returns how many agents the master must wait for. */
export function recoverFromRegistry(state: MasterState, snapshot: RegistrySnapshot): number {
    state.weights = { ...snapshot.weights };
    for (const [role, weight] of Object.entries(snapshot.weights)) state.allocator.setWeight(role, weight);
    state.quota = { ...snapshot.quota };
    for (const [role, q] of Object.entries(snapshot.quota)) {
      state.allocator.setQuota(role, { guarantee: Resources.parse(q.guarantee), ...(q.limit ? { limit: Resources.parse(q.limit) } : {}) });
    }
    for (const entry of snapshot.removedFrameworks.values()) state.rememberRemoved(entry);
    for (const entry of snapshot.frameworks.values()) {
      const info = entry.info as FrameworkInfo__Output;
      const roles = info.roles.length > 0 ? [...info.roles] : ['*'];
      const framework = {
        id: entry.id,
        info,
        roles,
        suppressedRoles: new Set<string>(),
        partitionAware: info.capabilities.includes('PARTITION_AWARE'),
        failoverTimeoutMs: entry.failoverTimeoutMs,
        state: 'disconnected' as const,
        stream: undefined,
        registeredAtMs: entry.registeredAtMs,
        reregisteredAtMs: undefined,
        disconnectedAtMs: state.now(),
        heartbeatTimer: undefined,
        failoverTimer: undefined,
        completed: [],
        principal: entry.principal ?? (info.principal || undefined),
        streamId: undefined,
      };
      state.admitFramework(framework);
      state.allocator.addFramework({ id: entry.id, roles });
      state.allocator.setFrameworkActive(entry.id, false);
      startFailoverTimer(state, framework);
    }
    let waiting = 0;
    for (const entry of snapshot.agents.values()) {
      const info = entry.info as AgentInfo__Output;
      const recovering = entry.state === 'admitted';
      if (recovering) waiting += 1;
      state.admitAgent({
        id: entry.id,
        info,
        hostname: entry.hostname,
        httpAddress: info.httpAddress,
        total: safeResources(info),
        attributes: attributesFromWire(info.attributes),
        state: recovering ? 'recovering' : 'unreachable',
        drain: entry.drain,
        ...(entry.cordon ? { cordon: entry.cordon } : {}),
        registeredAtMs: entry.registeredAtMs,
        reregisteredAtMs: undefined,
        unreachableSinceMs: entry.unreachableSinceMs,
        link: undefined,
        pingSeq: 0,
        pongSeq: 0,
        pingTimer: undefined,
        version: info.version,
        principal: entry.principal,
      });
    }
  return waiting;
}

/** Agents are mostly alike (a few machine types): their resources are parsed once per kind. */
function safeResources(info: AgentInfo__Output): Resources {
  try {
    return resourcesFromWireCached(info.resources ?? []);
  } catch {
    return Resources.EMPTY;
  }
}
