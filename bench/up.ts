// A secured `agora up` in this process for benchmarks that measure the whole stack (heal, jobs):
// TLS and tokens on, as users run it, in a data directory of its own.
import { chmod, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startUp, type Up } from '../cli/up-command.js';

/** A fresh data directory; the agent refuses a work dir its tasks' user cannot pass through. */
export async function benchDataDir(name: string): Promise<string> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `agora-bench-${name}-`));
  await chmod(dataDir, 0o711);
  return dataDir;
}

export type SecuredUp = Up & { security: NonNullable<Up['security']> };

/** `agora up` on free ports with security on; the agent's executor and resources are the benchmark's. */
export async function startSecuredUp(dataDir: string, executor: 'fake' | 'docker', resources: string, agent: Record<string, unknown> = {}): Promise<SecuredUp> {
  const up = await startUp(
    { httpPort: 0, grpcPort: 0, agentHttpPort: 0, dataDir, executor, resources, hostname: '127.0.0.1', logLevel: 'silent', insecure: false, writeContext: false, allowRootTasks: false, allowPrivileged: false },
    { agent },
  );
  if (!up.security) {
    await up.stop();
    throw new Error('agora up started without security');
  }
  return up as SecuredUp;
}
