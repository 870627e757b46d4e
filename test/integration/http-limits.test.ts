// Servers that shed abuse (issue 16, core/server-limits.ts), on real sockets against the master,
// the agent and the Jobs API — in this process, and as `agora master` / `agora agent` processes
// where the process's own file descriptors are what is at stake: slow-loris headers, connections
// over the caps and the recovery after them, clients that never handshake, idle connections,
// and bodies over the limit (413).
import { afterEach, describe, expect, it } from 'vitest';
import { startTestAgent, stopTestAgents, AgentProcess } from '../support/agent-harness.js';
import { closeAbusers, openTcp, slowLoris, tlsRefused } from '../support/abuse.js';
import { FakeServiceController, fakeServicesModule } from '../support/fake-service-controller.js';
import { startJobsHost, stopJobsHosts } from '../support/jobs-host.js';
import { MasterHarness, eventually, stopHarnesses } from '../support/master-harness.js';
import { killMasters, spawnMaster } from '../support/master-process.js';
import { secureFetch } from '../support/security.js';
import { testServices } from '../support/services.js';
import { tempDir } from '../support/tmp.js';
import { holdsFor } from '../support/waits.js';

afterEach(async () => {
  closeAbusers();
  await stopJobsHosts();
  await stopTestAgents();
  await stopHarnesses();
  await killMasters();
});

const FAST_HEADERS = { httpHeadersTimeout: '600ms', httpRequestTimeout: '600ms' };

async function health(address: string): Promise<number> {
  const res = await secureFetch(`https://${address}/health`, { token: null });
  await res.text();
  return res.status;
}

async function metric(address: string, series: string): Promise<number> {
  const text = await (await secureFetch(`https://${address}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no ${series} in /metrics`);
  return Number(line.slice(series.length + 1));
}

describe('HTTP servers: slow clients', () => {
  it.each(['master', 'agent', 'jobs'] as const)('cuts a slow-loris client of the %s within its headers timeout, and keeps serving', async (kind) => {
    const h = await MasterHarness.start({ master: FAST_HEADERS });
    const address =
      kind === 'master'
        ? h.master.httpAddress
        : kind === 'agent'
          ? (await startTestAgent(h.address, FAST_HEADERS)).httpAddress
          : ((await startJobsHost({ modules: [fakeServicesModule(new FakeServiceController())], flags: FAST_HEADERS })).httpAddress as string);
    // A header line every 200 ms: never idle, never done.
    const loris = await slowLoris(address, { everyMs: 200 });
    expect(await health(address)).toBe(200);
    const cutAfter = await loris.closed;
    expect(cutAfter).toBeGreaterThanOrEqual(500);
    expect(cutAfter).toBeLessThan(3000);
    expect(await health(address)).toBe(200);
  });

  it('drops a client that opens TCP and never handshakes, on the HTTPS and the gRPC port', async () => {
    const h = await MasterHarness.start({ master: { tlsHandshakeTimeout: '500ms' } });
    const [https, grpc] = await Promise.all([openTcp(h.master.httpAddress), openTcp(h.master.grpcAddress)]);
    for (const cut of await Promise.all([https.closed, grpc.closed])) {
      expect(cut).toBeGreaterThanOrEqual(400);
      expect(cut).toBeLessThan(3000);
    }
    expect(await health(h.master.httpAddress)).toBe(200);
  });

  it('closes an idle keep-alive connection, but not a quiet event stream whose client keeps up', async () => {
    const h = await MasterHarness.start({ master: { httpKeepaliveTimeout: '200ms', httpIdleTimeout: '300ms' } });
    // Quiet for 1.5 s (heartbeats every 5 s), longer than the idle timeout: it stays open.
    const abort = new AbortController();
    const res = await secureFetch(`https://${h.master.httpAddress}/api/v1/events?heartbeatMs=5000`, { signal: abort.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('event: subscribed');
    // Quiet past the idle timeout (Node's own timers): a read pending all along stays unanswered.
    let ended = false;
    const pending = reader.read().finally(() => (ended = true));
    await holdsFor(1500, () => expect(ended).toBe(false), 'the quiet event stream stays open');
    const agent = await h.agent();
    const next = await pending;
    expect(next.done).toBe(false);
    expect(new TextDecoder().decode(next.value)).toContain(agent.agentId);
    abort.abort();

    // One request on a keep-alive connection, then nothing: closed after the keep-alive timeout
    // (Node adds a second so that a client reusing it at the last moment is not cut).
    const loris = await slowLoris(h.master.httpAddress, { everyMs: 60_000 });
    const answered = new Promise<void>((resolve) => loris.socket.once('data', () => resolve()));
    loris.socket.write('\r\n');
    await answered;
    const closedAfter = await loris.closed;
    expect(closedAfter).toBeLessThan(4000);
  });
});

describe('HTTP servers: connection caps', () => {
  it('refuses connections over --http-max-connections at once, and serves again once the abusers are cut (agora master)', async () => {
    const master = await spawnMaster(`zk://${testServices().zk}/agora`, `limits-${process.pid}-${Date.now()}`, {
      '--http-max-connections': '20',
      '--max-connections-per-client': '0',
      // Long enough that the first abusers are still there when the last connects, even on a
      // machine so loaded that 20 TLS handshakes take seconds (CI once saw one cut before the probe).
      '--http-headers-timeout': '8000ms',
      '--http-request-timeout': '8000ms',
    });
    const abusers = await Promise.all(Array.from({ length: 20 }, () => slowLoris(master.httpAddress, { everyMs: 300 })));
    expect(abusers.filter((a) => a.socket.destroyed), 'abusers cut before the probe').toEqual([]);
    const t0 = Date.now();
    expect(await tlsRefused(master.httpAddress)).toBe(true);
    // At once: not after the headers timeout that frees the places.
    expect(Date.now() - t0).toBeLessThan(3000);
    // The headers timeout cuts them all; then the master serves again.
    for (const cut of await Promise.all(abusers.map((a) => a.closed))) expect(cut).toBeLessThan(16_000);
    await eventually(async () => expect(await health(master.httpAddress)).toBe(200));
    expect(await metric(master.httpAddress, 'agora_http_connections_refused_total')).toBeGreaterThanOrEqual(1);
  });

  it('caps the connections of one client address without refusing another (agora agent)', async () => {
    const h = await MasterHarness.start();
    const agent = await AgentProcess.start(h.address, {
      workDir: await tempDir('agent'),
      flags: { maxConnectionsPerClient: '5', tlsHandshakeTimeout: '1500ms' },
    });
    try {
      const address = agent.httpAddress;
      const abusers = await Promise.all(Array.from({ length: 5 }, () => openTcp(address, { from: '127.0.0.2' })));
      expect(await tlsRefused(address, { from: '127.0.0.2' })).toBe(true);
      expect(await health(address)).toBe(200);
      // They never handshake: the TLS handshake timeout frees their places.
      for (const cut of await Promise.all(abusers.map((a) => a.closed))) {
        expect(cut).toBeGreaterThanOrEqual(1000);
        expect(cut).toBeLessThan(5000);
      }
      expect(await tlsRefused(address, { from: '127.0.0.2' })).toBe(false);
    } finally {
      agent.kill();
      await agent.exited;
    }
  });
});

describe('HTTP servers: body size', () => {
  it('answers a body over the limit with 413 AGORA_PAYLOAD_TOO_LARGE and changes nothing', async () => {
    const h = await MasterHarness.start();
    const url = `https://${h.master.httpAddress}/api/v1/weights`;
    const before = await (await secureFetch(url)).json();
    const huge = JSON.stringify([{ role: 'r', weight: 2, pad: 'x'.repeat(11 * 1024 * 1024) }]);
    const res = await secureFetch(url, { method: 'PUT', body: huge, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      code: 'AGORA_PAYLOAD_TOO_LARGE',
      message: `request body is larger than ${4 * 1024 * 1024} bytes (--http-max-body)`,
      field: 'body',
      details: { limitBytes: 4 * 1024 * 1024 },
    });
    expect(await (await secureFetch(url)).json()).toEqual(before);
    expect(await health(h.master.httpAddress)).toBe(200);
  });

  it('counts a chunked body (no content-length) against --http-max-body too', async () => {
    const host = await startJobsHost({ modules: [fakeServicesModule(new FakeServiceController())], flags: { httpMaxBody: '64KiB' } });
    const chunk = new TextEncoder().encode(`# ${'x'.repeat(8190)}\n`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 20) controller.close();
        else {
          sent += 1;
          controller.enqueue(chunk);
        }
      },
    });
    const res = await secureFetch(`https://${host.httpAddress}/api/v1/apply`, { method: 'POST', body, duplex: 'half', headers: { 'content-type': 'application/yaml' } } as Parameters<typeof secureFetch>[1]);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { code: string }).code).toBe('AGORA_PAYLOAD_TOO_LARGE');
    const list = await (await secureFetch(`https://${host.httpAddress}/api/v1/services`)).json();
    expect(list).toEqual({ items: [] });
  });
});
