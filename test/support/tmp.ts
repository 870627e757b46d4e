// Temp directories for test runs, the service processes that live in them, and their reaping.
//
//   $AGORA_TEST_TMP, else <os tmpdir>/agora-test/
//     <pid>-<time>/          one run: a process that starts services (vitest main, a test worker)
//       owner.json           {pid, startTime} of that process; the run is stale once it is gone
//       zk-1/                a service: service.json, pid, its config, its log, its data
//       dockerd-2/
//       tmp-XXXXXX/          tempDir() for tests
//
// Run and temp directories are 0711, not mkdtemp's 0700: agents refuse a work dir that task users
// (tasks run as nobody by default) cannot pass through to reach their sandboxes.
//
// A service is spawned detached (its own process group) with its output in a log file. It dies:
// on stop (SIGTERM to the group, SIGKILL after a grace period); at process exit or on SIGINT,
// SIGTERM or SIGHUP (SIGKILL, synchronously); or, if this process was SIGKILLed, when a later
// reapRuns() finds the run's owner gone. Reaping kills every process whose command line names the
// service's directory (containerd and its shims leave dockerd's process group) and their
// descendants, then unmounts what is still mounted below the directory and removes it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TMP_ROOT = path.resolve(process.env.AGORA_TEST_TMP ?? path.join(os.tmpdir(), 'agora-test'));

/** Others may pass through (to a task's sandbox below), not list. */
const TRAVERSABLE = 0o711;

/** AGORA_TEST_KEEP=1 keeps directories (logs, data) after the processes are gone. */
const keepDirs = process.env.AGORA_TEST_KEEP === '1';

// ---------------------------------------------------------------------------------------------
// Directories

let ownRunDir: string | undefined;
let serviceCounter = 0;

/** This process's run directory, created on first use. */
export function runDir(): string {
  if (ownRunDir) return ownRunDir;
  fs.mkdirSync(TMP_ROOT, { recursive: true, mode: TRAVERSABLE });
  const name = `${process.pid}-${Date.now().toString(36)}`;
  // Created under a hidden name and renamed, so a reaper never sees a run without its owner.
  const staging = path.join(TMP_ROOT, `.${name}`);
  fs.mkdirSync(staging);
  fs.chmodSync(staging, TRAVERSABLE); // mkdir's mode is cut by the umask
  const owner = { pid: process.pid, startTime: procStartTime(process.pid), argv: process.argv };
  fs.writeFileSync(path.join(staging, 'owner.json'), JSON.stringify(owner));
  fs.renameSync(staging, path.join(TMP_ROOT, name));
  ownRunDir = path.join(TMP_ROOT, name);
  installExitHandlers();
  return ownRunDir;
}

/** A fresh directory `<kind>-<n>` in this process's run directory. */
export function makeServiceDir(kind: string): string {
  const dir = path.join(runDir(), `${kind}-${++serviceCounter}`);
  fs.mkdirSync(dir);
  return dir;
}

/** A fresh temp directory (0711) for a test; removed with the run directory when the process exits. */
export async function tempDir(prefix = 'tmp'): Promise<string> {
  const dir = await fs.promises.mkdtemp(path.join(runDir(), `${prefix}-`));
  await fs.promises.chmod(dir, TRAVERSABLE);
  return dir;
}

/** Unmounts whatever is mounted below `dir` and removes it. False if something is still busy. */
export function removeDir(dir: string): boolean {
  if (!fs.existsSync(dir)) return true;
  for (const mountPoint of mountsBelow(dir)) spawnSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
  removeContainerCgroups(dir);
  if (keepDirs) return true;
  try {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    return true;
  } catch {
    return false;
  }
}

/**
 * A dockerd killed with containers running leaves their (empty) cgroups behind: remove the
 * cgroups named after the containers in `dir`'s docker data roots (cgroupfs driver, v1 or v2).
 */
function removeContainerCgroups(dir: string): void {
  const ids = ['.', ...safeReaddir(dir)].flatMap((s) => safeReaddir(path.join(dir, s, 'data', 'containers')));
  if (ids.length === 0) return;
  const parents = ['/sys/fs/cgroup/docker', ...safeReaddir('/sys/fs/cgroup').map((c) => `/sys/fs/cgroup/${c}/docker`)];
  for (const cgroup of parents.flatMap((p) => ids.map((id) => path.join(p, id)))) {
    try {
      fs.rmdirSync(cgroup);
    } catch {
      // not there, or not empty yet
    }
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** The last `lines` lines of a log file, indented, for error messages. */
export function logTail(file: string, lines = 40): string {
  let text: string;
  try {
    const fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, size - length);
    fs.closeSync(fd);
    text = buffer.toString('utf8');
  } catch (err) {
    return `    (no log at ${file}: ${(err as Error).message})`;
  }
  if (text.trim() === '') return `    (${file} is empty)`;
  const tail = text.trimEnd().split('\n').slice(-lines);
  return `    --- last ${tail.length} lines of ${file}\n${tail.map((l) => `    ${l}`).join('\n')}`;
}

// ---------------------------------------------------------------------------------------------
// Service processes

export interface SpawnServiceOptions {
  name: string;
  dir: string;
  command: string;
  args: string[];
  /** Where the service can be reached; recorded in service.json for `test-services.mjs status`. */
  endpoint: string;
  logFile?: string;
  env?: NodeJS.ProcessEnv;
}

export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  readonly dir: string;
  readonly logFile: string;
  /** Resolves when the process has exited, with a description like `code 1` or `signal SIGKILL`. */
  readonly exited: Promise<string>;
  /** The exit description once it has exited. */
  exitStatus(): string | undefined;
}

const live = new Map<number, ServiceProcess>();

export function spawnService(opts: SpawnServiceOptions): ServiceProcess {
  const logFile = opts.logFile ?? path.join(opts.dir, `${opts.name}.log`);
  const out = fs.openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(opts.command, opts.args, {
      cwd: opts.dir,
      detached: true,
      stdio: ['ignore', out, out],
      env: opts.env ?? process.env,
    });
  } finally {
    fs.closeSync(out);
  }
  child.unref();
  let status: string | undefined;
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => {
      status = `error ${err.message}`;
      resolve(status);
    });
    child.once('exit', (code, signal) => {
      status = signal ? `signal ${signal}` : `code ${code}`;
      resolve(status);
    });
  });
  const pid = child.pid ?? -1;
  const svc: ServiceProcess = { name: opts.name, pid, dir: opts.dir, logFile, exited, exitStatus: () => status };
  if (pid > 0) {
    live.set(pid, svc);
    void exited.then(() => live.delete(pid));
    runDir(); // make sure the exit handlers are installed
    const record = { name: opts.name, endpoint: opts.endpoint, pid, startTime: procStartTime(pid) };
    fs.writeFileSync(path.join(opts.dir, 'pid'), `${pid}\n`);
    fs.writeFileSync(path.join(opts.dir, 'service.json'), JSON.stringify(record));
  }
  return svc;
}

/**
 * Stops a service: `signal` to its process group, SIGKILL after `graceMs`, then SIGKILL for any
 * process left that names its directory (and their children). Idempotent.
 */
export async function stopService(svc: ServiceProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
  if (svc.pid > 0 && svc.exitStatus() === undefined) {
    killGroup(svc.pid, signal);
    if (!(await exitsWithin(svc, signal === 'SIGKILL' ? 5_000 : graceMs))) {
      killGroup(svc.pid, 'SIGKILL');
      await exitsWithin(svc, 5_000);
    }
  }
  killTree([svc.pid], [svc.dir]);
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

async function exitsWithin(svc: ServiceProcess, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const result = await Promise.race([svc.exited.then(() => true), timeout]);
  clearTimeout(timer);
  return result;
}

let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', reapOwnRunSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      reapOwnRunSync();
      // Nobody else handles it: die of the signal as if we had not been listening.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** SIGKILLs every service this process started and removes its run directory. Synchronous. */
function reapOwnRunSync(): void {
  if (!ownRunDir) return;
  const pids = killTree([...live.keys()], [ownRunDir]);
  waitForDeathSync(pids, 2_000);
  removeDir(ownRunDir);
}

// ---------------------------------------------------------------------------------------------
// Runs left behind (status and cleanup)

export interface ServiceInfo {
  dir: string;
  name: string;
  endpoint: string;
  pid: number;
  alive: boolean;
}

export interface RunInfo {
  dir: string;
  ownerPid: number | undefined;
  ownerAlive: boolean;
  services: ServiceInfo[];
}

/** The runs under TMP_ROOT, each with its owner's liveness and its services. */
export function listRuns(): RunInfo[] {
  const names = safeReaddir(TMP_ROOT).filter((n) => !n.startsWith('.'));
  return names.map((name) => {
    const dir = path.join(TMP_ROOT, name);
    const owner = readJson(path.join(dir, 'owner.json'));
    const ownerPid = typeof owner?.pid === 'number' ? owner.pid : undefined;
    const ownerAlive = ownerPid !== undefined && isAlive(ownerPid, owner?.startTime);
    return { dir, ownerPid, ownerAlive, services: listServices(dir) };
  });
}

/** Reaps runs whose owner has died (all runs but this process's own with `all`). */
export function reapRuns(opts: { all?: boolean } = {}): RunInfo[] {
  const stale = listRuns().filter((r) => r.dir !== ownRunDir && (opts.all || !r.ownerAlive));
  for (const run of stale) {
    const pids = killTree(run.services.filter((s) => s.alive).map((s) => s.pid), [run.dir]);
    waitForDeathSync(pids, 3_000);
    removeDir(run.dir);
  }
  return stale;
}

/** Services in `dir` and, for groups such as an ensemble, one level further down. */
function listServices(dir: string, depth = 2): ServiceInfo[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const services: ServiceInfo[] = [];
  for (const entry of entries.filter((e) => e.isDirectory())) {
    const sub = path.join(dir, entry.name);
    const record = readJson(path.join(sub, 'service.json'));
    if (typeof record?.pid !== 'number') {
      if (depth > 1) services.push(...listServices(sub, depth - 1));
      continue;
    }
    const alive = isAlive(record.pid, record.startTime);
    services.push({ dir: sub, name: String(record.name), endpoint: String(record.endpoint), pid: record.pid, alive });
  }
  return services;
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// /proc

interface ProcEntry {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
  startTime: string;
  cmdline: string;
}

function readStat(pid: number): Omit<ProcEntry, 'cmdline'> | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    // cutime cstime priority nice threads itrealvalue starttime …; comm may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, state: fields[0] ?? '?', ppid: Number(fields[1]), pgid: Number(fields[2]), startTime: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

function procStartTime(pid: number): string | undefined {
  return readStat(pid)?.startTime;
}

/** Running (zombies count as dead) and, when `startTime` is known, not a reused pid. */
function isAlive(pid: number, startTime?: unknown): boolean {
  const stat = readStat(pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
  return typeof startTime !== 'string' || stat.startTime === startTime;
}

function readProcTable(): ProcEntry[] {
  const entries: ProcEntry[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (!stat) continue;
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    entries.push({ ...stat, cmdline });
  }
  return entries;
}

/**
 * SIGKILLs the processes (and process groups) `roots`, every process whose command line names
 * one of `dirs`, and all their descendants, never this process or its ancestors. Returns the pids.
 */
export function killTree(roots: number[], dirs: string[]): number[] {
  const table = readProcTable();
  const spared = new Set<number>();
  for (let pid: number | undefined = process.pid; pid && pid > 1 && !spared.has(pid); ) {
    spared.add(pid);
    pid = table.find((e) => e.pid === pid)?.ppid;
  }
  const rootSet = new Set(roots.filter((p) => p > 1));
  const markers = dirs.map((d) => path.resolve(d) + '/');
  const chosen = new Set<number>();
  for (const e of table) {
    const named = markers.some((m) => e.cmdline.includes(m) || e.cmdline.includes(m.slice(0, -1) + ' '));
    if (rootSet.has(e.pid) || rootSet.has(e.pgid) || named) chosen.add(e.pid);
  }
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of table) {
      if (chosen.has(e.ppid) && !chosen.has(e.pid)) {
        chosen.add(e.pid);
        grew = true;
      }
    }
  }
  const killed: number[] = [];
  for (const e of table) {
    if (!chosen.has(e.pid) || spared.has(e.pid) || e.state === 'Z') continue;
    try {
      process.kill(e.pid, 'SIGKILL');
      killed.push(e.pid);
    } catch {
      // gone meanwhile
    }
  }
  return killed;
}

function waitForDeathSync(pids: number[], ms: number): void {
  const deadline = Date.now() + ms;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  while (pids.some((p) => isAlive(p)) && Date.now() < deadline) Atomics.wait(sleeper, 0, 0, 20);
}

function mountsBelow(dir: string): string[] {
  const root = path.resolve(dir);
  let text: string;
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .map((p) => p.replace(/\\(\d{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))))
    .filter((p) => p === root || p.startsWith(root + '/'))
    .sort((a, b) => b.length - a.length);
}
