// What the integration harnesses of Agora's frameworks (test/integration/{services,cron,batch}-harness.ts)
// share: a cluster of an in-process master (memory store) and real agents in-process — or the
// testing kit's cluster (agora/sdk/testing: fake executor, tasks ended by the test) —, the
// framework's FrameworkState on the master's store, framework instances tracked so one call stops
// them all after a file's tests, short driver timings, and `until` to poll for an outcome.
import type { Agent } from '../../agent/agent.js';
import { FrameworkState } from '../../sdk/state.js';
import { startTestCluster, type TestCluster, type TestClusterOptions } from '../../sdk/testing/index.js';
import { startTestAgent, stopTestAgents } from './agent-harness.js';
import { MasterHarness, stopHarnesses } from './master-harness.js';

/** Reconnect and reconcile quickly, so restarts and failovers take well under a second. */
export { FAST_DRIVER } from '../../sdk/testing/index.js';

export const AGENT_RESOURCES = 'cpus:4;mem:4096;disk:4096';

export interface Stoppable {
  stop(): Promise<void>;
}

export interface ClusterBase {
  readonly master: MasterHarness;
  readonly agents: Agent[];
  /** The framework's state on the master's store (cluster 'default'). */
  readonly state: FrameworkState;
}

const running = new Set<Stoppable>();
const kitClusters = new Set<TestCluster>();

/** A master, one agent per entry of `agents` (flags over `resources`), and `framework`'s state. */
export async function startClusterBase(
  framework: string,
  options: { agents?: readonly Record<string, string>[]; resources?: () => Promise<string> | string } = {},
): Promise<ClusterBase> {
  const master = await MasterHarness.start();
  const agents: Agent[] = [];
  for (const flags of options.agents ?? [{}]) agents.push(await startTestAgent(master.address, { resources: (await options.resources?.()) ?? AGENT_RESOURCES, ...flags }));
  return { master, agents, state: new FrameworkState(master.store, 'default', framework) };
}

/**
 * The testing kit's cluster (tasks on the fake executor: the test ends them with cluster.finish /
 * cluster.fail) and `framework`'s state on its store; stopped by stopFrameworkClusters().
 */
export async function startKitClusterBase(framework: string, options: TestClusterOptions = {}): Promise<{ cluster: TestCluster; state: FrameworkState }> {
  const cluster = await startTestCluster(options);
  kitClusters.add(cluster);
  return { cluster, state: new FrameworkState(cluster.store, 'default', framework) };
}

/** Start a framework instance that stopFrameworkClusters() will stop. */
export async function started<H extends Stoppable>(start: Promise<H>): Promise<H> {
  const handle = await start;
  running.add(handle);
  return handle;
}

/** Stop one instance now (its tasks keep running). */
export async function stopOne(handle: Stoppable): Promise<void> {
  await handle.stop();
  running.delete(handle);
}

/** Stop every framework instance, agent and master started here (afterEach / afterAll). */
export async function stopFrameworkClusters(): Promise<void> {
  await Promise.allSettled([...running].map((h) => h.stop()));
  running.clear();
  await Promise.allSettled([...kitClusters].map((c) => c.stop()));
  kitClusters.clear();
  await stopTestAgents();
  await stopHarnesses();
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
