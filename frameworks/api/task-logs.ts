// A task's logs, wherever it ran: the master's operator API says which agent has (or had) the
// task, and that agent's HTTP endpoint serves the sandbox's stdout / stderr:
//
//   GET master /api/v1/tasks ─► agentId ─► GET master /api/v1/agents/<id> ─► httpAddress
//   GET agent /api/v1/tasks/<id>/logs?stream=&offset=&length=&follow=1 ─► chunks
//
// Used by the Jobs API's TaskLogs stream and by `agora logs`.
import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import type { TaskLocator } from '../workload.js';
import { httpBase, request, requestJson, type HttpAuth } from './http-client.js';

interface TaskRow {
  readonly id: string;
  readonly agentId: string;
}

const LOOKUP_TIMEOUT_MS = 10_000;

/** How to reach the master and the agents: credentials, and the scheme of bare addresses. */
export interface HttpTransport {
  readonly auth?: HttpAuth;
  /** For host:port addresses (agents advertise those); https unless the cluster is insecure. */
  readonly scheme?: 'http' | 'https';
}

export class MasterTaskLocator implements TaskLocator {
  /** `masterHttp` gives the master's HTTP address now (host:port or URL). */
  constructor(
    private readonly masterHttp: () => string | undefined,
    private readonly transport: HttpTransport = {},
  ) {}

  async locate(taskId: string): Promise<{ agentHttpAddress: string } | undefined> {
    const address = this.masterHttp();
    if (address === undefined) return undefined;
    const base = httpBase(address, this.transport.scheme);
    const options = { timeoutMs: LOOKUP_TIMEOUT_MS, ...(this.transport.auth ? { auth: this.transport.auth } : {}) };
    const { tasks } = await requestJson<{ tasks: TaskRow[] }>(`${base}/api/v1/tasks?limit=10000`, options);
    // Launch order: the last row with the id is its newest incarnation.
    const task = tasks.findLast((t) => t.id === taskId);
    if (!task) return undefined;
    const { agent } = await requestJson<{ agent: { httpAddress: string } }>(`${base}/api/v1/agents/${encodeURIComponent(task.agentId)}`, options);
    return { agentHttpAddress: agent.httpAddress };
  }
}

export interface LogRequest {
  readonly taskId: string;
  readonly stream: 'stdout' | 'stderr';
  /** Byte offset; negative counts back from the end. */
  readonly offset?: number;
  /** Bytes to read; 0 or absent = to the end. */
  readonly length?: number;
  readonly follow?: boolean;
}

export interface LogChunk {
  readonly data: Buffer;
  /** Offset of data[0] in the file. */
  readonly offset: number;
}

/** The task's log as chunks; ends at the end of the file (or of the task, when following). */
export async function* readTaskLogs(locator: TaskLocator, req: LogRequest, signal?: AbortSignal, transport: HttpTransport = {}): AsyncGenerator<LogChunk> {
  if (req.taskId === '') throw new InvalidArgumentError('taskId', 'is required');
  const where = await locator.locate(req.taskId);
  if (!where) throw new NotFoundError('task', req.taskId);
  const url = `${httpBase(where.agentHttpAddress, transport.scheme)}/api/v1/tasks/${encodeURIComponent(req.taskId)}/logs?stream=${req.stream}`;
  const common = { ...(signal ? { signal } : {}), ...(transport.auth ? { auth: transport.auth } : {}) };
  let offset = req.offset ?? 0;
  if (offset < 0) {
    const head = await request(`${url}&offset=0&length=0`, { timeoutMs: LOOKUP_TIMEOUT_MS, ...common });
    await head.arrayBuffer();
    offset = Math.max(0, Number(head.headers.get('x-agora-log-size') ?? 0) + offset);
  }
  const length = req.length !== undefined && req.length > 0 ? `&length=${req.length}` : '';
  const res = await request(`${url}&offset=${offset}${length}${req.follow ? '&follow=1' : ''}`, common);
  if (!res.body) return;
  for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
    const data = Buffer.from(part);
    yield { data, offset };
    offset += data.length;
  }
}
