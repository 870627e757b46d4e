// `agora up` on a terminal (util-linux `script` gives it one): the banner, together and short, and
// nothing else on a clean start — the election, the agent's lifecycle and the built-in frameworks
// subscribing are debug there — and what is logged is one line per entry. `--log-level debug`
// shows those lines again, still one line each.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/agent-harness.js';
import { CLI, runCli, stopCliProcesses } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';
import { eventually, pace } from '../support/waits.js';

const BANNER = [/^agora \S+ is up: /, /^dashboard: https:\/\//, /^master http: https:\/\//, /^master grpc: /, /^agent http: https:\/\//, /^docker: /, /^service dns: /, /^data dir: /, /^admin token: /, /^cluster CA: /, /^cli context: up /];
// A pretty log line: time, level, name, message, fields on the same line.
const LOG_LINE = /^\[\d\d:\d\d:\d\d\.\d{3}\] (TRACE|DEBUG|INFO|WARN|ERROR|FATAL) \(agora[\w-]*\): /;

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  await stopCliProcesses();
});

async function upOnTerminal(extra: string[]): Promise<{ lines: () => string[]; config: string }> {
  const dir = await tempDir('up-tty');
  const config = path.join(dir, 'config.yaml');
  const pidFile = path.join(dir, 'pid');
  const argv = [process.execPath, ...CLI, 'up', '--http-port', '0', '--grpc-port', '0', '--agent-http-port', '0', '--dns-port', '0', '--data-dir', path.join(dir, 'data'), '--resources', 'cpus:1;mem:512;disk:256;ports:[]', ...extra];
  const inner = `echo $$ > '${pidFile}'; exec ${argv.map((a) => `'${a}'`).join(' ')}`;
  const child = spawn('script', ['-qfec', inner, '/dev/null'], { cwd: REPO_ROOT, env: { ...process.env, AGORA_CONFIG: config }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  stops.push(async () => {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    if (child.exitCode === null) {
      process.kill(pid, 'SIGTERM');
      await exited;
    }
  });
  const lines = (): string[] => out.replace(/\x1b\[[0-9;]*m/g, '').split(/\r?\n/).filter((l) => l.trim() !== '' && !/^Script (started|done)/.test(l));
  await eventually(() => expect(out).toContain('cli context: up'), { timeoutMs: 30_000, intervalMs: 50, what: 'the banner' });
  // The built-in frameworks subscribe after the banner: wait for all three before counting.
  await eventually(async () => {
    const r = await runCli(['get', 'frameworks'], { env: { AGORA_CONFIG: config } });
    expect(r.stdout.match(/agora-(services|cron|batch)/g)?.length ?? 0).toBe(3);
  }, { timeoutMs: 20_000, intervalMs: 200, what: 'the built-in frameworks subscribed' });
  await pace(500, 'a line logged late in the start would be printed by now');
  return { lines, config };
}

describe('agora up on a terminal', () => {
  it('prints the banner, together, and nothing else on a clean start', async () => {
    const { lines } = await upOnTerminal([]);
    const printed = lines();
    expect(printed.length, printed.join('\n')).toBe(BANNER.length);
    BANNER.forEach((pattern, i) => expect(printed[i], printed.join('\n')).toMatch(pattern));
  });

  it('logs one line per entry: --log-level debug shows the quieted lines, each on one line', async () => {
    const { lines } = await upOnTerminal(['--log-level', 'debug']);
    const logged = lines().filter((l) => !BANNER.some((p) => p.test(l)));
    expect(logged.some((l) => /DEBUG \(agora\): master leading/.test(l)), logged.join('\n')).toBe(true);
    for (const line of logged) expect(line).toMatch(LOG_LINE);
    // The banner stays together among the log lines.
    const all = lines();
    const first = all.findIndex((l) => BANNER[0]?.test(l));
    BANNER.forEach((pattern, i) => expect(all[first + i]).toMatch(pattern));
  });
});
