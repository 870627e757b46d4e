// Read-only views for the master's endpoints, and the invariant check for tests. Not on the hot
// path: these sum Resources values per agent on every call.
import { InternalError } from '../../core/errors.js';
import { Resources } from '../../core/resources.js';
import { addInto, dominantShare, vectorsEqual, type MilliVector } from './kinds.js';
import type { AgentState, FrameworkState, Ledger } from './ledger.js';
import type { AgentView, FrameworkView, RoleView } from './types.js';

export function roleViews(ledger: Ledger): RoleView[] {
  const names = new Set([...ledger.roles.keys(), ...ledger.weights.keys(), ...ledger.quotas.keys()]);
  return [...names].sort().map((role) => {
    const rs = ledger.roles.get(role);
    const parts: Resources[] = [];
    const subscribed: string[] = [];
    for (const id of rs?.frameworks.clients() ?? []) {
      const fw = ledger.frameworks.get(id)!;
      if (fw.roles.has(role)) subscribed.push(id);
      for (const agentId of fw.holdings.get(role) ?? []) parts.push(ledger.agents.get(agentId)!.allocations.get(id)!.get(role)!);
    }
    return {
      role,
      weight: ledger.weight(role),
      quota: ledger.quotas.get(role)?.quota,
      allocated: Resources.sum(parts),
      share: ledger.roleSorter.has(role) ? ledger.roleSorter.share(role) : 0,
      frameworks: subscribed,
    };
  });
}

export function frameworkViews(ledger: Ledger): FrameworkView[] {
  return [...ledger.frameworks.values()]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((fw) => {
      const vec: MilliVector = [];
      const parts: Resources[] = [];
      for (const [role, agentIds] of fw.holdings) {
        addInto(vec, ledger.roles.get(role)!.frameworks.allocation(fw.id));
        for (const agentId of agentIds) parts.push(ledger.agents.get(agentId)!.allocations.get(fw.id)!.get(role)!);
      }
      return {
        id: fw.id,
        roles: [...fw.roles],
        suppressedRoles: [...fw.suppressed].sort(),
        active: fw.active,
        allocated: Resources.sum(parts),
        share: dominantShare(vec, ledger.totals.milli),
      };
    });
}

export function agentView(agent: AgentState): AgentView {
  return {
    id: agent.id,
    active: agent.active,
    total: agent.total,
    allocated: Resources.sum(allAllocations(agent)),
    available: agent.available,
  };
}

function allAllocations(agent: AgentState): Resources[] {
  const out: Resources[] = [];
  for (const byRole of agent.allocations.values()) for (const r of byRole.values()) out.push(r);
  return out;
}

/** Throws InternalError naming the first broken invariant. */
export function checkInvariants(ledger: Ledger): void {
  const fail = (message: string): never => {
    throw new InternalError(`allocator invariant: ${message}`);
  };
  const kinds = ledger.kinds;
  const totals: MilliVector = [];
  const byRole = new Map<string, MilliVector>();
  const byFrameworkRole = new Map<string, MilliVector>();
  for (const agent of ledger.agents.values()) {
    addInto(totals, kinds.vector(agent.total));
    checkAgent(agent, fail);
    for (const [fwId, roles] of agent.allocations) {
      const fw = ledger.frameworks.get(fwId) ?? fail(`agent ${agent.id} has allocations of unknown framework ${fwId}`);
      for (const [role, r] of roles) {
        if (r.isEmpty()) fail(`empty allocation kept for ${fwId}/${role} on ${agent.id}`);
        if (!fw.holdings.get(role)?.has(agent.id)) fail(`framework ${fwId} does not index its ${role} allocation on ${agent.id}`);
        const vec = kinds.vector(r);
        addInto(getOr(byRole, role), vec);
        addInto(getOr(byFrameworkRole, `${fwId}\u0000${role}`), vec);
      }
    }
  }
  if (!vectorsEqual(totals, ledger.totals.milli)) fail('cluster totals differ from the sum of agent totals');
  for (const fw of ledger.frameworks.values()) checkFramework(ledger, fw, byFrameworkRole, fail);
  for (const [role, rs] of ledger.roles) {
    if (!ledger.roleSorter.has(role)) fail(`role ${role} is missing from the role sorter`);
    if (!vectorsEqual(ledger.roleSorter.allocation(role), byRole.get(role) ?? [])) fail(`role ${role} allocation differs from the sum over agents`);
    if (ledger.quotaSorter.has(role) && !vectorsEqual(ledger.quotaSorter.allocation(role), byRole.get(role) ?? [])) {
      fail(`role ${role} quota-sorter allocation differs from the sum over agents`);
    }
    if (rs.frameworks.size === 0) fail(`role ${role} is kept with no frameworks`);
    for (const id of rs.frameworks.clients()) {
      const fw = ledger.frameworks.get(id);
      if (fw === undefined || !ledger.trackedRoles(fw).has(role)) fail(`role ${role} tracks framework ${id}, which has no business there`);
    }
    const active = rs.frameworks.activeCount > 0;
    if (ledger.roleSorter.isActive(role) !== active) fail(`role ${role} activation is stale`);
  }
  for (const role of byRole.keys()) if (!ledger.roles.has(role)) fail(`allocations under untracked role ${role}`);
}

function checkAgent(agent: AgentState, fail: (m: string) => never): void {
  const allocated = Resources.sum(allAllocations(agent));
  if (!agent.total.contains(agent.available)) fail(`agent ${agent.id}: available ${agent.available} not within total ${agent.total}`);
  if (!allocated.add(agent.available).equals(agent.total)) {
    fail(`agent ${agent.id}: allocated ${allocated} + available ${agent.available} != total ${agent.total}`);
  }
  for (const name of agent.total.names()) {
    const t = agent.total.count(name);
    if (t > 0 && allocated.count(name) + agent.available.count(name) !== t) fail(`agent ${agent.id}: ${name} counted twice`);
  }
}

function checkFramework(ledger: Ledger, fw: FrameworkState, sums: Map<string, MilliVector>, fail: (m: string) => never): void {
  for (const [role, agentIds] of fw.holdings) {
    if (agentIds.size === 0) fail(`framework ${fw.id} keeps an empty holding for ${role}`);
    for (const agentId of agentIds) {
      if (!ledger.agents.get(agentId)?.allocations.get(fw.id)?.has(role)) fail(`framework ${fw.id} indexes a missing allocation on ${agentId}`);
    }
  }
  for (const role of ledger.trackedRoles(fw)) {
    const rs = ledger.roles.get(role);
    if (rs === undefined || !rs.frameworks.has(fw.id)) fail(`framework ${fw.id} is not tracked under ${role}`);
    const alloc = rs!.frameworks.allocation(fw.id);
    if (!vectorsEqual(alloc, sums.get(`${fw.id}\u0000${role}`) ?? [])) fail(`framework ${fw.id} allocation under ${role} differs from the sum over agents`);
    const wants = fw.active && fw.roles.has(role) && !fw.suppressed.has(role);
    if (rs!.frameworks.isActive(fw.id) !== wants) fail(`framework ${fw.id} activation under ${role} is stale`);
  }
}

function getOr(map: Map<string, MilliVector>, key: string): MilliVector {
  let v = map.get(key);
  if (v === undefined) {
    v = [];
    map.set(key, v);
  }
  return v;
}
