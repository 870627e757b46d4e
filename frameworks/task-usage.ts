// What the autoscaler measures (services/autoscale.ts decides from it): each task's utilisation as
// a fraction of its allocation, read from the agents running the tasks, with the frameworks' own
// credentials:
//
//   GET master /api/v1/agents ─► agent id ─► httpAddress
//   GET agent /api/v1/containers ─► per task: cpuUtilization ÷ cpus, working set ÷ mem bytes
//
// An agent that does not answer leaves its tasks out (no sample), as does a task not sampled yet.
import type { Logger } from '../core/logger.js';
import { httpBase, requestJson, type HttpAuth } from './api/http-client.js';
import type { TaskSample } from './services/autoscale.js';
import type { AutoscaleTarget } from './services/autoscaler.js';

const TIMEOUT_MS = 5_000;

export interface TaskUsageReaderOptions {
  /** The master's HTTP address now (host:port or URL). */
  readonly masterHttp: () => string | undefined;
  /** Credentials for the master and the agents (the frameworks' own). */
  readonly http: HttpAuth;
  readonly scheme: 'http' | 'https';
  readonly logger: Logger;
}

interface ContainerRow {
  readonly taskId: string;
  readonly allocation: { readonly cpus: number; readonly memBytes: number };
  readonly usage: { readonly cpuUtilization: number | null; readonly memoryWorkingSetBytes: number } | null;
}

/** The utilisation of one container as a fraction of its allocation (a figure the agent cannot tell is left out). */
export function sampleOf(row: ContainerRow): TaskSample | undefined {
  const u = row.usage;
  if (u === null) return undefined;
  const cpu = u.cpuUtilization !== null && row.allocation.cpus > 0 ? u.cpuUtilization / row.allocation.cpus : undefined;
  const memory = row.allocation.memBytes > 0 ? u.memoryWorkingSetBytes / row.allocation.memBytes : undefined;
  return { ...(cpu !== undefined ? { cpu } : {}), ...(memory !== undefined ? { memory } : {}) };
}

/** Reads the samples of the targets' tasks, by task id. */
export function taskUsageReader(o: TaskUsageReaderOptions): (targets: readonly AutoscaleTarget[]) => Promise<Map<string, TaskSample>> {
  return async (targets) => {
    const samples = new Map<string, TaskSample>();
    const wanted = new Set(targets.flatMap((t) => t.tasks.map((task) => task.taskId)));
    const agentIds = new Set(targets.flatMap((t) => t.tasks.map((task) => task.agentId)));
    const address = o.masterHttp();
    if (wanted.size === 0 || address === undefined) return samples;
    const auth = o.http;
    const { agents } = await requestJson<{ agents: { id: string; httpAddress: string }[] }>(`${httpBase(address, o.scheme)}/api/v1/agents`, { timeoutMs: TIMEOUT_MS, auth });
    await Promise.all(
      agents
        .filter((a) => agentIds.has(a.id) && a.httpAddress)
        .map(async (a) => {
          try {
            const { containers } = await requestJson<{ containers: ContainerRow[] }>(`${httpBase(a.httpAddress, o.scheme)}/api/v1/containers`, { timeoutMs: TIMEOUT_MS, auth });
            for (const row of containers) {
              const sample = wanted.has(row.taskId) ? sampleOf(row) : undefined;
              if (sample !== undefined) samples.set(row.taskId, sample);
            }
          } catch (err) {
            o.logger.warn({ err, agentId: a.id }, 'autoscaler: cannot read the agent’s containers; its tasks are left out');
          }
        }),
    );
    return samples;
  };
}
