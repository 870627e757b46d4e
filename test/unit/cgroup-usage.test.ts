// The usage parsers on sample contents of the kernel's files: v1 (this machine, also exercised for
// real by test/integration/agent-usage.test.ts), v2 (only here: the test machine has no cgroup2
// hierarchy) and Docker's stats.
import { describe, expect, it } from 'vitest';
import { parseDockerStats, parseFlatKeyed, parseV1Usage, parseV2Usage } from '../../agent/executors/cgroup-usage.js';

const MiB = 1024 * 1024;

describe('parseFlatKeyed', () => {
  it('reads key-value lines, skipping what is not a number', () => {
    expect([...parseFlatKeyed('a 1\nb x\n\nc 30 extra\n')]).toEqual([['a', 1], ['c', 30]]);
    expect(parseFlatKeyed(undefined).size).toBe(0);
  });
});

describe('parseV1Usage', () => {
  const files = {
    'cpuacct.usage': '2500000000\n',
    'memory.usage_in_bytes': `${80 * MiB}\n`,
    'memory.stat': `cache ${16 * MiB}\nrss ${60 * MiB}\ninactive_file 1\ntotal_cache ${16 * MiB}\ntotal_rss ${64 * MiB}\ntotal_inactive_file ${10 * MiB}\n`,
    'memory.limit_in_bytes': `${128 * MiB}\n`,
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
    'memory.failcnt': '7\n',
    'cpu.stat': 'nr_periods 40\nnr_throttled 12\nthrottled_time 1500000000\n',
  };

  it('reads CPU seconds, memory, limit, OOM kills and throttling (hierarchical totals)', () => {
    expect(parseV1Usage(files)).toEqual({
      cpuSeconds: 2.5,
      memoryBytes: 80 * MiB,
      workingSetBytes: 70 * MiB,
      rssBytes: 64 * MiB,
      limitBytes: 128 * MiB,
      oomKills: 2,
      throttledPeriods: 12,
      throttledSeconds: 1.5,
    });
  });

  it("takes the kernel's page-counter maximum as no limit, and failcnt where oom_kill is not counted", () => {
    const u = parseV1Usage({ ...files, 'memory.limit_in_bytes': '9223372036854771712\n', 'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\n' });
    expect(u.limitBytes).toBeUndefined();
    expect(u.oomKills).toBe(7);
  });

  it('is all zeros without the files, and never a negative working set', () => {
    expect(parseV1Usage({})).toEqual({ cpuSeconds: 0, memoryBytes: 0, workingSetBytes: 0, rssBytes: 0, limitBytes: undefined, oomKills: 0, throttledPeriods: 0, throttledSeconds: 0 });
    expect(parseV1Usage({ 'memory.usage_in_bytes': '10', 'memory.stat': 'total_inactive_file 20' }).workingSetBytes).toBe(0);
  });
});

describe('parseV2Usage', () => {
  const files = {
    'cpu.stat': 'usage_usec 3250000\nuser_usec 3000000\nsystem_usec 250000\nnr_periods 50\nnr_throttled 20\nthrottled_usec 750000\n',
    'memory.current': `${100 * MiB}\n`,
    'memory.stat': `anon ${66 * MiB}\nfile ${30 * MiB}\nactive_file ${5 * MiB}\ninactive_file ${25 * MiB}\n`,
    'memory.max': `${256 * MiB}\n`,
    'memory.events': 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n',
  };

  it('reads usage_usec, memory.current less inactive_file, anon, memory.max and oom_kill', () => {
    expect(parseV2Usage(files)).toEqual({
      cpuSeconds: 3.25,
      memoryBytes: 100 * MiB,
      workingSetBytes: 75 * MiB,
      rssBytes: 66 * MiB,
      limitBytes: 256 * MiB,
      oomKills: 1,
      throttledPeriods: 20,
      throttledSeconds: 0.75,
    });
  });

  it('takes memory.max "max" as no limit', () => {
    expect(parseV2Usage({ ...files, 'memory.max': 'max\n' }).limitBytes).toBeUndefined();
  });
});

describe('parseDockerStats', () => {
  it('reads the cgroup v1 figures Docker passes on', () => {
    const u = parseDockerStats({
      cpu_stats: { cpu_usage: { total_usage: 4_000_000_000 }, throttling_data: { throttled_periods: 3, throttled_time: 500_000_000 } },
      memory_stats: { usage: 50 * MiB, limit: 64 * MiB, stats: { total_rss: 40 * MiB, total_inactive_file: 8 * MiB } },
    });
    expect(u).toEqual({ cpuSeconds: 4, memoryBytes: 50 * MiB, workingSetBytes: 42 * MiB, rssBytes: 40 * MiB, limitBytes: 64 * MiB, oomKills: 0, throttledPeriods: 3, throttledSeconds: 0.5 });
  });

  it('reads the cgroup v2 keys (anon, inactive_file), and a host-sized limit as none', () => {
    const u = parseDockerStats({ memory_stats: { usage: 20 * MiB, limit: 2 ** 62, stats: { anon: 12 * MiB, inactive_file: 4 * MiB } } });
    expect(u).toMatchObject({ workingSetBytes: 16 * MiB, rssBytes: 12 * MiB, limitBytes: undefined, cpuSeconds: 0 });
  });
});
