// Frameworks hosts for the Jobs API tests: in-process on loopback (gRPC and HTTP on port 0), on a
// named in-memory store that several hosts can share, plus a typed gRPC client and an SSE reader.
//
//   const host = await startJobsHost({ modules: [fakeServicesModule(fake)] });
//   const jobs = jobsClient(host);                        // closed by stopJobsHosts()
//   await call((cb) => jobs.apply({ document }, cb));
//   const sse = await openSse(`https://${host.httpAddress}/api/v1/watch`);   // as the test admin
//   await sse.next((e) => e.event === 'added');
import * as grpc from '@grpc/grpc-js';
import { unaryCall } from '../../core/grpc.js';
import { silentLogger } from '../../core/logger.js';
import { FrameworksHost } from '../../frameworks/host.js';
import type { FrameworkModule } from '../../frameworks/host-modules.js';
import { compileFrameworksOptions } from '../../frameworks/host-options.js';
import { SERVICES_FRAMEWORK_NAME, startServices } from '../../frameworks/services/index.js';
import { JobsClient } from '../../proto/index.js';
import { FrameworkState } from '../../sdk/state.js';
import { adminChannel, secureFetch, testAuthenticator, testPki } from './security.js';

/** The real services framework with test-sized intervals, as a host module. */
export const fastServicesModule: FrameworkModule = {
  name: SERVICES_FRAMEWORK_NAME,
  kind: 'SERVICE',
  async start(ctx) {
    const state = new FrameworkState(ctx.store, ctx.cluster, SERVICES_FRAMEWORK_NAME);
    await ctx.store.mkdirp(state.root);
    return startServices({ master: ctx.master, state, access: ctx.access, apiUrl: ctx.apiUrl, tickMs: 100, driver: { reconnect: { initialMs: 50, maxMs: 300 } }, waitSubscribedMs: 10_000 });
  },
};

const hosts = new Set<FrameworksHost>();
const clients = new Set<grpc.Client>();
const streams = new Set<AbortController>();

export interface JobsHostOptions {
  /** Shared by hosts given the same name. */
  readonly store?: string;
  readonly modules?: readonly FrameworkModule[];
  readonly masterHttp?: string;
  readonly master?: string;
  /** Wait until it leads (default true). */
  readonly lead?: boolean;
  /** More flags (as `agora frameworks` takes them), over the test defaults. */
  readonly flags?: Readonly<Record<string, unknown>>;
}

let storeSeq = 0;

export function uniqueStore(): string {
  storeSeq += 1;
  return `memory://jobs-${process.pid}-${storeSeq}`;
}

export async function startJobsHost(options: JobsHostOptions = {}): Promise<FrameworksHost> {
  const pki = testPki();
  const flags = {
    master: options.master ?? '127.0.0.1:1',
    masterHttp: options.masterHttp ?? '127.0.0.1:1',
    store: options.store ?? uniqueStore(),
    grpcPort: 0,
    httpPort: 0,
    dnsPort: 0,
    retryDelay: '100ms',
    logLevel: 'silent',
    tlsCa: pki.files.ca,
    tlsCert: pki.files.serverCert,
    tlsKey: pki.files.serverKey,
    tokenFile: pki.files.frameworksToken,
    ...options.flags,
  };
  // With a real master, callers are checked with it; without one, as it would.
  const authenticator = options.master === undefined ? await testAuthenticator() : undefined;
  const host = await FrameworksHost.run(compileFrameworksOptions(flags), {
    logger: silentLogger(),
    heartbeatMs: 200,
    ...(options.modules ? { modules: options.modules } : {}),
    ...(authenticator ? { authenticator } : {}),
  });
  hosts.add(host);
  if (options.lead !== false) await host.waitLeading(5_000);
  return host;
}

export function jobsClient(host: FrameworksHost): JobsClient {
  const client = new JobsClient(host.grpcAddress ?? '', adminChannel());
  clients.add(client);
  return client;
}

/** One unary call; rejects with the typed AgoraError. */
export const call = unaryCall;

/** Read a server stream to its end (or error). */
export function collect<T>(stream: grpc.ClientReadableStream<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const items: T[] = [];
    stream.on('data', (item: T) => items.push(item));
    stream.on('error', reject);
    stream.on('end', () => resolve(items));
  });
}

export interface SseEvent {
  readonly event: string;
  readonly data: unknown;
}

export interface SseReader {
  readonly status: number;
  /** The next event matching `match` (events before it are skipped), within timeoutMs. */
  next(match?: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

export async function openSse(url: string): Promise<SseReader> {
  const abort = new AbortController();
  streams.add(abort);
  const res = await secureFetch(url, { signal: abort.signal });
  const queue: SseEvent[] = [];
  let wake: (() => void) | undefined;
  let buffer = '';
  void (async () => {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += Buffer.from(chunk).toString('utf8');
        for (let cut = buffer.indexOf('\n\n'); cut !== -1; cut = buffer.indexOf('\n\n')) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (event !== undefined) queue.push({ event, data: data === undefined ? undefined : JSON.parse(data) });
        }
        wake?.();
      }
    } catch {
      // aborted
    }
    queue.push({ event: '<end>', data: undefined });
    wake?.();
  })();
  return {
    status: res.status,
    async next(match = () => true, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = queue.findIndex((e) => e.event === '<end>' || match(e));
        if (i !== -1) {
          const [e] = queue.splice(0, i + 1).slice(-1);
          if (e?.event === '<end>') throw new Error('the event stream ended');
          return e as SseEvent;
        }
        if (Date.now() > deadline) throw new Error(`no matching event within ${timeoutMs} ms; saw ${queue.map((e) => e.event).join(', ')}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
    },
    close: () => abort.abort(),
  };
}

/** Close every client, stream and host (call in afterEach). */
export async function stopJobsHosts(): Promise<void> {
  for (const s of streams) s.abort();
  streams.clear();
  for (const c of clients) c.close();
  clients.clear();
  await Promise.allSettled([...hosts].map((h) => h.stop()));
  hosts.clear();
}
