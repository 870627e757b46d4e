// cgroup detection and the files v1 and v2 write, against directories laid out like cgroupfs (the
// real hierarchy is exercised by test/integration/executor-process.test.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attachCgroup, cgroupName, detectCgroups, parseMounts } from '../../agent/executors/cgroups.js';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agora-cgroups-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const read = (...parts: string[]): string => fs.readFileSync(path.join(dir, ...parts), 'utf8');
const touch = (...parts: string[]): void => {
  const file = path.join(dir, ...parts);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '');
};

function v1Mounts(): string {
  return ['memory', 'cpu', 'pids']
    .map((c) => `cgroup ${path.join(dir, c)} cgroup rw,nosuid,relatime,${c === 'cpu' ? 'cpu,cpuacct' : c} 0 0`)
    .concat([`cgroup2 ${path.join(dir, 'unified')} cgroup2 rw 0 0`])
    .join('\n');
}

describe('parseMounts', () => {
  it('reads mount points (unescaping octal), types and options', () => {
    expect(parseMounts('cgroup /sys/fs/cgroup/a\\040b cgroup rw,memory 0 0\n')).toEqual([
      { mountPoint: '/sys/fs/cgroup/a b', fstype: 'cgroup', options: ['rw', 'memory'] },
    ]);
  });
});

describe('detectCgroups', () => {
  it('is off when configured off, or when nothing is mounted, and says why', () => {
    expect(detectCgroups({ mode: 'off' })).toMatchObject({ version: undefined, disabledReason: 'cgroups are turned off by configuration' });
    const none = detectCgroups({ mounts: 'proc /proc proc rw 0 0\n' });
    expect(none.version).toBeUndefined();
    expect(none.disabledReason).toMatch(/no cgroup hierarchy is mounted/);
    expect(none.create('t', { cpus: 1, memMb: 64 })).toBeUndefined();
  });

  it('is off, saying so, when the hierarchy is not writable', () => {
    fs.writeFileSync(path.join(dir, 'memory'), 'a file, so mkdir below it fails');
    const cgroups = detectCgroups({ mounts: `cgroup ${path.join(dir, 'memory')} cgroup rw,memory 0 0` });
    expect(cgroups.version).toBeUndefined();
    expect(cgroups.disabledReason).toMatch(/^cgroups are not writable: ENOTDIR/);
  });

  it('uses v1 when cgroup2 is not the main hierarchy (hybrid), with a controller per mount', () => {
    const cgroups = detectCgroups({ mounts: v1Mounts(), unifiedMountPoint: path.join(dir, 'main') });
    expect(cgroups.version).toBe(1);
    for (const c of ['memory', 'cpu', 'pids']) expect(fs.statSync(path.join(dir, c, 'agora')).isDirectory()).toBe(true);
  });

  it('gives a task a cpuacct directory where cpuacct is mounted apart from cpu (for its CPU time)', () => {
    const mounts = ['memory', 'cpu', 'cpuacct'].map((c) => `cgroup ${path.join(dir, c)} cgroup rw,${c} 0 0`).join('\n');
    const cg = detectCgroups({ mounts, unifiedMountPoint: '/nowhere' }).create('t', { cpus: 0, memMb: 0 });
    expect(cg?.ref.paths['cpuacct']).toBe(path.join(dir, 'cpuacct/agora/t'));
    expect(cg?.procsFiles).toContain(path.join(dir, 'cpuacct/agora/t/cgroup.procs'));
  });

  it('uses v2 when cgroup2 is mounted as the main hierarchy, delegating the controllers it has', () => {
    touch('unified', 'cgroup.subtree_control');
    fs.writeFileSync(path.join(dir, 'unified', 'cgroup.controllers'), 'cpuset cpu io memory hugetlb\n');
    const cgroups = detectCgroups({ mounts: v1Mounts(), unifiedMountPoint: path.join(dir, 'unified') });
    expect(cgroups.version).toBe(2);
    expect(read('unified', 'cgroup.subtree_control')).toBe('+memory +cpu');
    expect(read('unified', 'agora', 'cgroup.subtree_control')).toBe('+memory +cpu');
  });
});

describe('v1 task cgroups', () => {
  it('writes memory (and memsw), CFS quota and shares, and pids limits', () => {
    const cgroups = detectCgroups({ mounts: v1Mounts(), unifiedMountPoint: '/nowhere' });
    touch('memory', 'agora', 'web-1', 'memory.memsw.limit_in_bytes');
    const cg = cgroups.create('web-1', { cpus: 0.5, memMb: 64, pidsMax: 100 });
    expect(cg?.ref).toEqual({
      version: 1,
      paths: { memory: path.join(dir, 'memory/agora/web-1'), cpu: path.join(dir, 'cpu/agora/web-1'), pids: path.join(dir, 'pids/agora/web-1') },
    });
    expect(cg?.procsFiles).toContain(path.join(dir, 'cpu/agora/web-1/cgroup.procs'));
    expect(read('memory/agora/web-1/memory.limit_in_bytes')).toBe(String(64 * 1024 * 1024));
    expect(read('memory/agora/web-1/memory.memsw.limit_in_bytes')).toBe(String(64 * 1024 * 1024));
    expect(read('cpu/agora/web-1/cpu.cfs_period_us')).toBe('100000');
    expect(read('cpu/agora/web-1/cpu.cfs_quota_us')).toBe('50000');
    expect(read('cpu/agora/web-1/cpu.shares')).toBe('512');
    expect(read('pids/agora/web-1/pids.max')).toBe('100');
  });

  it('leaves memory and CPU unlimited when the task asks for none, and floors tiny quotas at 1 ms', () => {
    const cgroups = detectCgroups({ mounts: v1Mounts(), unifiedMountPoint: '/nowhere' });
    cgroups.create('a', { cpus: 0, memMb: 0 });
    expect(fs.existsSync(path.join(dir, 'memory/agora/a/memory.limit_in_bytes'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'cpu/agora/a/cpu.cfs_quota_us'))).toBe(false);
    cgroups.create('b', { cpus: 0.001, memMb: 0 });
    expect(read('cpu/agora/b/cpu.cfs_quota_us')).toBe('1000');
  });

  it('tells an OOM kill from oom_control, or from failcnt and SIGKILL on older kernels', () => {
    const memory = path.join(dir, 'memory/agora/t');
    const cg = attachCgroup({ version: 1, paths: { memory } });
    touch('memory/agora/t/memory.oom_control');
    fs.writeFileSync(path.join(memory, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n');
    expect(cg.oomKilled('SIGKILL')).toBe(false);
    fs.writeFileSync(path.join(memory, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    expect(cg.oomKilled()).toBe(true);
    fs.writeFileSync(path.join(memory, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\n');
    fs.writeFileSync(path.join(memory, 'memory.failcnt'), '17\n');
    expect(cg.oomKilled('SIGKILL')).toBe(true);
    expect(cg.oomKilled('SIGTERM')).toBe(false);
  });

  it('reads CPU throttling from cpu.stat', () => {
    touch('cpu/agora/t/cpu.stat');
    fs.writeFileSync(path.join(dir, 'cpu/agora/t/cpu.stat'), 'nr_periods 11\nnr_throttled 9\nthrottled_time 942801263\n');
    const cg = attachCgroup({ version: 1, paths: { cpu: path.join(dir, 'cpu/agora/t') } });
    expect(cg.cpuThrottling()).toEqual({ periods: 11, throttled: 9, throttledUs: 942801 });
  });
});

describe('v2 task cgroups', () => {
  it('writes memory.max, memory.swap.max, cpu.max and pids.max where the kernel offers them', () => {
    touch('unified', 'cgroup.subtree_control');
    fs.writeFileSync(path.join(dir, 'unified', 'cgroup.controllers'), 'cpu memory pids\n');
    for (const f of ['memory.max', 'memory.swap.max', 'cpu.max', 'pids.max']) touch('unified', 'agora', 't', f);
    const cgroups = detectCgroups({ mounts: v1Mounts(), unifiedMountPoint: path.join(dir, 'unified') });
    const cg = cgroups.create('t', { cpus: 1.5, memMb: 32, pidsMax: 50 });
    expect(cg?.ref).toEqual({ version: 2, paths: { unified: path.join(dir, 'unified/agora/t') } });
    expect(read('unified/agora/t/memory.max')).toBe(String(32 * 1024 * 1024));
    expect(read('unified/agora/t/memory.swap.max')).toBe('0');
    expect(read('unified/agora/t/cpu.max')).toBe('150000 100000');
    expect(read('unified/agora/t/pids.max')).toBe('50');
  });

  it('tells an OOM kill from memory.events and throttling from cpu.stat', () => {
    touch('u', 'memory.events');
    touch('u', 'cpu.stat');
    fs.writeFileSync(path.join(dir, 'u/memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
    fs.writeFileSync(path.join(dir, 'u/cpu.stat'), 'usage_usec 100\nnr_periods 5\nnr_throttled 4\nthrottled_usec 300\n');
    const cg = attachCgroup({ version: 2, paths: { unified: path.join(dir, 'u') } });
    expect(cg.oomKilled()).toBe(true);
    expect(cg.cpuThrottling()).toEqual({ periods: 5, throttled: 4, throttledUs: 300 });
  });

  it('removes its directory', async () => {
    fs.mkdirSync(path.join(dir, 'gone'));
    expect(await attachCgroup({ version: 2, paths: { unified: path.join(dir, 'gone') } }).remove()).toBe(true);
    expect(fs.existsSync(path.join(dir, 'gone'))).toBe(false);
  });
});

describe('cgroupName', () => {
  it('is safe for a path, readable, and unique per sandbox', () => {
    const a = cgroupName('web/../1 x', '/work/a');
    expect(a).toMatch(/^web_\.\._1_x-[0-9a-f]{10}$/);
    expect(cgroupName('..hidden', '/s')).toMatch(/^_hidden-/);
    expect(cgroupName('web/../1 x', '/work/b')).not.toBe(a);
  });
});
