// One allocation pass. For each agent (in the order given: the caller shuffles), roles come out
// of a sorter in fairness order; the first role that may use something here offers it to its
// first framework (in fairness order) that is not filtered, which gets *all* of it — everything
// free on the agent that the role may use, trimmed only for quota. Shares are updated at once, so
// the next agent sees them. With quota, a first stage runs over the same agents with only the
// roles below their guarantee (see quota.ts).
//
//   for agent:                       stage 1: quotaSorter (roles below guarantee)
//     for role in sorter order:      stage 2: roleSorter  (every role)
//       offer = free ∩ allocatable(role), trimmed for quota
//       skip unless offer ⊇ one of minAllocatable
//       first framework of role (sorter order) not filtered for (role, agent, offer) gets it
import type { Resources } from '../../core/resources.js';
import type { AgentState, FrameworkState, Ledger, RoleState } from './ledger.js';
import type { MinAllocatable } from './min-allocatable.js';
import { QuotaPass, type Stage } from './quota.js';
import type { Sorter } from './sorter.js';
import type { OfferDecision } from './types.js';

export function runPass(ledger: Ledger, agents: readonly AgentState[], now: number, min: MinAllocatable): OfferDecision[] {
  const pass = new Pass(ledger, now, min, QuotaPass.create(ledger));
  return pass.run(agents);
}

class Pass {
  readonly #offers: OfferDecision[] = [];
  /** agent → indexes in #offers of its stage-1 offers, which stage 2 merges into. */
  readonly #stage1 = new Map<string, number[]>();
  readonly #worth = (milli: readonly number[]): boolean => this.min.couldAllow(milli, this.ledger.kinds);

  constructor(
    private readonly ledger: Ledger,
    private readonly now: number,
    private readonly min: MinAllocatable,
    private readonly quota: QuotaPass | undefined,
  ) {}

  run(agents: readonly AgentState[]): OfferDecision[] {
    if (this.quota !== undefined) {
      for (const agent of agents) {
        if (!this.quota.hasUnsatisfied()) break;
        this.#agent(agent, this.ledger.quotaSorter, 1);
      }
    }
    for (const agent of agents) this.#agent(agent, this.ledger.roleSorter, 2);
    return this.#offers;
  }

  #agent(agent: AgentState, sorter: Sorter, stage: Stage): void {
    if (agent.available.isEmpty()) return;
    try {
      for (let role = sorter.next(); role !== undefined; role = sorter.next()) {
        if (stage === 1 && !this.quota!.unsatisfied(role)) continue;
        const usable = agent.reserved ? agent.available.allocatableTo(role) : agent.available;
        if (usable.isEmpty()) continue;
        const offer = this.quota === undefined ? usable : this.quota.trim(role, usable, stage, this.#worth, this.ledger.vectorOn(agent, usable), agent.reserved);
        if (!this.min.allows(offer)) continue;
        const rs = this.ledger.roles.get(role)!;
        const fw = this.#framework(rs, agent, offer);
        if (fw === undefined) continue;
        this.#grant(fw, agent, role, offer, stage);
        if (agent.available.isEmpty()) break;
      }
    } finally {
      sorter.reset();
    }
  }

  #framework(rs: RoleState, agent: AgentState, offer: Resources): FrameworkState | undefined {
    const sorter = rs.frameworks;
    try {
      for (let id = sorter.next(); id !== undefined; id = sorter.next()) {
        const fw = this.ledger.frameworks.get(id)!;
        if (fw.filters.isEmpty() || !fw.filters.blocks(rs.name, agent.id, offer, this.now)) return fw;
      }
      return undefined;
    } finally {
      sorter.reset();
    }
  }

  #grant(fw: FrameworkState, agent: AgentState, role: string, offer: Resources, stage: Stage): void {
    const vec = this.ledger.vectorOn(agent, offer);
    this.ledger.grant(fw, agent, role, offer, vec);
    this.quota?.onGrant(role, offer, vec, agent.reserved);
    const decision: OfferDecision = { frameworkId: fw.id, agentId: agent.id, role, resources: offer };
    const earlier = this.#stage1.get(agent.id);
    if (stage === 1) {
      if (earlier === undefined) this.#stage1.set(agent.id, [this.#offers.length]);
      else earlier.push(this.#offers.length);
    } else if (earlier !== undefined) {
      // One offer per (framework, agent, role): add to what stage 1 offered.
      for (const at of earlier) {
        const prev = this.#offers[at]!;
        if (prev.frameworkId === fw.id && prev.role === role) {
          this.#offers[at] = { ...prev, resources: prev.resources.add(offer) };
          return;
        }
      }
    }
    this.#offers.push(decision);
  }
}
