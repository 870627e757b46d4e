// The hierarchical allocator: the master tells it facts, asks for offers, and reads views. This
// file checks input (all of it, before any change) and routes to the ledger (state and
// accounting), the pass (offers) and the views. See README.md for the picture.
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import { SeededRandom, shuffleInPlace } from '../../core/random.js';
import { Resources, UNRESERVED } from '../../core/resources.js';
import { Ledger, type AgentState, type FrameworkState } from './ledger.js';
import { MinAllocatable } from './min-allocatable.js';
import { runPass } from './pass.js';
import { compileQuota } from './quota-spec.js';
import { RefuseFilters } from './filters.js';
import { createSorter } from './sorters.js';
import type {
  AgentFacts,
  AgentView,
  Allocator,
  AllocatorOptions,
  FrameworkFacts,
  FrameworkView,
  OfferDecision,
  Quota,
  RefuseFilter,
  RoleView,
  UsedResources,
} from './types.js';
import * as check from './validate.js';
import { agentView, checkInvariants, frameworkViews, roleViews } from './views.js';

export class HierarchicalAllocator implements Allocator {
  readonly #ledger: Ledger;
  readonly #min: MinAllocatable;
  /** Advances once per pass: the agent order differs between passes, and reruns repeat it. */
  readonly #shuffle: SeededRandom;

  constructor(options: AllocatorOptions) {
    const sorterRandom = new SeededRandom((options.seed ^ 0x5bd1e995) >>> 0);
    this.#ledger = new Ledger((totals) => createSorter(options.fairness, totals, sorterRandom));
    this.#min = new MinAllocatable(options.minAllocatable);
    this.#shuffle = new SeededRandom(options.seed);
  }

  // ---- agents ----

  addAgent(agent: AgentFacts, used?: readonly UsedResources[]): void {
    check.checkAgentFacts(agent);
    if (this.#ledger.agents.has(agent.id)) throw new AlreadyExistsError('agent', agent.id);
    const list = check.checkUsedList('used', used);
    let free = agent.total;
    const owners = list.map((u, i) => {
      if (u.agentId !== agent.id) throw new InvalidArgumentError(`used[${i}].agentId`, `must be '${agent.id}', got '${u.agentId}'`);
      const fw = this.#framework(u.frameworkId);
      free = free.subtractOrUndefined(u.resources) ?? tooMuch(`used[${i}].resources`, u.resources, free);
      return fw;
    });
    const state = this.#ledger.newAgent(agent.id, agent.hostname, agent.total);
    list.forEach((u, i) => this.#grantUsed(owners[i]!, state, u));
  }

  updateAgentTotal(agentId: string, total: Resources): void {
    const agent = this.#agent(agentId);
    check.checkResources('total', total);
    const allocated = Resources.sum([...agent.allocations.values()].flatMap((byRole) => [...byRole.values()]));
    const available = total.subtractOrUndefined(allocated);
    if (available === undefined) {
      throw new InvalidArgumentError('total', `${total} does not cover what is allocated on agent '${agentId}': ${allocated}`);
    }
    this.#ledger.setAgentTotal(agent, total, available);
  }

  removeAgent(agentId: string): void {
    this.#ledger.dropAgent(this.#agent(agentId));
  }

  setAgentActive(agentId: string, active: boolean): void {
    const agent = this.#agent(agentId);
    agent.active = check.checkBoolean('active', active);
  }

  // ---- frameworks ----

  addFramework(framework: FrameworkFacts, used?: readonly UsedResources[]): void {
    check.checkFrameworkFacts(framework);
    if (this.#ledger.frameworks.has(framework.id)) throw new AlreadyExistsError('framework', framework.id);
    const list = check.checkUsedList('used', used);
    const free = new Map<string, Resources>();
    const agents = list.map((u, i) => {
      if (u.frameworkId !== framework.id) {
        throw new InvalidArgumentError(`used[${i}].frameworkId`, `must be '${framework.id}', got '${u.frameworkId}'`);
      }
      const agent = this.#agent(u.agentId);
      const have = free.get(agent.id) ?? agent.available;
      free.set(agent.id, have.subtractOrUndefined(u.resources) ?? tooMuch(`used[${i}].resources`, u.resources, have));
      return agent;
    });
    const fw: FrameworkState = {
      id: framework.id,
      roles: new Set(framework.roles),
      suppressed: new Set(framework.suppressedRoles ?? []),
      active: true,
      holdings: new Map(),
      filters: new RefuseFilters(),
    };
    this.#ledger.frameworks.set(fw.id, fw);
    for (const role of fw.roles) this.#ledger.track(fw, role);
    list.forEach((u, i) => this.#grantUsed(fw, agents[i]!, u));
  }

  updateFramework(framework: FrameworkFacts): void {
    check.checkFrameworkFacts(framework);
    const fw = this.#framework(framework.id);
    const before = this.#ledger.trackedRoles(fw);
    fw.roles = new Set(framework.roles);
    fw.suppressed = new Set(framework.suppressedRoles ?? []);
    fw.filters.clear([...before].filter((r) => !fw.roles.has(r)));
    for (const role of fw.roles) this.#ledger.track(fw, role);
    for (const role of before) {
      this.#ledger.refresh(fw, role);
      this.#ledger.untrackIfIdle(fw, role);
    }
  }

  removeFramework(frameworkId: string): void {
    const fw = this.#framework(frameworkId);
    const tracked = this.#ledger.trackedRoles(fw);
    for (const [role, agentIds] of [...fw.holdings]) {
      for (const agentId of [...agentIds]) {
        const agent = this.#ledger.agents.get(agentId)!;
        this.#ledger.release(fw, agent, role, this.#ledger.held(fw, agent, role)!);
      }
    }
    fw.roles = new Set();
    for (const role of tracked) this.#ledger.untrackIfIdle(fw, role);
    this.#ledger.frameworks.delete(fw.id);
  }

  setFrameworkActive(frameworkId: string, active: boolean): void {
    const fw = this.#framework(frameworkId);
    fw.active = check.checkBoolean('active', active);
    for (const role of this.#ledger.trackedRoles(fw)) this.#ledger.refresh(fw, role);
  }

  suppress(frameworkId: string, roles?: readonly string[]): void {
    const fw = this.#framework(frameworkId);
    for (const role of check.checkOwnRoles(fw.roles, roles)) {
      fw.suppressed.add(role);
      this.#ledger.refresh(fw, role);
    }
  }

  revive(frameworkId: string, roles?: readonly string[]): void {
    const fw = this.#framework(frameworkId);
    const list = check.checkOwnRoles(fw.roles, roles);
    fw.filters.clear(roles === undefined ? undefined : list);
    for (const role of list) {
      fw.suppressed.delete(role);
      this.#ledger.refresh(fw, role);
    }
  }

  // ---- resources ----

  recover(frameworkId: string, agentId: string, role: string, resources: Resources, filter?: RefuseFilter): void {
    const fw = this.#framework(frameworkId);
    const agent = this.#agent(agentId);
    check.checkRole('role', role);
    check.checkResources('resources', resources);
    check.checkFilter(filter);
    if (resources.isEmpty()) return;
    const held = this.#ledger.held(fw, agent, role);
    if (held === undefined || !held.contains(resources)) {
      throw new InvalidArgumentError(
        'resources',
        `framework '${frameworkId}' holds ${held?.format() || 'nothing'} under role '${role}' on agent '${agentId}'; cannot recover ${resources}`,
      );
    }
    this.#ledger.release(fw, agent, role, resources);
    if (filter !== undefined && filter.refuseMs > 0) fw.filters.add(role, agentId, resources, filter.now, filter.now + filter.refuseMs);
  }

  allocateUsed(used: UsedResources): void {
    check.checkUsed('used', used);
    const fw = this.#framework(used.frameworkId);
    const agent = this.#agent(used.agentId);
    if (!agent.available.contains(used.resources)) tooMuch('used.resources', used.resources, agent.available);
    this.#grantUsed(fw, agent, used);
  }

  // ---- roles ----

  setWeight(role: string, weight: number): void {
    check.checkRole('role', role);
    this.#ledger.setWeight(role, check.checkWeight(weight));
  }

  setQuota(role: string, quota: Quota | undefined): void {
    check.checkRole('role', role);
    if (role === UNRESERVED) throw new InvalidArgumentError('role', `quota cannot be set on '${UNRESERVED}'`);
    if (quota !== undefined && (quota === null || typeof quota !== 'object')) throw new InvalidArgumentError('quota', 'must be an object');
    this.#ledger.setQuota(role, quota === undefined ? undefined : compileQuota(quota));
  }

  // ---- allocation ----

  allocate(now: number, agentIds?: Iterable<string>): OfferDecision[] {
    check.checkTime('now', now);
    let agents: AgentState[];
    if (agentIds === undefined) {
      agents = [...this.#ledger.agents.values()];
    } else {
      const seen = new Set<string>();
      agents = [];
      for (const id of agentIds) {
        if (seen.has(id)) continue;
        seen.add(id);
        agents.push(this.#agent(id));
      }
    }
    agents = agents.filter((a) => a.active);
    shuffleInPlace(this.#shuffle, agents);
    return runPass(this.#ledger, agents, now, this.#min);
  }

  // ---- views ----

  roles(): RoleView[] {
    return roleViews(this.#ledger);
  }

  frameworks(): FrameworkView[] {
    return frameworkViews(this.#ledger);
  }

  agent(agentId: string): AgentView | undefined {
    const agent = this.#ledger.agents.get(agentId);
    return agent === undefined ? undefined : agentView(agent);
  }

  checkInvariants(): void {
    checkInvariants(this.#ledger);
  }

  // ---- helpers ----

  #agent(id: string): AgentState {
    check.checkId('agentId', id);
    const agent = this.#ledger.agents.get(id);
    if (agent === undefined) throw new NotFoundError('agent', id);
    return agent;
  }

  #framework(id: string): FrameworkState {
    check.checkId('frameworkId', id);
    const fw = this.#ledger.frameworks.get(id);
    if (fw === undefined) throw new NotFoundError('framework', id);
    return fw;
  }

  #grantUsed(fw: FrameworkState, agent: AgentState, u: UsedResources): void {
    if (!u.resources.isEmpty()) this.#ledger.grant(fw, agent, u.role, u.resources);
  }
}

function tooMuch(field: string, want: Resources, free: Resources): never {
  throw new InvalidArgumentError(field, `${want} is more than is free (${free})`);
}
