// A cluster for the services framework's integration tests: an in-process master (memory store),
// real agents in-process (process executor, real tasks), and the services framework on the
// master's store, with short intervals (test/support/framework-cluster.ts). Plus the specs the tests
// share and an HTTP probe.
import type { Agent } from '../../agent/agent.js';
import { startServices, SERVICES_FRAMEWORK_NAME, type ServicesHandle } from '../../frameworks/services/index.js';
import type { Endpoint } from '../../proto/index.js';
import type { FrameworkState } from '../../sdk/state.js';
import { FAST_DRIVER, startClusterBase, started, stopFrameworkClusters, stopOne } from '../support/framework-cluster.js';
import type { MasterHarness } from '../support/master-harness.js';
import { freePorts } from '../support/ports.js';
import { httpGet } from '../support/http-get.js';
import { frameworksAccess } from '../support/security.js';

export { until } from '../support/framework-cluster.js';

export interface ServicesCluster {
  readonly master: MasterHarness;
  readonly agents: Agent[];
  readonly state: FrameworkState;
  services: ServicesHandle;
  /** Stop the services framework and start a new one on the same state. */
  restartServices(): Promise<ServicesHandle>;
}

export async function startCluster(options: { agents?: readonly Record<string, string>[] } = {}): Promise<ServicesCluster> {
  const { master, agents, state } = await startClusterBase(SERVICES_FRAMEWORK_NAME, { agents: options.agents, resources: agentResources });
  const start = (): Promise<ServicesHandle> =>
    started(startServices({ master: master.address, state, access: frameworksAccess(), tickMs: 100, backoffResetSeconds: 5, driver: FAST_DRIVER, waitSubscribedMs: 10_000 }));
  const cluster: ServicesCluster = {
    master,
    agents,
    state,
    services: await start(),
    restartServices: async () => {
      await stopOne(cluster.services);
      cluster.services = await start();
      return cluster.services;
    },
  };
  return cluster;
}

// Ports the OS says are free now, rather than the fixed 31000-31099 that other tests running in
// parallel hand to their own tasks: a task must not find its port taken by someone else's server.
async function agentResources(): Promise<string> {
  const ports = await freePorts(16);
  return `cpus:4;mem:4096;disk:4096;ports:[${ports.map((p) => `${p}-${p}`).join(',')}]`;
}

export const stopClusters = stopFrameworkClusters;

/** A tiny web server on $PORT0 (busybox httpd serving 'ok'), with an HTTP health check on it. */
export function webSpec(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'web',
    instances: 3,
    command: 'mkdir -p www && echo "ok $AGORA_SERVICE_VERSION" > www/index.html && exec busybox httpd -f -p $PORT0 -h www',
    resources: { cpus: 0.05, mem: 32 },
    ports: [{ name: 'http' }],
    healthCheck: { http: { port: 'http', path: '/' }, delaySeconds: 0, intervalSeconds: 0.2, timeoutSeconds: 1, gracePeriodSeconds: 1, consecutiveFailures: 2 },
    killGracePeriodSeconds: 0.5,
    backoff: { seconds: 0.1 },
    ...extra,
  };
}

/** A service of `sleep 600` tasks (no ports, no checks). */
export function sleepSpec(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'sleepy', instances: 3, command: 'exec sleep 600', resources: { cpus: 0.05, mem: 16 }, killGracePeriodSeconds: 0.5, backoff: { seconds: 0.1 }, ...extra };
}

export function get(port: number, path = '/'): Promise<{ status: number; body: string }> {
  return httpGet({ port, path });
}

export function portOf(e: Endpoint): number {
  return Number(e.ports?.[0]?.number ?? 0);
}

