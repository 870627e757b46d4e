// What the master tells its observers (the /api/v1/events SSE stream, metrics, tests).
import { EventEmitter } from 'node:events';
import type { TaskState } from '../core/task-state.js';

/** Why an agent left the allocator: too many pings missed, or not back after a master took over. */
export type AgentRemovalReason = 'missed_pings' | 'not_reregistered';

export type MasterEvent =
  | { type: 'AGENT_ADDED'; agentId: string; hostname: string }
  | { type: 'AGENT_REREGISTERED'; agentId: string; hostname: string }
  | { type: 'AGENT_DISCONNECTED'; agentId: string }
  | { type: 'AGENT_UNREACHABLE'; agentId: string; reason: AgentRemovalReason }
  | { type: 'AGENT_REMOVED'; agentId: string; reason: string }
  | { type: 'AGENT_DRAINING'; agentId: string }
  | { type: 'AGENT_DRAINED'; agentId: string }
  | { type: 'AGENT_CORDONED'; agentId: string; principal: string }
  | { type: 'AGENT_UNCORDONED'; agentId: string; principal: string }
  | { type: 'FRAMEWORK_ADDED'; frameworkId: string; name: string }
  | { type: 'FRAMEWORK_RESUBSCRIBED'; frameworkId: string; name: string }
  | { type: 'FRAMEWORK_DISCONNECTED'; frameworkId: string }
  | { type: 'FRAMEWORK_REMOVED'; frameworkId: string; reason: string }
  | { type: 'TASK_ADDED'; frameworkId: string; taskId: string; agentId: string; state: TaskState }
  | { type: 'TASK_UPDATED'; frameworkId: string; taskId: string; agentId: string; state: TaskState; previous: TaskState; reason?: string };

export type MasterEventWithTime = MasterEvent & { timestampMs: number };

export class MasterEvents {
  readonly #emitter = new EventEmitter();

  constructor() {
    this.#emitter.setMaxListeners(0);
  }

  emit(event: MasterEventWithTime): void {
    this.#emitter.emit('event', event);
  }

  subscribe(listener: (event: MasterEventWithTime) => void): () => void {
    this.#emitter.on('event', listener);
    return () => this.#emitter.off('event', listener);
  }
}
