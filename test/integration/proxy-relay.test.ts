// The proxy's connection handling, on a frameworks host with an in-memory services controller
// (fake-service-controller.ts): the endpoints are real TCP servers on loopback that the test sets,
// so each behaviour — following changes, retrying a refused or silent instance, half-close,
// backpressure, the idle timeout, the connection cap, --proxy false — is driven directly.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FrameworksHost } from '../../frameworks/host.js';
import type { Endpoint } from '../../proto/index.js';
import { FakeServiceController, fakeServicesModule } from '../support/fake-service-controller.js';
import { startJobsHost, stopJobsHosts, uniqueStore } from '../support/jobs-host.js';
import { freePorts } from '../support/ports.js';
import { expectLintClean, parseScrape } from '../support/prometheus.js';
import { accepts } from '../support/proxy-client.js';
import { eventually, holdsFor } from '../support/waits.js';

const servers = new Set<net.Server>();
const dropped: string[][] = [];

/** An iptables rule dropping SYNs to a loopback port (test-only, this file's own; deleted in afterAll). */
function dropSyns(port: number): void {
  const rule = ['OUTPUT', '-o', 'lo', '-p', 'tcp', '--syn', '--dport', String(port), '-m', 'comment', '--comment', 'agh-proxy-test', '-j', 'DROP'];
  execFileSync('iptables', ['-w', '-I', ...rule]);
  dropped.push(rule);
}

/** A TCP server that greets with its name, then echoes; `onSocket` to do something else. */
async function backend(name: string, onSocket?: (s: net.Socket) => void): Promise<{ port: number; server: net.Server }> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => undefined);
    if (onSocket) return onSocket(s);
    s.write(`${name}\n`);
    s.pipe(s);
  });
  servers.add(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, server };
}

function endpoint(taskId: string, port: number, host = '127.0.0.1'): Endpoint {
  return { taskId, host, ip: '', ports: [{ number: port, name: 'tcp' }], ready: true };
}

/** Connect to the service port, read the greeting line. */
function greeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      text += d;
      if (text.includes('\n')) {
        s.destroy();
        resolve(text.trim());
      }
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error(`closed before a greeting (got '${text}')`)));
  });
}

let fake: FakeServiceController;
let host: FrameworksHost;
let servicePort: number;

async function service(endpoints: Endpoint[], port = servicePort): Promise<void> {
  await fake.apply({ name: 'echo', command: 'x', servicePort: port });
  fake.setEndpoints('echo', endpoints);
  await eventually(() => accepts(port), { what: `the proxy on ${port}` });
}

beforeAll(async () => {
  [servicePort] = (await freePorts(1)) as [number];
  fake = new FakeServiceController();
  host = await startJobsHost({ modules: [fakeServicesModule(fake)], flags: { proxyBind: '127.0.0.1', proxyConnectTimeout: '300ms', proxyIdleTimeout: '400ms', proxyMaxConnections: '3' } });
});

afterEach(async () => {
  for (const name of [...fake.entries.keys()]) await fake.delete(name);
});

afterAll(async () => {
  for (const rule of dropped.splice(0)) execFileSync('iptables', ['-w', '-D', ...rule]);
  await stopJobsHosts();
  for (const s of servers) s.close();
});

describe('the proxy relay', () => {
  it('follows endpoint changes at once, and closes the port when the service goes', async () => {
    const a = await backend('a');
    const b = await backend('b');
    await service([endpoint('a', a.port)]);
    expect(await greeting(servicePort)).toBe('a');
    fake.setEndpoints('echo', [endpoint('b', b.port)]);
    expect(await greeting(servicePort)).toBe('b');
    await fake.delete('echo');
    await eventually(async () => expect(await accepts(servicePort)).toBe(false), { what: 'the port closed' });
  });

  it('takes a service port held by another process once it comes free', async () => {
    const [port] = (await freePorts(1)) as [number];
    const squatter = await new Promise<net.Server>((resolve) => {
      const s = net.createServer((c) => c.end('squatter\n')).listen(port, '127.0.0.1', () => resolve(s));
      servers.add(s);
    });
    const a = await backend('a');
    await fake.apply({ name: 'echo', command: 'x', servicePort: port });
    fake.setEndpoints('echo', [endpoint('a', a.port)]);
    await holdsFor(300, async () => expect(await greeting(port)).toBe('squatter'), 'the proxy taking a port in use');
    await new Promise<void>((resolve) => squatter.close(() => resolve()));
    await eventually(async () => expect(await greeting(port)).toBe('a'), { what: 'the proxy listening once the port is free', timeoutMs: 5_000 });
  });

  it('tries the next instance when one refuses or does not answer within the connect timeout', async () => {
    const live = await backend('live');
    const [refusing, silent] = (await freePorts(2)) as [number, number];
    // SYNs to `silent` are dropped (removed in afterAll): only the connect timeout (300 ms) ends a connect there.
    dropSyns(silent);
    await service([endpoint('refusing', refusing), endpoint('silent', silent), endpoint('live', live.port)]);
    const before = parseScrape(await host.metrics.scrape()).find('agora_proxy_connect_failures_total{service="echo"}') ?? 0;
    for (let i = 0; i < 3; i++) expect(await greeting(servicePort)).toBe('live');
    const m = parseScrape(await host.metrics.scrape());
    expect(m.value('agora_proxy_connect_failures_total{service="echo"}') - before).toBeGreaterThanOrEqual(2);
    expectLintClean(m);
  });

  it('closes the client when no instance takes the connection', async () => {
    const [refusing] = (await freePorts(1)) as [number];
    await service([endpoint('refusing', refusing)]);
    await expect(greeting(servicePort)).rejects.toThrow(/closed before a greeting/);
  });

  it('passes a half-close on, and the other direction keeps flowing', async () => {
    // The instance answers only once the client has finished sending (as a request/response over FIN).
    const b = await backend('half', (s) => {
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString()));
      s.on('end', () => s.end(`got ${got.length} bytes`));
    });
    await service([endpoint('half', b.port)]);
    const reply = await new Promise<string>((resolve, reject) => {
      const c = net.connect({ host: '127.0.0.1', port: servicePort, allowHalfOpen: true });
      let text = '';
      c.on('data', (d: Buffer) => (text += d.toString()));
      c.on('end', () => resolve(text));
      c.on('error', reject);
      c.end('x'.repeat(100_000));
    });
    expect(reply).toBe('got 100000 bytes');
  });

  it('holds back a fast instance while the client does not read (backpressure)', async () => {
    let written = 0;
    let blocked = false;
    const b = await backend('fast', (s) => {
      const chunk = Buffer.alloc(1 << 20);
      const pump = (): void => {
        while (written < 512 << 20) {
          written += chunk.length;
          if (!s.write(chunk)) {
            blocked = true;
            s.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    await service([endpoint('fast', b.port)]);
    const c = net.connect({ host: '127.0.0.1', port: servicePort });
    c.pause();
    await eventually(() => expect(blocked).toBe(true), { what: 'the instance to be held back' });
    // Nothing reads: what the instance managed to write is the socket buffers and one pipe's worth, not the 512 MiB.
    await holdsFor(300, () => expect(written).toBeLessThan(64 << 20), 'the proxy buffering without bound');
    c.destroy();
  });

  it('closes a connection idle for --proxy-idle-timeout, and refuses over --proxy-max-connections', async () => {
    const b = await backend('idle');
    await service([endpoint('idle', b.port)]);
    // The probe of service() holds a connection until it idles out: start from none open.
    await eventually(async () => expect(parseScrape(await host.metrics.scrape()).value('agora_proxy_active_connections{service="echo"}')).toBe(0), { what: 'no connection open' });
    const open = (): Promise<net.Socket> =>
      new Promise((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port: servicePort });
        s.on('error', () => undefined);
        s.once('data', () => resolve(s));
        s.once('close', () => reject(new Error('closed before a greeting')));
      });
    const three = await Promise.all([open(), open(), open()]);
    await expect(greeting(servicePort)).rejects.toThrow(/closed before a greeting/);
    const started = Date.now();
    await eventually(() => expect(three.every((s) => s.destroyed || s.readableEnded)).toBe(true), { what: 'idle connections closed', timeoutMs: 3_000 });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await greeting(servicePort)).toBe('idle');
  });
});

describe('leadership', () => {
  it('moves the service ports to the host that leads next', async () => {
    const store = uniqueStore();
    const [port] = (await freePorts(1)) as [number];
    const one = new FakeServiceController();
    const two = new FakeServiceController();
    const flags = { proxyBind: '127.0.0.1' };
    const leader = await startJobsHost({ store, modules: [fakeServicesModule(one)], flags });
    const standby = await startJobsHost({ store, modules: [fakeServicesModule(two)], lead: false, flags });
    const [first, second] = [await backend('first'), await backend('second')];
    for (const [fake, b] of [[one, first], [two, second]] as const) {
      await fake.apply({ name: 'moving', command: 'x', servicePort: port });
      fake.setEndpoints('moving', [endpoint('m', b.port)]);
    }
    await eventually(async () => expect(await greeting(port)).toBe('first'), { what: 'the leader serving the port' });
    expect(standby.lifecycle).toBe('STANDBY');
    await leader.stop();
    await standby.waitLeading(10_000);
    await eventually(async () => expect(await greeting(port)).toBe('second'), { what: 'the new leader serving the port' });
  });
});

describe('--proxy false', () => {
  it('listens on no service port', async () => {
    const off = new FakeServiceController();
    const [port] = (await freePorts(1)) as [number];
    await startJobsHost({ modules: [fakeServicesModule(off)], flags: { proxy: false } });
    const b = await backend('off');
    await off.apply({ name: 'off', command: 'x', servicePort: port });
    off.setEndpoints('off', [endpoint('off', b.port)]);
    await holdsFor(300, async () => expect(await accepts(port)).toBe(false), 'a proxy listening with --proxy false');
  });
});
