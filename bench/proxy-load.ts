// The load side of `npm run bench -- proxy`, run as its own process so the proxy under test does
// not share an event loop with its clients. Given targets (host:port, spread round-robin over the
// connections), it runs `--connections` keep-alive HTTP clients issuing GET / back to back for
// `--seconds`, then one GET /bulk per connection for throughput, and prints one JSON line.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

function get(agent: http.Agent, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve(bytes));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { ports: { type: 'string' }, connections: { type: 'string', default: '16' }, seconds: { type: 'string', default: '5' } }, strict: true });
  const ports = (values.ports ?? '').split(',').map(Number);
  const connections = Number(values.connections);
  const until = performance.now() + Number(values.seconds) * 1000;
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const agents = Array.from({ length: connections }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  await Promise.all(
    agents.map(async (agent, i) => {
      const port = ports[i % ports.length] as number;
      while (performance.now() < until) {
        const t = performance.now();
        try {
          await get(agent, port, '/');
          latencies.push(performance.now() - t);
        } catch {
          errors += 1;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const bulkStart = performance.now();
  const bytes = (await Promise.all(agents.map((agent, i) => get(agent, ports[i % ports.length] as number, '/bulk')))).reduce((a, b) => a + b, 0);
  const bulkSeconds = (performance.now() - bulkStart) / 1000;
  for (const a of agents) a.destroy();
  latencies.sort((a, b) => a - b);
  const round = (n: number, d = 3): number => Number(n.toFixed(d));
  process.stdout.write(
    `${JSON.stringify({
      requests: latencies.length,
      errors,
      requestsPerSecond: Math.round(latencies.length / elapsed),
      p50Ms: round(percentile(latencies, 50)),
      p99Ms: round(percentile(latencies, 99)),
      bulkMiB: round(bytes / 2 ** 20, 1),
      mibPerSecond: round(bytes / 2 ** 20 / bulkSeconds, 1),
    })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
