// The master's records — agents, frameworks (and the ids of removed ones), live tasks, outstanding
// offers, ended tasks not yet acknowledged — kept private, read and changed only through methods
// that say what is meant. MasterState (state.ts) builds the master's actions on top.
import { isTerminal } from '../core/task-state.js';
import type { AgentRecord, FrameworkRecord, OfferRecord, TaskRecord } from './model.js';
import { taskKey } from './model.js';
import type { RemovedFrameworkEntry } from './registry.js';

export class MasterRecords {
  readonly #agents = new Map<string, AgentRecord>();
  readonly #frameworks = new Map<string, FrameworkRecord>();
  readonly #removedFrameworks = new Map<string, RemovedFrameworkEntry>();
  /** Live (non-completed) tasks by `frameworkId/taskId`, and by agent. */
  readonly #tasks = new Map<string, TaskRecord>();
  readonly #tasksByAgent = new Map<string, Set<TaskRecord>>();
  readonly #offers = new Map<string, OfferRecord>();
  /**
   * Terminal tasks whose final update (from the agent, with a uuid) the framework has not
   * acknowledged yet, by `frameworkId/taskId` — kept whatever --max-completed-tasks-per-framework
   * says, so reconciliation answers their real end until the framework has it (as Mesos keeps them).
   */
  readonly #unacknowledged = new Map<string, TaskRecord>();

  // ---- agents ----

  agent(agentId: string): AgentRecord | undefined {
    return this.#agents.get(agentId);
  }

  knowsAgent(agentId: string): boolean {
    return this.#agents.has(agentId);
  }

  allAgents(): IterableIterator<AgentRecord> {
    return this.#agents.values();
  }

  agentCount(): number {
    return this.#agents.size;
  }

  /** A new agent (registered, re-registered unknown, or known from the registry at a master's start). */
  admitAgent(agent: AgentRecord): void {
    this.#agents.set(agent.id, agent);
  }

  // ---- frameworks ----

  framework(frameworkId: string): FrameworkRecord | undefined {
    return this.#frameworks.get(frameworkId);
  }

  knowsFramework(frameworkId: string): boolean {
    return this.#frameworks.has(frameworkId);
  }

  allFrameworks(): IterableIterator<FrameworkRecord> {
    return this.#frameworks.values();
  }

  frameworkCount(): number {
    return this.#frameworks.size;
  }

  /** A framework subscribed, adopted from an agent's report, or known from the registry. */
  admitFramework(framework: FrameworkRecord): void {
    this.#frameworks.set(framework.id, framework);
  }

  /** The framework is removed: forget its record and remember its id, so it never comes back. */
  rememberRemoved(entry: RemovedFrameworkEntry): void {
    this.#frameworks.delete(entry.id);
    this.#removedFrameworks.set(entry.id, entry);
  }

  /** How a removed framework went (undefined: it was not removed). */
  removal(frameworkId: string): RemovedFrameworkEntry | undefined {
    return this.#removedFrameworks.get(frameworkId);
  }

  wasRemoved(frameworkId: string): boolean {
    return this.#removedFrameworks.has(frameworkId);
  }

  allRemovals(): IterableIterator<RemovedFrameworkEntry> {
    return this.#removedFrameworks.values();
  }

  removedCount(): number {
    return this.#removedFrameworks.size;
  }

  // ---- tasks ----

  task(frameworkId: string, taskId: string): TaskRecord | undefined {
    return this.#tasks.get(taskKey(frameworkId, taskId));
  }

  /** Every live (non-completed) task. */
  liveTasks(): IterableIterator<TaskRecord> {
    return this.#tasks.values();
  }

  liveTaskCount(): number {
    return this.#tasks.size;
  }

  tasksOnAgent(agentId: string): TaskRecord[] {
    return [...(this.#tasksByAgent.get(agentId) ?? [])];
  }

  tasksOfFramework(frameworkId: string): TaskRecord[] {
    return [...this.#tasks.values()].filter((t) => t.frameworkId === frameworkId);
  }

  /** Index a new live task (MasterState.addTask also announces it). */
  protected indexTask(task: TaskRecord): void {
    this.#tasks.set(taskKey(task.frameworkId, task.taskId), task);
    let set = this.#tasksByAgent.get(task.agentId);
    if (!set) this.#tasksByAgent.set(task.agentId, (set = new Set()));
    set.add(task);
  }

  /** The task is no longer live; false when it was not (or another record has its id). */
  protected unindexTask(task: TaskRecord): boolean {
    const key = taskKey(task.frameworkId, task.taskId);
    if (this.#tasks.get(key) !== task) return false;
    this.#tasks.delete(key);
    this.#tasksByAgent.get(task.agentId)?.delete(task);
    return true;
  }

  /** Forget a completed task (replaced by the agent's own report of how it ended). */
  forgetCompleted(task: TaskRecord): void {
    const completed = this.#frameworks.get(task.frameworkId)?.completed;
    const i = completed?.lastIndexOf(task) ?? -1;
    if (i >= 0) completed!.splice(i, 1);
    const key = taskKey(task.frameworkId, task.taskId);
    if (this.#unacknowledged.get(key) === task) this.#unacknowledged.delete(key);
  }

  /** The task's end, if the master remembers it: unacknowledged ones first, then the completed list. */
  completedTask(frameworkId: string, taskId: string): TaskRecord | undefined {
    return this.#unacknowledged.get(taskKey(frameworkId, taskId)) ?? this.#frameworks.get(frameworkId)?.completed.findLast((t) => t.taskId === taskId);
  }

  /** Terminal tasks whose end their framework has not acknowledged yet. */
  unacknowledgedTasks(): IterableIterator<TaskRecord> {
    return this.#unacknowledged.values();
  }

  unacknowledgedTask(frameworkId: string, taskId: string): TaskRecord | undefined {
    return this.#unacknowledged.get(taskKey(frameworkId, taskId));
  }

  /** Keep a terminal task until its framework acknowledges the update `task.status` carries. */
  awaitAcknowledgement(task: TaskRecord): void {
    if (isTerminal(task.state) && task.status.uuid) this.#unacknowledged.set(taskKey(task.frameworkId, task.taskId), task);
  }

  /** The framework acknowledged an update: a terminal task waiting for exactly that one is settled. */
  acknowledged(frameworkId: string, taskId: string, uuid: string): void {
    const key = taskKey(frameworkId, taskId);
    if (this.#unacknowledged.get(key)?.status.uuid === uuid) this.#unacknowledged.delete(key);
  }

  /** The framework is gone: nobody will acknowledge its tasks' updates. */
  forgetUnacknowledged(frameworkId: string): void {
    for (const [key, task] of this.#unacknowledged) if (task.frameworkId === frameworkId) this.#unacknowledged.delete(key);
  }

  // ---- offers ----

  offer(offerId: string): OfferRecord | undefined {
    return this.#offers.get(offerId);
  }

  /** Offers sent and not yet answered, rescinded or timed out. */
  outstandingOffers(): IterableIterator<OfferRecord> {
    return this.#offers.values();
  }

  offerCount(): number {
    return this.#offers.size;
  }

  protected holdOffer(offer: OfferRecord): void {
    this.#offers.set(offer.id, offer);
  }

  protected releaseOffer(offerId: string): OfferRecord | undefined {
    const offer = this.#offers.get(offerId);
    this.#offers.delete(offerId);
    return offer;
  }
}
