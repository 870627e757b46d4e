// The dashboard's task reads on a real master (gRPC + HTTPS on loopback) with gRPC test agents and
// frameworks: one task with its bounded status history, and the task list's filters (label,
// active, q), seen only by who may see the framework's tasks.
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_TASK_STATUSES } from '../../master/task-history.js';
import { issueToken } from '../support/acl.js';
import { MasterHarness, eventually, stopHarnesses } from '../support/master-harness.js';
import { secureFetch } from '../support/security.js';
import { taskInfo, type TestFramework } from '../support/test-framework.js';
import type { TestAgent } from '../support/test-agent.js';

afterEach(stopHarnesses);

type Json = Record<string, any>;

async function http(h: MasterHarness, path: string, token?: string): Promise<{ status: number; json: Json }> {
  const res = await secureFetch(`https://${h.master.httpAddress}${path}`, token === undefined ? {} : { token });
  return { status: res.status, json: (await res.json()) as Json };
}

/** A master, an agent the test drives by hand, framework fw1 with web-1 (agora.service=web) and batch-1 (agora.job=nightly). */
async function cluster(): Promise<{ h: MasterHarness; agent: TestAgent; fw: TestFramework }> {
  const h = await MasterHarness.start();
  const agent = await h.agent({ hostname: 'a1.test', resources: 'cpus:4;mem:4096', autoRun: false });
  const fw = await h.framework({ name: 'fw1' });
  await fw.launch(await fw.nextOffer(), [taskInfo('web-1', 'cpus:1;mem:64', { name: 'web', labels: { 'agora.service': 'web' } }), taskInfo('batch-1', 'cpus:1;mem:64', { name: 'nightly', labels: { 'agora.job': 'nightly' } })], { refuseSeconds: 0 });
  await agent.waitForLaunch('batch-1');
  for (const id of ['web-1', 'batch-1']) agent.update(fw.frameworkId, id, 'TASK_RUNNING');
  await fw.waitForUpdate('batch-1', 'TASK_RUNNING');
  return { h, agent, fw };
}

describe('GET /api/v1/frameworks/:frameworkId/tasks/:taskId', () => {
  it('answers the task with its statuses, oldest first, also once it is over', async () => {
    const { h, agent, fw } = await cluster();
    agent.update(fw.frameworkId, 'web-1', 'TASK_RUNNING', { healthy: false, message: 'probe failed' });
    agent.update(fw.frameworkId, 'web-1', 'TASK_FAILED', { reason: 'REASON_COMMAND_EXECUTOR_FAILED', message: 'exit 3', exitCode: 3 });
    await fw.waitForUpdate('web-1', 'TASK_FAILED');
    const { status, json } = await http(h, `/api/v1/frameworks/${fw.frameworkId}/tasks/web-1`);
    expect(status).toBe(200);
    expect(json.task).toMatchObject({ id: 'web-1', name: 'web', state: 'TASK_FAILED', labels: { 'agora.service': 'web' }, statusesDropped: 0 });
    expect(json.task.statuses.map((s: Json) => [s.state, s.source, s.healthy ?? null])).toEqual([
      ['TASK_STAGING', 'SOURCE_MASTER', null],
      ['TASK_RUNNING', 'SOURCE_EXECUTOR', null],
      ['TASK_RUNNING', 'SOURCE_EXECUTOR', false],
      ['TASK_FAILED', 'SOURCE_EXECUTOR', null],
    ]);
    expect(json.task.statuses[3]).toMatchObject({ reason: 'REASON_COMMAND_EXECUTOR_FAILED', message: 'exit 3' });
    expect(json.task.statuses[3].timestampMs).toBeGreaterThan(0);
    const missing = await http(h, `/api/v1/frameworks/${fw.frameworkId}/tasks/nope`);
    expect(missing).toMatchObject({ status: 404, json: { code: 'AGORA_NOT_FOUND' } });
  });

  it('keeps the last statuses of a flapping health check and counts the ones it dropped', async () => {
    const { h, agent, fw } = await cluster();
    const flaps = MAX_TASK_STATUSES + 10;
    for (let i = 0; i < flaps; i++) agent.update(fw.frameworkId, 'web-1', 'TASK_RUNNING', { healthy: i % 2 === 0, message: `flap ${i}` });
    await eventually(() => expect(h.state.task(fw.frameworkId, 'web-1')?.status.message).toBe(`flap ${flaps - 1}`));
    const task = (await http(h, `/api/v1/frameworks/${fw.frameworkId}/tasks/web-1`)).json.task;
    expect(task.statuses).toHaveLength(MAX_TASK_STATUSES);
    // STAGING + RUNNING + the flaps, of which the last MAX_TASK_STATUSES are kept.
    expect(task.statusesDropped).toBe(2 + flaps - MAX_TASK_STATUSES);
    expect(task.statuses.at(-1).message).toBe(`flap ${flaps - 1}`);
    expect(task.statuses[0].message).toBe(`flap ${flaps - MAX_TASK_STATUSES}`);
  });

  it('is NOT_FOUND for a principal that may not see the framework’s tasks', async () => {
    const { h, fw } = await cluster();
    const carl = await issueToken(h.master.httpAddress, 'carl', [{ allow: ['cluster.view'] }]);
    const refused = await http(h, `/api/v1/frameworks/${fw.frameworkId}/tasks/web-1`, carl);
    expect(refused).toMatchObject({ status: 404, json: { code: 'AGORA_NOT_FOUND' } });
    expect(JSON.stringify(refused.json)).not.toContain('agora.service');
    const vera = await issueToken(h.master.httpAddress, 'vera', ['viewer']);
    expect((await http(h, `/api/v1/frameworks/${fw.frameworkId}/tasks/web-1`, vera)).status).toBe(200);
  });
});

describe('GET /api/v1/tasks filters', () => {
  it('filters by label, live state and a substring of id or name', async () => {
    const { h, agent, fw } = await cluster();
    agent.update(fw.frameworkId, 'batch-1', 'TASK_FINISHED');
    await fw.waitForUpdate('batch-1', 'TASK_FINISHED');
    const ids = async (query: string): Promise<string[]> => (await http(h, `/api/v1/tasks?${query}`)).json.tasks.map((t: Json) => t.id).sort();
    expect(await ids('')).toEqual(['batch-1', 'web-1']);
    expect(await ids('label=agora.service%3Dweb')).toEqual(['web-1']);
    expect(await ids('label=agora.job%3Dnightly')).toEqual(['batch-1']);
    expect(await ids('label=agora.job%3Dnightly&label=agora.service%3Dweb')).toEqual([]);
    expect(await ids('active=1')).toEqual(['web-1']);
    expect(await ids('active=0')).toEqual(['batch-1', 'web-1']);
    expect(await ids('q=night')).toEqual(['batch-1']);
    expect(await ids('q=-1')).toEqual(['batch-1', 'web-1']);
    expect(await ids('q=web&active=1&label=agora.service%3Dweb')).toEqual(['web-1']);
  });

  it('answers bad filters with INVALID_ARGUMENT naming the parameter', async () => {
    const { h } = await cluster();
    for (const [query, field] of [
      ['label=novalue', 'label'],
      ['label=%3Dx', 'label'],
      ['active=yes', 'active'],
      ['active=1&active=1', 'active'],
      [`q=${'x'.repeat(257)}`, 'q'],
      ['q=a&q=b', 'q'],
    ] as const) {
      const r = await http(h, `/api/v1/tasks?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.json, query).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field });
    }
  });
});
