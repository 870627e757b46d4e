// Reconciliation asks the master could not answer yet (see reconciliation.ts), indexed by
// framework/task and by the agent they name, so an agent's re-registration finds its own.
import { taskKey } from './model.js';

export interface Ask {
  readonly frameworkId: string;
  readonly taskId: string;
  /** The agent the framework named ('' for none). */
  readonly agentId: string;
}

/** Asks the master could not answer yet, by framework/task and by the agent they name. */
export class OwedAnswers {
  readonly #asks = new Map<string, Ask>();
  readonly #byAgent = new Map<string, Set<string>>();

  get size(): number {
    return this.#asks.size;
  }

  add(ask: Ask): void {
    const key = taskKey(ask.frameworkId, ask.taskId);
    // Asked again (a retry): nothing changes unless it names another agent.
    if (this.#asks.get(key)?.agentId === ask.agentId) return;
    this.#forget(key);
    this.#asks.set(key, ask);
    let keys = this.#byAgent.get(ask.agentId);
    if (!keys) this.#byAgent.set(ask.agentId, (keys = new Set()));
    keys.add(key);
  }

  /** The ask for this task, if one is owed (it is no longer). */
  take(frameworkId: string, taskId: string): Ask | undefined {
    return this.takeKey(taskKey(frameworkId, taskId));
  }

  /** The same, by taskKey(frameworkId, taskId). */
  takeKey(key: string): Ask | undefined {
    const ask = this.#asks.get(key);
    if (ask) this.#forget(key);
    return ask;
  }

  /** Every ask naming this agent ('' for those naming none). */
  takeNaming(agentId: string): Ask[] {
    const keys = this.#byAgent.get(agentId);
    if (!keys) return [];
    const asks = [...keys].map((k) => this.#asks.get(k)).filter((a): a is Ask => a !== undefined);
    for (const a of asks) this.#forget(taskKey(a.frameworkId, a.taskId));
    return asks;
  }

  takeAll(): Ask[] {
    const asks = [...this.#asks.values()];
    this.#asks.clear();
    this.#byAgent.clear();
    return asks;
  }

  dropFramework(frameworkId: string): void {
    for (const [key, ask] of this.#asks) if (ask.frameworkId === frameworkId) this.#forget(key);
  }

  #forget(key: string): void {
    const ask = this.#asks.get(key);
    if (!ask) return;
    this.#asks.delete(key);
    const keys = this.#byAgent.get(ask.agentId);
    keys?.delete(key);
    if (keys?.size === 0) this.#byAgent.delete(ask.agentId);
  }
}
