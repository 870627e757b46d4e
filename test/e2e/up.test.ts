// `agora up` as a user runs it: one process, ports picked by the system, addresses printed; secure
// with no step of the user's (a CA, certificates and an admin token made on first start, the CLI
// pointed at it), the same credentials on the next start; a task runs through it; SIGTERM shuts it
// down cleanly. `--insecure` turns all that off, and says so at every start. `--attributes` gives
// the agent its attributes, with the syntax of `agora agent --attributes`.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { grpcChannelCredentials } from '../../core/security/tls.js';
import { REPO_ROOT } from '../support/agent-harness.js';
import { runCli, stopCliProcesses } from '../support/cli.js';
import { secureFetch } from '../support/security.js';
import { TestFramework, taskInfo } from '../support/test-framework.js';
import { tempDir } from '../support/tmp.js';
import { agoraArgv } from '../support/build.js';
import { dig } from '../support/dig.js';
import { eventually } from '../support/waits.js';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await stopCliProcesses();
});

interface Up {
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

function startUp(dataDir: string, config: string, extra: string[] = []): Up {
  const args = agoraArgv('up', '--http-port', '0', '--grpc-port', '0', '--agent-http-port', '0', '--dns-port', '0', '--data-dir', dataDir, ...extra);
  const child = spawn(process.execPath, [...args, '--resources', 'cpus:2;mem:2048;disk:1024;ports:[31000-31010]', '--log-level', 'warn'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AGORA_CONFIG: config },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { output: () => out, exited, kill: (signal) => child.kill(signal) };
}

async function waitForLines(output: () => string, timeoutMs: number, scheme = 'https'): Promise<Record<string, string>> {
  return eventually(() => {
    const text = output();
    const http = new RegExp(`master http: ${scheme}://(\\S+)`).exec(text)?.[1];
    const grpc = /master grpc: (\S+)/.exec(text)?.[1];
    const agent = new RegExp(`agent http: ${scheme}://(\\S+)`).exec(text)?.[1];
    if (http && grpc && agent && /cli context: up/.test(text)) return { http, grpc, agent };
    throw new Error(`no addresses printed yet:\n${text}`);
  }, { timeoutMs, intervalMs: 50, what: `agora up's addresses within ${timeoutMs} ms` });
}

const mode = (file: string): number => statSync(file).mode & 0o777;

describe('agora up', () => {
  it('bootstraps its CA, certificates and admin token, points the CLI at itself, runs a task, and exits 0 on SIGTERM', async () => {
    const dataDir = await tempDir('up');
    const config = path.join(await tempDir('up-cli'), 'config.yaml');
    const up = startUp(dataDir, config);
    const addresses = await waitForLines(up.output, 30_000);
    for (const port of Object.values(addresses).map((a) => Number(a.split(':')[1]))) expect(port).toBeGreaterThan(0);

    // What the first start made, and who may read it.
    const tokenFile = path.join(dataDir, 'admin-token');
    expect(up.output()).toContain(`admin token: ${tokenFile}`);
    expect(mode(tokenFile)).toBe(0o600);
    expect(mode(path.join(dataDir, 'tls'))).toBe(0o700);
    for (const key of ['ca-key.pem', 'server-key.pem', 'agent-key.pem', 'frameworks-token']) expect(mode(path.join(dataDir, 'tls', key)), key).toBe(0o600);
    const token = readFileSync(tokenFile, 'utf8').trim();
    const tls = { ca: readFileSync(path.join(dataDir, 'tls', 'ca.pem')) };

    // HTTPS everywhere; only /health without credentials.
    expect((await secureFetch(`https://${addresses['http']}/health`, { tls, token: null })).status).toBe(200);
    expect((await secureFetch(`https://${addresses['http']}/api/v1/state`, { tls, token: null })).status).toBe(401);
    expect((await secureFetch(`https://${addresses['http']}/api/v1/state`, { tls, token })).status).toBe(200);
    expect((await secureFetch(`https://${addresses['agent']}/health`, { tls, token: null })).status).toBe(200);
    expect((await secureFetch(`https://${addresses['agent']}/api/v1/state`, { tls, token: null })).status).toBe(401);

    // The CLI finds the cluster and its token with no flags at all.
    const agents = await runCli(['get', 'agents'], { env: { AGORA_CONFIG: config } });
    expect(agents.code, agents.stderr).toBe(0);
    expect(agents.stdout).toContain('127.0.0.1');
    const whoami = await runCli(['acl', 'whoami'], { env: { AGORA_CONFIG: config } });
    expect(whoami.stdout).toContain('admin');

    const fw = await TestFramework.subscribe(addresses['grpc'] as string, { autoAck: true, credentials: grpcChannelCredentials(tls, token) });
    cleanups.push(() => fw.close());
    const offer = await fw.nextOffer({ timeoutMs: 10_000 });
    expect(offer.agentHttpAddress).toBe(addresses['agent']);
    await fw.launch(offer, [taskInfo('hello', 'cpus:0.1;mem:32', { command: { value: 'echo "hello from agora as $(id -un)"' } })]);
    const finished = await fw.waitForUpdate('hello', 'TASK_FINISHED', { timeoutMs: 15_000 });
    expect(finished.exitCode).toBe(0);
    const logs = await secureFetch(`https://${addresses['agent']}/api/v1/tasks/hello/logs`, { tls, token });
    expect(await logs.text()).toBe('hello from agora as nobody\n');
    expect(existsSync(path.join(dataDir, 'store'))).toBe(true);
    expect(existsSync(path.join(dataDir, 'agent', 'meta', 'agent.json'))).toBe(true);

    // The service DNS it prints answers once the frameworks lead (no services yet: NXDOMAIN).
    const dnsPort = Number(/service dns: 127\.0\.0\.1:(\d+) \(udp, tcp\)/.exec(up.output())?.[1]);
    expect(dnsPort).toBeGreaterThan(0);
    await eventually(async () => expect((await dig(dnsPort, 'web.services.agora', 'A')).status).toBe('NXDOMAIN'), { timeoutMs: 10_000, what: 'the service DNS answering' });

    // A clean start warns of nothing (the built-in frameworks' declines of offers the master had
    // taken back when they suppressed used to warn, one stack trace each).
    const warnings = up.output().split('\n').filter((l) => /"level":(40|50|60)/.test(l));
    expect(warnings).toEqual([]);

    await fw.close();
    up.kill('SIGTERM');
    expect(await up.exited).toBe(0);

    // The next start on the same data dir keeps the same CA and token.
    const again = startUp(dataDir, config);
    const next = await waitForLines(again.output, 30_000);
    expect(readFileSync(tokenFile, 'utf8').trim()).toBe(token);
    expect((await secureFetch(`https://${next['http']}/api/v1/state`, { tls, token })).status).toBe(200);
    again.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  });

  it('--insecure serves plain HTTP to anyone, and warns at every start', async () => {
    const dataDir = await tempDir('up-insecure');
    const config = path.join(await tempDir('up-cli'), 'config.yaml');
    const up = startUp(dataDir, config, ['--insecure', 'true']);
    const addresses = await waitForLines(up.output, 30_000, 'http');
    expect(up.output()).toContain('security: OFF (--insecure)');
    expect(up.output()).toMatch(/security is OFF \(--insecure\)/);
    const res = await fetch(`http://${addresses['http']}/api/v1/state`);
    expect(res.status).toBe(200);
    expect(existsSync(path.join(dataDir, 'admin-token'))).toBe(false);
    const agents = await runCli(['get', 'agents'], { env: { AGORA_CONFIG: config } });
    expect(agents.code, agents.stderr).toBe(0);
    up.kill('SIGTERM');
    expect(await up.exited).toBe(0);
  });

  it('--attributes gives the agent its attributes; a bad value (or --resources) is exit 2 naming the flag, before anything is made', async () => {
    const base = await tempDir('up-attributes');
    // --resources too: the agent parses it only after the master has made its store and certificates.
    const cases = [
      ['--attributes', 'rack', "expected name:value, got 'rack'"],
      ['--attributes', 'rack:r1;rack:r2', "attribute 'rack' is given twice"],
      ['--attributes', 'rack:', "attribute 'rack' has no value"],
      ['--attributes', '1rack:r1', "bad attribute name '1rack'"],
      ['--resources', 'cpus:x', "bad scalar for 'cpus'"],
    ] as const;
    await Promise.all(
      cases.map(async ([flag, value, says], i) => {
        const dataDir = path.join(base, `bad-${i}`);
        const bad = await runCli(['up', '--http-port', '0', '--grpc-port', '0', '--agent-http-port', '0', '--dns-port', '0', '--data-dir', dataDir, flag, value], { timeoutMs: 30_000 });
        expect(bad.code, value).toBe(2);
        expect(bad.stderr, value).toContain(`${flag}: ${says}`);
        expect(existsSync(dataDir), `${value}: nothing made`).toBe(false);
      }),
    );

    const dataDir = path.join(base, 'good');
    const config = path.join(await tempDir('up-cli'), 'config.yaml');
    const up = startUp(dataDir, config, ['--attributes', 'rack:r1; zone:a;gen:2']);
    const addresses = await waitForLines(up.output, 30_000);
    const tls = { ca: readFileSync(path.join(dataDir, 'tls', 'ca.pem')) };
    const token = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
    const res = await secureFetch(`https://${addresses['http']}/api/v1/agents`, { tls, token });
    expect(res.status).toBe(200);
    const { agents } = (await res.json()) as { agents: { hostname: string; attributes: Record<string, string> }[] };
    expect(agents).toHaveLength(1);
    expect(agents[0]?.attributes).toEqual({ rack: 'r1', zone: 'a', gen: '2' });
    up.kill('SIGTERM');
    expect(await up.exited).toBe(0);
  });
});
