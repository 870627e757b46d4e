// The services proxy (frameworks/proxy/) against direct connections to the same instances,
// measured in one run:
//
//   npm run bench -- proxy [--instances 3] [--connections 16] [--seconds 5] [--bulk-mib 64] [--rounds 3]
//
// `--instances` HTTP servers run as their own processes (keep-alive; GET / answers 1 KiB, GET /bulk
// streams --bulk-mib MiB). The proxy runs here as the frameworks host runs it: a ServiceProxy
// following a services controller through the Jobs API's watch (test/support's in-memory one, so
// no master is needed), on loopback. The clients run in another process (bench/proxy-load.ts):
// `--connections` keep-alive connections issuing requests back to back for `--seconds`, then one
// bulk download each. Directly (connections spread round-robin over the instances), then through
// the service port, alternately for --rounds rounds; each figure is the median of its side. Requests/s, p50/p99 latency per request, and MiB/s of the bulk phase;
// the proxy's added latency is the difference of the two.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/logger.js';
import { ControllerRegistry } from '../frameworks/api/registry.js';
import { ServiceProxy } from '../frameworks/proxy/proxy.js';
import { FakeServiceController } from '../test/support/fake-service-controller.js';
import { freePorts } from '../test/support/ports.js';

const execFileAsync = promisify(execFile);
const BENCH_DIR = path.dirname(new URL(import.meta.url).pathname);

function server(port: number, bulkMiB: number): ChildProcess {
  const script = `const body=Buffer.alloc(1024,120),chunk=Buffer.alloc(65536,120);
require('http').createServer((q,r)=>{if(q.url!=='/bulk')return r.end(body);let left=${bulkMiB}*16;const pump=()=>{while(left>0){left--;if(!r.write(chunk))return r.once('drain',pump)}r.end()};pump()}).listen(${port},'127.0.0.1',()=>console.log('up'))`;
  return spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
}

function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`an instance exited (${code})`)));
  });
}

/** Run the clients in their own process (async: the proxy here must keep serving meanwhile). */
async function load(ports: number[], connections: number, seconds: number): Promise<Record<string, number>> {
  const { stdout: out } = await execFileAsync(process.execPath, ['--import', 'tsx', path.join(BENCH_DIR, 'proxy-load.ts'), '--ports', ports.join(','), '--connections', String(connections), '--seconds', String(seconds)], { encoding: 'utf8', timeout: (seconds + 120) * 1000 });
  return JSON.parse(out) as Record<string, number>;
}

/** Each figure's median over the rounds. */
function medians(results: readonly Record<string, number>[]): Record<string, number> {
  const keys = Object.keys(results[0] ?? {});
  return Object.fromEntries(keys.map((k) => [k, results.map((r) => r[k] ?? NaN).sort((a, b) => a - b)[Math.floor(results.length / 2)] ?? NaN]));
}

export async function run(argv: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({ args: argv, options: { instances: { type: 'string', default: '3' }, connections: { type: 'string', default: '16' }, seconds: { type: 'string', default: '5' }, 'bulk-mib': { type: 'string', default: '64' }, rounds: { type: 'string', default: '3' } }, strict: true });
  const [instances, connections, seconds, bulkMiB, roundsN] = [values.instances, values.connections, values.seconds, values['bulk-mib'], values.rounds].map(Number) as [number, number, number, number, number];
  if (![instances, connections, seconds, bulkMiB, roundsN].every((n) => Number.isInteger(n) && n > 0)) throw new Error('--instances, --connections, --seconds, --bulk-mib and --rounds are positive integers');
  const [servicePort, ...ports] = await freePorts(instances + 1);
  const children = ports.map((p) => server(p, bulkMiB));
  const controllers = new ControllerRegistry();
  const fake = new FakeServiceController();
  controllers.set(fake);
  const proxy = new ServiceProxy({ proxyBind: '127.0.0.1', proxyConnectTimeout: 2_000, proxyIdleTimeout: 600_000, proxyMaxConnections: 10_000 }, silentLogger(), new Registry());
  try {
    await Promise.all(children.map(ready));
    proxy.follow(controllers);
    await fake.apply({ name: 'bench', command: 'x', servicePort });
    fake.setEndpoints('bench', ports.map((p, i) => ({ taskId: `bench-${i}`, host: '127.0.0.1', ip: '', ports: [{ number: p, name: 'http' }], ready: true })));
    while (proxy.listening().length === 0) await new Promise((r) => setTimeout(r, 20));
    process.stderr.write(`proxy: ${instances} instances, ${connections} connections, ${seconds} s per side\n`);
    // Alternating rounds, medians per figure: a shared machine's noise falls on both sides alike.
    const rounds: { direct: Record<string, number>; proxied: Record<string, number> }[] = [];
    for (let i = 0; i < roundsN; i++) rounds.push({ direct: await load(ports, connections, seconds), proxied: await load([servicePort as number], connections, seconds) });
    const direct = medians(rounds.map((r) => r.direct));
    const proxied = medians(rounds.map((r) => r.proxied));
    const round = (n: number): number => Number(n.toFixed(3));
    return {
      params: { instances, connections, seconds, bulkMiB, rounds: roundsN, cpus: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) },
      direct,
      proxied,
      addedP50Ms: round((proxied['p50Ms'] ?? 0) - (direct['p50Ms'] ?? 0)),
      addedP99Ms: round((proxied['p99Ms'] ?? 0) - (direct['p99Ms'] ?? 0)),
      requestsRatio: round((proxied['requestsPerSecond'] ?? 0) / (direct['requestsPerSecond'] ?? 1)),
      throughputRatio: round((proxied['mibPerSecond'] ?? 0) / (direct['mibPerSecond'] ?? 1)),
    };
  } finally {
    proxy.close();
    for (const c of children) c.kill();
  }
}
