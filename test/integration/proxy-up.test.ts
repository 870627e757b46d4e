// The proxy in `agora up` (in-process, --insecure): a service with a servicePort is reached on
// loopback, where `agora up` binds it by default, and not on the machine's other addresses; with
// --proxy false nothing listens.
import net from 'node:net';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { startUp, type Up } from '../../cli/up-command.js';
import { freePorts } from '../support/ports.js';
import { expectLintClean, parseScrape } from '../support/prometheus.js';
import { accepts, getOnce } from '../support/proxy-client.js';
import { tempDir } from '../support/tmp.js';
import { eventually, holdsFor } from '../support/waits.js';

const ups: Up[] = [];

afterEach(async () => {
  for (const up of ups.splice(0)) await up.stop();
});

async function up(extra: Partial<Parameters<typeof startUp>[0]> = {}): Promise<Up> {
  const dataDir = await tempDir('proxy-up');
  const ports = (await freePorts(4)).map((p) => `${p}-${p}`).join(',');
  const started = await startUp({ httpPort: 0, grpcPort: 0, agentHttpPort: 0, dataDir, executor: 'process', resources: `cpus:2;mem:2048;disk:2048;ports:[${ports}]`, hostname: '127.0.0.1', logLevel: 'silent', insecure: true, writeContext: false, allowRootTasks: false, allowPrivileged: false, ...extra });
  ups.push(started);
  await started.frameworks.waitLeading(10_000);
  return started;
}

const server = "require('http').createServer((q,r)=>r.end(process.env.AGORA_TASK_ID)).listen(+process.env.PORT0)";

async function apply(u: Up, servicePort: number): Promise<void> {
  const spec = ['kind: Service', 'name: web', 'instances: 1', `command: ${JSON.stringify(`exec ${process.execPath} -e "${server}"`)}`, 'resources: { cpus: 0.05, mem: 32 }', 'ports: [{ name: http }]', `servicePort: ${servicePort}`, 'killGracePeriodSeconds: 0.5', ''].join('\n');
  const res = await fetch(`http://${u.master.httpAddress}/api/v1/services`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: spec });
  expect(res.status, await res.text()).toBeLessThan(300);
}

/** A non-loopback IPv4 address of this machine, if it has one. */
function otherAddress(): string | undefined {
  return Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
}

function acceptsOn(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe('the proxy in agora up', () => {
  it('serves the service port on loopback only, and counts on the master\'s /metrics', async () => {
    const u = await up();
    const [servicePort] = (await freePorts(1)) as [number];
    await apply(u, servicePort);
    await eventually(async () => expect((await getOnce(servicePort)).body).toMatch(/^web\./), { timeoutMs: 30_000, what: 'the instance answering through the service port' });
    const other = otherAddress();
    if (other !== undefined) expect(await acceptsOn(other, servicePort)).toBe(false);
    const m = parseScrape(await (await fetch(`http://${u.master.httpAddress}/metrics`)).text());
    expect(m.value('agora_proxy_connections_total{service="web"}')).toBeGreaterThanOrEqual(1);
    expectLintClean(m);
  });

  it('listens on nothing with --proxy false', async () => {
    const u = await up({ proxy: false });
    const [servicePort] = (await freePorts(1)) as [number];
    await apply(u, servicePort);
    await eventually(async () => {
      const res = await fetch(`http://${u.master.httpAddress}/api/v1/services/web/endpoints`);
      expect(((await res.json()) as { endpoints: unknown[] }).endpoints).toHaveLength(1);
    }, { timeoutMs: 30_000, what: 'the instance available' });
    await holdsFor(300, async () => expect(await accepts(servicePort)).toBe(false), 'a proxy listening with --proxy false');
  });
});
