// What the agent's HTTP endpoints and metrics read from the running agent, kept narrow so neither
// imports agent.ts (the Agent class satisfies it).
import { Resources } from '../core/resources.js';
import { isActive } from '../core/task-state.js';
import { resourcesFromWire } from '../core/wire.js';
import type { TaskInfo__Output } from '../proto/index.js';
import type { DiskUsage } from './disk-watch.js';
import type { RotationState } from './sandbox-files.js';
import type { StatusUpdateManager } from './status-updates.js';
import type { TaskManager } from './task-manager.js';
import type { TaskUsage } from './usage.js';

export type AgentLifecycle = 'INITIALIZED' | 'RECOVERING' | 'REGISTERING' | 'RUNNING' | 'STOPPING' | 'STOPPED';

export interface AgentContext {
  readonly lifecycle: AgentLifecycle;
  readonly agentId: string | undefined;
  /** host:port of the master the agent is registered with, when it is. */
  readonly master: string | undefined;
  readonly hostname: string;
  readonly httpAddress: string;
  readonly total: Resources;
  readonly tasks: TaskManager;
  readonly updates: StatusUpdateManager;
  /** The sandbox watch (sandbox-watch.ts), when the agent runs one. */
  readonly sandboxLimits?: SandboxLimitsView;
  /** The usage sampler (usage.ts), when the agent runs one. */
  readonly usage?: UsageView;
}

/** The latest usage sample of each live task. */
export interface UsageView {
  all(): TaskUsage[];
  usage(frameworkId: string, taskId: string): TaskUsage | undefined;
}

/** What the sandbox watch tells the endpoints: log rotations (for followers) and disk usage. */
export interface SandboxLimitsView {
  /** How many times the agent has rotated this sandbox's log `stream`, and whether it is now. */
  rotation(sandbox: string, stream: string): RotationState;
  /** The latest measurement of a running task with a disk limit. */
  diskUsage(frameworkId: string, taskId: string): DiskUsage | undefined;
}

/** Resources held by tasks that have not ended. */
export function usedResources(tasks: TaskManager): Resources {
  const held: Resources[] = [];
  for (const t of tasks.tasks.values()) {
    if (isActive(t.state)) held.push(taskResources(t.info));
  }
  return Resources.sum(held);
}

/** A task's resources (empty if they do not parse: the master checked them, this is only a view). */
export function taskResources(info: Pick<TaskInfo__Output, 'resources'>): Resources {
  try {
    return resourcesFromWire(info.resources);
  } catch {
    return Resources.EMPTY;
  }
}
