// The usage sampler (agent/usage.ts) on a fake clock and containers whose usage the test sets;
// the sums an agent reports (usageSummary) and what the master keeps of them (master/usage.ts).
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import type { ContainerUsage } from '../../agent/executor.js';
import type { TaskEntry } from '../../agent/task-entry.js';
import { cpuUtilization, roleOf, UsageSampler, usageSummary, workloadOf, type TaskUsage } from '../../agent/usage.js';
import { compileAgentOptions } from '../../agent/options.js';
import { acceptUsage, MAX_ROLES } from '../../master/usage.js';
import type { Resource__Output } from '../../proto/index.js';

const MIB = 1024 * 1024;
const ZERO: ContainerUsage = { cpuSeconds: 0, memoryBytes: 0, workingSetBytes: 0, rssBytes: 0, limitBytes: undefined, oomKills: 0, throttledPeriods: 0, throttledSeconds: 0 };

function task(taskId: string, now: { usage: ContainerUsage | undefined }, extra: { labels?: Record<string, string>; state?: string; resources?: Resource__Output[] } = {}): TaskEntry {
  return {
    frameworkId: 'fw',
    taskId,
    state: extra.state ?? 'TASK_RUNNING',
    info: { labels: extra.labels ?? {}, resources: extra.resources ?? [] },
    container: { usage: () => Promise.resolve(now.usage) },
  } as unknown as TaskEntry;
}

describe('the usage sampler', () => {
  it('keeps the latest sample of each live task, the utilisation since the one before, and drops ended tasks', async () => {
    const clock = new FakeClock();
    const a = { usage: { ...ZERO, cpuSeconds: 10, workingSetBytes: 64 * MIB } as ContainerUsage | undefined };
    const b = { usage: { ...ZERO, cpuSeconds: 1 } as ContainerUsage | undefined };
    const tasks = [task('a', a, { labels: { 'agora.service': 'web' } }), task('b', b), task('gone', b, { state: 'TASK_FINISHED' })];
    const sampler = new UsageSampler({ clock, intervalMs: 1000, log: silentLogger(), tasks: () => tasks, frameworkRoles: () => ['dev'], diskBytes: (_, id) => (id === 'a' ? 4096 : undefined) });
    await sampler.sample();
    expect(sampler.usage('fw', 'a')).toMatchObject({ cpuSeconds: 10, cpuUtilization: undefined, workload: 'service/web', role: 'dev', diskBytes: 4096 });
    expect(sampler.usage('fw', 'gone')).toBeUndefined();
    clock.advance(2000);
    a.usage = { ...ZERO, cpuSeconds: 11.5, workingSetBytes: 64 * MIB }; // 1.5 cpu-seconds in 2 s: 0.75 cores
    b.usage = undefined; // its cgroup went: no sample
    await sampler.sample();
    expect(sampler.usage('fw', 'a')?.cpuUtilization).toBeCloseTo(0.75, 9);
    expect(sampler.usage('fw', 'b')).toBeUndefined();
    tasks.splice(0, 1);
    await sampler.sample();
    expect(sampler.all()).toEqual([]);
  });

  it('samples every interval once started, and not after stop()', async () => {
    const clock = new FakeClock();
    let reads = 0;
    const tasks = [{ ...task('a', { usage: ZERO }), container: { usage: () => (reads++, Promise.resolve(ZERO)) } } as unknown as TaskEntry];
    const sampler = new UsageSampler({ clock, intervalMs: 1000, log: silentLogger(), tasks: () => tasks, frameworkRoles: () => [], diskBytes: () => undefined });
    // A round in flight is not doubled: let each finish (a turn of the event loop) before the next falls due.
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    sampler.start(); // samples at once
    await turn();
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await turn();
    }
    expect(reads).toBe(4);
    sampler.stop();
    clock.advance(5000);
    await turn();
    expect(reads).toBe(4);
  });
});

describe('--usage-interval', () => {
  it('defaults to 10 s and names itself when it is bad', () => {
    expect(compileAgentOptions({ master: 'm:1' }).usageInterval).toBe(10_000);
    expect(compileAgentOptions({ master: 'm:1', usageInterval: '200ms' }).usageInterval).toBe(200);
    expect(() => compileAgentOptions({ master: 'm:1', usageInterval: '0' })).toThrow(/--usage-interval/);
    expect(() => compileAgentOptions({ master: 'm:1', usageInterval: 'often' })).toThrow(/--usage-interval/);
  });
});

describe('usage helpers', () => {
  it('names the workload from the built-in frameworks\u2019 labels, and the role from the resources or the framework', () => {
    expect(workloadOf({ labels: { 'agora.cronjob': 'backup', 'agora.run': 'r1' } })).toBe('cronjob/backup');
    expect(workloadOf({ labels: { 'agora.job': 'etl' } })).toBe('job/etl');
    expect(workloadOf({ labels: {} })).toBe('');
    expect(roleOf({ resources: [{ name: 'cpus', role: 'prod' } as Resource__Output] }, ['dev'])).toBe('prod');
    expect(roleOf({ resources: [{ name: 'cpus', role: '*' } as Resource__Output] }, ['dev'])).toBe('dev');
    expect(roleOf({ resources: [] })).toBe('*');
  });

  it('computes utilisation as Δcpu-seconds ÷ Δwall, never negative, undefined without time passing', () => {
    expect(cpuUtilization({ cpuSeconds: 1, sampledAtMs: 0 }, { cpuSeconds: 2, sampledAtMs: 4000 })).toBe(0.25);
    expect(cpuUtilization({ cpuSeconds: 5, sampledAtMs: 0 }, { cpuSeconds: 1, sampledAtMs: 1000 })).toBe(0);
    expect(cpuUtilization({ cpuSeconds: 1, sampledAtMs: 10 }, { cpuSeconds: 2, sampledAtMs: 10 })).toBeUndefined();
  });

  it('sums cores, working sets and sandbox disk per agent and per role (a first sample counts no cores, an unmeasured sandbox no disk)', () => {
    const u = (role: string, cpu: number | undefined, mem: number, at: number, disk?: number): TaskUsage => ({ ...ZERO, frameworkId: 'f', taskId: `${role}${at}`, workload: '', role, cpuUtilization: cpu, workingSetBytes: mem, diskBytes: disk, sampledAtMs: at });
    expect(usageSummary([u('prod', 0.5, 10, 1, 4096), u('dev', undefined, 5, 3), u('prod', 0.25, 1, 2, 1000)])).toEqual({
      cpus: 0.75,
      memBytes: 16,
      diskBytes: 5096,
      sampledAtMs: 3,
      roles: [
        { role: 'dev', cpus: 0, memBytes: 5, diskBytes: 0 },
        { role: 'prod', cpus: 0.75, memBytes: 11, diskBytes: 5096 },
      ],
    });
    expect(usageSummary([])).toEqual({ cpus: 0, memBytes: 0, diskBytes: 0, sampledAtMs: 0, roles: [] });
  });
});

describe('what the master keeps of a report', () => {
  const report = { cpus: 1.5, memBytes: 100, diskBytes: 300, sampledAtMs: 7, roles: [{ role: 'prod', cpus: 1.5, memBytes: 100, diskBytes: 300 }] };

  it('keeps a sound report, with the time it came', () => {
    const kept = acceptUsage(report, 42);
    expect(kept).toMatchObject({ cpus: 1.5, memBytes: 100, diskBytes: 300, sampledAtMs: 7, receivedAtMs: 42 });
    expect(typeof kept !== 'string' && [...kept.roles]).toEqual([['prod', { cpus: 1.5, memBytes: 100, diskBytes: 300 }]]);
  });

  it('drops a report with a bad figure, a bad or repeated role, or too many roles, naming the field', () => {
    expect(acceptUsage({ ...report, cpus: Number.NaN }, 0)).toBe('usage.cpus must be finite and not negative, got NaN');
    expect(acceptUsage({ ...report, memBytes: -1 }, 0)).toBe('usage.memBytes must be finite and not negative, got -1');
    expect(acceptUsage({ ...report, diskBytes: -1 }, 0)).toBe('usage.diskBytes must be finite and not negative, got -1');
    expect(acceptUsage({ ...report, diskBytes: Number.NaN }, 0)).toBe('usage.diskBytes must be finite and not negative, got NaN');
    expect(acceptUsage({ ...report, roles: [{ role: 'prod', cpus: 0, memBytes: 0, diskBytes: Number.NaN }] }, 0)).toBe('usage.roles[prod].diskBytes must be finite and not negative, got NaN');
    expect(acceptUsage({ ...report, roles: [{ role: 'a b', cpus: 0, memBytes: 0, diskBytes: 0 }] }, 0)).toBe("usage.roles: invalid or repeated role 'a b'");
    expect(acceptUsage({ ...report, roles: [report.roles[0]!, report.roles[0]!] }, 0)).toBe("usage.roles: invalid or repeated role 'prod'");
    expect(acceptUsage({ ...report, roles: [{ role: 'prod', cpus: Infinity, memBytes: 0, diskBytes: 0 }] }, 0)).toMatch(/^usage\.roles\[prod\]\.cpus /);
    const many = Array.from({ length: MAX_ROLES + 1 }, (_, i) => ({ role: `r${i}`, cpus: 0, memBytes: 0, diskBytes: 0 }));
    expect(acceptUsage({ ...report, roles: many }, 0)).toBe(`usage.roles: at most ${MAX_ROLES} roles, got ${MAX_ROLES + 1}`);
  });
});
