#!/usr/bin/env node
// The README's dashboard screenshots, retaken from a real cluster:
//
//   npm run build && node scripts/screenshots.mjs [--out docs/images]
//
// Starts `agora up` (the build, dist/cli/main.js) on free ports with a throwaway data directory,
// applies the README's `web` service (3 busybox httpd instances with an HTTP health check) and a
// cron job, waits until the overview's charts have samples, signs in with the admin token in
// headless Chromium (Debian's /usr/bin/chromium, through playwright-core) and saves
// overview.png and service.png at 1280×800. Stops everything it started, also on failure.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
const VIEWPORT = { width: 1280, height: 800 };
const WEB = `kind: Service
name: web
instances: 3
command: echo hello > index.html && exec busybox httpd -f -p $PORT0 -h .
resources: { cpus: 0.1, mem: 32 }
ports: [{ name: http }]
healthCheck:
  type: HTTP
  http: { portName: http, path: / }
  intervalSeconds: 1
  delaySeconds: 0
`;
const CRON = `kind: CronJob
name: report
schedule: "*/5 * * * *"
task:
  command: echo report done
  resources: { cpus: 0.05, mem: 16 }
`;

async function main() {
  const { values } = parseArgs({ options: { out: { type: 'string', default: 'docs/images' }, 'samples-timeout': { type: 'string', default: '45' } } });
  const out = path.resolve(ROOT, values.out);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'agora-screenshots-'));
  chmodSync(dataDir, 0o711); // tasks run as nobody and must reach their sandboxes
  const up = await startUp(dataDir);
  let browser;
  try {
    const admin = ['--master', up.url, '--token', readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim(), '--ca', path.join(dataDir, 'tls', 'ca.pem')];
    cli(['apply', '-f', '-', ...admin], WEB);
    cli(['apply', '-f', '-', ...admin], CRON);
    cli(['run', 'cronjob/report', ...admin]);
    // Trust this cluster's certificate by its key (as test/support/browser.ts does), not every certificate.
    const der = new X509Certificate(readFileSync(path.join(dataDir, 'tls', 'server.pem'))).publicKey.export({ type: 'spki', format: 'der' });
    const pin = createHash('sha256').update(der).digest('base64');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', `--ignore-certificate-errors-spki-list=${pin}`] });
    const page = await (await browser.newContext({ viewport: VIEWPORT })).newPage();
    await page.goto(`${up.url}/`);
    await page.getByTestId('token').fill(readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim());
    await page.getByTestId('sign-in').click();
    await page.getByTestId('principal').waitFor({ timeout: 15_000 });
    mkdirSync(out, { recursive: true });

    await page.getByTestId('chart-cpu').waitFor({ timeout: 15_000 });
    // The usage history has a sample every 10 s: wait until the charts have lines to show.
    const charted = await page
      .getByText(/Collecting samples/)
      .first()
      .waitFor({ state: 'detached', timeout: Number(values['samples-timeout']) * 1000 })
      .then(() => true, () => false);
    if (!charted) process.stderr.write('screenshots: the charts still had no samples; taking the overview anyway\n');
    await save(page, path.join(out, 'overview.png'));

    await page.evaluate('location.hash = "#/services/web"');
    await page.getByTestId('instances-running').waitFor({ timeout: 15_000 });
    await page.getByTestId('instances-healthy').getByText('3').waitFor({ timeout: 30_000 });
    await save(page, path.join(out, 'service.png'));
  } finally {
    await browser?.close();
    // Tasks outlive `agora up` (its next start re-adopts them): end them with it.
    up.child.kill('SIGTERM');
    await up.exited;
    killProcessesUnder(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** SIGKILL every process whose working directory is under `dir`: the tasks, in their sandboxes. */
function killProcessesUnder(dir) {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cwd = '';
    try {
      cwd = readlinkSync(`/proc/${entry}/cwd`);
    } catch {
      continue; // gone, or not ours to read
    }
    if (cwd !== dir && !cwd.startsWith(`${dir}/`)) continue;
    try {
      process.kill(Number(entry), 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** `count` ports free now, as one-port ranges for the agent: tasks then never meet another cluster's servers. */
async function freePorts(count) {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((s) => s.address().port).sort((a, b) => a - b);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports.map((p) => `${p}-${p}`).join(',');
}

/** `agora up` on free ports; resolves with its HTTPS address once it prints it. */
async function startUp(dataDir) {
  const resources = `cpus:4;mem:4096;disk:4096;ports:[${await freePorts(8)}]`;
  const args = [CLI, 'up', '--data-dir', dataDir, '--http-port', '0', '--grpc-port', '0', '--agent-http-port', '0', '--dns-port', '0', '--write-context', 'false', '--log-level', 'error', '--resources', resources];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail('no address within 30 s'), 30_000);
    function fail(why) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`agora up: ${why}\n${output}`));
    }
    const onData = (d) => {
      output += d.toString();
      const url = /master http: (\S+)/.exec(output)?.[1];
      if (url && /cluster CA:/.test(output)) {
        clearTimeout(timer);
        resolve({ url, child, exited });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => fail(`exited with ${code}`));
  });
}

function cli(args, stdin) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, input: stdin ?? '', encoding: 'utf8', timeout: 120_000, env: { ...process.env, AGORA_CONFIG: path.join(os.tmpdir(), 'agora-screenshots-no-config.yaml') } });
  if (r.status !== 0) throw new Error(`agora ${args[0]} failed (${r.status}): ${r.stderr}`);
  process.stderr.write(r.stdout);
}

async function save(page, file) {
  await page.screenshot({ path: file, type: 'png' });
  process.stderr.write(`screenshots: ${path.relative(ROOT, file)} (${Math.round(statSync(file).size / 1024)} KiB)\n`);
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exitCode = 1;
});
