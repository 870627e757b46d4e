// The contract between the agent's task manager and the executors (process, docker, fake).
// An executor turns a task into a running "container" (a process group, a Docker container, or
// nothing at all for the fake one) and reports how it ended. Status updates, checkpoints of the
// agent's own bookkeeping and acknowledgements are the task manager's business, not the executor's.
import type { TaskInfo__Output } from '../proto/index.js';
import type { UserIdentity } from './user-db.js';

export type ExecutorKind = 'process' | 'docker' | 'fake';

export interface ContainerSpec {
  readonly frameworkId: string;
  readonly taskId: string;
  readonly task: TaskInfo__Output;
  /** The task's sandbox directory (exists, owned by `user`; stdout and stderr files go here). */
  readonly sandbox: string;
  /**
   * A directory of the agent's for the executor's own files (the process executor's exit
   * status): out of the task's reach, so a task cannot point the agent's writes elsewhere.
   */
  readonly runtimeDir: string;
  /** Who the task runs as (the agent has checked it may run here). */
  readonly user: UserIdentity;
  /** Everything the task sees in its environment (AGORA_TASK_ID, AGORA_SANDBOX, PORT0…, PORT_<NAME>, its own). */
  readonly env: Readonly<Record<string, string>>;
  /** Limits from the task's resources. */
  readonly cpus: number;
  readonly memMb: number;
  /** Host ports assigned to the task, in order, with names where the task gave them. */
  readonly ports: readonly { readonly number: number; readonly name?: string }[];
}

export interface ExitInfo {
  /** The process exit code, when it exited. */
  readonly exitCode?: number;
  /** The signal that ended it, when it was signalled (e.g. 'SIGKILL'). */
  readonly signal?: string;
  /** Why, when the executor knows (e.g. REASON_CONTAINER_LIMITATION_MEMORY, REASON_CONTAINER_PULL_FAILED). */
  readonly reason?: string;
  readonly message: string;
  /** True when the end was a kill the agent asked for. */
  readonly killed?: boolean;
  /** True when the container never started (launch failed). */
  readonly launchFailed?: boolean;
}

/** What a container has used so far, as its cgroup (or Docker) counts it (executors/cgroup-usage.ts). */
export interface ContainerUsage {
  /** CPU time of every process, user and system, since the container began. */
  readonly cpuSeconds: number;
  /** Memory charged, page cache included. */
  readonly memoryBytes: number;
  /** Memory less the inactive file cache: what the limit is measured against. */
  readonly workingSetBytes: number;
  /** Anonymous memory (heap, stacks). */
  readonly rssBytes: number;
  /** The memory limit; undefined: none. */
  readonly limitBytes: number | undefined;
  readonly oomKills: number;
  /** CFS periods in which the container was throttled, and the time it spent so. */
  readonly throttledPeriods: number;
  readonly throttledSeconds: number;
}

/** What an executor writes in the sandbox so that a restarted agent can re-adopt the container. */
export type ContainerCheckpoint = Readonly<Record<string, unknown>>;

export interface Container {
  readonly taskId: string;
  /** Facts for the checkpoint (pid and start time, container id, cgroup path, ...). */
  readonly checkpoint: ContainerCheckpoint;
  /**
   * A health verdict the executor itself knows, when it has one: the fake executor's
   * task.fake.healthy. The task manager reports it on RUNNING updates instead of running a check.
   */
  readonly healthy?: boolean;
  /**
   * Whether the task can be reached yet, where the executor can tell more than "it runs": the
   * docker executor's published ports answering a TCP connect. Resolves once — ok, or not within
   * the executor's bound (the message names the port) — or not ok when `signal` aborts. The task
   * manager reports `ready: false` on RUNNING until it resolves ok. Absent: nothing to wait for.
   */
  reachable?(signal: AbortSignal): Promise<{ readonly ok: boolean; readonly message: string }>;
  /** What it has used so far; undefined when the executor cannot tell (no cgroup, the fake executor). */
  usage?(): Promise<ContainerUsage | undefined>;
  /** Resolves once, when the container has ended (also after a kill). Never rejects. */
  wait(): Promise<ExitInfo>;
  /** SIGTERM (or docker stop), then SIGKILL after `gracePeriodMs`; resolves when it has ended. */
  kill(gracePeriodMs: number): Promise<void>;
}

export interface Executor {
  readonly kind: ExecutorKind;
  /** Start the task. Rejects (or resolves a container whose wait() reports launchFailed) when it cannot start. */
  launch(spec: ContainerSpec): Promise<Container>;
  /**
   * Re-adopt a container after an agent restart, from its checkpoint: a live container comes back
   * as a Container (nothing is killed); one that ended while the agent was down comes back as its
   * ExitInfo (the real exit status, recorded in the sandbox).
   */
  recover(spec: ContainerSpec, checkpoint: ContainerCheckpoint): Promise<Container | ExitInfo>;
  /** Release what the executor holds (connections); containers keep running. */
  close(): Promise<void>;
  /**
   * Whether what it runs on answers (the Docker engine): undefined when it does, else why not.
   * Absent: always ready (process, fake).
   */
  ping?(): Promise<string | undefined>;
}
