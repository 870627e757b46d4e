// A master in its own process (`agora master --zk …`, the built CLI), for tests that SIGKILL, SIGSTOP and
// SIGCONT it. Its first stdout line says where it listens and whether it leads.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { agoraArgv } from './build.js';
import { secureFetch, testPki } from './security.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface MasterProcess {
  readonly child: ChildProcess;
  readonly id: string;
  readonly grpcAddress: string;
  readonly httpAddress: string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** Everything it wrote to stderr (JSON log lines). */
  log(): string;
  kill(signal?: NodeJS.Signals): void;
}

/** Flags every test master gets: short timeouts so failover takes seconds. */
export const FAST_MASTER_FLAGS: Readonly<Record<string, string>> = {
  '--http-port': '0',
  '--grpc-port': '0',
  '--zk-session-timeout': '2s',
  '--allocation-interval': '100ms',
  '--agent-ping-interval': '200ms',
  '--max-agent-ping-timeouts': '5',
  '--heartbeat-interval': '250ms',
  '--agent-reregister-timeout': '5s',
  '--log-level': 'info',
};

/** TLS and the admin token, as an operator runs a master: the run's PKI files. */
export function secureMasterFlags(): Record<string, string> {
  const pki = testPki();
  return { '--tls-ca': pki.files.ca, '--tls-cert': pki.files.serverCert, '--tls-key': pki.files.serverKey, '--bootstrap-token-file': pki.files.adminToken, '--zk-credentials-file': pki.files.zkCredentials };
}

export async function spawnMaster(zk: string, cluster: string, flags: Record<string, string> = {}): Promise<MasterProcess> {
  const args = agoraArgv('master', '--zk', zk, '--cluster', cluster);
  const secure = secureMasterFlags();
  // A URL with credentials of its own keeps them (the file would replace them).
  if (/^zk:\/\/[^/]*@/.test(zk)) delete secure['--zk-credentials-file'];
  for (const [flag, value] of Object.entries({ ...FAST_MASTER_FLAGS, ...secure, ...flags })) args.push(flag, value);
  // For digging into a benchmark: e.g. AGORA_MASTER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'
  // (a profile is written when the master exits on SIGTERM, not on SIGKILL).
  const nodeArgs = (process.env['AGORA_MASTER_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`master did not start in 20 s; stderr:\n${stderr.slice(-2000)}`));
    }, 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`master exited (${code}) before starting; stderr:\n${stderr.slice(-2000)}`));
    });
  });
  const match = /^master (\S+) .*: grpc (\S+), http https?:\/\/(\S+)$/.exec(line);
  if (!match) {
    child.kill('SIGKILL');
    throw new Error(`unexpected first line from the master: ${line}`);
  }
  running.add(child);
  void exited.then(() => running.delete(child));
  return {
    child,
    id: match[1] as string,
    grpcAddress: match[2] as string,
    httpAddress: match[3] as string,
    exited,
    log: () => stderr,
    kill: (signal = 'SIGKILL') => {
      child.kill(signal);
    },
  };
}

const running = new Set<ChildProcess>();

/** SIGTERM every master still running and wait up to `graceMs` for it to exit. */
export async function stopMasters(graceMs: number): Promise<void> {
  await signalAll('SIGTERM', graceMs);
}

/** Kill every master process still running (afterEach). */
export async function killMasters(): Promise<void> {
  await signalAll('SIGKILL');
}

/** Wake (SIGCONT: a test may have frozen one) and signal every running master; wait for each to exit, up to `waitMs`. */
async function signalAll(signal: NodeJS.Signals, waitMs = Infinity): Promise<void> {
  await Promise.all([...running].map((child) => new Promise<void>((resolve) => {
    const timer = Number.isFinite(waitMs) ? setTimeout(resolve, waitMs) : undefined;
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGCONT');
    child.kill(signal);
  })));
}

process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** GET a JSON endpoint (no redirects followed). */
export async function getJson(address: string, path: string): Promise<{ status: number; body: unknown; location: string | null }> {
  const res = await secureFetch(`https://${address}${path}`, { redirect: 'manual' });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, location: res.headers.get('location') };
}
