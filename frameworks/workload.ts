// The contract between the Jobs API (gRPC + HTTP/JSON, frameworks/api/) and the built-in
// frameworks that own each kind of workload (frameworks/services/, and later cron/ and batch/).
// The API parses and routes; a controller validates its own spec, persists it (FrameworkState),
// and acts on the cluster through its FrameworkDriver. Wire shapes are the proto's (workload.proto).
import type {
  Deployment,
  Endpoint,
  Workload,
  WatchEvent,
} from '../proto/index.js';

export type WorkloadKind = 'SERVICE' | 'CRONJOB' | 'JOB';

export interface ApplyOutcome {
  readonly kind: WorkloadKind;
  readonly name: string;
  readonly version: string;
  readonly result: 'CREATED' | 'UPDATED' | 'UNCHANGED';
  /** A service change starts a deployment; its id, to follow with watch / rollout status. */
  readonly deploymentId?: string;
  /** Accepted, but probably not what was meant (ApplyResponse.warnings). */
  readonly warnings?: readonly string[];
}

export interface ApplyOptions {
  /** Validate and say what would happen; change nothing. */
  readonly dryRun?: boolean;
}

export type WatchListener = (event: WatchEvent) => void;

/** What every kind offers. `spec` is the document as parsed (camelCase, proto3 JSON form). */
export interface WorkloadController {
  readonly kind: WorkloadKind;
  /** Validate (InvalidArgumentError naming the field; nothing changes on error) and store a new version. */
  apply(spec: Record<string, unknown>, options?: ApplyOptions): Promise<ApplyOutcome>;
  /** NotFoundError when absent. */
  get(name: string): Promise<Workload>;
  list(): Promise<Workload[]>;
  delete(name: string): Promise<void>;
  /** Changes to this kind's workloads as they happen; returns an unsubscribe. */
  watch(listener: WatchListener): () => void;
}

/** Services add deployments and discovery. */
export interface ServiceController extends WorkloadController {
  readonly kind: 'SERVICE';
  scale(name: string, instances: number): Promise<Deployment>;
  /** To `toVersion`, or the previous version when omitted. */
  rollback(name: string, toVersion?: string): Promise<Deployment>;
  restart(name: string): Promise<Deployment>;
  killTasks(name: string, taskIds: readonly string[], scale: boolean): Promise<Deployment>;
  promote(name: string): Promise<Deployment>;
  abort(name: string): Promise<Deployment>;
  endpoints(name: string): Promise<Endpoint[]>;
}

/** Cron jobs and jobs add run-now and suspend. */
export interface RunnableController extends WorkloadController {
  readonly kind: 'CRONJOB' | 'JOB';
  trigger(name: string): Promise<{ runId: string }>;
  suspend(name: string, suspended: boolean): Promise<void>;
}

/** Where a task is: its agent's HTTP address, and the kind of workload its framework runs (if a built-in one). */
export interface TaskLocation {
  readonly agentHttpAddress: string;
  readonly kind: WorkloadKind | undefined;
}

/** Where a task's logs can be read, and how to read them. */
/** An agent by its total resources and attributes, as apply judges a spec against it (api/feasibility.ts). */
export interface AgentCapacity {
  readonly hostname: string;
  readonly scalars: Readonly<Record<'cpus' | 'mem' | 'disk' | 'gpus', number>>;
  readonly ports: number;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface TaskLocator {
  locate(taskId: string): Promise<TaskLocation | undefined>;
  /** The cluster's agents, by total resources and attributes (apply warns of specs none could take). */
  agents?(): Promise<readonly AgentCapacity[]>;
  /** Credentials for the agents' HTTP endpoints. */
  readonly http?: import('./api/http-client.js').HttpAuth;
}
