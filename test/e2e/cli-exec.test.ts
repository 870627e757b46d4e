// `agora exec` as a user runs it: the CLI → the master → the task's agent, over TLS with tokens,
// into a real process task (run as nobody, in its cgroup) — output, exit status, stdin, a
// pseudo-terminal driven by `script` (resize included), the refusals, and no process left behind
// when the CLI goes away.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { issueToken } from '../support/acl.js';
import { launchTask, startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { CLI, runCli, stopCliProcesses, testCliConfig } from '../support/cli.js';
import { eventually, MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { channel, testPki } from '../support/security.js';
import { testServices } from '../support/services.js';
import { taskInfo } from '../support/test-framework.js';
import { holdsFor, pace } from '../support/waits.js';
import { ptySlave } from '../../agent/exec-process.js';
import type { Agent } from '../../agent/agent.js';

afterEach(async () => {
  await stopCliProcesses();
  await stopTestAgents();
  await stopHarnesses();
});
afterAll(stopCliProcesses);

const SLEEPER = 'cat /proc/self/cgroup > cgroup-of-task; exec sleep 600';

async function cluster(agentFlags: Record<string, string> = {}): Promise<{ h: MasterHarness; agent: Agent; flags: string[] }> {
  const h = await MasterHarness.start({ master: { httpIdleTimeout: '1s' } });
  const agent = await startTestAgent(h.address, { httpIdleTimeout: '1s', ...agentFlags });
  return { h, agent, flags: ['--master', `https://${h.master.httpAddress}`, '--ca', testPki().files.ca] };
}

async function runningTask(h: MasterHarness, id: string, options: { token?: string; env?: Record<string, string> } = {}): Promise<void> {
  const fw = await h.framework({ autoAck: true, ...(options.token ? { credentials: channel({ token: options.token }) } : {}) });
  const variables = Object.entries(options.env ?? {}).map(([name, value]) => ({ name, value }));
  await launchTask(fw, taskInfo(id, 'cpus:0.1;mem:64', { command: { value: SLEEPER, environment: { variables } } }));
  // No more offers to it: the next framework of the test gets the agent's rest.
  await fw.suppress();
  await fw.waitForUpdate(id, 'TASK_RUNNING', { timeoutMs: 10_000 });
}

function sandboxOf(agent: Agent, taskId: string): string {
  const entry = [...agent.tasks.tasks.values()].find((t) => t.taskId === taskId);
  if (!entry) throw new Error(`no task ${taskId}`);
  return entry.sandbox;
}

describe('agora exec', () => {
  it('runs a command in the task: its sandbox, user, cgroup and environment; the exit status is the CLI\u2019s', async () => {
    const { h, agent, flags } = await cluster();
    await runningTask(h, 'web-1', { env: { GREETING: 'hello from the task' } });
    const sandbox = sandboxOf(agent, 'web-1');
    await eventually(() => expect(fs.existsSync(`${sandbox}/cgroup-of-task`)).toBe(true));

    const out = await runCli(['exec', 'web-1', ...flags, '--', 'sh', '-c', 'pwd; id -un; echo "$GREETING"; cat /proc/self/cgroup; echo oops >&2; exit 3']);
    const taskCgroup = fs.readFileSync(`${sandbox}/cgroup-of-task`, 'utf8');
    expect(out.code).toBe(3);
    expect(out.stderr).toBe('oops\n');
    const [pwd, user, greeting, ...cgroup] = out.stdout.trimEnd().split('\n');
    expect([pwd, user, greeting]).toEqual([sandbox, 'nobody', 'hello from the task']);
    // The same cgroups as the task's own process (memory, cpu, pids: the task's directories).
    expect(cgroup.join('\n')).toBe(taskCgroup.trimEnd());
    expect(taskCgroup).toMatch(/memory:\/agora\/web-1-/);

    const ok = await runCli(['exec', 'web-1', ...flags, '--', 'true']);
    expect([ok.code, ok.stdout, ok.stderr]).toEqual([0, '', '']);

    // A quiet session outlives the HTTP idle timeouts of the master and the agent (1 s here):
    // only --exec-idle-timeout ends it.
    const quiet = await runCli(['exec', 'web-1', ...flags, '--', 'sh', '-c', 'sleep 2.5; echo still here']);
    expect([quiet.code, quiet.stdout]).toEqual([0, 'still here\n']);
  });

  it('passes stdin with -i', async () => {
    const { h, flags } = await cluster();
    await runningTask(h, 'cat-1');
    const out = await runCli(['exec', '-i', 'cat-1', ...flags, '--', 'sh', '-c', 'tr a-z A-Z; echo done'], { stdin: 'piped in\nsecond line\n' });
    expect([out.code, out.stdout, out.stderr]).toEqual([0, 'PIPED IN\nSECOND LINE\ndone\n', '']);
    // Without -i the command's stdin is empty.
    const closed = await runCli(['exec', 'cat-1', ...flags, '--', 'cat'], { stdin: 'not passed\n' });
    expect([closed.code, closed.stdout]).toEqual([0, '']);
  });

  it('refuses: no token 401, no permission 403, another framework\u2019s task 404, an ended task FAILED_PRECONDITION', async () => {
    const { h, agent, flags } = await cluster();
    await runningTask(h, 'admin-task');
    const address = h.master.httpAddress;
    // A framework's own principal may exec into its own tasks without tasks.exec.
    const ownerToken = await issueToken(address, 'owner', [
      { allow: ['frameworks.register'], roles: ['*'] },
      { allow: ['tasks.run_as'], users: ['nobody'] },
    ]);
    await runningTask(h, 'owned-task', { token: ownerToken });

    const noToken = await runCli(['exec', 'admin-task', '--master', `https://${address}`, '--ca', testPki().files.ca, '--token', `agora_${'0'.repeat(16)}_${'0'.repeat(64)}`, '--', 'true']);
    expect([noToken.code, noToken.stderr]).toEqual([1, expect.stringMatching(/did not accept the credentials/)]);

    const viewer = await issueToken(address, 'viewer', [{ allow: ['frameworks.view', 'cluster.view'] }]);
    const refused = await runCli(['exec', 'admin-task', ...flags, '--token', viewer, '--', 'true']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("lacks permission 'tasks.exec'");

    const execer = await issueToken(address, 'execer', [{ allow: ['tasks.exec'] }]);
    const hidden = await runCli(['exec', 'admin-task', ...flags, '--token', execer, '--', 'true']);
    expect(hidden.code).toBe(1);
    expect(hidden.stderr).toContain("task 'admin-task' not found");

    const own = await runCli(['exec', 'owned-task', ...flags, '--token', ownerToken, '--', 'id', '-un']);
    expect([own.code, own.stdout]).toEqual([0, 'nobody\n']);
    const notOwn = await runCli(['exec', 'admin-task', ...flags, '--token', ownerToken, '--', 'true']);
    expect(notOwn.stderr).toContain("lacks permission 'tasks.exec'");

    // The agent refuses on its own too (defence in depth): no token, and a token without the permission.
    const agentUrl = `https://${agent.httpAddress}/api/v1/tasks/admin-task/exec?command=true`;
    expect(await upgradeStatus(agentUrl)).toBe(401);
    expect(await upgradeStatus(agentUrl, viewer)).toBe(403);
    expect(await upgradeStatus(agentUrl, execer)).toBe(404);
    expect(await upgradeStatus(`https://${address}/api/v1/tasks/admin-task/exec?command=true`)).toBe(401);
    // Not an upgrade: the endpoint says what it speaks.
    expect(await upgradeStatus(agentUrl, testPki().adminToken, false)).toBe(400);

    const owner = h.frameworks[1]!;
    await owner.kill('owned-task');
    await owner.waitForUpdate('owned-task', 'TASK_KILLED', { timeoutMs: 10_000 });
    const ended = await runCli(['exec', 'owned-task', ...flags, '--', 'true']);
    expect(ended.code).toBe(1);
    expect(ended.stderr).toContain('task owned-task is not running (TASK_KILLED)');
    expect(await upgradeStatus(`https://${agent.httpAddress}/api/v1/tasks/owned-task/exec?command=true`, testPki().adminToken)).toBe(409);
  });

  it('gives an interactive shell a pseudo-terminal: -it, typed input, a resize, exit 7', async () => {
    const { h, flags } = await cluster();
    await runningTask(h, 'sh-1');
    const cli = [process.execPath, ...CLI, 'exec', '-it', 'sh-1', ...flags, '--', 'sh'].map(quote).join(' ');
    const local = terminal(cli);
    try {
      local.type('echo "user=$(id -un) term=$TERM"');
      await eventually(() => expect(local.screen()).toContain('user=nobody term=xterm'), { timeoutMs: 15_000 });
      // A tty on the remote side, and raw mode locally: the remote terminal echoes what is typed.
      local.type('tty');
      await eventually(() => expect(local.screen()).toMatch(/\/dev\/pts\/\d+/));
      await local.resizeAndCheck(41, 101);
      local.type('exit 7');
      expect(await local.exited).toBe(7);
    } finally {
      local.kill();
    }

    // A terminal session's command is in a session of its own (script's setsid): the CLI going
    // away still kills it.
    const again = terminal(cli);
    try {
      again.type('sleep 6064');
      await eventually(() => expect(processesRunning('6064')).toHaveLength(1), { timeoutMs: 15_000 });
    } finally {
      again.kill();
    }
    await eventually(() => expect(processesRunning('6064')).toEqual([]));
  });

  it('kills the remote command when the CLI goes away, ends sessions when idle or when the task ends', async () => {
    const { h, flags } = await cluster({ execIdleTimeout: '1500ms', execMaxSessions: '1' });
    await runningTask(h, 'long-1');
    // Output every 0.61 s keeps the session from being idle.
    const loop = 'echo started; while :; do echo .; sleep 0.61; done';
    const cli = spawn(process.execPath, [...CLI, 'exec', 'long-1', ...flags, '--', 'sh', '-c', loop], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AGORA_CONFIG: configOf() } });
    let out = '';
    cli.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await eventually(() => expect(out).toMatch(/^started\n/), { timeoutMs: 15_000 });
    await eventually(() => expect(processesRunning('0.61')).toHaveLength(1));
    // --exec-max-sessions 1: a second session at once is refused.
    const second = await runCli(['exec', 'long-1', ...flags, '--', 'true']);
    expect([second.code, second.stderr]).toEqual([1, expect.stringContaining('already runs 1 exec sessions (--exec-max-sessions)')]);
    expect(out).toMatch(/^started\n(\.\n)+$/);
    cli.kill('SIGKILL');
    // The loop is gone, not just between two sleeps.
    await eventually(() => expect(processesRunning('0.61')).toEqual([]));
    await holdsFor(1500, () => expect(processesRunning('0.61')).toEqual([]), 'no sleep of the killed loop comes back');

    // Nothing read or written for --exec-idle-timeout: the session ends, its command killed.
    const idle = await runCli(['exec', 'long-1', ...flags, '--', 'sleep', '6062']);
    expect(idle.code).toBe(1);
    expect(idle.stderr).toContain('idle for 1500 ms (--exec-idle-timeout)');
    expect(processesRunning('6062')).toEqual([]);

    // The task ending ends the session.
    const running = runCli(['exec', 'long-1', ...flags, '--', 'sh', '-c', 'while sleep 0.5; do echo tick; done']);
    await eventually(() => expect(processesRunning('0.5').length).toBeGreaterThan(0), { timeoutMs: 15_000 });
    await h.frameworks[0]!.kill('long-1');
    const ended = await running;
    expect(ended.code).toBe(1);
    expect(ended.stderr).toContain('task long-1 ended');
  });

  it('runs in the container of a Docker task: its user, environment and exit status; -i, -it with a resize, -t', async () => {
    const { dockerSocket, busyboxImage } = testServices();
    const { h, flags } = await cluster({ dockerSocket });
    const fw = await h.framework({ autoAck: true });
    await launchTask(
      fw,
      taskInfo('boxed', 'cpus:0.1;mem:64', {
        command: { value: 'exec sleep 600', environment: { variables: [{ name: 'IN_BOX', value: 'yes' }] } },
        container: { type: 'CONTAINER_DOCKER', docker: { image: busyboxImage, network: 'NETWORK_NONE' } },
      }),
    );
    await fw.waitForUpdate('boxed', 'TASK_RUNNING', { timeoutMs: 30_000 });
    const out = await runCli(['exec', 'boxed', ...flags, '--', 'sh', '-c', 'id -u; echo "$IN_BOX"; echo err >&2; exit 4']);
    expect([out.code, out.stdout, out.stderr]).toEqual([4, '65534\nyes\n', 'err\n']);
    const piped = await runCli(['exec', '-i', 'boxed', ...flags, '--', 'tr', 'a-z', 'A-Z'], { stdin: 'boxed in\n' });
    expect([piped.code, piped.stdout]).toEqual([0, 'BOXED IN\n']);
    // -it under a terminal: typed input, and a resize through the engine's API.
    const shell = terminal([process.execPath, ...CLI, 'exec', '-it', 'boxed', ...flags, '--', 'sh'].map(quote).join(' '));
    try {
      shell.type('echo "in=$IN_BOX"');
      await eventually(() => expect(shell.screen()).toContain('in=yes'), { timeoutMs: 15_000 });
      await shell.resizeAndCheck(33, 77);
      shell.type('exit 5');
      expect(await shell.exited).toBe(5);
    } finally {
      shell.kill();
    }
    // -t without a local terminal: the command still gets a pty in the container.
    const tty = await runCli(['exec', '-t', 'boxed', ...flags, '--', 'sh', '-c', 'test -t 1 && echo tty']);
    expect([tty.code, tty.stdout.trim()]).toEqual([0, 'tty']);

    // The engine cannot kill an exec: the agent kills its processes itself when the CLI goes away.
    const cli = spawn(process.execPath, [...CLI, 'exec', 'boxed', ...flags, '--', 'sh', '-c', 'echo started; sleep 6063'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AGORA_CONFIG: testCliConfig() } });
    let started = '';
    cli.stdout.on('data', (d: Buffer) => (started += d.toString()));
    await eventually(() => expect(started).toBe('started\n'), { timeoutMs: 15_000 });
    expect(processesRunning('6063')).toHaveLength(1);
    cli.kill('SIGKILL');
    await eventually(() => expect(processesRunning('6063')).toEqual([]));
  });
});

/** The CLI under `script`: a terminal of its own, as a user's shell gives it. */
function terminal(commandLine: string): { type(line: string): void; screen(): string; resizeAndCheck(rows: number, cols: number): Promise<void>; exited: Promise<number | null>; kill(): void } {
  const local = spawn('script', ['-q', '-e', '-c', `exec ${commandLine}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TERM: 'xterm', AGORA_CONFIG: configOf() } });
  let screen = '';
  local.stdout.on('data', (d: Buffer) => (screen += d.toString()));
  const exited = new Promise<number | null>((resolve) => local.once('exit', (code) => resolve(code)));
  const type = (line: string): void => void local.stdin.write(`${line}\r`);
  return {
    type,
    screen: () => screen,
    exited,
    kill: () => local.kill('SIGKILL'),
    // Resize the CLI's terminal: SIGWINCH reaches the CLI, which resizes the remote one.
    async resizeAndCheck(rows: number, cols: number): Promise<void> {
      const pty = await eventually(() => {
        const found = ptySlave(local.pid!);
        expect(found).toBeDefined();
        return found!;
      });
      spawn('stty', ['-F', pty, 'rows', String(rows), 'cols', String(cols)]);
      await eventually(async () => {
        type('stty size');
        await pace(200, 'the remote shell answers stty size');
        expect(screen).toContain(`${rows} ${cols}`);
      });
    },
  };
}

function quote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The config file runCli would use (the run's admin, CA). */
function configOf(): string {
  return testCliConfig();
}

/** Pids of `sleep ARG` processes (ARG unique to a test). */
function processesRunning(arg: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        const argv = fs.readFileSync(`/proc/${n}/cmdline`, 'utf8').split('\0');
        return argv[0] === 'sleep' && argv[1] === arg;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The status an exec request gets (101 when it is accepted), as a raw HTTPS client sends it. */
function upgradeStatus(url: string, token?: string, asUpgrade = true): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = asUpgrade ? { connection: 'Upgrade', upgrade: 'agora-exec.v1' } : {};
    if (token) headers['authorization'] = `Bearer ${token}`;
    const req = https.request(url, { headers, ca: fs.readFileSync(testPki().files.ca) });
    req.once('error', reject);
    req.once('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('upgrade', (_res, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.end();
  });
}
