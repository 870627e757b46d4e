// Hostile sandboxes on a real agent: a task puts symlinks (to /etc/shadow, to /, to a directory),
// FIFOs, a socket and directories where the agent reads files, and swaps a directory for a symlink
// while it is listed. The agent reads as root, so each read must follow no link, open nothing
// that blocks, and say what it found (a 400) — never serve it, never hang, never 500. And on an
// `agora up` (master, agent and frameworks in one process), requests at a FIFO, more than the
// libuv thread pool has threads, leave the other endpoints answering at once.
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/agent.js';
import { startUp } from '../../cli/up-command.js';
import { fetch, type RequestInit } from 'undici';
import { grpcChannelCredentials, httpsDispatcher } from '../../core/security/tls.js';
import { launchTask, startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { eventually, MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { secureFetch } from '../support/security.js';
import { TestFramework, taskInfo } from '../support/test-framework.js';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await stopTestAgents();
  await stopHarnesses();
});

async function setup(): Promise<{ agent: Agent; fw: TestFramework; base: string }> {
  const h = await MasterHarness.start();
  const agent = await startTestAgent(h.address);
  const fw = await h.framework({ autoAck: true });
  return { agent, fw, base: `https://${agent.httpAddress}` };
}

async function get(url: string): Promise<{ status: number; text: string; message: string }> {
  const res = await secureFetch(url);
  const text = await res.text();
  let message = '';
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? '';
  } catch {
    // not JSON: a log or a file
  }
  return { status: res.status, text, message };
}

/** `promise`, or a failure naming `what` when it takes longer than `ms`. */
async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: ${what}`)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Makes a socket named `name` in the cwd and leaves it there (node is on every test machine). */
const makeSocket = (name: string): string => `${process.execPath} -e "require('net').createServer().listen('${name}', () => process.exit(0))"`;

describe('agent: sandbox reads of what a task planted', () => {
  it('refuses a log, a download or a listing that is a symlink, FIFO, socket or the wrong kind, naming it', async () => {
    const { fw, base } = await setup();
    const command = [
      'echo before',
      'rm -f stdout stderr',
      'ln -s /etc/shadow stdout',
      'mkfifo stderr',
      'mkdir real && echo inside > real/file',
      'ln -s / rootlink',
      'ln -s real dirlink',
      'mkfifo fifo',
      makeSocket('sock'),
    ].join(' && ');
    await launchTask(fw, taskInfo('planter', 'cpus:0.1;mem:64', { command: { value: command } }));
    await fw.waitForUpdate('planter', 'TASK_FINISHED', { timeoutMs: 10_000 });
    const task = `${base}/api/v1/tasks/planter`;

    const refused: [string, string][] = [
      ['/logs?stream=stdout', 'stream: stdout is a symlink, not a regular file'],
      ['/logs?stream=stdout&follow=1', 'stream: stdout is a symlink, not a regular file'],
      ['/logs?stream=stderr', 'stream: stderr is a FIFO, not a regular file'],
      ['/logs?stream=stderr&follow=1', 'stream: stderr is a FIFO, not a regular file'],
      ['/files/download?path=stdout', "path: 'stdout' is a symlink, not a regular file"],
      ['/files/download?path=fifo', "path: 'fifo' is a FIFO, not a regular file"],
      ['/files/download?path=sock', "path: 'sock' is a socket, not a regular file"],
      ['/files/download?path=real', "path: 'real' is a directory, not a regular file"],
      ['/files/download?path=rootlink%2Fetc%2Fshadow', "path: 'rootlink' is a symlink, not a directory"],
      ['/files/download?path=dirlink%2Ffile', "path: 'dirlink' is a symlink, not a directory"],
      ['/files?path=rootlink', "path: 'rootlink' is a symlink, not a directory"],
      ['/files?path=dirlink', "path: 'dirlink' is a symlink, not a directory"],
      ['/files?path=fifo', "path: 'fifo' is a FIFO, not a directory"],
      ['/files?path=real%2Ffile', "path: 'real/file' is a regular file, not a directory"],
      ['/files?path=real%2F..%2F..', "path: 'real/../..' is outside the task's sandbox"],
    ];
    for (const [query, message] of refused) {
      const res = await get(task + query);
      expect({ query, status: res.status, message: res.message }).toEqual({ query, status: 400, message });
      expect(res.text).not.toContain('root:');
    }

    // What is really there still reads, and the listing says what each name is without following it.
    expect(await get(`${task}/files/download?path=real%2Ffile`)).toMatchObject({ status: 200, text: 'inside\n' });
    const listing = await secureFetch(`${task}/files`);
    const { files } = (await listing.json()) as { files: { name: string; type: string }[] };
    const types = Object.fromEntries(files.map((f) => [f.name, f.type]));
    expect(types).toEqual({ stdout: 'symlink', stderr: 'other', real: 'directory', rootlink: 'symlink', dirlink: 'symlink', fifo: 'other', sock: 'other' });
    const inside = (await (await secureFetch(`${task}/files?path=real`)).json()) as { files: { path: string }[] };
    expect(inside.files.map((f) => f.path)).toEqual(['real/file']);
  });

  it('reads a log that is not written yet as empty, followed or not', async () => {
    const { fw, base } = await setup();
    await launchTask(fw, taskInfo('silent', 'cpus:0.1;mem:64', { command: { value: 'rm -f stdout' } }));
    await fw.waitForUpdate('silent', 'TASK_FINISHED', { timeoutMs: 10_000 });
    const plain = await secureFetch(`${base}/api/v1/tasks/silent/logs`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('x-agora-log-size')).toBe('0');
    expect(await plain.text()).toBe('');
    const followed = await secureFetch(`${base}/api/v1/tasks/silent/logs?follow=1`);
    expect(followed.status).toBe(200);
    expect(await followed.text()).toBe('');
  });

  it('never lists what a symlink swapped in for a directory points at (no check-then-list race)', async () => {
    const { agent, fw, base } = await setup();
    // `d` flips between a directory holding `mine` and a symlink to /, as fast as the shell goes.
    const command = 'mkdir d.real && touch d.real/mine && echo ready && while :; do mv d.real d; mv d d.real; ln -s / d; rm d; done';
    await launchTask(fw, taskInfo('flipper', 'cpus:1;mem:64', { command: { value: command }, killPolicy: { gracePeriodSeconds: 0 } }));
    await fw.waitForUpdate('flipper', 'TASK_RUNNING', { timeoutMs: 10_000 });
    const stdout = path.join(agent.checkpoint.sandboxDir(fw.frameworkId, 'flipper'), 'stdout');
    await eventually(async () => expect(await readFile(stdout, 'utf8')).toContain('ready'), { timeoutMs: 10_000, what: 'the task to start flipping' });
    const seen = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const res = await secureFetch(`${base}/api/v1/tasks/flipper/files?path=d`);
      const body = (await res.json()) as { files?: { name: string }[]; message?: string };
      const outcome = res.status === 200 ? `200 ${(body.files ?? []).map((f) => f.name).join(',')}` : `${res.status}`;
      seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
    }
    // A listing of the directory, a 400 (a symlink is there) or a 404 (mid-swap) — never /'s names.
    for (const outcome of seen.keys()) expect(['200 mine', '200 ', '400', '404']).toContain(outcome);
    expect(seen.get('400') ?? 0).toBeGreaterThan(0);
    await fw.kill('flipper');
    await fw.waitForUpdate('flipper', 'TASK_KILLED', { timeoutMs: 10_000 });
  });
});

describe('agora up: sandbox reads cannot occupy the thread pool', () => {
  it('answers hostile reads at once, and the agent, a master write and a file read while followers stay open', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'agora-up-fifo-'));
    await chmod(dataDir, 0o711); // tasks run as nobody must reach their sandboxes
    const up = await startUp({ httpPort: 0, grpcPort: 0, agentHttpPort: 0, dataDir, executor: 'process', resources: 'cpus:2;mem:2048;disk:2048;ports:[31000-31010]', hostname: '127.0.0.1', logLevel: 'silent', insecure: false, writeContext: false, allowRootTasks: false, allowPrivileged: false });
    cleanups.push(async () => {
      await up.agent.tasks.killAll({ state: 'TASK_KILLED', reason: 'REASON_AGENT_REMOVED', message: 'test over' });
      await up.stop();
      await rm(dataDir, { recursive: true, force: true });
    });
    const security = up.security;
    if (!security) throw new Error('agora up started without security');
    const tls = { ca: security.masterTls.ca };
    // A client of the test's own, closed before the cluster stops: a TLS connection the client
    // opened and left without a request holds the server's close until Node's timeouts end it.
    const dispatcher = httpsDispatcher(tls);
    cleanups.push(() => dispatcher.destroy());
    const call = (url: string, init: RequestInit = {}): ReturnType<typeof fetch> =>
      fetch(url, { ...init, dispatcher, headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${security.adminToken}` } });
    const fw = await TestFramework.subscribe(up.master.grpcAddress, { name: 'fifo-reader', autoAck: true, credentials: grpcChannelCredentials(tls, security.adminToken) });
    cleanups.push(() => fw.close());

    // stdout becomes a FIFO nobody writes; stderr a symlink to /etc/shadow; `dir` a symlink to /.
    // A second task just talks, for followers that stay open.
    const command = 'rm -f stdout stderr && mkfifo stdout && ln -s /etc/shadow stderr && ln -s / dir && mkfifo fifo && touch planted && exec sleep 60';
    await launchTask(
      fw,
      taskInfo('fifo', 'cpus:0.1;mem:64', { command: { value: command }, killPolicy: { gracePeriodSeconds: 0 } }),
      taskInfo('chatty', 'cpus:0.1;mem:64', { command: { value: 'while :; do echo tick; sleep 0.05; done' }, killPolicy: { gracePeriodSeconds: 0 } }),
    );
    await fw.waitForUpdate('fifo', 'TASK_RUNNING', { timeoutMs: 10_000 });
    await fw.waitForUpdate('chatty', 'TASK_RUNNING', { timeoutMs: 10_000 });
    const sandbox = up.agent.checkpoint.sandboxDir(fw.frameworkId, 'fifo');
    await eventually(async () => void (await stat(path.join(sandbox, 'planted'))), { timeoutMs: 10_000, what: 'the task to plant its files' });

    const tasks = `https://${up.agent.httpAddress}/api/v1/tasks`;
    const hostile = ['/logs', '/logs?follow=1', '/logs?stream=stderr', '/logs?stream=stderr&follow=1', '/files/download?path=stdout', '/files/download?path=fifo', '/files?path=dir', '/files/download?path=dir%2Fetc%2Fshadow'];
    // Followers of a live log stay open (each polls through the pool), four times the pool's four threads.
    const followers = new AbortController();
    const following = Array.from({ length: 16 }, async () => {
      const res = await call(`${tasks}/chatty/logs?follow=1`, { signal: followers.signal });
      const reader = res.body?.getReader();
      const first = await reader?.read();
      return { status: res.status, first: Buffer.from(first?.value ?? []).toString(), reader };
    });
    // And reads of the FIFO and the symlinks, four times the pool too, in flight together.
    const piled = Array.from({ length: 4 }, () => hostile).flat().map(async (query) => {
      const res = await call(`${tasks}/fifo${query}`);
      return { query, status: res.status, text: await res.text() };
    });
    cleanups.push(async () => followers.abort());

    for (const a of await within(5_000, Promise.all(piled), 'the answers to the hostile reads')) {
      expect({ query: a.query, status: a.status }).toEqual({ query: a.query, status: 400 });
      expect(a.text).not.toContain('root:');
    }
    const open = await within(5_000, Promise.all(following), 'the followers to start streaming');
    expect(open.map((f) => `${f.status} ${f.first.slice(0, 4)}`)).toEqual(open.map(() => '200 tick'));

    const timed = async <T>(what: string, probe: () => Promise<T>): Promise<{ what: string; ms: number; value: T }> => {
      const t0 = performance.now();
      const value = await within(2_000, probe(), `${what} (is the thread pool occupied?)`);
      return { what, ms: performance.now() - t0, value };
    };
    const others = await Promise.all([
      timed('agent state', async () => (await call(`https://${up.agent.httpAddress}/api/v1/state`)).status),
      timed('master weights (a store write)', async () => (await call(`https://${up.master.httpAddress}/api/v1/weights`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ role: 'probe', weight: 2 }]) })).status),
      timed('a file read in this process', async () => (await stat(dataDir)).isDirectory()),
    ]);
    for (const o of others) expect({ what: o.what, value: o.value, fast: o.ms < 1_000 }).toEqual({ what: o.what, value: o.what.startsWith('a file') ? true : 200, fast: true });
    // The followers were open all along.
    for (const f of open) expect((await f.reader?.read())?.done).toBe(false);
    followers.abort();
    await fw.kill('fifo');
    await fw.kill('chatty');
    await fw.waitForUpdate('fifo', 'TASK_KILLED', { timeoutMs: 10_000 });
  });
});
