// The allocator's state and its bookkeeping: agents with their free pool and per-framework,
// per-role allocations; frameworks with where they hold resources; roles with their framework
// sorters; the role sorter and the quota role sorter. `grant` and `release` are the only two ways
// resources move, and each keeps every index and every sorter in step (O(log n) per sorter).
//
//   roleSorter ──► role ──► RoleState.frameworks (sorter) ──► framework
//   AgentState.allocations: framework → role → Resources        (the source of truth)
//   FrameworkState.holdings: role → agents                      (the reverse index)
//
// A framework is a client of a role's sorter while it subscribes to the role or holds resources
// under it; it is *active* there only when it is connected, subscribed and not suppressed. A role
// is active in the role sorter while at least one of its frameworks is.
import { Resources } from '../../core/resources.js';
import { RefuseFilters } from './filters.js';
import { Kinds, addInto, type ClusterTotals, type MilliVector } from './kinds.js';
import type { QuotaSpec } from './quota-spec.js';
import type { Sorter } from './sorter.js';

export interface AgentState {
  readonly id: string;
  readonly hostname: string;
  total: Resources;
  totalVec: MilliVector;
  available: Resources;
  active: boolean;
  /** Whether the total has reserved entries; if not, all that is free is allocatable to any role. */
  reserved: boolean;
  /** framework → role → what it holds here. */
  readonly allocations: Map<string, Map<string, Resources>>;
}

export interface FrameworkState {
  readonly id: string;
  roles: ReadonlySet<string>;
  suppressed: Set<string>;
  active: boolean;
  /** role → agents where the framework holds something under that role. */
  readonly holdings: Map<string, Set<string>>;
  readonly filters: RefuseFilters;
}

export interface RoleState {
  readonly name: string;
  readonly frameworks: Sorter;
}

export class Ledger {
  readonly kinds = new Kinds();
  readonly totals: ClusterTotals = { milli: [], version: 0 };
  readonly agents = new Map<string, AgentState>();
  readonly frameworks = new Map<string, FrameworkState>();
  readonly roles = new Map<string, RoleState>();
  readonly weights = new Map<string, number>();
  readonly quotas = new Map<string, QuotaSpec>();
  readonly roleSorter: Sorter;
  /** Roles with a quota guarantee, for the first allocation stage. */
  readonly quotaSorter: Sorter;
  readonly #newSorter: () => Sorter;

  /** `newSorter` gets the cluster totals every sorter shares. */
  constructor(newSorter: (totals: ClusterTotals) => Sorter) {
    this.#newSorter = () => newSorter(this.totals);
    this.roleSorter = this.#newSorter();
    this.quotaSorter = this.#newSorter();
  }

  /** The scalars of `resources` on `agent`; the agent's cached total vector when it is the total. */
  vectorOn(agent: AgentState, resources: Resources): MilliVector {
    return resources === agent.total ? agent.totalVec : this.kinds.vector(resources);
  }

  weight(role: string): number {
    return this.weights.get(role) ?? 1;
  }

  // ---- agents ----

  newAgent(id: string, hostname: string, total: Resources): AgentState {
    const agent: AgentState = {
      id,
      hostname,
      total,
      totalVec: this.kinds.vector(total),
      available: total,
      active: true,
      reserved: total.unreserved() !== total,
      allocations: new Map(),
    };
    this.agents.set(id, agent);
    this.#addTotal(agent.totalVec, 1);
    return agent;
  }

  setAgentTotal(agent: AgentState, total: Resources, available: Resources): void {
    this.#addTotal(agent.totalVec, -1);
    agent.total = total;
    agent.totalVec = this.kinds.vector(total);
    agent.available = available;
    agent.reserved = total.unreserved() !== total;
    this.#addTotal(agent.totalVec, 1);
  }

  dropAgent(agent: AgentState): void {
    for (const [frameworkId, byRole] of [...agent.allocations]) {
      const fw = this.frameworks.get(frameworkId)!;
      for (const [role, held] of [...byRole]) this.release(fw, agent, role, held);
    }
    for (const fw of this.frameworks.values()) if (!fw.filters.isEmpty()) fw.filters.dropAgent(agent.id);
    this.#addTotal(agent.totalVec, -1);
    this.agents.delete(agent.id);
  }

  #addTotal(vec: readonly number[], sign: 1 | -1): void {
    addInto(this.totals.milli, vec, sign);
    this.totals.version++;
  }

  // ---- frameworks and roles ----

  /** Make `fw` a client of `role`'s sorter (creating the role) and set its activation. */
  track(fw: FrameworkState, role: string): void {
    const rs = this.#role(role);
    if (!rs.frameworks.has(fw.id)) rs.frameworks.add(fw.id);
    this.refresh(fw, role);
  }

  /** Re-derive whether `fw` wants offers in `role`, and so whether the role does. */
  refresh(fw: FrameworkState, role: string): void {
    const rs = this.roles.get(role);
    if (rs === undefined || !rs.frameworks.has(fw.id)) return;
    if (fw.active && fw.roles.has(role) && !fw.suppressed.has(role)) rs.frameworks.activate(fw.id);
    else rs.frameworks.deactivate(fw.id);
    this.#refreshRole(rs);
  }

  /** Stop tracking `fw` under `role` once it neither subscribes to it nor holds anything there. */
  untrackIfIdle(fw: FrameworkState, role: string): void {
    if (fw.roles.has(role) || fw.holdings.has(role)) return;
    const rs = this.roles.get(role);
    if (rs === undefined || !rs.frameworks.has(fw.id)) return;
    rs.frameworks.remove(fw.id);
    this.#refreshRole(rs);
    if (rs.frameworks.size === 0) {
      this.roleSorter.remove(role);
      this.quotaSorter.remove(role);
      this.roles.delete(role);
    }
  }

  /** Every role `fw` is tracked under. */
  trackedRoles(fw: FrameworkState): Set<string> {
    return new Set([...fw.roles, ...fw.holdings.keys()]);
  }

  setWeight(role: string, weight: number): void {
    if (weight === 1) this.weights.delete(role);
    else this.weights.set(role, weight);
    if (this.roleSorter.has(role)) this.roleSorter.setWeight(role, weight);
    if (this.quotaSorter.has(role)) this.quotaSorter.setWeight(role, weight);
  }

  setQuota(role: string, spec: QuotaSpec | undefined): void {
    if (spec === undefined) this.quotas.delete(role);
    else this.quotas.set(role, spec);
    const rs = this.roles.get(role);
    if (rs !== undefined) this.#syncQuotaSorter(rs);
  }

  #role(name: string): RoleState {
    let rs = this.roles.get(name);
    if (rs === undefined) {
      rs = { name, frameworks: this.#newSorter() };
      this.roles.set(name, rs);
      this.roleSorter.add(name, this.weight(name));
      this.#syncQuotaSorter(rs);
    }
    return rs;
  }

  #refreshRole(rs: RoleState): void {
    const active = rs.frameworks.activeCount > 0;
    for (const sorter of [this.roleSorter, this.quotaSorter]) {
      if (!sorter.has(rs.name)) continue;
      if (active) sorter.activate(rs.name);
      else sorter.deactivate(rs.name);
    }
  }

  #syncQuotaSorter(rs: RoleState): void {
    const want = (this.quotas.get(rs.name)?.guarantee.size ?? 0) > 0;
    const has = this.quotaSorter.has(rs.name);
    if (want && !has) {
      this.quotaSorter.add(rs.name, this.weight(rs.name));
      this.quotaSorter.allocated(rs.name, this.roleSorter.allocation(rs.name));
      if (this.roleSorter.isActive(rs.name)) this.quotaSorter.activate(rs.name);
    } else if (!want && has) {
      this.quotaSorter.remove(rs.name);
    }
  }

  // ---- accounting: the only two ways resources move ----

  held(fw: FrameworkState, agent: AgentState, role: string): Resources | undefined {
    return agent.allocations.get(fw.id)?.get(role);
  }

  /** Move `resources` (checked to be free) from `agent`'s pool to `fw` under `role`. */
  grant(fw: FrameworkState, agent: AgentState, role: string, resources: Resources, vec: readonly number[] = this.vectorOn(agent, resources)): void {
    agent.available = resources === agent.available ? Resources.EMPTY : agent.available.subtract(resources);
    let byRole = agent.allocations.get(fw.id);
    if (byRole === undefined) {
      byRole = new Map();
      agent.allocations.set(fw.id, byRole);
    }
    const prev = byRole.get(role);
    byRole.set(role, prev === undefined ? resources : prev.add(resources));
    let where = fw.holdings.get(role);
    if (where === undefined) {
      where = new Set();
      fw.holdings.set(role, where);
      this.track(fw, role);
    }
    where.add(agent.id);
    this.roleSorter.allocated(role, vec);
    if (this.quotaSorter.has(role)) this.quotaSorter.allocated(role, vec);
    this.roles.get(role)!.frameworks.allocated(fw.id, vec);
  }

  /** Move `resources` (checked to be held) from `fw` under `role` back to `agent`'s pool. */
  release(fw: FrameworkState, agent: AgentState, role: string, resources: Resources): void {
    const byRole = agent.allocations.get(fw.id)!;
    const prev = byRole.get(role)!;
    const left = prev === resources ? Resources.EMPTY : prev.subtract(resources);
    agent.available = agent.available.add(resources);
    const vec = this.vectorOn(agent, resources);
    this.roleSorter.unallocated(role, vec);
    if (this.quotaSorter.has(role)) this.quotaSorter.unallocated(role, vec);
    this.roles.get(role)!.frameworks.unallocated(fw.id, vec);
    if (!left.isEmpty()) {
      byRole.set(role, left);
      return;
    }
    byRole.delete(role);
    if (byRole.size === 0) agent.allocations.delete(fw.id);
    const where = fw.holdings.get(role)!;
    where.delete(agent.id);
    if (where.size === 0) {
      fw.holdings.delete(role);
      this.untrackIfIdle(fw, role);
    }
  }
}
