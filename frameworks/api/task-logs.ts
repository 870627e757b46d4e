// A task's logs, wherever it ran: the master's operator API says which agent has (or had) the
// task, and that agent's HTTP endpoint serves the sandbox's stdout / stderr:
//
//   GET master /api/v1/tasks ─► agentId ─► GET master /api/v1/agents/<id> ─► httpAddress
//   GET agent /api/v1/tasks/<id>/logs?stream=&offset=&length=&follow=1 ─► chunks
//
// Used by the Jobs API's TaskLogs stream and by `agora logs`.
import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import type { TaskLocation, TaskLocator, WorkloadKind } from '../workload.js';
import { agentCapacity, type AgentCapacity } from './feasibility.js';
import { httpBase, request, requestJson, type HttpAuth } from './http-client.js';

interface TaskRow {
  readonly id: string;
  readonly agentId: string;
  readonly frameworkId: string;
}

const LOOKUP_TIMEOUT_MS = 10_000;
// Apply waits this long at most for the agents it checks a spec against (then warns of nothing).
const AGENTS_TIMEOUT_MS = 2_000;

export interface MasterTaskLocatorOptions {
  /** The master's HTTP address now (host:port or URL). */
  readonly masterHttp: () => string | undefined;
  /** Credentials for the master and the agents (the frameworks' own). */
  readonly http: HttpAuth;
  readonly scheme: 'http' | 'https';
  /** The kind of workload a framework (by name) runs: only the built-in frameworks' tasks are found. */
  readonly kindOf: (frameworkName: string) => WorkloadKind | undefined;
}

export class MasterTaskLocator implements TaskLocator {
  readonly http: HttpAuth;

  constructor(private readonly options: MasterTaskLocatorOptions) {
    this.http = options.http;
  }

  async locate(taskId: string): Promise<TaskLocation | undefined> {
    const address = this.options.masterHttp();
    if (address === undefined) return undefined;
    const base = httpBase(address, this.options.scheme);
    const auth = this.options.http;
    const { tasks } = await requestJson<{ tasks: TaskRow[] }>(`${base}/api/v1/tasks?limit=10000`, { timeoutMs: LOOKUP_TIMEOUT_MS, auth });
    // Launch order: the last row with the id is its newest incarnation.
    const task = tasks.findLast((t) => t.id === taskId);
    if (!task) return undefined;
    const [{ agent }, { framework }] = await Promise.all([
      requestJson<{ agent: { httpAddress: string } }>(`${base}/api/v1/agents/${encodeURIComponent(task.agentId)}`, { timeoutMs: LOOKUP_TIMEOUT_MS, auth }),
      requestJson<{ framework: { name: string } }>(`${base}/api/v1/frameworks/${encodeURIComponent(task.frameworkId)}`, { timeoutMs: LOOKUP_TIMEOUT_MS, auth }),
    ]);
    return { agentHttpAddress: httpBase(agent.httpAddress, this.options.scheme), kind: this.options.kindOf(framework.name) };
  }

  async agents(): Promise<readonly AgentCapacity[]> {
    const address = this.options.masterHttp();
    if (address === undefined) return [];
    const base = httpBase(address, this.options.scheme);
    const { agents } = await requestJson<{ agents: (Parameters<typeof agentCapacity>[0] & { state?: string })[] }>(`${base}/api/v1/agents`, { timeoutMs: AGENTS_TIMEOUT_MS, auth: this.options.http });
    return agents.filter((a) => a.state !== 'removed').map(agentCapacity);
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
export async function* readTaskLogs(locator: TaskLocator, req: LogRequest, signal?: AbortSignal, located?: TaskLocation): AsyncGenerator<LogChunk> {
  if (req.taskId === '') throw new InvalidArgumentError('taskId', 'is required');
  const where = located ?? (await locator.locate(req.taskId));
  if (!where) throw new NotFoundError('task', req.taskId);
  const auth = locator.http ?? {};
  const url = `${httpBase(where.agentHttpAddress)}/api/v1/tasks/${encodeURIComponent(req.taskId)}/logs?stream=${req.stream}`;
  let offset = req.offset ?? 0;
  if (offset < 0) {
    const head = await request(`${url}&offset=0&length=0`, { timeoutMs: LOOKUP_TIMEOUT_MS, auth, ...(signal ? { signal } : {}) });
    await head.arrayBuffer();
    offset = Math.max(0, Number(head.headers.get('x-agora-log-size') ?? 0) + offset);
  }
  const length = req.length !== undefined && req.length > 0 ? `&length=${req.length}` : '';
  const res = await request(`${url}&offset=${offset}${length}${req.follow ? '&follow=1' : ''}`, { auth, ...(signal ? { signal } : {}) });
  if (!res.body) return;
  for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
    const data = Buffer.from(part);
    yield { data, offset };
    offset += data.length;
  }
}
