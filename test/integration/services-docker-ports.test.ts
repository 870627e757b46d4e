// The services framework with a real agent running Docker tasks on a user-defined bridge of the
// test engine: an instance whose container is not listening yet on its published port is RUNNING
// but not ready, so it is not an endpoint (what DNS and the proxy follow) until the port answers;
// then its endpoint's port reaches it through the host.
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestNetwork, type TestNetwork } from '../support/docker-network.js';
import { testServices } from '../support/services.js';
import { holdsFor } from '../support/waits.js';
import { get, portOf, startCluster, stopClusters, until } from './services-harness.js';

let network: TestNetwork;

beforeAll(async () => {
  network = await createTestNetwork(new Docker({ socketPath: testServices().dockerSocket }));
});

afterEach(stopClusters);

afterAll(async () => {
  await network?.remove();
});

describe('services: Docker instances on a bridge', () => {
  it('advertises an instance only once its published port answers', async () => {
    const c = await startCluster({ agents: [{ dockerSocket: testServices().dockerSocket }] });
    await c.services.apply({
      name: 'late',
      instances: 1,
      command: 'sleep 3; mkdir -p /tmp/www && echo hi > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www',
      resources: { cpus: 0.05, mem: 32 },
      ports: [{ name: 'http', containerPort: 8080 }],
      container: { image: testServices().busyboxImage, network: 'user', networkName: network.name },
      killGracePeriodSeconds: 0.5,
    });
    const status = async () => (await c.services.get('late')).serviceStatus!;
    await until(async () => (await status()).running === 1, 'the instance running');
    const startedAt = Date.now();
    // RUNNING, not ready: no endpoint while the container sleeps (its port is published already).
    await holdsFor(1_000, async () => (await c.services.endpoints('late')).length === 0 && (await status()).ready === 0, 'an endpoint before the port answers');
    const [endpoint] = await until(async () => {
      const e = await c.services.endpoints('late');
      return e.length === 1 && e;
    }, 'the endpoint');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1_000);
    expect(await status()).toMatchObject({ running: 1, ready: 1 });
    expect(await get(portOf(endpoint!))).toMatchObject({ status: 200, body: 'hi\n' });
  });
});
