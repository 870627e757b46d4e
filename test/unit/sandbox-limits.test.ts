// Sandbox limits, the pure parts: the agent's flags for them, the disk-limit decision and its
// status, the rotated files' names, the disk watch's rounds on a fake clock (the measurement
// injected: du itself is tested in integration/sandbox-files-limits.test.ts), the Docker log
// options, and where a log follow stopped in a log the engine rotated.
import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { Resources } from '../../core/resources.js';
import type { TaskState } from '../../core/task-state.js';
import { resourcesToWire } from '../../core/wire.js';
import type { TaskInfo__Output } from '../../proto/index.js';
import { DiskWatch } from '../../agent/disk-watch.js';
import { parseDuOutput } from '../../agent/disk-usage.js';
import { missedOutput, TAIL_BYTES } from '../../agent/executors/docker-container.js';
import { logConfig } from '../../agent/executors/docker-spec.js';
import { compileAgentOptions } from '../../agent/options.js';
import { parseBytes } from '../../core/options.js';
import { diskLimitCause, diskLimitMb, exceedsDiskLimit, runningTasks, shiftPlan, type SandboxTask } from '../../agent/sandbox-limits.js';
import type { KillCause } from '../../agent/task-spec.js';
import { thrown } from '../support/thrown.js';

const MIB = 1024 * 1024;

function info(resources: string): TaskInfo__Output {
  return { taskId: 't', name: 't', resources: resourcesToWire(Resources.parse(resources)) } as unknown as TaskInfo__Output;
}

interface FakeTask extends SandboxTask {
  state: TaskState;
  killing: boolean;
}

function task(taskId: string, resources: string, extra: Partial<FakeTask> = {}): FakeTask {
  return { frameworkId: 'fw', taskId, info: info(resources), sandbox: `/sandboxes/${taskId}`, executorKind: 'process', user: { uid: 1000, gid: 1000 }, state: 'TASK_RUNNING', container: {}, killing: false, ...extra };
}

describe('sandbox limit flags', () => {
  it('default to a 15 s disk watch that enforces, and logs of 10 MiB × 5 checked every second', () => {
    const o = compileAgentOptions({ master: 'm:1' });
    expect([o.diskWatchInterval, o.diskWatchTimeout, o.enforceDiskLimit]).toEqual([15_000, 30_000, true]);
    expect([o.logMaxSize, o.logMaxFiles, o.logRotationInterval]).toEqual([10 * MIB, 5, 1000]);
    const set = compileAgentOptions({ master: 'm:1', diskWatchInterval: '200ms', enforceDiskLimit: 'false', logMaxSize: '1MiB', logMaxFiles: '0', logRotationInterval: '50ms' });
    expect([set.diskWatchInterval, set.enforceDiskLimit, set.logMaxSize, set.logMaxFiles, set.logRotationInterval]).toEqual([200, false, MIB, 0, 50]);
    expect(compileAgentOptions({ master: 'm:1', logMaxSize: '0' }).logMaxSize).toBe(0);
  });

  it.each([
    [{ logMaxSize: 'ten megs' }, '--log-max-size', "expected a size such as 65536, 64KiB or 4MiB, got 'ten megs'"],
    [{ logMaxSize: '100' }, '--log-max-size', "must be 0 (no rotation) or at least 1KiB, got '100'"],
    [{ logMaxSize: '2048GiB' }, '--log-max-size', 'must be at most 1024GiB'],
    [{ logMaxSize: '-1MiB' }, '--log-max-size', 'expected a size'],
    [{ logMaxFiles: '101' }, '--log-max-files', 'must be at most 100, got 101'],
    [{ logMaxFiles: '-1' }, '--log-max-files', 'must be at least 0, got -1'],
    [{ diskWatchInterval: '0' }, '--disk-watch-interval', "must be at least 10ms, got '0'"],
    [{ diskWatchInterval: '30d' }, '--disk-watch-interval', 'must be at most 1d'],
    [{ diskWatchTimeout: 'soon' }, '--disk-watch-timeout', 'expected a duration'],
    [{ enforceDiskLimit: 'maybe' }, '--enforce-disk-limit', "expected true or false, got 'maybe'"],
    [{ logRotationInterval: '-1s' }, '--log-rotation-interval', 'expected a duration'],
  ])('names the flag of a bad value: %j', (raw, field, message) => {
    const err = thrown(() => compileAgentOptions({ master: 'm:1', ...raw }));
    expect(err.field).toBe(field);
    expect(err.message).toContain(message);
  });

  it('reads sizes in bytes or binary units', () => {
    expect([parseBytes('1048576', 'f'), parseBytes('512KiB', 'f'), parseBytes('1.5MiB', 'f'), parseBytes('1GiB', 'f')]).toEqual([MIB, 512 * 1024, 1.5 * MIB, 1024 * MIB]);
    expect(thrown(() => parseBytes('1e309', 'f')).field).toBe('f');
    expect(thrown(() => parseBytes(`${'9'.repeat(30)}`, 'f')).message).toContain('is too large');
  });
});

describe('the disk limit', () => {
  it('is the disk resource in MiB, and none without one', () => {
    expect(diskLimitMb(info('cpus:0.1;mem:32;disk:10'))).toBe(10);
    expect(diskLimitMb(info('cpus:0.1;mem:32'))).toBeUndefined();
    expect(exceedsDiskLimit(10 * MIB, 10)).toBe(false);
    expect(exceedsDiskLimit(10 * MIB + 1, 10)).toBe(true);
  });

  it('fails the task with REASON_CONTAINER_LIMITATION_DISK, saying the usage and the limit', () => {
    expect(diskLimitCause(30 * MIB + 123_456, 10)).toEqual({
      state: 'TASK_FAILED',
      reason: 'REASON_CONTAINER_LIMITATION_DISK',
      message: "disk usage of the sandbox (30.1 MB) exceeds the task's disk limit of 10 MB",
    });
  });

  it('watches only tasks whose container runs and that are not being ended, fake ones aside', () => {
    const tasks = [
      task('running', 'disk:1'),
      task('launching', 'disk:1', { container: undefined }),
      task('refused', 'disk:1', { user: undefined }),
      task('killing', 'disk:1', { killing: true }),
      task('done', 'disk:1', { state: 'TASK_FINISHED' }),
      task('fake', 'disk:1', { executorKind: 'fake' }),
      task('boxed', 'disk:1', { executorKind: 'docker' }),
    ];
    expect(runningTasks(tasks).map((t) => t.taskId)).toEqual(['running', 'boxed']);
  });

  it('reads du -sk output', () => {
    expect(parseDuOutput('30724\t/var/lib/agora/x\n')).toBe(30724);
    expect(parseDuOutput('du: cannot read directory')).toBeUndefined();
  });
});

describe('rotated log names', () => {
  it('shift oldest first, so no copy is overwritten before it has moved', () => {
    expect(shiftPlan('stdout', 3)).toEqual([
      ['stdout.2', 'stdout.3'],
      ['stdout.1', 'stdout.2'],
    ]);
    expect(shiftPlan('stderr', 1)).toEqual([]);
  });
});

/** A disk watch on a fake clock, du replaced by `usage` (bytes per sandbox, or a pending promise). */
function watch(tasks: FakeTask[], usage: (sandbox: string) => Promise<number>, enforce = true) {
  const clock = new FakeClock();
  const measured: string[] = [];
  const killed: { taskId: string; cause: KillCause }[] = [];
  const disk = new DiskWatch({
    clock,
    intervalMs: 15_000,
    timeoutMs: 30_000,
    enforce,
    log: silentLogger(),
    tasks: () => tasks,
    onExceeded: (t, cause) => killed.push({ taskId: t.taskId, cause }),
    measure: (dir) => {
      measured.push(dir);
      return usage(dir);
    },
  });
  disk.start();
  return { clock, disk, measured, killed };
}

describe('the disk watch', () => {
  it('measures each running task with a disk limit every interval and fails the one over it', async () => {
    const tasks = [task('small', 'cpus:0.1;disk:10'), task('big', 'cpus:0.1;disk:10'), task('unlimited', 'cpus:0.1')];
    const sizes: Record<string, number> = { '/sandboxes/small': 2 * MIB, '/sandboxes/big': 31 * MIB, '/sandboxes/unlimited': 900 * MIB };
    const { clock, disk, measured, killed } = watch(tasks, async (dir) => sizes[dir] ?? 0);
    await clock.advanceAsync(14_999);
    expect(measured).toEqual([]);
    await clock.advanceAsync(1);
    // One at a time, in order; the task without a disk resource is not limited, so not measured.
    expect(measured).toEqual(['/sandboxes/small', '/sandboxes/big']);
    expect(killed).toEqual([{ taskId: 'big', cause: diskLimitCause(31 * MIB, 10) }]);
    expect(disk.usage('fw', 'small')).toEqual({ usedBytes: 2 * MIB, limitMb: 10, measuredAtMs: clock.now() });
    expect(disk.usage('fw', 'unlimited')).toBeUndefined();
    // The task manager marks the killed task; the next round leaves it (and forgets its usage).
    (tasks[1] as FakeTask).killing = true;
    await clock.advanceAsync(15_000);
    expect(measured).toEqual(['/sandboxes/small', '/sandboxes/big', '/sandboxes/small']);
    expect(killed).toHaveLength(1);
    expect(disk.usage('fw', 'big')).toBeUndefined();
  });

  it('runs one measurement at a time and does not start a round while one is still running', async () => {
    const pending: (() => void)[] = [];
    const tasks = [task('a', 'disk:10'), task('b', 'disk:10')];
    const { clock, measured } = watch(tasks, () => new Promise<number>((resolve) => pending.push(() => resolve(MIB))));
    await clock.advanceAsync(15_000 * 4, 15_000);
    expect(measured).toEqual(['/sandboxes/a']);
    pending.shift()?.();
    await flushMicrotasks();
    expect(measured).toEqual(['/sandboxes/a', '/sandboxes/b']);
    pending.shift()?.();
    await flushMicrotasks();
    await clock.advanceAsync(15_000);
    expect(measured).toEqual(['/sandboxes/a', '/sandboxes/b', '/sandboxes/a']);
  });

  it('leaves a task alone when du fails or times out, and measures it again next round', async () => {
    let fail = true;
    const tasks = [task('huge', 'disk:10')];
    const { clock, measured, killed, disk } = watch(tasks, async () => {
      if (fail) throw new Error('measuring the disk usage took longer than 30000 ms');
      return 50 * MIB;
    });
    await clock.advanceAsync(15_000);
    expect([measured.length, killed.length, disk.usage('fw', 'huge')]).toEqual([1, 0, undefined]);
    fail = false;
    await clock.advanceAsync(15_000);
    expect(killed.map((k) => k.taskId)).toEqual(['huge']);
  });

  it('does not fail a task that ended or began to be killed while du ran', async () => {
    const tasks = [task('quitter', 'disk:10'), task('victim', 'disk:10')];
    const { clock, killed } = watch(tasks, async (dir) => {
      const t = tasks.find((x) => x.sandbox === dir) as FakeTask;
      if (t.taskId === 'quitter') t.state = 'TASK_FINISHED';
      else t.killing = true;
      return 99 * MIB;
    });
    await clock.advanceAsync(15_000);
    expect(killed).toEqual([]);
  });

  it('with --enforce-disk-limit false, measures but fails nothing', async () => {
    const { clock, killed, disk } = watch([task('big', 'disk:10')], async () => 40 * MIB, false);
    await clock.advanceAsync(30_000);
    expect(killed).toEqual([]);
    expect(disk.usage('fw', 'big')?.usedBytes).toBe(40 * MIB);
  });

  it('stops: no round after stop()', async () => {
    const { clock, disk, measured } = watch([task('a', 'disk:10')], async () => MIB);
    disk.stop();
    await clock.advanceAsync(60_000);
    expect(measured).toEqual([]);
    expect(clock.pending()).toBe(0);
  });
});

describe("docker's own log", () => {
  it('is json-file with max-size and max-file (the current file counted) from the agent flags', () => {
    expect(logConfig({ maxBytes: 10 * MIB, maxFiles: 5 })).toEqual({ Type: 'json-file', Config: { 'max-size': String(10 * MIB), 'max-file': '6' } });
  });
});

describe('what a docker log follow missed', () => {
  const text = (s: string): Buffer => Buffer.from(s);

  it('is what lies past the bytes copied while the engine kept its whole log', () => {
    expect(missedOutput(text('one\ntwo\nthree'), 8, text('one\ntwo\n')).toString()).toBe('three');
    expect(missedOutput(text('one\n'), 4, text('one\n')).toString()).toBe('');
    expect(missedOutput(text('abc'), 0, Buffer.alloc(0)).toString()).toBe('abc');
  });

  it('follows the last bytes copied once the engine has rotated its log (offsets no longer fit)', () => {
    // 10,000 bytes copied; the engine kept only the last 30 of them, then the line the follow missed.
    const copied = Buffer.from(Array.from({ length: 1000 }, (_, i) => `l${String(i).padStart(7, '0')}\n`).join(''));
    const tail = copied.subarray(copied.length - TAIL_BYTES);
    const kept = Buffer.concat([copied.subarray(copied.length - 30), text('last, no newline')]);
    // The tail is longer than what was kept: not found, nothing added rather than a guess.
    expect(missedOutput(kept, copied.length, tail).toString()).toBe('');
    const keptMore = Buffer.concat([copied.subarray(copied.length - TAIL_BYTES - 100), text('last, no newline')]);
    expect(missedOutput(keptMore, copied.length, tail).toString()).toBe('last, no newline');
  });

  it('never writes a stretch twice when the tail repeats: the last place it appears is taken', () => {
    const tail = text('tick\n');
    // Rotated log (shorter than what was copied); the tail appears twice.
    expect(missedOutput(text('tick\ntick\nend'), 100, tail).toString()).toBe('end');
  });
});
