// Vitest global setup: the real services every test run shares, started in parallel —
//   a standalone ZooKeeper, a 3-server ZooKeeper ensemble, and a Docker engine with the busybox
//   test image — published to tests by provide/inject and AGORA_TEST_* variables (services.ts).
//
// Teardown stops them whether tests passed or not. If vitest itself dies, tmp.ts's exit and
// signal handlers kill them; if it is SIGKILLed, the next run (or `node scripts/test-services.mjs
// cleanup`) reaps them. A service that cannot start fails the run with its log; nothing is skipped.
import type { TestProject } from 'vitest/node';
import { ensureBusyboxImage, startDockerd, type Dockerd } from './docker.js';
import { servicesToEnv, type TestServices } from './services.js';
import { makeTestPki } from './pki.js';
import { reapRuns, tempDir } from './tmp.js';
import { ensureFreshBuild } from './build.js';
import { startZkEnsemble, startZooKeeper } from './zookeeper.js';

interface Stoppable {
  stop(): Promise<void>;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const leftovers = reapRuns();
  if (leftovers.length > 0) log(`reaped ${leftovers.length} run(s) left by dead processes`);

  if (ensureFreshBuild()) log('rebuilt dist/ (sources were newer)');
  const started = Date.now();
  const pki = await tempDir('pki');
  await makeTestPki(pki);
  const [zk, ensemble, docker] = await Promise.allSettled([
    timed(startZooKeeper()),
    timed(startZkEnsemble(3)),
    timed(startDockerWithImage()),
  ]);
  const all = [zk, ensemble, docker];
  const failures = all.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (zk.status !== 'fulfilled' || ensemble.status !== 'fulfilled' || docker.status !== 'fulfilled') {
    await stopAll(all.flatMap((r) => (r.status === 'fulfilled' ? [r.value.value] : [])));
    throw new Error(`Agora test services failed to start:\n\n${failures.map((e) => e.message).join('\n\n')}`);
  }

  const services: TestServices = {
    zk: zk.value.value.connectString,
    zkEnsemble: ensemble.value.value.connectString,
    dockerSocket: docker.value.value.dockerd.socketPath,
    busyboxImage: docker.value.value.image,
    pki,
  };
  Object.assign(process.env, servicesToEnv(services));
  project.provide('agoraServices', services);

  log(`zookeeper standalone  ${services.zk}  (${zk.value.seconds} s)  ${zk.value.value.dir}`);
  log(`zookeeper ensemble    ${services.zkEnsemble}  (${ensemble.value.seconds} s)`);
  log(`dockerd               unix://${services.dockerSocket}  image ${services.busyboxImage}  (${docker.value.seconds} s)`);
  log(`certificates, tokens  ${pki}`);
  log(`services ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  return async () => {
    await stopAll([zk.value.value, ensemble.value.value, docker.value.value]);
    reapRuns(); // runs of test workers that died without cleaning up
  };
}

async function startDockerWithImage(): Promise<Stoppable & { dockerd: Dockerd; image: string }> {
  const dockerd = await startDockerd();
  try {
    const image = await ensureBusyboxImage(dockerd.socketPath);
    return { dockerd, image, stop: () => dockerd.stop() };
  } catch (err) {
    await dockerd.stop();
    throw new Error(`dockerd on ${dockerd.socketPath}: ${(err as Error).message}`);
  }
}

async function stopAll(services: Stoppable[]): Promise<void> {
  const results = await Promise.allSettled(services.map((s) => s.stop()));
  for (const r of results) if (r.status === 'rejected') log(`stopping a service failed: ${String(r.reason)}`);
}

async function timed<T>(promise: Promise<T>): Promise<{ value: T; seconds: string }> {
  const t0 = Date.now();
  const value = await promise;
  return { value, seconds: ((Date.now() - t0) / 1000).toFixed(1) };
}

function log(line: string): void {
  process.stdout.write(`[agora-test] ${line}\n`);
}
