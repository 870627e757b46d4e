// The dashboard's cluster pages, their pure steps (web/pages/cluster-model.ts): usage history into
// chart series, the task filters into the API's query and back, the followed log's cap, events.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pacer } from '../../web/pages/pace.js';
import {
  bytes,
  crumbs,
  eventText,
  filtersOf,
  historySeries,
  LogTail,
  mergeEvents,
  missingRoute,
  pageCount,
  parentPath,
  percent,
  refreshMs,
  tailOffset,
  tasksQuery,
  unavailable,
  workloadLabel,
  workloadOf,
  type UsageSample,
} from '../../web/pages/cluster-model.js';

const sample = (t: number, used: number): UsageSample => ({
  t,
  total: { cpus: 4, mem: 4096, disk: 8192 },
  allocated: { cpus: 1.5, mem: 512, disk: 100 },
  used: { cpus: used, mem: used * 100, disk: 0 },
});

describe('usage history → chart series', () => {
  it('gives x in seconds, then total, allocated and used of one resource, oldest first', () => {
    const [xs, total, allocated, used] = historySeries([sample(10_000, 0.25), sample(15_000, 0.75)], 'cpus');
    expect(xs).toEqual([10, 15]);
    expect(total).toEqual([4, 4]);
    expect(allocated).toEqual([1.5, 1.5]);
    expect(used).toEqual([0.25, 0.75]);
    expect(historySeries([sample(10_000, 2)], 'mem')[3]).toEqual([200]);
  });

  it('is empty for no samples', () => {
    expect(historySeries([], 'disk')).toEqual([[], [], [], []]);
  });

  it('re-reads at the sampler interval, never faster than a second', () => {
    expect(refreshMs(10_000)).toBe(10_000);
    expect(refreshMs(50)).toBe(1000);
    expect(refreshMs(undefined)).toBe(5000);
    expect(refreshMs(Number.NaN, 7000)).toBe(7000);
  });
});

describe('task filters', () => {
  it('turns a workload into the label its framework sets', () => {
    expect(workloadLabel('service/web')).toBe('agora.service=web');
    expect(workloadLabel('cronjob/backup')).toBe('agora.cronjob=backup');
    expect(workloadLabel('job/etl')).toBe('agora.job=etl');
    expect(workloadLabel('team=a')).toBe('team=a');
    expect(workloadLabel('  ')).toBeUndefined();
    expect(workloadLabel('nonsense')).toBeUndefined();
    expect(workloadOf({ 'agora.cronjob': 'backup', 'agora.run': 'r1' })).toBe('cronjob/backup');
    expect(workloadOf({})).toBe('');
  });

  it('asks the master to filter and page', () => {
    const q = new URLSearchParams(tasksQuery({ state: 'TASK_FAILED', framework: 'f1', agent: 'a 1', workload: 'service/web', q: ' web ', page: 3 }).slice(1));
    expect(Object.fromEntries(q)).toEqual({ state: 'TASK_FAILED', frameworkId: 'f1', agentId: 'a 1', label: 'agora.service=web', q: 'web', limit: '100', offset: '200' });
    const live = new URLSearchParams(tasksQuery({ state: 'active' }).slice(1));
    expect(live.get('active')).toBe('1');
    expect(live.get('state')).toBeNull();
    expect(live.get('offset')).toBe('0');
  });

  it('reads the filters back from the route, ignoring a bad page', () => {
    expect(filtersOf(new URLSearchParams('state=TASK_RUNNING&q=web&page=2'))).toEqual({ state: 'TASK_RUNNING', framework: undefined, agent: undefined, workload: undefined, q: 'web', page: 2 });
    expect(filtersOf(new URLSearchParams('page=-4')).page).toBe(1);
    expect(filtersOf(new URLSearchParams('page=x')).page).toBe(1);
  });

  it('counts pages of 100, at least one', () => {
    expect(pageCount(0)).toBe(1);
    expect(pageCount(100)).toBe(1);
    expect(pageCount(1001)).toBe(11);
  });
});

describe('the followed log', () => {
  it('starts from the last 64 KiB', () => {
    expect(tailOffset(10)).toBe(0);
    expect(tailOffset(64 * 1024 + 5)).toBe(5);
  });
});

describe('the log tail the page holds', () => {
  it('drops the oldest chunks once past the cap, never the newest', () => {
    const tail = new LogTail(10);
    expect(tail.push('aaaa')).toEqual({ kept: 'aaaa', drop: 0 });
    expect(tail.push('bbbb')).toEqual({ kept: 'bbbb', drop: 0 });
    expect(tail.cut).toBe(false);
    expect(tail.push('cccc')).toEqual({ kept: 'cccc', drop: 1 });
    expect(tail.length).toBe(8);
    expect(tail.cut).toBe(true);
  });

  it('keeps the end of a chunk larger than the cap', () => {
    const tail = new LogTail(4);
    tail.push('xy');
    expect(tail.push('123456')).toEqual({ kept: '3456', drop: 1 });
    expect(tail.length).toBe(4);
  });

  it('stays within the cap over many appends', () => {
    const tail = new LogTail(64 * 1024);
    for (let i = 0; i < 10_000; i++) {
      tail.push(`line ${i}\n`.repeat(1 + (i % 50)));
      expect(tail.length).toBeLessThanOrEqual(64 * 1024);
    }
  });
});

describe('sandbox paths, sizes and shares', () => {
  it('walks up and splits paths', () => {
    expect(parentPath('a/b/c')).toBe('a/b');
    expect(parentPath('a')).toBe('');
    expect(crumbs('a/b')).toEqual([
      { name: 'a', path: 'a' },
      { name: 'b', path: 'a/b' },
    ]);
    expect(crumbs('')).toEqual([]);
  });

  it('says sizes as people do', () => {
    expect(bytes(512)).toBe('512 B');
    expect(bytes(1536)).toBe('1.5 KiB');
    expect(bytes(300 * 1024 * 1024)).toBe('300 MiB');
    expect(bytes(null)).toBe('—');
    expect(percent(0.25)).toBe('25%');
    expect(percent(0.051)).toBe('5.1%');
    expect(percent(undefined)).toBe('—');
  });
});

describe('events', () => {
  it('describes each kind in a line', () => {
    expect(eventText({ type: 'TASK_UPDATED', timestampMs: 1, taskId: 'web.1', state: 'TASK_FAILED', previous: 'TASK_RUNNING', reason: 'REASON_COMMAND_EXECUTOR_FAILED' })).toBe(
      'task web.1 FAILED (was RUNNING) — REASON_COMMAND_EXECUTOR_FAILED',
    );
    expect(eventText({ type: 'AGENT_ADDED', timestampMs: 1, agentId: 'a1', hostname: 'node-1' })).toBe('agent added node-1');
    expect(eventText({ type: 'FRAMEWORK_REMOVED', timestampMs: 1, frameworkId: 'f1', reason: 'teardown' })).toBe('framework removed f1 — teardown');
  });

  it('merges the recent and the streamed events once each, oldest first, bounded', () => {
    const a = { type: 'AGENT_ADDED', timestampMs: 1, agentId: 'a1' };
    const b = { type: 'TASK_ADDED', timestampMs: 2, taskId: 't1', state: 'TASK_STAGING' };
    const c = { type: 'TASK_UPDATED', timestampMs: 3, taskId: 't1', state: 'TASK_RUNNING' };
    expect(mergeEvents([b, c], [a, b])).toEqual([a, b, c]);
    expect(mergeEvents([a, b], [c], 2)).toEqual([b, c]);
  });

  it('treats a 404 as a route this master lacks', () => {
    expect(unavailable({ status: 404 })).toBe(true);
    expect(unavailable({ status: 500 })).toBe(false);
    expect(unavailable(undefined)).toBe(false);
    expect(missingRoute({ status: 404, message: 'no route for GET /api/v1/agents/a/containers' })).toBe(true);
    expect(missingRoute({ status: 404, message: "file 'x' not found" })).toBe(false);
  });
});

describe('the task list pacer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets a new key load at once and spaces reloads of the same key', async () => {
    vi.useFakeTimers({ now: 0 });
    const p = pacer(1000);
    const started: number[] = [];
    const load = (key: string): Promise<void> => p.wait(key).then(() => void started.push(Date.now()));
    await load('page=1');
    expect(started).toEqual([0]);
    const again = load('page=1');
    await vi.advanceTimersByTimeAsync(999);
    expect(started).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    await again;
    expect(started).toEqual([0, 1000]);
    // Another page: no wait.
    await load('page=2');
    expect(started).toEqual([0, 1000, 1000]);
  });

  it('stops waiting when the load is abandoned', async () => {
    vi.useFakeTimers({ now: 0 });
    const p = pacer(60_000);
    await p.wait('k');
    const abort = new AbortController();
    let done = false;
    const waiting = p.wait('k', abort.signal).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(done).toBe(false);
    abort.abort();
    await waiting;
    expect(done).toBe(true);
  });
});
