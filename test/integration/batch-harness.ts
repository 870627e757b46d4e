// A cluster for the batch framework's integration tests: an in-process master (memory store), real
// agents in-process (process executor, real tasks), and the batch framework on the master's store
// with short timings (retry backoff, gang hold and cool-down) — or, for tests that decide how each
// task ends, the batch framework on the testing kit's cluster (startBatchOnKit). Plus job specs and
// probes of the master's view of the framework's tasks.
import type { Agent } from '../../agent/agent.js';
import { BATCH_FRAMEWORK_NAME, startBatch, type BatchHandle, type BatchOptions } from '../../frameworks/batch/index.js';
import { readJobRecord, type JobRecord } from '../../frameworks/batch/book.js';
import type { JobStatus } from '../../proto/index.js';
import type { FrameworkState } from '../../sdk/state.js';
import type { TestCluster, TestClusterOptions } from '../../sdk/testing/index.js';
import { FAST_DRIVER, startClusterBase, startKitClusterBase, started, stopFrameworkClusters, stopOne, until } from '../support/framework-cluster.js';
import type { MasterHarness } from '../support/master-harness.js';
import { frameworksAccess } from '../support/security.js';

export { until };

export interface BatchCluster {
  readonly master: MasterHarness;
  readonly agents: Agent[];
  readonly state: FrameworkState;
  batch: BatchHandle;
  /** Stop the batch framework (its tasks keep running) … */
  stopBatch(): Promise<void>;
  /** … and start a new one on the same state. */
  startBatch(): Promise<BatchHandle>;
  frameworkId(): Promise<string>;
  /** The job's record as persisted. */
  record(name: string): Promise<JobRecord | undefined>;
  status(name: string): Promise<JobStatus>;
}

export type BatchTuning = Partial<Omit<BatchOptions, 'master' | 'state'>>;

export const FAST: BatchTuning = {
  retryBackoff: { initialMs: 100, maxMs: 400 },
  gang: { maxHoldMs: 10_000, coolDownMs: 1_000 },
  killRetryMs: 2_000,
  driver: FAST_DRIVER,
  waitSubscribedMs: 10_000,
};

export async function startBatchCluster(options: { agents?: readonly Record<string, string>[]; batch?: BatchTuning } = {}): Promise<BatchCluster> {
  const { master, agents, state } = await startClusterBase(BATCH_FRAMEWORK_NAME, { agents: options.agents });
  const tuning = { ...FAST, ...options.batch };
  const start = (): Promise<BatchHandle> => started(startBatch({ master: master.address, state, access: frameworksAccess(), ...tuning }));
  const cluster: BatchCluster = {
    master,
    agents,
    state,
    batch: await start(),
    stopBatch: () => stopOne(cluster.batch),
    startBatch: async () => (cluster.batch = await start()),
    frameworkId: async () => (await state.get<{ id: string }>('framework'))!.value.id,
    record: (name) => readJobRecord(state, name),
    status: async (name) => (await cluster.batch.get(name)).jobStatus!,
  };
  return cluster;
}

/** The batch framework on the testing kit's cluster: its tasks run until the test ends them (cluster.finish / fail). */
export interface KitBatchCluster extends Omit<BatchCluster, 'master' | 'agents' | 'stopBatch' | 'startBatch'> {
  readonly cluster: TestCluster;
}

export async function startBatchOnKit(options: { cluster?: TestClusterOptions; batch?: BatchTuning } = {}): Promise<KitBatchCluster> {
  const { cluster, state } = await startKitClusterBase(BATCH_FRAMEWORK_NAME, options.cluster);
  const batch = await started(startBatch({ master: cluster.masterAddress, state, access: { credentials: cluster.credentials }, ...FAST, ...options.batch }));
  return {
    cluster,
    state,
    batch,
    frameworkId: async () => (await state.get<{ id: string }>('framework'))!.value.id,
    record: (name) => readJobRecord(state, name),
    status: async (name) => (await batch.get(name)).jobStatus!,
  };
}

export const stopBatchClusters = stopFrameworkClusters;

/** A job of `command` tasks (0.1 cpu, 16 MiB). */
export function jobSpec(name: string, command: string, extra: Record<string, unknown> = {}, resources: Record<string, number> = { cpus: 0.1, mem: 16 }): Record<string, unknown> {
  const { task, ...rest } = extra as { task?: Record<string, unknown> };
  return { name, ...rest, task: { command, resources, killGracePeriodSeconds: 0.2, ...task } };
}

/** The tasks that were launched for real: a launch the master refused (voided) never ran. */
export function ran(record: JobRecord | undefined): JobRecord['run']['tasks'] {
  return (record?.run.tasks ?? []).filter((t) => t.voided !== true);
}


/** Wait for a finished phase (JOB_SUCCEEDED / JOB_FAILED) and return the status. */
export async function finished(c: Pick<BatchCluster, 'status'>, name: string, timeoutMs = 20_000): Promise<JobStatus> {
  return until(async () => {
    const s = await c.status(name);
    return (s.phase === 'JOB_SUCCEEDED' || s.phase === 'JOB_FAILED') && s;
  }, `job ${name} to finish`, timeoutMs);
}
