// GET /api/v1/containers (as Mesos's /containers): each live task with what it uses beside what it
// was allocated. Usage is the sampler's latest (usage.ts, every --usage-interval); `usage` is null
// until a task's first sample, or when its executor cannot tell (cgroups off, the fake executor).
// Bytes are bytes throughout; the allocation's mem and disk, MiB in a TaskInfo, are given × 1024².
import { isActive } from '../core/task-state.js';
import { taskResources, type AgentContext } from './context.js';
import type { TaskUsage } from './usage.js';
import { roleOf, workloadOf } from './usage.js';

const MIB = 1024 * 1024;

export interface ContainerJson {
  readonly frameworkId: string;
  readonly taskId: string;
  readonly name: string;
  readonly state: string;
  readonly executor: string;
  readonly workload: string;
  readonly role: string;
  readonly allocation: { readonly cpus: number; readonly memBytes: number; readonly diskBytes: number };
  readonly usage: UsageJson | null;
}

export interface UsageJson {
  readonly cpuSeconds: number;
  /** Cores, on average since the previous sample; null after the first. */
  readonly cpuUtilization: number | null;
  readonly memoryBytes: number;
  readonly memoryWorkingSetBytes: number;
  readonly memoryRssBytes: number;
  readonly memoryLimitBytes: number | null;
  readonly oomKills: number;
  readonly cpuThrottledPeriods: number;
  readonly cpuThrottledSeconds: number;
  readonly diskBytes: number | null;
  readonly sampledAtMs: number;
}

export function usageJson(u: TaskUsage): UsageJson {
  return {
    cpuSeconds: u.cpuSeconds,
    cpuUtilization: u.cpuUtilization ?? null,
    memoryBytes: u.memoryBytes,
    memoryWorkingSetBytes: u.workingSetBytes,
    memoryRssBytes: u.rssBytes,
    memoryLimitBytes: u.limitBytes ?? null,
    oomKills: u.oomKills,
    cpuThrottledPeriods: u.throttledPeriods,
    cpuThrottledSeconds: u.throttledSeconds,
    diskBytes: u.diskBytes ?? null,
    sampledAtMs: u.sampledAtMs,
  };
}

/** The live tasks the caller may see, each with its allocation and latest usage. */
export function containersJson(agent: AgentContext, visible: (frameworkId: string) => boolean): ContainerJson[] {
  const out: ContainerJson[] = [];
  for (const t of agent.tasks.tasks.values()) {
    if (!isActive(t.state) || !visible(t.frameworkId)) continue;
    const r = taskResources(t.info);
    const u = agent.usage?.usage(t.frameworkId, t.taskId);
    out.push({
      frameworkId: t.frameworkId,
      taskId: t.taskId,
      name: t.info.name,
      state: t.state,
      executor: t.executorKind,
      workload: workloadOf(t.info),
      role: roleOf(t.info, agent.tasks.frameworks.get(t.frameworkId)?.roles ?? []),
      allocation: { cpus: r.scalar('cpus'), memBytes: r.scalar('mem') * MIB, diskBytes: r.scalar('disk') * MIB },
      usage: u ? usageJson(u) : null,
    });
  }
  return out;
}
