// What a task's cgroup has used, read from the kernel's accounting files (v1 and v2), and from
// Docker's stats for a container: pure parsers of the files' text, and one read per version.
//
//   v1: cpuacct.usage (ns), memory.usage_in_bytes, memory.stat (total_rss, total_inactive_file),
//       memory.limit_in_bytes, memory.oom_control oom_kill (else memory.failcnt), cpu.stat
//       nr_throttled / throttled_time (ns)
//   v2: cpu.stat usage_usec / nr_throttled / throttled_usec, memory.current, memory.stat anon /
//       inactive_file, memory.max ("max" = none), memory.events oom_kill
//
// The working set is what kubelet and cAdvisor call it: usage less the inactive file cache (which
// the kernel reclaims before it OOM-kills), never below 0. It is what a memory limit is measured
// against, so "near its limit" alerts compare it with the limit.
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerUsage } from '../executor.js';
import type { CgroupRef } from './cgroup-types.js';

export type CgroupUsage = ContainerUsage;

/** The contents of a cgroup's files, by file name; a missing file is absent. */
export type CgroupFiles = Readonly<Record<string, string | undefined>>;

export const V1_USAGE_FILES = {
  cpuacct: ['cpuacct.usage'],
  memory: ['memory.usage_in_bytes', 'memory.stat', 'memory.limit_in_bytes', 'memory.oom_control', 'memory.failcnt'],
  cpu: ['cpu.stat'],
} as const;
export const V2_USAGE_FILES = ['cpu.stat', 'memory.current', 'memory.stat', 'memory.max', 'memory.events'] as const;

/**
 * v1 reports "no limit" as a huge number (PAGE_COUNTER_MAX pages, 9223372036854771712 on x86-64):
 * anything from 2^60 up is no limit.
 */
const V1_NO_LIMIT = 2 ** 60;

/** The numbers of a flat-keyed file ("total_rss 123\n…"). */
export function parseFlatKeyed(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

function single(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : undefined;
}

export function parseV1Usage(files: CgroupFiles): CgroupUsage {
  const stat = parseFlatKeyed(files['memory.stat']);
  const cpuStat = parseFlatKeyed(files['cpu.stat']);
  const memoryBytes = single(files['memory.usage_in_bytes']) ?? 0;
  const inactiveFile = stat.get('total_inactive_file') ?? stat.get('inactive_file') ?? 0;
  const limit = single(files['memory.limit_in_bytes']);
  const oomKill = parseFlatKeyed(files['memory.oom_control']).get('oom_kill');
  return {
    cpuSeconds: (single(files['cpuacct.usage']) ?? 0) / 1e9,
    memoryBytes,
    workingSetBytes: Math.max(0, memoryBytes - inactiveFile),
    rssBytes: stat.get('total_rss') ?? stat.get('rss') ?? 0,
    limitBytes: limit === undefined || limit >= V1_NO_LIMIT ? undefined : limit,
    // Kernels before 4.13 have no oom_kill: failcnt (times the limit was hit) is the nearest sign.
    oomKills: oomKill ?? single(files['memory.failcnt']) ?? 0,
    throttledPeriods: cpuStat.get('nr_throttled') ?? 0,
    throttledSeconds: (cpuStat.get('throttled_time') ?? 0) / 1e9,
  };
}

export function parseV2Usage(files: CgroupFiles): CgroupUsage {
  const cpu = parseFlatKeyed(files['cpu.stat']);
  const stat = parseFlatKeyed(files['memory.stat']);
  const memoryBytes = single(files['memory.current']) ?? 0;
  return {
    cpuSeconds: (cpu.get('usage_usec') ?? 0) / 1e6,
    memoryBytes,
    workingSetBytes: Math.max(0, memoryBytes - (stat.get('inactive_file') ?? 0)),
    rssBytes: stat.get('anon') ?? 0,
    limitBytes: single(files['memory.max']),
    oomKills: parseFlatKeyed(files['memory.events']).get('oom_kill') ?? 0,
    throttledPeriods: cpu.get('nr_throttled') ?? 0,
    throttledSeconds: (cpu.get('throttled_usec') ?? 0) / 1e6,
  };
}

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The usage of a task's cgroup now; undefined when its directory is gone (the task ended). */
export function readCgroupUsage(ref: CgroupRef): CgroupUsage | undefined {
  if (ref.version === 2) {
    const dir = ref.paths['unified'];
    if (!dir || !fs.existsSync(dir)) return undefined;
    return parseV2Usage(Object.fromEntries(V2_USAGE_FILES.map((f) => [f, read(path.join(dir, f))])));
  }
  const memory = ref.paths['memory'];
  if (!memory || !fs.existsSync(memory)) return undefined;
  const files: Record<string, string | undefined> = {};
  // cpuacct has its own directory when it is mounted apart from cpu; where the two share a
  // hierarchy (cpu,cpuacct) the task has only the cpu one.
  for (const [controller, names] of Object.entries(V1_USAGE_FILES)) {
    const dir = ref.paths[controller] ?? (controller === 'cpuacct' ? ref.paths['cpu'] : undefined);
    if (dir) for (const f of names) files[f] = read(path.join(dir, f));
  }
  return parseV1Usage(files);
}

/** The part of Docker's stats (GET /containers/:id/stats?stream=false) the usage needs. */
export interface DockerStats {
  readonly cpu_stats?: { readonly cpu_usage?: { readonly total_usage?: number }; readonly throttling_data?: { readonly throttled_periods?: number; readonly throttled_time?: number } };
  readonly memory_stats?: { readonly usage?: number; readonly limit?: number; readonly failcnt?: number; readonly stats?: Readonly<Record<string, number>> };
}

/**
 * Docker's stats as usage. Docker reports the cgroup's own figures: total_usage in ns on both
 * versions; memory_stats.stats is memory.stat (v1 keys total_rss / total_inactive_file, v2 anon /
 * inactive_file). OOM kills are not in the stats: the container's State.OOMKilled says it at the end.
 */
export function parseDockerStats(stats: DockerStats): CgroupUsage {
  const mem = stats.memory_stats ?? {};
  const s = mem.stats ?? {};
  const usage = mem.usage ?? 0;
  const inactiveFile = s['total_inactive_file'] ?? s['inactive_file'] ?? 0;
  const limit = mem.limit;
  return {
    cpuSeconds: (stats.cpu_stats?.cpu_usage?.total_usage ?? 0) / 1e9,
    memoryBytes: usage,
    workingSetBytes: Math.max(0, usage - inactiveFile),
    rssBytes: s['total_rss'] ?? s['rss'] ?? s['anon'] ?? 0,
    limitBytes: limit === undefined || limit === 0 || limit >= V1_NO_LIMIT ? undefined : limit,
    oomKills: 0,
    throttledPeriods: stats.cpu_stats?.throttling_data?.throttled_periods ?? 0,
    throttledSeconds: (stats.cpu_stats?.throttling_data?.throttled_time ?? 0) / 1e9,
  };
}
