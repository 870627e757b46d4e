// The master's in-memory records. Live state (connections, timers) sits next to the facts that
// the registry persists; tasks are not persisted (agents report them again after a failover).
import type { AgentInfo__Output, FrameworkInfo__Output, TaskInfo__Output, TaskStatus } from '../proto/index.js';
import type { Attributes } from '../core/wire.js';
import type { Resources } from '../core/resources.js';
import type { TaskState } from '../core/task-state.js';
import type { TimerHandle } from '../core/clock.js';

/**
 * - `recovering`: known from the registry after a master start; waiting for it to re-register.
 * - `connected`: its stream is open and it answers pings.
 * - `disconnected`: its stream closed or it stopped answering; not offered; may come back before
 *   the ping timeouts run out.
 * - `unreachable`: missed too many pings; its tasks were reported UNREACHABLE / LOST.
 */
export type AgentConnectionState = 'recovering' | 'connected' | 'disconnected' | 'unreachable';
export type DrainState = 'draining' | 'drained';

/** Who cordoned an agent, and when (persisted with the agent's registry entry). */
export interface AgentCordon {
  readonly cordonedAtMs: number;
  readonly principal: string;
}

export interface AgentLink {
  send(message: import('../proto/index.js').MasterMessage): void;
  close(reason?: string): void;
}

export interface AgentRecord {
  readonly id: string;
  info: AgentInfo__Output;
  hostname: string;
  httpAddress: string;
  total: Resources;
  attributes: Attributes;
  state: AgentConnectionState;
  drain: { state: DrainState; gracePeriodMs: number; startedAtMs: number } | undefined;
  /** Cordoned (unschedulable): not offered, its running tasks untouched (agent-cordon.ts). */
  cordon?: AgentCordon | undefined;
  registeredAtMs: number;
  reregisteredAtMs: number | undefined;
  unreachableSinceMs: number | undefined;
  link: AgentLink | undefined;
  /** Sequence number of the last ping sent, and of the last pong received. */
  pingSeq: number;
  pongSeq: number;
  pingTimer: TimerHandle | undefined;
  version: string;
  /** The credential's principal that registered this agent id: only it may re-register it. */
  principal: string | undefined;
  /** What its tasks use, from its latest pong that carried a report (usage.ts). */
  usage?: UsageReport;
}

/** What an agent's live tasks use, summed, as it last reported it (master/usage.ts). */
export interface UsageReport {
  /** Cores (the tasks' CPU utilisation) and bytes (their working sets; their sandboxes on disk). */
  readonly cpus: number;
  readonly memBytes: number;
  readonly diskBytes: number;
  readonly roles: ReadonlyMap<string, { readonly cpus: number; readonly memBytes: number; readonly diskBytes: number }>;
  /** The agent's clock at its latest sample; the master's at receipt. */
  readonly sampledAtMs: number;
  readonly receivedAtMs: number;
}

export interface FrameworkStream {
  send(event: import('../proto/index.js').Event): void;
  end(): void;
}

export type FrameworkConnectionState = 'connected' | 'disconnected';

export interface FrameworkRecord {
  readonly id: string;
  info: FrameworkInfo__Output;
  roles: string[];
  suppressedRoles: Set<string>;
  partitionAware: boolean;
  failoverTimeoutMs: number;
  state: FrameworkConnectionState;
  stream: FrameworkStream | undefined;
  registeredAtMs: number;
  reregisteredAtMs: number | undefined;
  disconnectedAtMs: number | undefined;
  heartbeatTimer: TimerHandle | undefined;
  failoverTimer: TimerHandle | undefined;
  /** Finished tasks, oldest first, bounded by --max-completed-tasks-per-framework. */
  completed: TaskRecord[];
  /** The principal that registered this framework id: only it may subscribe as it. */
  principal: string | undefined;
  /** The current subscription's id: calls must carry it (agora-stream-id). */
  streamId: string | undefined;
}

export interface TaskRecord {
  readonly frameworkId: string;
  readonly taskId: string;
  readonly agentId: string;
  readonly info: TaskInfo__Output;
  readonly resources: Resources;
  readonly role: string;
  state: TaskState;
  /** The latest status the master holds (from the agent, or made by the master). */
  status: TaskStatus;
  /** Resources are still counted as allocated (false once recovered on a terminal state). */
  holdsResources: boolean;
  readonly launchedAtMs: number;
  updatedAtMs: number;
  /** The statuses applied to it, oldest first, the last MAX_TASK_STATUSES (task-history.ts). */
  statuses?: TaskStatusEntry[];
  /** How many older statuses the bound dropped. */
  statusesDropped?: number;
}

/** One status in a task's history (task-history.ts). */
export interface TaskStatusEntry {
  readonly state: string;
  readonly reason: string;
  readonly message: string;
  readonly source: string;
  readonly healthy?: boolean;
  readonly ready?: boolean;
  readonly timestampMs: number;
}

export interface OfferRecord {
  readonly id: string;
  readonly frameworkId: string;
  readonly agentId: string;
  readonly role: string;
  readonly resources: Resources;
  readonly createdAtMs: number;
  timer: TimerHandle | undefined;
}

export function taskKey(frameworkId: string, taskId: string): string {
  return `${frameworkId}/${taskId}`;
}
