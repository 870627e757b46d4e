// A cluster for the cron framework's integration tests: an in-process master (memory store), a real
// agent in-process (process executor, real `sh -c` tasks), and the cron framework on the master's
// store with short reconnect and reconciliation intervals. Schedules are 6-field (seconds), so runs
// come every second or two in real time.
import type { Agent } from '../../agent/agent.js';
import { CRON_FRAMEWORK_NAME, startCron, type CronFramework } from '../../frameworks/cron/index.js';
import type { CronJobRun, CronJobStatus } from '../../proto/index.js';
import { FrameworkState } from '../../sdk/state.js';
import { startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { MasterHarness, stopHarnesses } from '../support/master-harness.js';

export interface CronCluster {
  readonly master: MasterHarness;
  readonly agent: Agent;
  readonly state: FrameworkState;
  cron: CronFramework;
  /** Stop the cron framework and start a new one on the same state (a restart, or a failover); `between` runs while none runs. */
  restartCron(between?: () => Promise<void>): Promise<CronFramework>;
}

const running = new Set<CronFramework>();

export async function startCronCluster(): Promise<CronCluster> {
  const master = await MasterHarness.start();
  const agent = await startTestAgent(master.address, { resources: 'cpus:4;mem:4096;disk:4096' });
  const state = new FrameworkState(master.store, 'default', CRON_FRAMEWORK_NAME);
  const start = async (): Promise<CronFramework> => {
    const c = await startCron({
      master: master.address,
      state,
      driver: { reconnect: { initialMs: 50, maxMs: 300 }, reconcile: { initialMs: 200, maxMs: 1000 } },
      waitSubscribedMs: 10_000,
    });
    running.add(c);
    return c;
  };
  const cluster: CronCluster = {
    master,
    agent,
    state,
    cron: await start(),
    restartCron: async (between) => {
      await cluster.cron.stop();
      running.delete(cluster.cron);
      await between?.();
      cluster.cron = await start();
      return cluster.cron;
    },
  };
  return cluster;
}

export async function stopCronClusters(): Promise<void> {
  await Promise.allSettled([...running].map((c) => c.stop()));
  running.clear();
  await stopTestAgents();
  await stopHarnesses();
}

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
  const res = await fetch(`http://${master.master.httpAddress}/api/v1/tasks?limit=10000`);
  return ((await res.json()) as { tasks: MasterTask[] }).tasks;
}

/** Poll until `check` returns a value (not false/undefined); fails with `what` after the timeout. */
export async function until<T>(check: () => Promise<T | false | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== false && value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
