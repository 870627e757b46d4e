// The agent's work dir on a real filesystem: what one agent writes, the next one reads back —
// the agent id, frameworks, each task's journal (bytes fields too), a torn last line ignored,
// acknowledged updates dropped, bookkeeping removed while the sandbox stays — and the modes that
// let each task's user reach its own sandbox and nothing else.
import { spawnSync } from 'node:child_process';
import { appendFile, chmod, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FrameworkInfo__Output, TaskInfo__Output } from '../../proto/index.js';
import { Checkpoint } from '../../agent/checkpoint.js';
import { AgoraError } from '../../core/errors.js';
import { tempDir } from '../support/tmp.js';
import { NOBODY } from '../support/users.js';

const mode = async (file: string): Promise<string> => ((await stat(file)).mode & 0o7777).toString(8).padStart(4, '0');

/** Runs `sh -c script` as nobody; its exit status. */
function asNobody(script: string): number | null {
  return spawnSync('/usr/bin/setpriv', [`--reuid=${NOBODY.uid}`, `--regid=${NOBODY.gid}`, '--init-groups', '--', '/bin/sh', '-c', script], { stdio: 'ignore' }).status;
}

const info = { taskId: 'web:1', name: 'web', data: Buffer.from([0, 1, 2, 250]), resources: [] } as unknown as TaskInfo__Output;

describe('agent checkpoint', () => {
  it('round-trips the agent id, frameworks and task journals, unacknowledged updates only', async () => {
    const dir = await tempDir('checkpoint');
    const a = new Checkpoint(dir);
    expect((await a.recover()).agentId).toBeUndefined();
    await a.writeAgentId('S1');
    await a.writeFramework({ id: 'F1', name: 'fw', capabilities: ['TASK_KILLING_STATE'] } as unknown as FrameworkInfo__Output);
    const { sandbox, journal } = await a.createTask('F1', 'web:1');
    expect(sandbox).toBe(path.join(path.resolve(dir), 'frameworks', 'F1', 'tasks', '%web%3a1'));
    expect((await stat(sandbox)).isDirectory()).toBe(true);
    await journal.append({ task: { frameworkId: 'F1', info, launchedAtMs: 5 } }, false);
    await journal.append({ update: { taskId: 'web:1', state: 'TASK_STARTING', uuid: 'u1' } }, true);
    await journal.append({ container: { kind: 'process', checkpoint: { pid: 42 } } }, false);
    await journal.append({ update: { taskId: 'web:1', state: 'TASK_RUNNING', uuid: 'u2', data: Buffer.from('hi') } }, true);
    await journal.append({ ack: 'u1' }, false);
    await a.close();
    // A crash in the middle of a write leaves a torn line: it was never fsync'd nor sent.
    await appendFile(path.join(a.taskMetaDir('F1', 'web:1'), 'journal.jsonl'), '{"update":{"taskId":"web:1","sta');

    const b = await new Checkpoint(dir).recover();
    expect(b.agentId).toBe('S1');
    expect(b.frameworks.get('F1')?.capabilities).toEqual(['TASK_KILLING_STATE']);
    expect(b.tasks).toHaveLength(1);
    const [task] = b.tasks;
    expect(task?.frameworkId).toBe('F1');
    expect(task?.launchedAtMs).toBe(5);
    expect(Buffer.isBuffer(task?.info.data)).toBe(true);
    expect([...(task?.info.data ?? [])]).toEqual([0, 1, 2, 250]);
    expect(task?.container).toEqual({ kind: 'process', checkpoint: { pid: 42 } });
    expect(task?.updates.map((u) => u.uuid)).toEqual(['u1', 'u2']);
    expect(task?.unacknowledged.map((u) => u.uuid)).toEqual(['u2']);
    expect(Buffer.from(task?.unacknowledged[0]?.data as Buffer).toString()).toBe('hi');
  });

  it('removes a task\u2019s bookkeeping but keeps its sandbox, and forgets the agent id on request', async () => {
    const dir = await tempDir('checkpoint');
    const c = new Checkpoint(dir);
    await c.writeAgentId('S9');
    const { sandbox, journal } = await c.createTask('F1', 't1');
    await journal.append({ task: { frameworkId: 'F1', info: { ...info, taskId: 't1' }, launchedAtMs: 1 } }, true);
    await c.removeTask('F1', 't1');
    expect((await stat(sandbox)).isDirectory()).toBe(true);
    expect(await readdir(path.join(c.metaDir, 'frameworks', 'F1', 'tasks'))).toEqual([]);
    await c.clearAgentId();
    const again = await new Checkpoint(dir).recover();
    expect(again).toMatchObject({ agentId: undefined, tasks: [] });
  });
});

describe('agent work dir modes', () => {
  it("gives each sandbox to its task's user (0700) behind 0711 parents, and keeps meta/ to the agent (0700 / 0600)", async () => {
    const dir = await tempDir('checkpoint-modes');
    const c = new Checkpoint(dir);
    await c.recover();
    await c.writeAgentId('S1');
    await c.writeFramework({ id: 'F1', name: 'fw' } as unknown as FrameworkInfo__Output);
    const { sandbox, journal } = await c.createTask('F1', 't1', NOBODY);
    await journal.append({ ack: 'u1' }, true);
    const other = (await c.createTask('F1', 't2', { uid: 4242, gid: 4242 })).sandbox;
    await c.close();

    expect((await stat(sandbox)).uid).toBe(NOBODY.uid);
    expect(await mode(sandbox)).toBe('0700');
    for (const d of [dir, path.join(dir, 'frameworks'), path.join(dir, 'frameworks', 'F1'), path.dirname(sandbox)]) expect(await mode(d)).toBe('0711');
    expect(await mode(c.metaDir)).toBe('0700');
    expect(await mode(c.taskMetaDir('F1', 't1'))).toBe('0700');
    for (const f of [path.join(c.metaDir, 'agent.json'), path.join(c.metaDir, 'frameworks', 'F1', 'framework.json'), journal.file]) expect(await mode(f)).toBe('0600');

    // nobody reaches its sandbox, lists no parent, enters no other sandbox, reads no journal.
    expect(asNobody(`cd ${sandbox} && touch mine`)).toBe(0);
    expect(asNobody(`ls ${path.dirname(sandbox)}`)).not.toBe(0);
    expect(asNobody(`ls ${dir}`)).not.toBe(0);
    expect(asNobody(`ls ${other}`)).not.toBe(0);
    expect(asNobody(`cat ${journal.file}`)).not.toBe(0);
    expect(asNobody(`ls ${c.metaDir}`)).not.toBe(0);
  });

  it('makes the files of an agent from before private modes private on recovery', async () => {
    const dir = await tempDir('checkpoint-old');
    const taskMeta = path.join(dir, 'meta', 'frameworks', 'F1', 'tasks', 't1');
    await mkdir(taskMeta, { recursive: true, mode: 0o755 });
    await chmod(path.join(dir, 'meta'), 0o755);
    const files = [path.join(dir, 'meta', 'agent.json'), path.join(dir, 'meta', 'frameworks', 'F1', 'framework.json'), path.join(taskMeta, 'journal.jsonl')];
    await writeFile(files[0] ?? '', '{"agentId":"S1"}', { mode: 0o644 });
    await writeFile(files[1] ?? '', '{"id":"F1"}', { mode: 0o644 });
    await writeFile(files[2] ?? '', `${JSON.stringify({ task: { frameworkId: 'F1', info, launchedAtMs: 1 } })}\n`, { mode: 0o644 });
    const recovered = await new Checkpoint(dir).recover();
    expect(recovered.agentId).toBe('S1');
    expect(await mode(path.join(dir, 'meta'))).toBe('0700');
    for (const f of files) expect(await mode(f)).toBe('0600');
    // A task journaled before task users ran as root, and says nothing of its user.
    expect(recovered.tasks[0]).toMatchObject({ user: undefined, refusal: undefined });
  });

  it('refuses a work dir that task users cannot reach, naming the directory and the fix', async () => {
    const parent = await tempDir('checkpoint-closed');
    await chmod(parent, 0o700);
    const err: unknown = await new Checkpoint(path.join(parent, 'work')).recover().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(AgoraError);
    expect(err).toMatchObject({ code: 'AGORA_FAILED_PRECONDITION', field: '--work-dir' });
    expect((err as Error).message).toContain(`${parent} has mode 0700`);
    expect((err as Error).message).toContain(`chmod o+x ${parent}`);
  });
});
