// What the services framework knows about a service. `ServiceRecord` is persisted (one JSON value
// per service in FrameworkState); `TaskRuntime` is what status updates tell, kept in memory and
// rebuilt by reconciliation after a restart.
import type { TaskState } from '../../core/task-state.js';
import type { AutoscaleDecision } from './autoscale.js';
import type { ServiceSpecDoc } from './spec.js';

export type DeploymentPhase =
  | 'DEPLOYMENT_PENDING'
  | 'DEPLOYMENT_IN_PROGRESS'
  | 'DEPLOYMENT_PAUSED'
  | 'DEPLOYMENT_SUCCEEDED'
  | 'DEPLOYMENT_FAILED'
  | 'DEPLOYMENT_ABORTED'
  | 'DEPLOYMENT_SUPERSEDED';

export const ACTIVE_PHASES: ReadonlySet<DeploymentPhase> = new Set(['DEPLOYMENT_PENDING', 'DEPLOYMENT_IN_PROGRESS', 'DEPLOYMENT_PAUSED']);

/** What started a deployment (and, for versions, what made them). */
export type Change = 'create' | 'spec' | 'scale' | 'rollback' | 'restart' | 'kill';

export interface DeploymentRecord {
  readonly id: string;
  readonly change: Change;
  /** The version deployed. */
  readonly version: string;
  /** The version (and count) the service was at before: where a failure or an abort returns. '' for a new service. */
  readonly fromVersion: string;
  readonly fromInstances: number;
  readonly phase: DeploymentPhase;
  readonly startedAtMs: number;
  readonly finishedAtMs: number;
  readonly message: string;
  /** Canary instances to start before pausing for promote (0 = no canary). */
  readonly canary: number;
  readonly promoted: boolean;
  /** Launches of `version` that failed during this deployment, and how many make it fail. */
  readonly failures: number;
  readonly failureLimit: number;
  /** Tasks of other versions, and tasks beyond the instance count, when it started (for progress). */
  readonly initialOld: number;
  readonly initialSurplus: number;
  readonly progress: number;
}

export interface VersionRecord {
  readonly version: string;
  readonly createdAtMs: number;
  readonly change: Change;
  readonly spec: ServiceSpecDoc;
}

/** Where a task runs: the facts constraints look at. */
export interface Placement {
  readonly agentId: string;
  readonly hostname: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly region?: string;
  readonly zone?: string;
}

export interface TaskRecord extends Placement {
  readonly taskId: string;
  /** Its agent's IP (the offer's agent_ip): clients connect to ip:port. Absent in older records. */
  readonly ip?: string;
  readonly version: string;
  readonly ports: readonly { readonly number: number; readonly name: string }[];
  readonly stagedAtMs: number;
  readonly canary: boolean;
  /** Consecutive failed launches of the instance this task carries on (absent = none). */
  readonly failures?: number;
}

/**
 * An instance whose task failed, waiting to be launched again: its restart backoff. Backoff
 * belongs to the instance, not the service, so independent failures at once all heal at once.
 */
export interface Relaunch {
  /** The task that failed (its replacement carries `failures` on). */
  readonly taskId: string;
  /** Consecutive failed launches of this instance, counting that task. */
  readonly failures: number;
  readonly failedAtMs: number;
  /** No launch of this instance before this time (epoch ms). */
  readonly untilMs: number;
  /** How it ended, for people ("TASK_FAILED: exited with status 1"). */
  readonly reason: string;
}

export interface ServiceRecord {
  readonly name: string;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  readonly instances: number;
  /** The version the service is at, or moving to. */
  readonly version: string;
  /** Counter for the next version name (v1, v2, ...). */
  readonly nextVersion: number;
  /** Oldest first; the current version is always kept. */
  readonly versions: readonly VersionRecord[];
  /** Oldest first; at most one is active (and it is the last). */
  readonly deployments: readonly DeploymentRecord[];
  readonly tasks: Readonly<Record<string, TaskRecord>>;
  /** Instances waiting out their restart backoff (absent in records written before it existed). */
  readonly relaunches?: readonly Relaunch[];
  /** The autoscaler's last decisions, oldest first (absent = none). */
  readonly autoscaleDecisions?: readonly AutoscaleDecision[];
  /** The latest task of the service that failed, as its last status said: why launches fail (absent = none yet). */
  readonly lastFailure?: TaskFailureRecord;
}

/** A failed task: what `agora describe service` shows under "Last failure". */
export interface TaskFailureRecord {
  readonly taskId: string;
  readonly atMs: number;
  readonly state: TaskState;
  readonly reason: string;
  readonly message: string;
  readonly agentId: string;
  readonly hostname: string;
}

/** What status updates tell about a task (in memory). */
export interface TaskRuntime {
  readonly state: TaskState;
  readonly healthy?: boolean;
  readonly ready?: boolean;
  /** True once an update was heard since this process started (adopted tasks wait for reconciliation). */
  readonly confirmed: boolean;
  readonly startedAtMs: number;
  /** When it last became healthy (available), for resetting the restart backoff. */
  readonly healthySinceMs?: number;
  readonly message: string;
  readonly exitCode?: number;
  readonly killRequestedAtMs?: number;
  /** Since when its agent is unreachable (TASK_UNREACHABLE; partition-aware). */
  readonly unreachableSinceMs?: number;
}

/** A task as the planner sees it: where it runs, what version, what state. */
export type TaskView = TaskRecord & TaskRuntime;

export function specOf(record: ServiceRecord, version: string): ServiceSpecDoc | undefined {
  return record.versions.find((v) => v.version === version)?.spec;
}

export function relaunchesOf(record: ServiceRecord): readonly Relaunch[] {
  return record.relaunches ?? [];
}

export function activeDeployment(record: ServiceRecord): DeploymentRecord | undefined {
  const last = record.deployments.at(-1);
  return last !== undefined && ACTIVE_PHASES.has(last.phase) ? last : undefined;
}
