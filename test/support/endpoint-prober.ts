// A client of a service, run as its own process on a client host (hosts-cluster.ts): every
// `interval` ms one probe — the service's endpoints from the Jobs API (the last list it got when
// that call fails), then an HTTP GET to an endpoint's ip:port, starting at the next one each probe;
// after a failed connection the list is read again and the next endpoint not yet tried is taken
// (at most 6 tries), until one answers. One JSON line per probe on stdout:
//   {"t":…,"ok":true,"by":"10.231.0.13:31002","body":"v2 …","tried":[{"at":"10.231.0.12:31000","error":"…"}],"endpoints":3}
// A probe fails only when no endpoint answered; each connection that failed on the way is listed.
//
//   node --import tsx test/support/endpoint-prober.ts <jobs-api-url> <service> <ca-file> <token-file> <interval-ms>
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

interface Endpoint {
  readonly ip?: string;
  readonly host?: string;
  readonly ports?: readonly { readonly number?: number }[];
}

const [jobsUrl, service, caFile, tokenFile, intervalArg] = process.argv.slice(2);
if (!jobsUrl || !service || !caFile || !tokenFile) throw new Error('usage: endpoint-prober <jobs-api-url> <service> <ca-file> <token-file> [interval-ms]');
const ca = readFileSync(caFile);
const token = readFileSync(tokenFile, 'utf8').trim();
const intervalMs = Number(intervalArg ?? 100);
const CONNECT_TIMEOUT_MS = 400;
const MAX_TRIES = 6;

let endpoints: string[] = [];
let turn = 0;

function get(client: typeof http | typeof https, url: string, options: https.RequestOptions, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = client.get(url, { ...options, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

async function refresh(): Promise<void> {
  try {
    const body = await get(https, `${jobsUrl}/api/v1/services/${service}/endpoints`, { ca, headers: { authorization: `Bearer ${token}` } }, 1_000);
    const list = (JSON.parse(body) as { endpoints?: Endpoint[] }).endpoints ?? [];
    endpoints = list.map((e) => `${e.ip || e.host}:${e.ports?.[0]?.number ?? 0}`);
  } catch {
    // keep the last list: the probe is about the endpoints, not the Jobs API
  }
}

async function probe(): Promise<void> {
  const tried: { at: string; error: string }[] = [];
  const start = turn++;
  // After a failed connection the list is read again, as a client following the endpoints does:
  // the instance may have been taken out meanwhile (a rolling update, a partition).
  for (;;) {
    await refresh();
    const failed = new Set(tried.map((x) => x.at));
    const rotated = endpoints.map((_, i) => endpoints[(start + i) % endpoints.length]!);
    const at = rotated.find((e) => !failed.has(e));
    if (at === undefined || tried.length >= MAX_TRIES) break;
    try {
      const body = await get(http, `http://${at}/`, {}, CONNECT_TIMEOUT_MS);
      process.stdout.write(`${JSON.stringify({ t: Date.now(), ok: true, by: at, body: body.trim(), tried, endpoints: endpoints.length })}\n`);
      return;
    } catch (err) {
      tried.push({ at, error: (err as Error).message });
    }
  }
  process.stdout.write(`${JSON.stringify({ t: Date.now(), ok: false, tried, endpoints: endpoints.length })}\n`);
}

let stopping = false;
process.once('SIGTERM', () => (stopping = true));
while (!stopping) {
  const began = Date.now();
  await probe();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, intervalMs - (Date.now() - began))));
}
