// The agent's work dir on a real filesystem: what one agent writes, the next one reads back —
// the agent id, frameworks, each task's journal (bytes fields too), a torn last line ignored,
// acknowledged updates dropped, bookkeeping removed while the sandbox stays.
import { appendFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FrameworkInfo__Output, TaskInfo__Output } from '../../proto/index.js';
import { Checkpoint } from '../../agent/checkpoint.js';
import { tempDir } from '../support/tmp.js';

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
