// The real services of the test set-up (test/support) do what tests rely on.
import fs from 'node:fs';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dockerPing } from '../support/docker.js';
import { SERVICE_ENV, servicesFromEnv, testServices } from '../support/services.js';
import { startZkEnsemble, startZooKeeper, zkCommand, zkMode, type ZkEnsemble } from '../support/zookeeper.js';

/** Stdout from Docker's multiplexed log frames: [stream, 0, 0, 0, size (BE u32), payload]. */
function stdoutOf(frames: Buffer): string {
  let out = '';
  for (let at = 0; at + 8 <= frames.length; ) {
    const size = frames.readUInt32BE(at + 4);
    if (frames[at] === 1) out += frames.subarray(at + 8, at + 8 + size).toString('utf8');
    at += 8 + size;
  }
  return out;
}

function portOf(hostPort: string): number {
  return Number(hostPort.split(':').pop());
}

describe('global setup', () => {
  it('publishes the same services through inject and the environment', () => {
    const injected = inject('agoraServices');
    expect(injected).toBeDefined();
    expect(servicesFromEnv()).toEqual(injected);
    expect(testServices()).toEqual(injected);
    expect(process.env[SERVICE_ENV.zk]).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(process.env[SERVICE_ENV.zkEnsemble]).toMatch(/^127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+){2}$/);
  });
});

describe('standalone ZooKeeper', () => {
  it('answers srvr in standalone mode', async () => {
    const answer = await zkCommand(portOf(testServices().zk), 'srvr');
    expect(answer).toMatch(/^Mode: standalone$/m);
  });
});

describe('a ZooKeeper started inside a test', () => {
  it('serves, and is gone with its directory when its scope ends', async () => {
    let pid: number;
    let dir: string;
    {
      await using zk = await startZooKeeper();
      ({ pid, dir } = zk);
      expect(await zkMode(zk.port)).toBe('standalone');
    }
    expect(() => process.kill(pid, 0)).toThrow();
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('ZooKeeper ensemble of the global setup', () => {
  it('has exactly one leader and two followers', async () => {
    const ports = testServices().zkEnsemble.split(',').map(portOf);
    const modes = await Promise.all(ports.map((p) => zkMode(p)));
    expect(modes.filter((m) => m === 'leader')).toHaveLength(1);
    expect(modes.filter((m) => m === 'follower')).toHaveLength(2);
  });
});

describe('an ensemble started inside a test', () => {
  let ensemble: ZkEnsemble;

  beforeAll(async () => {
    ensemble = await startZkEnsemble(3);
  });

  afterAll(async () => {
    await ensemble?.stop();
  });

  it('keeps quorum when a member is killed, and the member rejoins on restart', async () => {
    const leader = await ensemble.leader();
    expect(leader).toBeDefined();
    const victim = (leader! + 1) % 3; // a follower: the quorum survives without an election
    const { pid } = ensemble.servers[victim]!;
    expect(pid).toBeGreaterThan(0);

    await ensemble.stopServer(victim, 'SIGKILL');
    expect(ensemble.servers[victim]!.running).toBe(false);
    expect(await ensemble.mode(victim)).toBeUndefined();
    await ensemble.waitForQuorum(10_000);
    const modes = await Promise.all([0, 1, 2].map((i) => ensemble.mode(i)));
    expect(modes.filter((m) => m === 'leader')).toHaveLength(1);
    expect(modes.filter((m) => m === 'follower')).toHaveLength(1);

    await ensemble.startServer(victim);
    expect(ensemble.servers[victim]!.pid).not.toBe(pid);
    expect(await ensemble.mode(victim)).toBe('follower');
    await ensemble.waitForQuorum(10_000);
  });

  it('elects a new leader when the leader is killed', async () => {
    const leader = (await ensemble.leader())!;
    await ensemble.stopServer(leader, 'SIGKILL');
    await ensemble.waitForQuorum(20_000);
    const next = await ensemble.leader();
    expect(next).toBeDefined();
    expect(next).not.toBe(leader);
    await ensemble.startServer(leader);
    await ensemble.waitForQuorum(20_000);
  });
});

describe('Docker engine', () => {
  it('answers _ping and has the busybox image', async () => {
    const { dockerSocket, busyboxImage } = testServices();
    expect(await dockerPing(dockerSocket)).toBe(true);
    const image = await new Docker({ socketPath: dockerSocket }).getImage(busyboxImage).inspect();
    expect(image.RepoTags).toContain(busyboxImage);
  });

  it('runs a container that prints hi', async () => {
    const { dockerSocket, busyboxImage } = testServices();
    const docker = new Docker({ socketPath: dockerSocket });
    const container = await docker.createContainer({
      Image: busyboxImage,
      Cmd: ['echo', 'hi'],
      HostConfig: { NetworkMode: 'none' },
    });
    try {
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      expect(StatusCode).toBe(0);
      const logs = await container.logs({ stdout: true, stderr: true, follow: false });
      expect(stdoutOf(logs)).toBe('hi\n');
    } finally {
      await container.remove({ force: true });
    }
  });
});
