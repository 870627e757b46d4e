// Docker where it is, as a user meets it: `agora up` started with DOCKER_HOST says where its
// engine is and that it answers, `agora get agents -o wide` shows DOCKER; then the engine goes
// away (a relay the test closes), an image service's launches fail, and `agora describe` says
// why — the engine is unreachable at that socket — not only that launches failed.
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, startUpProcess, stopCliProcesses, type UpProcess } from '../support/cli.js';
import { dockerRelay, type DockerRelay } from '../support/docker-relay.js';
import { testServices } from '../support/services.js';
import { tempDir } from '../support/tmp.js';
import { eventually } from '../support/waits.js';

const relays: DockerRelay[] = [];
afterEach(async () => {
  await stopCliProcesses();
  for (const r of relays.splice(0)) await r.close();
});

async function upWithDockerHost(dockerHost: string): Promise<UpProcess> {
  const saved = process.env.DOCKER_HOST;
  process.env.DOCKER_HOST = dockerHost;
  try {
    return await startUpProcess(await tempDir('cli-docker'));
  } finally {
    if (saved === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = saved;
  }
}

describe('agora and Docker', () => {
  it('up finds the engine by DOCKER_HOST; get agents shows DOCKER; describe names an engine gone away', async () => {
    const relay = await dockerRelay();
    relays.push(relay);
    const up = await upWithDockerHost(`unix://${relay.socketPath}`);
    expect(up.output()).toContain(`docker: unix://${relay.socketPath} (answers: image tasks run here)`);
    const agents = await runCli(['get', 'agents', '-o', 'wide']);
    expect(agents.code, agents.stderr).toBe(0);
    const [header, row] = agents.stdout.trim().split('\n');
    expect(header).toMatch(/CAPABILITIES$/i);
    expect(row).toMatch(/\sDOCKER$/);

    await relay.close();
    const spec = ['kind: Service', 'name: boxed', 'instances: 1', `container: { image: ${JSON.stringify(testServices().busyboxImage)}, network: NETWORK_NONE }`, 'command: exec sleep 600', 'resources: { cpus: 0.05, mem: 16 }', 'backoff: { seconds: 0.1 }', ''].join('\n');
    // apply follows the deployment: it fails, and says why.
    const applied = await runCli(['apply', '-f', '-'], { stdin: spec });
    expect(applied.code).toBe(1);
    expect(applied.stderr).toMatch(/failed: version v1 failed \d+ launch\(es\) \(the last: TASK_FAILED: the Docker engine is unreachable at unix:\/\//);
    const described = await eventually(async () => {
      const out = await runCli(['describe', 'service/boxed']);
      expect(out.stdout).toMatch(/^Last failure:/m);
      return out.stdout;
    }, { timeoutMs: 30_000, what: 'describe showing the last failure' });
    const line = described.split('\n').find((l) => l.startsWith('Last failure:'))!;
    expect(line).toMatch(/Failed \(REASON_CONTAINER_LAUNCH_FAILED\) .*task boxed\.v1\.\S+: the Docker engine is unreachable at unix:\/\//);
    expect(line).toContain(`unix://${relay.socketPath}`);
    expect(line).not.toMatch(/PULL_FAILED/);
  });
});
