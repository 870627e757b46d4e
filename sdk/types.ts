// The SDK's own types for what a framework author handles: statuses whose state is a TaskState
// (never the wire's TASK_STATE_UNSPECIFIED, so `isTerminal(status.state)` compiles), a task to launch
// whose required fields the compiler requires, and resources in the form offers carry them. The
// wire types stay available under explicit names (WireTaskStatus, WireTaskInfo, …) for advanced use.
import { isTaskState, type TaskState } from '../core/task-state.js';
import { resourcesToWire as coreResourcesToWire } from '../core/wire.js';
import type { Resources } from '../core/resources.js';
import type { Attributes } from '../core/wire.js';
import type { CommandInfo, ContainerInfo, Resource__Output, TaskInfo, TaskStatus__Output } from '../proto/index.js';

/** A task status as the handlers get it: as on the wire, with `state` one of TASK_STATES. */
export type TaskStatus = Omit<TaskStatus__Output, 'state'> & { readonly state: TaskState };

/**
 * A task to launch. The fields a launch cannot do without are required: its id, name and agent
 * (the offers' agent), non-empty resources, and a command or a container (or both). Everything else
 * is TaskInfo's (health checks, kill policy, labels, …).
 */
export type TaskSpec = Omit<TaskInfo, 'taskId' | 'name' | 'agentId' | 'resources' | 'command' | 'container'> & {
  readonly taskId: string;
  readonly name: string;
  readonly agentId: string;
  /** Not empty (checked before the call): as resourcesToWire() gives them, or taken from an offer. */
  readonly resources: readonly Resource__Output[];
} & ({ readonly command: CommandInfo; readonly container?: ContainerInfo | null } | { readonly container: ContainerInfo; readonly command?: CommandInfo | null });

/** Resources in the wire form of `Offer['resources']` and `TaskSpec['resources']`. */
export function resourcesToWire(resources: Resources): Resource__Output[] {
  return coreResourcesToWire(resources).map((r) => ({
    name: r.name ?? '',
    type: (r.type ?? 'SCALAR') as Resource__Output['type'],
    scalar: Number(r.scalar ?? 0),
    ranges: (r.ranges ?? []).map((x) => ({ begin: Number(x.begin ?? 0), end: Number(x.end ?? 0) })),
    set: [...(r.set ?? [])],
    ...(r.role === undefined ? {} : { role: r.role }),
    reservation: r.reservation ? { role: r.reservation.role ?? '', principal: r.reservation.principal ?? '', labels: { ...(r.reservation.labels ?? {}) } } : null,
  }));
}

/** The wire form of a TaskSpec (what the master takes). */
export function taskSpecToWire(task: TaskSpec): TaskInfo {
  return { ...task, resources: [...task.resources] } as TaskInfo;
}

/** The status with its state as a TaskState, or undefined when the wire state is not one (TASK_STATE_UNSPECIFIED). */
export function sdkStatus(status: TaskStatus__Output): TaskStatus | undefined {
  return isTaskState(status.state) ? (status as TaskStatus) : undefined;
}

/** An agent, as AGENT_ADDED tells it to a framework subscribed with `agentEvents: true`. */
export interface Agent {
  readonly agentId: string;
  readonly hostname: string;
  /** The IP its tasks are reached at (the agent's --advertise-ip); '' from an agent that sent none. */
  readonly ip: string;
  readonly attributes: Attributes;
  /** Its total resources (not what is free: offers say that). */
  readonly resources: Resources;
  /** An operator drained it: it is not offered until undrained. */
  readonly draining: boolean;
}

/** The master removed an agent (it became unreachable); its tasks were reported UNREACHABLE or LOST. */
export interface AgentRemoval {
  readonly agentId: string;
  readonly reason: string;
}

/** An operator drained (`draining: true`) or undrained an agent. */
export interface AgentDrainChange {
  readonly agentId: string;
  readonly draining: boolean;
}
