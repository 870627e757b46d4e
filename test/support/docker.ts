// A private Docker engine for tests, and the image they run.
//
// dockerd (Debian's docker.io) runs as root with everything in its own directory: API socket,
// data root, exec root (with the containerd it supervises), pid file and an empty config file, so
// it neither touches nor depends on a system engine. No bridge and no iptables rules: containers
// use NetworkMode 'none' or 'host'. No registry is reachable, so the test image is imported from a
// rootfs holding the machine's static busybox (Debian's busybox-static) with a link per applet.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { httpGet } from './http-get.js';
import { logTail, makeServiceDir, removeDir, spawnService, stopService, tempDir } from './tmp.js';

export const BUSYBOX_IMAGE = 'agora-test/busybox:latest';
const BUSYBOX = '/bin/busybox';
/** Unix socket paths longer than this do not fit in sockaddr_un (108 bytes, with margin). */
const MAX_SOCKET_PATH = 100;

export interface DockerdOptions {
  /** How long to wait for the API to answer `_ping`; default 30 s. */
  readyTimeoutMs?: number;
}

export interface Dockerd {
  readonly socketPath: string;
  readonly dir: string;
  readonly logFile: string;
  readonly pid: number;
  /** Removes all containers, stops the daemon (SIGTERM, SIGKILL after 15 s), removes the dir. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startDockerd(opts: DockerdOptions = {}): Promise<Dockerd> {
  const dir = makeServiceDir('dockerd');
  const socketPath = path.join(dir, 'docker.sock');
  const containerdSocket = path.join(dir, 'exec', 'containerd', 'containerd.sock');
  if (containerdSocket.length > MAX_SOCKET_PATH) {
    throw new Error(`dockerd: ${containerdSocket} is too long for a unix socket; set AGORA_TEST_TMP to a shorter directory`);
  }
  fs.writeFileSync(path.join(dir, 'daemon.json'), '{}\n');
  const proc = spawnService({
    name: 'dockerd',
    dir,
    command: 'dockerd',
    args: [
      `--host=unix://${socketPath}`,
      `--data-root=${path.join(dir, 'data')}`,
      `--exec-root=${path.join(dir, 'exec')}`,
      `--pidfile=${path.join(dir, 'docker.pid')}`,
      `--config-file=${path.join(dir, 'daemon.json')}`,
      '--iptables=false',
      '--ip-masq=false',
      '--bridge=none',
    ],
    endpoint: `unix://${socketPath}`,
    // dockerd lives in /usr/sbin, which some CI shells leave off PATH.
    env: { ...process.env, PATH: `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/local/sbin:/usr/sbin:/sbin` },
  });
  const stop = async (): Promise<void> => {
    if (proc.exitStatus() === undefined) await removeAllContainers(socketPath);
    await stopService(proc, 'SIGTERM', 15_000);
    removeDir(dir);
  };
  try {
    await waitForPing(socketPath, opts.readyTimeoutMs ?? 30_000, () => proc.exitStatus());
  } catch (err) {
    const message = `dockerd on ${socketPath}: ${(err as Error).message}\n${logTail(proc.logFile)}`;
    await stop();
    throw new Error(message);
  }
  return { socketPath, dir, logFile: proc.logFile, pid: proc.pid, stop, [Symbol.asyncDispose]: stop };
}

/** Answers `_ping` with OK? */
export async function dockerPing(socketPath: string, timeoutMs = 2_000): Promise<boolean> {
  const answer = await httpGet({ socketPath, path: '/_ping', timeoutMs }).catch(() => undefined);
  return answer?.status === 200 && answer.body === 'OK';
}

/** Imports the busybox test image into the engine unless it is there; returns its name. */
export async function ensureBusyboxImage(socketPath: string): Promise<string> {
  const docker = new Docker({ socketPath });
  try {
    await docker.getImage(BUSYBOX_IMAGE).inspect();
    return BUSYBOX_IMAGE;
  } catch {
    // not there yet
  }
  const rootfs = await buildRootfs();
  try {
    const tar = spawn('tar', ['-C', rootfs, '--numeric-owner', '--owner=0', '--group=0', '-c', '.'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const tarExit = new Promise<number | null>((resolve) => tar.once('close', resolve));
    const [repo, tag] = BUSYBOX_IMAGE.split(':');
    const progress = await docker.importImage(tar.stdout, { repo, tag, changes: 'CMD ["/bin/sh"]' });
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(progress, (err: Error | null, events: Array<{ error?: string }>) => {
        const failed = err ?? events.find((e) => e.error)?.error;
        if (failed) reject(new Error(`importing ${BUSYBOX_IMAGE}: ${String(failed)}`));
        else resolve();
      });
    });
    const code = await tarExit;
    if (code !== 0) throw new Error(`importing ${BUSYBOX_IMAGE}: tar exited with ${code}`);
    await docker.getImage(BUSYBOX_IMAGE).inspect();
    return BUSYBOX_IMAGE;
  } finally {
    fs.rmSync(rootfs, { recursive: true, force: true });
  }
}

/** / with bin/busybox and a link per applet (sh, sleep, echo, cat, nc, httpd, …), etc, tmp. */
async function buildRootfs(): Promise<string> {
  const root = await tempDir('rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'root', 'proc', 'sys', 'dev']) fs.mkdirSync(path.join(root, d));
  fs.chmodSync(path.join(root, 'tmp'), 0o1777);
  fs.copyFileSync(BUSYBOX, path.join(root, 'bin', 'busybox'));
  fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
  const list = spawnSync(BUSYBOX, ['--list'], { encoding: 'utf8' });
  if (list.status !== 0) throw new Error(`${BUSYBOX} --list failed: ${list.stderr}`);
  for (const applet of list.stdout.split('\n').filter((a) => a && a !== 'busybox')) {
    fs.symlinkSync('busybox', path.join(root, 'bin', applet));
  }
  fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  fs.writeFileSync(path.join(root, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  return root;
}

async function waitForPing(socketPath: string, timeoutMs: number, exited: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = exited();
    if (status !== undefined) throw new Error(`exited (${status}) before answering _ping`);
    if (await dockerPing(socketPath, 1_000)) return;
    if (Date.now() > deadline) throw new Error(`did not answer _ping within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Removes every container at once, so stopping the daemon does not wait for theirs to stop. */
async function removeAllContainers(socketPath: string): Promise<void> {
  try {
    const docker = new Docker({ socketPath, timeout: 10_000 });
    const containers = await docker.listContainers({ all: true });
    await Promise.allSettled(containers.map((c) => docker.getContainer(c.Id).remove({ force: true })));
  } catch {
    // the daemon is unwell; stopService kills what is left
  }
}
