// Sandbox limits on real files: du measuring a sandbox (blocks, not following links, bounded in
// time), the copytruncate rotation of a log a writer holds open with O_APPEND (small after, no
// hole, copies kept up to N, as root in a directory the task's user controls), and a log follow
// that goes on across rotations without losing or repeating a line. The agent end to end is in
// agent-sandbox-limits.test.ts.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { TimeoutError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import { Resources } from '../../core/resources.js';
import { resourcesToWire } from '../../core/wire.js';
import type { TaskInfo__Output } from '../../proto/index.js';
import { measureDiskUsage } from '../../agent/disk-usage.js';
import { LogRotation } from '../../agent/log-rotation.js';
import type { SandboxTask } from '../../agent/sandbox-limits.js';
import { followFile } from '../../agent/sandbox-files.js';
import { eventually } from '../support/master-harness.js';
import { removeDir, tempDir } from '../support/tmp.js';
import { NOBODY } from '../support/users.js';

const MIB = 1024 * 1024;
const dirs: string[] = [];
const fds: number[] = [];

afterEach(() => {
  for (const fd of fds.splice(0)) fs.closeSync(fd);
  for (const dir of dirs.splice(0)) removeDir(dir);
});

/** A sandbox owned by nobody, as the agent makes one for a task run as nobody. */
async function sandbox(): Promise<string> {
  const dir = await tempDir('sandbox-limits');
  dirs.push(dir);
  fs.chmodSync(dir, 0o700);
  fs.chownSync(dir, NOBODY.uid, NOBODY.gid);
  return dir;
}

/** The log as the task's shell opens it (`exec >>stdout`): O_APPEND, owned by the task's user. */
function openLog(dir: string, name = 'stdout', flags = 'a'): number {
  const file = path.join(dir, name);
  const fd = fs.openSync(file, flags);
  fs.fchownSync(fd, NOBODY.uid, NOBODY.gid);
  fds.push(fd);
  return fd;
}

function task(dir: string): SandboxTask {
  const info = { taskId: 't', name: 't', resources: resourcesToWire(Resources.parse('cpus:0.1')) } as unknown as TaskInfo__Output;
  return { frameworkId: 'fw', taskId: 't', info, sandbox: dir, executorKind: 'process', user: NOBODY, state: 'TASK_RUNNING', container: {}, killing: false };
}

function rotation(dir: string, limits: { maxBytes: number; maxFiles: number }, clock = new FakeClock()): LogRotation {
  return new LogRotation({ clock, intervalMs: 1000, ...limits, log: silentLogger(), tasks: () => [task(dir)] });
}

const read = (dir: string, name: string): string => fs.readFileSync(path.join(dir, name), 'utf8');
const exists = (dir: string, name: string): boolean => fs.existsSync(path.join(dir, name));
const lines = (from: number, to: number, tag = 'line'): string => Array.from({ length: to - from + 1 }, (_, i) => `${tag} ${String(from + i).padStart(6, '0')}\n`).join('');

describe('du: the disk a sandbox takes', () => {
  it('counts the blocks written, not what a sparse file claims, and follows no link out', async () => {
    const dir = await sandbox();
    fs.writeFileSync(path.join(dir, 'data'), Buffer.alloc(3 * MIB, 1));
    const sparse = fs.openSync(path.join(dir, 'sparse'), 'w');
    fs.ftruncateSync(sparse, 1024 * MIB);
    fs.closeSync(sparse);
    fs.symlinkSync('/', path.join(dir, 'root'));
    fs.symlinkSync('/usr', path.join(dir, 'usr'));
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    const used = await measureDiskUsage(dir, 10_000);
    expect(used).toBeGreaterThanOrEqual(3 * MIB);
    expect(used).toBeLessThan(4 * MIB);
  });

  it('gives up after its timeout (a sandbox of 30,000 files), and says why when du fails', async () => {
    const dir = await sandbox();
    execFileSync('sh', ['-c', 'seq 1 30000 | xargs touch'], { cwd: dir });
    const started = Date.now();
    const late = await measureDiskUsage(dir, 1).then(() => undefined, (err: unknown) => err);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(late).toBeInstanceOf(TimeoutError);
    expect((late as Error).message).toContain('--disk-watch-timeout');
    await expect(measureDiskUsage(path.join(dir, 'missing'), 10_000)).rejects.toThrow(/du .*missing exited with 1: .*No such file/);
  });
});

describe('log rotation (copytruncate)', () => {
  it('copies a log over the cap to .1 and truncates it: the writer (O_APPEND) goes on at 0, no hole', async () => {
    const dir = await sandbox();
    const fd = openLog(dir);
    fs.writeSync(fd, lines(1, 100));
    const before = fs.fstatSync(fd).size;
    expect(before).toBeGreaterThan(1024);
    const logs = rotation(dir, { maxBytes: 1024, maxFiles: 2 });
    await logs.sweep();
    expect(read(dir, 'stdout.1')).toBe(lines(1, 100));
    expect(fs.statSync(path.join(dir, 'stdout.1')).uid).toBe(NOBODY.uid);
    expect(fs.statSync(path.join(dir, 'stdout')).size).toBe(0);
    expect(logs.rotation(dir, 'stdout').count).toBe(1);
    fs.writeSync(fd, 'after\n');
    const after = fs.statSync(path.join(dir, 'stdout'));
    expect(after.size).toBe(6);
    expect(read(dir, 'stdout')).toBe('after\n');
    // Under the cap: left alone.
    await logs.sweep();
    expect([logs.rotation(dir, 'stdout').count, read(dir, 'stdout')]).toEqual([1, 'after\n']);
  });

  it('(why O_APPEND matters) a writer at its own offset would leave a hole of the old size', async () => {
    const dir = await sandbox();
    const fd = openLog(dir, 'stdout', 'w');
    fs.writeSync(fd, lines(1, 100));
    await rotation(dir, { maxBytes: 1024, maxFiles: 1 }).sweep();
    fs.writeSync(fd, 'after\n');
    const content = fs.readFileSync(path.join(dir, 'stdout'));
    expect(content.length).toBe(lines(1, 100).length + 6);
    expect(content[0]).toBe(0);
  });

  it('keeps at most --log-max-files copies, newest in .1, for stdout and stderr alike', async () => {
    const dir = await sandbox();
    const out = openLog(dir, 'stdout');
    const err = openLog(dir, 'stderr');
    const logs = rotation(dir, { maxBytes: 1024, maxFiles: 2 });
    for (const round of [1, 2, 3, 4]) {
      fs.writeSync(out, lines(1, 100, `out${round}`));
      fs.writeSync(err, lines(1, 100, `err${round}`));
      await logs.sweep();
    }
    expect(read(dir, 'stdout.1')).toBe(lines(1, 100, 'out4'));
    expect(read(dir, 'stdout.2')).toBe(lines(1, 100, 'out3'));
    expect(read(dir, 'stderr.1')).toBe(lines(1, 100, 'err4'));
    expect(read(dir, 'stderr.2')).toBe(lines(1, 100, 'err3'));
    expect([exists(dir, 'stdout.3'), exists(dir, 'stderr.3')]).toEqual([false, false]);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(logs.rotation(dir, 'stderr').count).toBe(4);
  });

  it('with --log-max-files 0 only truncates', async () => {
    const dir = await sandbox();
    fs.writeSync(openLog(dir), lines(1, 100));
    await rotation(dir, { maxBytes: 1024, maxFiles: 0 }).sweep();
    expect(fs.readdirSync(dir)).toEqual(['stdout']);
    expect(fs.statSync(path.join(dir, 'stdout')).size).toBe(0);
  });

  it('checks every --log-rotation-interval of the clock it is given', async () => {
    const dir = await sandbox();
    fs.writeSync(openLog(dir), lines(1, 100));
    const clock = new FakeClock();
    const logs = rotation(dir, { maxBytes: 1024, maxFiles: 1 }, clock);
    logs.start();
    clock.advance(999);
    await logs.sweep(); // a round of its own: the interval has not fired one
    const first = logs.rotation(dir, 'stdout').count;
    expect(first).toBe(1);
    fs.writeSync(fds[0] as number, lines(1, 100));
    clock.advance(1000);
    await logs.sweep(); // the round the interval started
    expect(logs.rotation(dir, 'stdout').count).toBe(2);
    logs.stop();
    expect(clock.pending()).toBe(0);
  });

  it('follows no symlink the task put at stdout, and touches no file that is not its user\'s', async () => {
    const dir = await sandbox();
    const outside = path.join(await tempDir('outside'), 'precious');
    dirs.push(path.dirname(outside));
    fs.writeFileSync(outside, lines(1, 100));
    fs.symlinkSync(outside, path.join(dir, 'stdout'));
    const rootsFile = path.join(dir, 'stderr');
    fs.writeFileSync(rootsFile, lines(1, 100)); // root's, as a hard link to a file of root's would be
    await rotation(dir, { maxBytes: 1024, maxFiles: 2 }).sweep();
    expect(read(path.dirname(outside), 'precious')).toBe(lines(1, 100));
    expect(fs.lstatSync(path.join(dir, 'stdout')).isSymbolicLink()).toBe(true);
    expect(read(dir, 'stderr')).toBe(lines(1, 100));
    expect([exists(dir, 'stdout.1'), exists(dir, 'stderr.1')]).toEqual([false, false]);
  });

  it('truncates even when no copy can be kept (a directory planted at stdout.1): the cap wins', async () => {
    const dir = await sandbox();
    fs.writeSync(openLog(dir), lines(1, 100));
    fs.mkdirSync(path.join(dir, 'stdout.1'));
    fs.writeFileSync(path.join(dir, 'stdout.1', 'keep'), 'x');
    await rotation(dir, { maxBytes: 1024, maxFiles: 1 }).sweep();
    expect(fs.statSync(path.join(dir, 'stdout')).size).toBe(0);
    expect(read(path.join(dir, 'stdout.1'), 'keep')).toBe('x');
  });
});

describe('a log follow across rotations', () => {
  async function collect(stream: NodeJS.ReadableStream, until: (text: string) => boolean): Promise<string> {
    let text = '';
    for await (const chunk of stream) {
      text += (chunk as Buffer).toString();
      if (until(text)) break;
    }
    return text;
  }

  it('sends the rest of the rotated copy, then the new file from 0: every line once, in order', async () => {
    const dir = await sandbox();
    const fd = openLog(dir);
    const logs = rotation(dir, { maxBytes: 1024, maxFiles: 3 });
    let ended = false;
    const abort = new AbortController();
    const follow = followFile(dir, 'stdout', { offset: 0, length: Infinity, ended: () => ended, pollMs: 20, signal: abort.signal, rotations: () => logs.rotation(dir, 'stdout') });
    let seen = '';
    const all = collect(follow, (text) => ((seen = text), false));
    fs.writeSync(fd, lines(1, 50));
    await eventually(() => expect(seen).toBe(lines(1, 50)), { what: 'the follower to read the first 50 lines' });
    // Written after the follower's last read and before the rotation: only in stdout.1.
    fs.writeSync(fd, lines(51, 100));
    await logs.sweep();
    fs.writeSync(fd, lines(101, 200));
    await logs.sweep();
    fs.writeSync(fd, lines(201, 300));
    await logs.sweep();
    fs.writeSync(fd, lines(301, 310));
    ended = true;
    expect(logs.rotation(dir, 'stdout').count).toBe(3);
    expect(await all).toBe(lines(1, 310));
  });

  it('starts again from 0 when the file shrank below its offset with no rotation counted', async () => {
    const dir = await sandbox();
    const fd = openLog(dir);
    fs.writeSync(fd, lines(1, 10));
    const abort = new AbortController();
    let ended = false;
    const follow = followFile(dir, 'stdout', { offset: 10_000, length: Infinity, ended: () => ended, pollMs: 20, signal: abort.signal });
    const text = collect(follow, (t) => t.includes('000010'));
    ended = true;
    expect(await text).toBe(lines(1, 10));
  });
});
