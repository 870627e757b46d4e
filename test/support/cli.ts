// The `agora` command as a user runs it, for the e2e tests: an `agora up` child process (port 0s,
// addresses read from what it prints) and one-shot CLI runs with their exit code and output.
//
//   const up = await startUpProcess(await tempDir('up'));      // killed by stopUpProcesses()
//   const r = await runCli(['get', 'services', '--master', up.masterUrl]);
//   expect(r.code).toBe(0);
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './agent-harness.js';
import { freePorts } from './ports.js';
import { secureFetch, testPki } from './security.js';
import { runDir } from './tmp.js';
import { eventually, within } from './waits.js';

const children = new Set<ChildProcess>();

/**
 * How to run `agora`: the build (dist/cli/main.js, as users run it, and it starts in a fraction
 * of the time) when it is newer than every source file — `npm test` builds first — else the
 * sources through tsx.
 */
export const CLI: readonly string[] = builtIsFresh() ? [path.join(REPO_ROOT, 'dist/cli/main.js')] : ['--import', 'tsx', path.join(REPO_ROOT, 'cli/main.ts')];

function builtIsFresh(): boolean {
  const built = path.join(REPO_ROOT, 'dist/cli/main.js');
  if (!existsSync(built)) return false;
  const builtAt = statSync(built).mtimeMs;
  for (const dir of ['proto', 'core', 'master', 'agent', 'sdk', 'frameworks', 'cli']) {
    for (const file of readdirSync(path.join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' })) {
      if (file.endsWith('.ts') && statSync(path.join(REPO_ROOT, dir, file)).mtimeMs > builtAt) return false;
    }
  }
  return true;
}

// ---- credentials: where each `agora` run finds its token and CA ----------------------------------
//
// Every CLI run gets a config file of its own ($AGORA_CONFIG), never ~/.agora. By default it holds
// one context, `test`: the run's admin token and CA (for masters and frameworks the tests start
// with the run's PKI). An `agora up` writes its own context `up` (its own CA and token) to a file of
// its own; a CLI run that names that up's master gets that file.

let defaultConfig: string | undefined;
const upConfigs = new Map<string, string>();

/** The config file a CLI run uses by default: context `test`, as the run's admin. */
export function testCliConfig(): string {
  if (defaultConfig) return defaultConfig;
  const pki = testPki();
  const dir = mkdtempSync(path.join(runDir(), 'cli-config-'));
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, `currentContext: test\ncontexts:\n  test:\n    master: https://127.0.0.1:5050\n    tokenFile: ${pki.files.adminToken}\n    ca: ${pki.files.ca}\n`, { mode: 0o600 });
  defaultConfig = file;
  return file;
}

/** The environment of a CLI run with `args`: the config of the `agora up` it names, else the test one. */
function cliEnv(args: readonly string[]): NodeJS.ProcessEnv {
  const named = [...upConfigs].find(([url]) => args.some((a) => a === url || a.startsWith(`${url}/`)));
  const last = [...upConfigs.values()].at(-1);
  const config = named?.[1] ?? (args.includes('--master') || args.includes('--api') ? testCliConfig() : (last ?? testCliConfig()));
  return { ...process.env, AGORA_CONFIG: config, AGORA_TOKEN: '', AGORA_CA: '', AGORA_MASTER: '', AGORA_API: '', AGORA_CONTEXT: '' };
}

export interface UpProcess {
  readonly masterUrl: string;
  /** The CLI config `agora up` wrote its context to. */
  readonly config: string;
  /** HTTPS to this cluster as its admin: the token and CA its first start made. */
  fetch(url: string, init?: Parameters<typeof secureFetch>[1]): ReturnType<typeof secureFetch>;
  readonly grpc: string;
  readonly agentUrl: string;
  output(): string;
  readonly exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * `agora up` on port 0s with a few free task ports; resolves once it prints its addresses.
 * `capacity` is its agent's scalar resources (default `cpus:2;mem:2048;disk:1024`), `taskPorts` how many
 * free ports it offers tasks.
 */
export async function startUpProcess(dataDir: string, timeoutMs = 30_000, capacity = 'cpus:2;mem:2048;disk:1024', taskPorts = 8): Promise<UpProcess> {
  // Free ports as one-port ranges, so tasks never collide with other tests' servers.
  const ports = (await freePorts(taskPorts)).sort((a, b) => a - b).map((p) => `${p}-${p}`);
  const resources = `${capacity};ports:[${ports.join(',')}]`;
  const args = [...CLI, 'up', '--http-port', '0', '--grpc-port', '0', '--agent-http-port', '0', '--dns-port', '0', '--data-dir', dataDir, '--resources', resources, '--log-level', 'warn'];
  const config = `${dataDir}.cli-config.yaml`;
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AGORA_CONFIG: config } });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const http = /master http: (\S+)/.exec(out)?.[1];
    const grpc = /master grpc: (\S+)/.exec(out)?.[1];
    const agent = /agent http: (\S+)/.exec(out)?.[1];
    if (http && grpc && agent && /cli context: up/.test(out)) {
      upConfigs.set(http, config);
      const tls = { ca: readFileSync(path.join(dataDir, 'tls', 'ca.pem')) };
      const token = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
      const fetch = (url: string, init: Parameters<typeof secureFetch>[1] = {}): ReturnType<typeof secureFetch> => secureFetch(url, { tls, token, ...init });
      return { masterUrl: http, config, fetch, grpc, agentUrl: agent, output: () => out, exited, kill: (s) => child.kill(s) };
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`agora up printed no addresses:\n${out}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `agora up` for a file of CLI tests (startUpProcess), once its Jobs API answers. */
export async function startUpForCli(dataDir: string): Promise<UpProcess> {
  const up = await startUpProcess(dataDir);
  // The frameworks start just after the master.
  await eventually(async () => (await up.fetch(`${up.masterUrl}/api/v1/services`)).status === 200, { timeoutMs: 20_000, what: 'the Jobs API' });
  return up;
}

/**
 * The end of such a cluster: the workloads at `deletePaths` (`/api/v1/services/web`) deleted so
 * their tasks are killed, `agora up` stopped, the CLIs the tests started, tasks left under it.
 */
export async function stopUpForCli(up: UpProcess | undefined, dataDir: string, deletePaths: readonly string[] = []): Promise<void> {
  if (up) {
    for (const p of deletePaths) await up.fetch(`${up.masterUrl}${p}`, { method: 'DELETE' }).catch(() => undefined);
    up.kill('SIGTERM');
    await within(up.exited, 10_000, undefined);
  }
  await stopCliProcesses();
  await killProcessesUnder(dataDir);
}

/** The CLI against this cluster's master, with the run's admin credentials. */
export function cliOf(up: () => UpProcess): (...args: string[]) => Promise<CliResult> {
  return (...args) => runCli([...args, '--master', up().masterUrl]);
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `agora ARGS…` to completion (killed after timeoutMs). */
export function runCli(args: readonly string[], options: { stdin?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const env = dropEmpty({ ...cliEnv(args), ...options.env });
  const child = spawn(process.execPath, [...CLI, ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'], env });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin?.end(options.stdin ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface RunningCli {
  /** What it has printed so far. */
  stdout(): string;
  stderr(): string;
  /** Send `signal` (SIGINT: Ctrl-C) and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<CliResult>;
}

/** Start `agora ARGS…` that runs until stopped (`get --watch`); stopCliProcesses() kills it if the test does not. */
export function spawnCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): RunningCli {
  const env = dropEmpty({ ...cliEnv(args), ...options.env });
  const child = spawn(process.execPath, [...CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    stop: async (signal = 'SIGINT') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      children.delete(child);
      return { code, stdout, stderr };
    },
  };
}

/** Variables set to '' or undefined are left out (so a test can unset one). */
function dropEmpty(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
}

/** SIGKILL whatever is still running (call in afterEach / afterAll). */
export async function stopCliProcesses(): Promise<void> {
  await Promise.all(
    [...children].map(async (child) => {
      children.delete(child);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }),
  );
}

/** SIGKILL every process whose working directory is under `dir` (tasks left in sandboxes). */
export async function killProcessesUnder(dir: string): Promise<number> {
  const { readdir, readlink } = await import('node:fs/promises');
  let killed = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => '');
    if (cwd === dir || cwd.startsWith(`${dir}/`)) {
      try {
        process.kill(Number(entry), 'SIGKILL');
        killed += 1;
      } catch {
        // gone already
      }
    }
  }
  return killed;
}

export interface FrameworksProcess {
  readonly grpcAddress: string;
  readonly httpAddress: string;
  readonly exited: Promise<number | null>;
  output(): string;
  kill(signal: NodeJS.Signals): void;
}

/** `agora frameworks …` on port 0s; resolves once it prints where it listens. */
export async function startFrameworksProcess(args: readonly string[], timeoutMs = 30_000): Promise<FrameworksProcess> {
  const pki = testPki();
  // Masters started from the CLI know the admin token (--bootstrap-token-file), and keep their
  // znodes private to the test ZooKeeper credentials, which the frameworks' store needs too.
  const secure = ['--tls-ca', pki.files.ca, '--tls-cert', pki.files.serverCert, '--tls-key', pki.files.serverKey, '--token-file', pki.files.adminToken, '--zk-credentials-file', pki.files.zkCredentials];
  const child = spawn(process.execPath, [...CLI, 'frameworks', '--grpc-port', '0', '--http-port', '0', '--dns-port', '0', '--retry-delay', '200ms', ...secure, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = /frameworks listening: grpc (\S+), http https?:\/\/(\S+)/.exec(out);
    if (match) return { grpcAddress: match[1] ?? '', httpAddress: match[2] ?? '', exited, output: () => out, kill: (s) => child.kill(s) };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`agora frameworks did not start:\n${out}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
