// The allocator's contract with the master. The master tells it facts and asks for offers; the
// allocator never does I/O, keeps no timers and reads no clock: `now` comes in with each call.
//
// Accounting (as Mesos): resources offered to a framework count as *allocated* to it until the
// master gives them back with `recover` (declined, rescinded, unused after an accept, or freed by a
// terminal task). So for every agent: allocated + available = total, always.
import type { Resources } from '../../core/resources.js';

export interface AgentFacts {
  readonly id: string;
  readonly hostname: string;
  /** Everything the agent has, reserved entries included (`cpus(prod):2`). */
  readonly total: Resources;
}

export interface FrameworkFacts {
  readonly id: string;
  /** Roles the framework subscribes with (one or more; MULTI_ROLE). */
  readonly roles: readonly string[];
  /** Roles the framework does not want offers for right now. */
  readonly suppressedRoles?: readonly string[];
}

/** Resources already in use when an agent or framework is added (re-registration, failover). */
export interface UsedResources {
  readonly frameworkId: string;
  readonly agentId: string;
  readonly role: string;
  readonly resources: Resources;
}

export interface Quota {
  /** Resources the role is guaranteed (scalars only); offered to it before others get them. */
  readonly guarantee: Resources;
  /** The role never holds more than this (scalars only); undefined = no limit. */
  readonly limit?: Resources;
}

export interface RefuseFilter {
  /** Do not offer this agent's resources to this framework again until `now + refuseMs`... */
  readonly refuseMs: number;
  /** ...unless what would be offered is more than was refused. */
  readonly now: number;
}

export interface OfferDecision {
  readonly frameworkId: string;
  readonly agentId: string;
  readonly role: string;
  readonly resources: Resources;
}

export type Fairness = 'drf' | 'random';

export interface AllocatorOptions {
  readonly fairness: Fairness;
  /** Seed for the shuffled agent order (and the random sorter). */
  readonly seed: number;
  /**
   * An agent's free resources (as seen by a role) are offered only if they contain at least one of
   * these quantities (Mesos: --min_allocatable_resources="cpus:0.01|mem:32"). Empty = any.
   */
  readonly minAllocatable: readonly Resources[];
}

export interface RoleView {
  readonly role: string;
  readonly weight: number;
  readonly quota: Quota | undefined;
  readonly allocated: Resources;
  /** Weighted dominant share: max over resource kinds of allocated ÷ cluster total, ÷ weight. */
  readonly share: number;
  readonly frameworks: readonly string[];
}

export interface FrameworkView {
  readonly id: string;
  readonly roles: readonly string[];
  readonly suppressedRoles: readonly string[];
  readonly active: boolean;
  readonly allocated: Resources;
  /** Dominant share (unweighted) of everything allocated to the framework. */
  readonly share: number;
}

export interface AgentView {
  readonly id: string;
  readonly active: boolean;
  readonly total: Resources;
  readonly allocated: Resources;
  readonly available: Resources;
}

export interface Allocator {
  addAgent(agent: AgentFacts, used?: readonly UsedResources[]): void;
  updateAgentTotal(agentId: string, total: Resources): void;
  removeAgent(agentId: string): void;
  /** Inactive agents (draining, unreachable) are not offered. */
  setAgentActive(agentId: string, active: boolean): void;

  addFramework(framework: FrameworkFacts, used?: readonly UsedResources[]): void;
  updateFramework(framework: FrameworkFacts): void;
  removeFramework(frameworkId: string): void;
  /** Inactive (disconnected) frameworks get no offers but keep what they hold. */
  setFrameworkActive(frameworkId: string, active: boolean): void;
  /** No offers for these roles (all the framework's roles when omitted). */
  suppress(frameworkId: string, roles?: readonly string[]): void;
  /** Offers again for these roles (all when omitted), and clears the framework's refuse filters. */
  revive(frameworkId: string, roles?: readonly string[]): void;

  /** Give resources back to the agent's free pool; with a filter, do not offer them back for a while. */
  recover(frameworkId: string, agentId: string, role: string, resources: Resources, filter?: RefuseFilter): void;
  /** Count resources as allocated outside an offer (tasks found on re-registration). */
  allocateUsed(used: UsedResources): void;

  setWeight(role: string, weight: number): void;
  setQuota(role: string, quota: Quota | undefined): void;

  /**
   * One allocation pass: over every active agent (or only `agentIds`, for an incremental pass),
   * in a seeded shuffled order, hand free resources to roles and frameworks by weighted DRF,
   * honouring reservations, quota, filters, suppression and the minimum allocatable.
   */
  allocate(now: number, agentIds?: Iterable<string>): OfferDecision[];

  roles(): RoleView[];
  frameworks(): FrameworkView[];
  agent(agentId: string): AgentView | undefined;
  /** For tests: throws if allocated + available ≠ total on any agent. */
  checkInvariants(): void;
}
