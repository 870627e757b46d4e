// Refuse filters (Mesos's RefusedOfferFilter). When a framework gives resources back with a
// filter, the allocator does not offer that agent to that framework, in that role, until
// `now + refuseMs` — unless what would be offered is NOT contained in what was refused: more has
// become free since, so the framework gets a new chance (as in Mesos).
//
// Filters are kept per framework as role → agent → filters. They are dropped lazily: an expired
// filter goes when it is next consulted or when another is added for the same key; all of a
// framework's filters (for some roles) go on revive, and an agent's go when the agent is removed.
import type { Resources } from '../../core/resources.js';

interface Filter {
  readonly refused: Resources;
  /** Active while now < until. */
  readonly until: number;
}

export class RefuseFilters {
  readonly #byRole = new Map<string, Map<string, Filter[]>>();

  isEmpty(): boolean {
    return this.#byRole.size === 0;
  }

  add(role: string, agentId: string, refused: Resources, now: number, until: number): void {
    let byAgent = this.#byRole.get(role);
    if (byAgent === undefined) {
      byAgent = new Map();
      this.#byRole.set(role, byAgent);
    }
    const live = (byAgent.get(agentId) ?? []).filter((f) => f.until > now);
    live.push({ refused, until });
    byAgent.set(agentId, live);
  }

  /** Whether offering `offer` from `agentId` in `role` at `now` is filtered out. */
  blocks(role: string, agentId: string, offer: Resources, now: number): boolean {
    const byAgent = this.#byRole.get(role);
    if (byAgent === undefined) return false;
    const list = byAgent.get(agentId);
    if (list === undefined) return false;
    let blocked = false;
    let expired = 0;
    for (const f of list) {
      if (f.until <= now) expired++;
      else if (f.refused.contains(offer)) blocked = true;
    }
    if (expired > 0) this.#prune(role, byAgent, agentId, list, now);
    return blocked;
  }

  /** Drop the filters of these roles (all when omitted). */
  clear(roles?: Iterable<string>): void {
    if (roles === undefined) this.#byRole.clear();
    else for (const role of roles) this.#byRole.delete(role);
  }

  dropAgent(agentId: string): void {
    for (const [role, byAgent] of this.#byRole) {
      byAgent.delete(agentId);
      if (byAgent.size === 0) this.#byRole.delete(role);
    }
  }

  /** Filters still active at `now` (for tests and views). */
  count(now: number): number {
    let n = 0;
    for (const byAgent of this.#byRole.values()) for (const list of byAgent.values()) for (const f of list) if (f.until > now) n++;
    return n;
  }

  #prune(role: string, byAgent: Map<string, Filter[]>, agentId: string, list: Filter[], now: number): void {
    const live = list.filter((f) => f.until > now);
    if (live.length > 0) byAgent.set(agentId, live);
    else {
      byAgent.delete(agentId);
      if (byAgent.size === 0) this.#byRole.delete(role);
    }
  }
}
