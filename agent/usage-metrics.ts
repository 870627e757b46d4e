// The agent's per-task usage series (usage.ts's latest samples), labelled framework_id, task_id
// and workload (`service/web`, `cronjob/backup`, `job/etl`, or "" for a task of another framework).
// Every family is rebuilt at each scrape from the samples of the live tasks, so a task's series go
// when it ends. A figure the container cannot tell (no memory limit; a sandbox the disk watch does
// not measure; utilisation before the second sample) is left out rather than shown as 0.
import type { Registry } from 'prom-client';
import { registerScraped } from '../core/scraped-metrics.js';
import type { UsageView } from './context.js';
import type { TaskUsage } from './usage.js';

const LABELS = ['framework_id', 'task_id', 'workload'] as const;

interface Family {
  readonly name: string;
  readonly help: string;
  readonly counter?: boolean;
  readonly read: (u: TaskUsage) => number | undefined;
}

const FAMILIES: readonly Family[] = [
  { name: 'agora_task_cpu_seconds_total', help: 'CPU time the task has used, user and system', counter: true, read: (u) => u.cpuSeconds },
  { name: 'agora_task_cpu_utilization', help: 'Cores the task used on average between the last two samples (--usage-interval)', read: (u) => u.cpuUtilization },
  { name: 'agora_task_cpu_throttled_seconds_total', help: 'Time the task was throttled by its CPU quota', counter: true, read: (u) => u.throttledSeconds },
  { name: 'agora_task_cpu_throttled_periods_total', help: 'CFS periods in which the task was throttled', counter: true, read: (u) => u.throttledPeriods },
  { name: 'agora_task_memory_working_set_bytes', help: 'Memory of the task less its inactive file cache: what its limit is measured against', read: (u) => u.workingSetBytes },
  { name: 'agora_task_memory_rss_bytes', help: 'Anonymous memory of the task (heap, stacks)', read: (u) => u.rssBytes },
  { name: 'agora_task_memory_limit_bytes', help: 'Memory limit of the task (absent: none)', read: (u) => u.limitBytes },
  { name: 'agora_task_oom_kills_total', help: 'Processes of the task the kernel killed for want of memory', counter: true, read: (u) => u.oomKills },
  { name: 'agora_task_disk_bytes', help: "Size of the task's sandbox on disk (tasks with a disk resource)", read: (u) => u.diskBytes },
];

export function registerUsageMetrics(registers: Registry[], usage: UsageView | undefined): void {
  for (const f of FAMILIES) {
    registerScraped(registers, {
      kind: f.counter ? 'counter' : 'gauge',
      name: f.name,
      help: f.help,
      labelNames: LABELS,
      fill(put) {
        for (const u of usage?.all() ?? []) {
          const v = f.read(u);
          if (v !== undefined && Number.isFinite(v)) put({ framework_id: u.frameworkId, task_id: u.taskId, workload: u.workload }, v);
        }
      },
    });
  }
}
