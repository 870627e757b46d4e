// A cluster for the cron framework's integration tests: an in-process master (memory store), a real
// agent in-process (process executor, real `sh -c` tasks), and the cron framework on the master's
// store with short reconnect and reconciliation intervals. Schedules are 6-field (seconds), so runs
// come every second or two in real time.
import type { Agent } from '../../agent/agent.js';
import { CRON_FRAMEWORK_NAME, startCron, type CronFramework } from '../../frameworks/cron/index.js';
import type { CronJobRun, CronJobStatus } from '../../proto/index.js';
import type { FrameworkState } from '../../sdk/state.js';
import { FAST_DRIVER, startClusterBase, started, stopFrameworkClusters, stopOne } from '../support/framework-cluster.js';
import type { MasterHarness } from '../support/master-harness.js';
import { frameworksAccess } from '../support/security.js';
import { secureFetch } from '../support/security.js';

export { until } from '../support/framework-cluster.js';

export interface CronCluster {
  readonly master: MasterHarness;
  readonly agent: Agent;
  readonly state: FrameworkState;
  cron: CronFramework;
  /** Stop the cron framework and start a new one on the same state (a restart, or a failover); `between` runs while none runs. */
  restartCron(between?: () => Promise<void>): Promise<CronFramework>;
}

export async function startCronCluster(): Promise<CronCluster> {
  const { master, agents, state } = await startClusterBase(CRON_FRAMEWORK_NAME);
  const start = (): Promise<CronFramework> => started(startCron({ master: master.address, state, access: frameworksAccess(), driver: FAST_DRIVER, waitSubscribedMs: 10_000 }));
  const cluster: CronCluster = {
    master,
    agent: agents[0]!,
    state,
    cron: await start(),
    restartCron: async (between) => {
      await stopOne(cluster.cron);
      await between?.();
      cluster.cron = await start();
      return cluster.cron;
    },
  };
  return cluster;
}

export const stopCronClusters = stopFrameworkClusters;

/** A cron job of `sh -c` tasks with small resources and a short kill grace period. */
export function cronSpec(name: string, command: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, schedule: '*/2 * * * * *', task: { command, resources: { cpus: 0.05, mem: 16 }, killGracePeriodSeconds: 0.2 }, ...extra };
}

export async function statusOf(cron: CronFramework, name: string): Promise<CronJobStatus> {
  return (await cron.get(name)).cronjobStatus!;
}

/** Every run the status shows (active and history), skips left out. */
export async function runsOf(cron: CronFramework, name: string): Promise<CronJobRun[]> {
  const s = await statusOf(cron, name);
  return [...(s.active ?? []), ...(s.history ?? [])].filter((r) => r.phase !== 'JOB_SKIPPED');
}

export interface MasterTask {
  readonly id: string;
  readonly state: string;
  readonly frameworkId: string;
}

/** Every task the master knows (live and completed), from its operator API, in launch order. */
export async function masterTasks(master: MasterHarness): Promise<MasterTask[]> {
  const res = await secureFetch(`https://${master.master.httpAddress}/api/v1/tasks?limit=10000`);
  return ((await res.json()) as { tasks: MasterTask[] }).tasks;
}

