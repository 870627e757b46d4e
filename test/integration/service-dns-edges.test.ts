// Service DNS at its edges, on frameworks hosts serving an in-memory services controller: a
// standby answers REFUSED and answers once it leads; garbage does not crash it or stop the host answering;
// TCP connections are capped and closed when idle.
import net from 'node:net';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import type { FrameworksHost } from '../../frameworks/host.js';
import type { Endpoint } from '../../proto/index.js';
import { dig } from '../support/dig.js';
import { FakeServiceController, fakeServicesModule } from '../support/fake-service-controller.js';
import { call, jobsClient, startJobsHost, stopJobsHosts, uniqueStore } from '../support/jobs-host.js';
import { secureFetch } from '../support/security.js';
import { eventually, holdsFor, pace, within } from '../support/waits.js';

const sockets = new Set<net.Socket | dgram.Socket>();

afterEach(async () => {
  for (const s of sockets) (s instanceof net.Socket ? s.destroy() : s.close());
  sockets.clear();
  await stopJobsHosts();
});

const endpoint = (taskId: string, ip: string, port: number): Endpoint => ({ taskId, host: 'node', ip, ports: [{ number: port, name: 'http' }], ready: true });

async function hostWithWeb(flags: Record<string, unknown> = {}): Promise<{ host: FrameworksHost; fake: FakeServiceController; port: number }> {
  const fake = new FakeServiceController();
  const host = await startJobsHost({ modules: [fakeServicesModule(fake)], flags });
  await call((cb) => jobsClient(host).apply({ document: 'kind: Service\nname: web\ncommand: x\n' }, cb));
  fake.setEndpoints('web', [endpoint('web.v1.a', '10.9.0.1', 8080)]);
  return { host, fake, port: host.dnsPort ?? 0 };
}

function connect(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  sockets.add(socket);
  return new Promise((resolve, reject) => socket.once('connect', () => resolve(socket)).once('error', reject));
}

const closed = (socket: net.Socket): Promise<true> => new Promise((resolve) => (socket.destroyed ? resolve(true) : socket.once('close', () => resolve(true))));

describe('service DNS edges', () => {
  it('a standby answers REFUSED; after a failover the new leader answers', async () => {
    const store = uniqueStore();
    const first = new FakeServiceController();
    const second = new FakeServiceController();
    const leader = await startJobsHost({ store, modules: [fakeServicesModule(first)] });
    const standby = await startJobsHost({ store, modules: [fakeServicesModule(second)], lead: false });
    await call((cb) => jobsClient(leader).apply({ document: 'kind: Service\nname: web\ncommand: x\n' }, cb));
    first.setEndpoints('web', [endpoint('web.v1.a', '10.9.0.1', 8080)]);
    await eventually(async () => expect((await dig(leader.dnsPort ?? 0, 'web.services.agora', 'A')).answers.map((a) => a.data)).toEqual(['10.9.0.1']), { timeoutMs: 1000, what: 'the leader answering' });
    expect((await dig(standby.dnsPort ?? 0, 'web.services.agora', 'A')).status).toBe('REFUSED');

    await leader.stop();
    await standby.waitLeading(5_000);
    expect((await dig(standby.dnsPort ?? 0, 'web.services.agora', 'A')).status).toBe('NXDOMAIN'); // its own (empty) state
    await call((cb) => jobsClient(standby).apply({ document: 'kind: Service\nname: web\ncommand: x\n' }, cb));
    second.setEndpoints('web', [endpoint('web.v2.b', '10.9.0.2', 8080)]);
    await eventually(async () => expect((await dig(standby.dnsPort ?? 0, 'web.services.agora', 'A')).answers.map((a) => a.data)).toEqual(['10.9.0.2']), { timeoutMs: 1000, what: 'the new leader answering' });
  });

  it('a deleted service is NXDOMAIN within a second; ANY draws one HINFO record', async () => {
    const { host, port } = await hostWithWeb();
    await eventually(async () => expect((await dig(port, 'web.services.agora', 'A')).answers).toHaveLength(1), { timeoutMs: 1000, what: 'web answered' });
    const any = await dig(port, 'web.services.agora', 'ANY');
    expect(any.answers.map((a) => [a.type, a.data])).toEqual([['HINFO', '"RFC8482" ""']]);
    await call((cb) => jobsClient(host).delete({ kind: 'SERVICE', name: 'web' }, cb));
    await eventually(async () => expect((await dig(port, 'web.services.agora', 'A')).status).toBe('NXDOMAIN'), { timeoutMs: 1000, what: 'NXDOMAIN after the delete' });
  });

  it('200 random packets (UDP and TCP) do not crash it, and /health still answers', async () => {
    const { host, port } = await hostWithWeb();
    const udp = dgram.createSocket('udp4');
    sockets.add(udp);
    const replies: Buffer[] = [];
    udp.on('message', (m) => replies.push(m));
    // Seeded, so a failure can be replayed.
    let seed = 22;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const valid = dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: '_http._tcp.web.services.agora', type: 'SRV' }] });
    for (let i = 0; i < 200; i++) {
      // Half noise, half a real query with a few bytes changed (those reach the decoder); QR kept clear.
      const packet = i % 2 === 0 ? Buffer.from(Array.from({ length: Math.floor(random() * 600) }, () => Math.floor(random() * 256))) : Buffer.from(valid);
      if (i % 2 === 1) for (let k = 0; k < 3; k++) packet[Math.floor(random() * packet.length)] = Math.floor(random() * 256);
      if (packet.length > 2) packet[2] = (packet[2] ?? 0) & 0x7f;
      udp.send(packet, port, '127.0.0.1');
      if (i % 20 === 0) {
        const tcp = await connect(port);
        tcp.write(Buffer.concat([Buffer.from([packet.length >> 8, packet.length & 0xff]), packet]));
      }
    }
    await eventually(() => expect(replies.length).toBeGreaterThan(50), { timeoutMs: 2000, what: 'answers to the packets that can be read' });
    const health = await secureFetch(`https://${host.httpAddress}/health`);
    expect(health.status).toBe(200);
    // Whatever came back is a DNS header at least, and the server still answers real queries.
    expect(replies.every((r) => r.length >= 12)).toBe(true);
    expect((await dig(port, 'web.services.agora', 'A')).answers.map((a) => a.data)).toEqual(['10.9.0.1']);
  });

  it('drops a client past --dns-rate queries a second', async () => {
    const { port } = await hostWithWeb({ dnsRate: 5 });
    const udp = dgram.createSocket('udp4');
    sockets.add(udp);
    let replies = 0;
    udp.on('message', () => (replies += 1));
    const query = dnsPacket.encode({ type: 'query', id: 9, questions: [{ name: 'web.services.agora', type: 'A' }] });
    // 20 at once fall in at most two one-second windows: 5 or 10 answered, never 20.
    for (let i = 0; i < 20; i++) udp.send(query, port, '127.0.0.1');
    await eventually(() => expect(replies).toBeGreaterThanOrEqual(5), { timeoutMs: 1000, what: 'the first five answered' });
    await holdsFor(300, () => expect(replies).toBeLessThanOrEqual(10), 'no more than two windows answered');
    await eventually(async () => expect((await dig(port, 'web.services.agora', 'A')).answers).toHaveLength(1), { timeoutMs: 5000, what: 'answers again the next second' });
  });

  it('cuts a TCP client that asks and does not read', async () => {
    // An idle timeout longer than the test: only the unread cap can close it.
    const { fake, port } = await hostWithWeb({ dnsRate: 0, dnsTcpIdleTimeout: '60s' });
    // Ten instances: each answer is over 1 KB.
    fake.setEndpoints('web', Array.from({ length: 10 }, (_, i) => endpoint(`web.v1.${i}`, `10.9.1.${i + 1}`, 8000 + i)));
    const client = await connect(port);
    client.pause();
    let received = 0;
    client.on('data', (d: Buffer) => (received += d.length));
    client.on('error', () => undefined);
    const query = dnsPacket.encode({ type: 'query', id: 3, questions: [{ name: '_http._tcp.web.services.agora', type: 'SRV' }] });
    const framed = Buffer.concat([Buffer.from([0, query.length]), query]);
    // 50,000 queries: their answers (~60 MB) are far beyond what the sockets' buffers hold.
    for (let i = 0; i < 50; i++) client.write(Buffer.concat(Array.from({ length: 1000 }, () => framed)));
    const answerBytes = 50_000 * 1000; // at least: ten SRV records and ten A records each
    await pace(1500, 'the client not reading while the server answers');
    client.resume();
    expect(await within(closed(client), 10_000, false)).toBe(true);
    expect(received).toBeLessThan(answerBytes / 4);
    expect((await dig(port, 'web.services.agora', 'A', ['+tcp'])).answers).toHaveLength(10);
  });

  it('a taken port is an error naming the flag', async () => {
    const taken = dgram.createSocket('udp4');
    sockets.add(taken);
    await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', resolve));
    const port = taken.address().port;
    await expect(startJobsHost({ flags: { dnsPort: port } })).rejects.toThrow(`cannot listen on 127.0.0.1:${port} (--dns-bind, --dns-port)`);
  });

  it('caps TCP connections and closes idle ones', async () => {
    const { port } = await hostWithWeb({ dnsTcpMaxConnections: 2, dnsTcpIdleTimeout: '1500ms' });
    const idle = [await connect(port), await connect(port)];
    const opened = Date.now();
    // The third is closed at once, long before the idle timeout could close it.
    expect(await within(closed(await connect(port)), 500, false)).toBe(true);
    expect(idle.some((s) => s.destroyed)).toBe(false);
    // The two idle ones go after --dns-tcp-idle-timeout.
    expect(await within(Promise.all(idle.map(closed)), 5000, false)).toEqual([true, true]);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(1400);
    expect((await dig(port, 'web.services.agora', 'A', ['+tcp'])).answers).toHaveLength(1);
  });

  it('closes a TCP client that trickles a query a byte at a time after the idle timeout', async () => {
    const { port } = await hostWithWeb({ dnsTcpIdleTimeout: '1s' });
    const client = await connect(port);
    client.on('error', () => undefined);
    const query = dnsPacket.encode({ type: 'query', id: 4, questions: [{ name: 'web.services.agora', type: 'A' }] });
    const framed = Buffer.concat([Buffer.from([0, query.length]), query]);
    // One byte every 200 ms: the whole query would take ~7 s, each byte well inside the timeout.
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent < framed.length && !client.destroyed) client.write(framed.subarray(sent, ++sent));
    }, 200);
    try {
      expect(await within(closed(client), 4000, false)).toBe(true);
      expect(sent).toBeLessThan(framed.length);
    } finally {
      clearInterval(trickle);
    }
  });
});
