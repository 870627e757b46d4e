// What the fuzz tests aim at: one `agora up` child process (master, agent, the built-in frameworks
// and the Jobs API; TLS and tokens on) used as its admin, with a few workloads already in it, a
// health watch that polls /health from a worker thread (so a busy test process does not look like
// a slow server), a normalised snapshot of the cluster's state, and senders for HTTP and gRPC cases.
//
//   const target = await FuzzTarget.start();        // killed by target.stop()
//   const outcome = await target.send(httpCase);    // status, code, message; never throws
//   deepEqual(await target.snapshot(), before)      // what a rejected input must not change
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import { grpcChannelCredentials } from '../../core/security/tls.js';
import { JobsClient } from '../../proto/index.js';
import { startUpProcess, stopCliProcesses, type UpProcess } from './cli.js';
import type { Body } from './fuzz.js';
import { tempDir } from './tmp.js';

export interface HttpCase {
  readonly via: 'http';
  readonly server: 'master' | 'agent';
  /** The route as registered, e.g. `PUT /api/v1/quota`: how failures are grouped. */
  readonly route: string;
  readonly method: string;
  /** Path and query, already encoded. */
  readonly url: string;
  readonly body?: Body;
  /** An event stream or a followed log: read the head, then hang up. */
  readonly stream?: boolean;
  /** The one status this case must get (e.g. 413 for a body over the limit). */
  readonly expect?: number;
  readonly note: string;
}

export interface GrpcCase {
  readonly via: 'grpc';
  /** `Jobs/Apply` etc. */
  readonly route: string;
  /** A message the typed client encodes … */
  readonly request?: Record<string, unknown>;
  /** … or bytes sent as they are. */
  readonly raw?: Uint8Array;
  readonly stream?: boolean;
  readonly note: string;
}

export type FuzzCase = HttpCase | GrpcCase;

export interface Outcome {
  /** HTTP status, or the gRPC status name (`OK`, `INVALID_ARGUMENT`, …); 0 / `NO_ANSWER` when none came. */
  readonly status: number | string;
  readonly accepted: boolean;
  /** Agora's error code and message (JSON body, or gRPC metadata and details). */
  readonly code?: string;
  readonly message?: string;
  /** The start of a successful answer, for checks on what was served. */
  readonly text?: string;
  /** Why no status came: timeout, connection reset, … */
  readonly transport?: string;
  /** The client refused to encode the request: the case never reached the server. */
  readonly unsent?: boolean;
  readonly ms: number;
}

/** A connection of its own (grpc-js shares them between clients by default). */
const OWN_CONNECTION = { 'grpc.use_local_subchannel_pool': 1 };

/** No answer within this long is a hang. */
export const REQUEST_DEADLINE_MS = 10_000;
/** /health must answer within this long, throughout. */
export const HEALTH_DEADLINE_MS = 1_000;
const STREAM_READ_MS = 250;
const MAX_READ_BYTES = 4 * 1024 * 1024;

/** Ids that exist, for the fuzz tests to name. */
export interface Fixtures {
  readonly agentId: string;
  readonly frameworkIds: readonly string[];
  /** A running service task, and the fixture job's finished tasks by index. */
  readonly liveTaskId: string;
  readonly jobTaskIds: readonly string[];
  /** Tokens that exist (revoking one would lock the test out). */
  readonly accessors: readonly string[];
}

export class FuzzTarget {
  #fixtures: Fixtures | undefined;
  /** For snapshots; each case gets a channel of its own, so one that a case spoils spoils nothing else. */
  readonly #jobs: JobsClient;
  readonly #credentials: grpc.ChannelCredentials;
  readonly health: HealthWatch;
  readonly secret = `fuzz-secret-${randomUUID()}`;
  #exit: number | null | undefined;

  private constructor(
    readonly up: UpProcess,
    readonly dataDir: string,
  ) {
    // What `agora up` made on its first start: its CA and the admin token.
    const ca = readFileSync(path.join(dataDir, 'tls', 'ca.pem'));
    const credentials = grpcChannelCredentials({ ca }, readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim());
    this.#credentials = credentials;
    this.#jobs = new JobsClient(up.grpc, credentials, OWN_CONNECTION);
    this.health = new HealthWatch([`${up.masterUrl}/health`, `${up.agentUrl}/health`], ca);
    void up.exited.then((code) => (this.#exit = code));
  }

  static async start(): Promise<FuzzTarget> {
    const dataDir = await tempDir('fuzz-up');
    const target = new FuzzTarget(await startUpProcess(dataDir), dataDir);
    writeFileSync(target.secretPath, `${target.secret}\n`, { mode: 0o644 });
    return target;
  }

  /** A file outside every sandbox (in the data dir, beside the agent's work dir): no answer may contain its text. */
  get secretPath(): string {
    return path.join(this.dataDir, 'fuzz-secret');
  }


  get fixtures(): Fixtures {
    if (!this.#fixtures) throw new Error('call target.prepare() first');
    return this.#fixtures;
  }

  get alive(): boolean {
    return this.#exit === undefined;
  }

  /** Everything the process has written so far (JSON log lines at level warn and above). */
  log(): string {
    return this.up.output();
  }

  /** Apply the workloads to aim at; `wait` resolves with their ids once the cluster is quiet. Starts the health watch. */
  async prepare(workloads: readonly unknown[], wait: (target: FuzzTarget) => Promise<Fixtures>): Promise<Fixtures> {
    const deadline = Date.now() + 30_000;
    for (const w of workloads) {
      for (;;) {
        const res = await this.up.fetch(`${this.up.masterUrl}/api/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(w) });
        if (res.status === 201) break;
        // 503 while the built-in frameworks start
        if (res.status !== 503 || Date.now() > deadline) throw new Error(`fixture ${JSON.stringify(w).slice(0, 80)}: ${res.status} ${await res.text()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    this.#fixtures = await wait(this);
    this.health.start();
    return this.#fixtures;
  }

  async getJson(server: 'master' | 'agent', url: string): Promise<unknown> {
    const res = await this.up.fetch(`${server === 'master' ? this.up.masterUrl : this.up.agentUrl}${url}`, { signal: AbortSignal.timeout(REQUEST_DEADLINE_MS) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as unknown;
  }

  /** Every workload, through the Jobs API's gRPC List. */
  listWorkloads(): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      this.#jobs.list({}, new grpc.Metadata(), { deadline: Date.now() + REQUEST_DEADLINE_MS }, (err, res) => (err ? reject(err) : resolve(res?.items ?? [])));
    });
  }

  /** `streamWaitMs`: how long a stream may take to say something before it is judged open (default 250 ms). */
  send(c: FuzzCase, options: { streamWaitMs?: number } = {}): Promise<Outcome> {
    const wait = options.streamWaitMs ?? STREAM_READ_MS;
    return c.via === 'http' ? this.#sendHttp(c, wait) : this.#sendGrpc(c, wait);
  }

  async #sendHttp(c: HttpCase, streamWaitMs: number): Promise<Outcome> {
    const started = Date.now();
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), REQUEST_DEADLINE_MS);
    const headers: Record<string, string> = {};
    if (c.body?.contentType !== undefined) headers['content-type'] = c.body.contentType;
    // A string body gets a text/plain content-type from fetch; bytes get none.
    const body = c.body?.body === undefined ? undefined : Buffer.from(c.body.body);
    try {
      const base = c.server === 'master' ? this.up.masterUrl : this.up.agentUrl;
      const res = await this.up.fetch(`${base}${c.url}`, { method: c.method, headers, ...(body ? { body } : {}), signal: abort.signal });
      const text = await readHead(res.body, c.stream ? streamWaitMs : REQUEST_DEADLINE_MS, abort);
      const accepted = res.status >= 200 && res.status < 300;
      let json: { code?: unknown; message?: unknown } | undefined;
      try {
        json = accepted ? undefined : (JSON.parse(text) as typeof json);
      } catch {
        // not JSON: judged by the caller
      }
      return {
        status: res.status,
        accepted,
        ...(typeof json?.code === 'string' ? { code: json.code } : {}),
        ...(typeof json?.message === 'string' ? { message: json.message } : accepted ? {} : { message: '' }),
        text: text.slice(0, 4096),
        ms: Date.now() - started,
      };
    } catch (err) {
      const why = abort.signal.aborted ? `no answer within ${REQUEST_DEADLINE_MS} ms` : String((err as Error).cause ?? err);
      return { status: 0, accepted: false, transport: why, ms: Date.now() - started };
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
  }

  #sendGrpc(c: GrpcCase, streamWaitMs: number): Promise<Outcome> {
    const started = Date.now();
    const method = c.route.split('/')[1] ?? '';
    const options = { deadline: Date.now() + REQUEST_DEADLINE_MS };
    return new Promise((resolve) => {
      const client = c.raw ? new grpc.Client(this.up.grpc, this.#credentials, OWN_CONNECTION) : new JobsClient(this.up.grpc, this.#credentials, OWN_CONNECTION);
      const done = (err: grpc.ServiceError | null, text = ''): void => {
        client.close();
        if (!err) return resolve({ status: 'OK', accepted: true, text, ms: Date.now() - started });
        const name = grpc.status[err.code] ?? String(err.code);
        const code = err.metadata?.get('agora-code')[0];
        // grpc-js reports its own failure to encode a request as INTERNAL, before sending anything.
        const unsent = err.code === grpc.status.INTERNAL && /serialization failure/i.test(err.details);
        resolve({ status: name, accepted: false, ...(typeof code === 'string' ? { code } : {}), message: err.details, ...(unsent ? { unsent } : {}), ms: Date.now() - started });
      };
      const lower = `${method.charAt(0).toLowerCase()}${method.slice(1)}`;
      if (c.raw) {
        const identity = (b: Buffer): Buffer => b;
        const path = `/agora.v1.Jobs/${method}`;
        if (c.stream) return readStream(client.makeServerStreamRequest(path, identity, identity, Buffer.from(c.raw), new grpc.Metadata(), options), streamWaitMs, done);
        client.makeUnaryRequest(path, identity, identity, Buffer.from(c.raw), new grpc.Metadata(), options, (err, res) => done(err, res ? `<${res.length} bytes>` : ''));
        return undefined;
      }
      const call = (client as unknown as Record<string, (...args: unknown[]) => unknown>)[lower];
      if (typeof call !== 'function') throw new Error(`no Jobs method ${method}`);
      if (c.stream) return readStream(call.call(client, c.request ?? {}, new grpc.Metadata(), options) as grpc.ClientReadableStream<unknown>, streamWaitMs, done);
      call.call(client, c.request ?? {}, new grpc.Metadata(), options, (err: grpc.ServiceError | null, res: unknown) => done(err, JSON.stringify(res ?? null).slice(0, 4096)));
      return undefined;
    });
  }

  async stop(): Promise<void> {
    await this.health.stop();
    this.#jobs.close();
    await stopCliProcesses();
  }
}

/** Read a body for up to `ms` or MAX_READ_BYTES, then hang up. */
async function readHead(body: ReadableStream<Uint8Array> | null, ms: number, abort: AbortController): Promise<string> {
  if (!body) return '';
  const reader = body.getReader();
  const chunks: Buffer[] = [];
  let size = 0;
  const stop = setTimeout(() => void reader.cancel().catch(() => undefined), ms);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(Buffer.from(value));
      size += value.length;
      if (size >= MAX_READ_BYTES) break;
    }
  } catch {
    // cancelled on purpose (a stream) or cut by the server: what came is what we judge
  } finally {
    clearTimeout(stop);
    if (size >= MAX_READ_BYTES) abort.abort();
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A server stream: its first message or its status, whichever comes first; then cancel it. */
function readStream(stream: grpc.ClientReadableStream<unknown>, waitMs: number, done: (err: grpc.ServiceError | null, text?: string) => void): void {
  let settled = false;
  const settle = (err: grpc.ServiceError | null, text?: string): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    done(err, text);
    stream.cancel();
  };
  const timer = setTimeout(() => settle(null, '<open>'), waitMs);
  stream.on('data', (m: unknown) => settle(null, Buffer.isBuffer(m) ? `<${m.length} bytes>` : JSON.stringify(m).slice(0, 4096)));
  stream.on('error', (err: grpc.ServiceError) => settle(err.code === grpc.status.CANCELLED && settled ? null : err));
  stream.on('end', () => settle(null, '<end>'));
}

// ---- /health, from another thread ---------------------------------------------------------------

export interface HealthProblem {
  readonly url: string;
  /** When the poll started and how long it took (or until it gave up). */
  readonly at: number;
  readonly ms: number;
  readonly why: string;
}

const HEALTH_POLLER = `
const { parentPort, workerData } = require('node:worker_threads');
const https = require('node:https');
// A new connection each time: the server must keep accepting them, too.
const agent = new https.Agent({ keepAlive: false, ca: workerData.ca });
function poll(url, id) {
  const at = Date.now();
  let done = false;
  const finish = (status, why) => {
    if (done) return;
    done = true;
    parentPort.postMessage({ url, id, at, ms: Date.now() - at, status, why });
  };
  const req = https.get(url, { agent, timeout: workerData.deadlineMs }, (res) => {
    res.resume();
    res.on('end', () => finish(res.statusCode, ''));
    res.on('error', (e) => finish(0, e.message));
  });
  req.on('timeout', () => { finish(0, 'no answer within ' + workerData.deadlineMs + ' ms'); req.destroy(); });
  req.on('error', (e) => finish(0, e.message));
}
let timer;
parentPort.on('message', (m) => {
  if (m.type === 'start') timer = setInterval(() => { for (const url of workerData.urls) poll(url, 0); }, workerData.intervalMs);
  if (m.type === 'now') for (const url of workerData.urls) poll(url, m.id);
  if (m.type === 'stop') { clearInterval(timer); agent.destroy(); parentPort.close(); }
});
`;

/** Polls each URL every 100 ms (and on demand); any answer that is not a 200 within HEALTH_DEADLINE_MS is a problem. */
export class HealthWatch {
  readonly problems: HealthProblem[] = [];
  polls = 0;
  slowestMs = 0;
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { left: number; found: HealthProblem[]; resolve: (p: HealthProblem[]) => void }>();
  #next = 1;

  constructor(urls: readonly string[], ca: Buffer) {
    this.#worker = new Worker(HEALTH_POLLER, { eval: true, workerData: { urls, ca, deadlineMs: HEALTH_DEADLINE_MS, intervalMs: 100 } });
    this.#worker.on('message', (m: { url: string; id: number; at: number; ms: number; status: number; why: string }) => {
      this.polls += 1;
      this.slowestMs = Math.max(this.slowestMs, m.ms);
      const bad = m.status !== 200 || m.ms > HEALTH_DEADLINE_MS;
      const problem = { url: m.url, at: m.at, ms: m.ms, why: m.why || `status ${m.status} after ${m.ms} ms` };
      if (bad && m.id === 0) this.problems.push(problem);
      const waiter = this.#waiting.get(m.id);
      if (!waiter) return;
      if (bad) waiter.found.push(problem);
      if (--waiter.left === 0) {
        this.#waiting.delete(m.id);
        waiter.resolve(waiter.found);
      }
    });
  }

  start(): void {
    this.#worker.postMessage({ type: 'start' });
  }

  /** Poll every URL now; resolves with what went wrong (nothing: healthy). */
  now(urls = 2): Promise<HealthProblem[]> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#waiting.set(id, { left: urls, found: [], resolve });
      this.#worker.postMessage({ type: 'now', id });
    });
  }

  async stop(): Promise<void> {
    this.#worker.postMessage({ type: 'stop' });
    await this.#worker.terminate();
  }
}
