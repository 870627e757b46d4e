// How tests find the services the global setup started (test/support/global-setup.ts).
//
//   const { zk, zkEnsemble, dockerSocket, busyboxImage } = testServices();
//
// The same values reach workers through vitest's provide/inject and through environment variables
// (AGORA_TEST_*), which also reach processes a test spawns, such as the CLI in e2e tests.
import { inject } from 'vitest';

export interface TestServices {
  /** A standalone ZooKeeper: `127.0.0.1:<port>`. */
  zk: string;
  /** A 3-server ZooKeeper ensemble: `127.0.0.1:<p1>,127.0.0.1:<p2>,127.0.0.1:<p3>`. */
  zkEnsemble: string;
  /** A Docker engine's API socket (no bridge: use NetworkMode 'none' or 'host'). */
  dockerSocket: string;
  /** An image with busybox and a link per applet (sh, sleep, nc, httpd, …). */
  busyboxImage: string;
  /** The run's certificates and tokens (test/support/pki.ts; read them with security.ts). */
  pki: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    agoraServices: TestServices;
  }
}

/** The environment variable that carries each service. */
export const SERVICE_ENV: Readonly<Record<keyof TestServices, string>> = Object.freeze({
  zk: 'AGORA_TEST_ZK',
  zkEnsemble: 'AGORA_TEST_ZK_ENSEMBLE',
  dockerSocket: 'AGORA_TEST_DOCKER_SOCKET',
  busyboxImage: 'AGORA_TEST_BUSYBOX_IMAGE',
  pki: 'AGORA_TEST_PKI',
});

/** The services of this test run; throws when the global setup did not run. */
export function testServices(): TestServices {
  const services = fromInject() ?? servicesFromEnv();
  if (!services) {
    throw new Error(
      'Agora test services are not running: test/support/global-setup.ts did not run. ' +
        'Run tests through vitest with the repository\'s vitest.config.ts (npx vitest run <file>), ' +
        `or set ${Object.values(SERVICE_ENV).join(', ')}.`,
    );
  }
  return services;
}

/** The services as the environment variables give them, if all are set. */
export function servicesFromEnv(env: NodeJS.ProcessEnv = process.env): TestServices | undefined {
  const zk = env[SERVICE_ENV.zk];
  const zkEnsemble = env[SERVICE_ENV.zkEnsemble];
  const dockerSocket = env[SERVICE_ENV.dockerSocket];
  const busyboxImage = env[SERVICE_ENV.busyboxImage];
  const pki = env[SERVICE_ENV.pki];
  if (!zk || !zkEnsemble || !dockerSocket || !busyboxImage || !pki) return undefined;
  return { zk, zkEnsemble, dockerSocket, busyboxImage, pki };
}

/** The environment variables for `services`. */
export function servicesToEnv(services: TestServices): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of Object.keys(SERVICE_ENV) as Array<keyof TestServices>) env[SERVICE_ENV[key]] = services[key];
  return env;
}

function fromInject(): TestServices | undefined {
  try {
    return inject('agoraServices');
  } catch {
    return undefined; // not inside a vitest worker
  }
}
