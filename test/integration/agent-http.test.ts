// The agent's HTTP endpoints on a real socket: state, metrics, logs by offset and length, a
// followed log that closes when the task ends, sandbox listing and download, and paths that try
// to leave the sandbox.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/agent.js';
import { getJson, launchTask, startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { taskInfo, type TestFramework } from '../support/test-framework.js';
import { secureFetch } from '../support/security.js';

afterEach(async () => {
  await stopTestAgents();
  await stopHarnesses();
});

async function setup(): Promise<{ h: MasterHarness; agent: Agent; fw: TestFramework; base: string }> {
  const h = await MasterHarness.start();
  const agent = await startTestAgent(h.address);
  const fw = await h.framework({ autoAck: true });
  return { h, agent, fw, base: `https://${agent.httpAddress}` };
}

describe('agent: HTTP', () => {
  it('serves health, state and metrics, and advertises its address to the master', async () => {
    const { h, agent, fw, base } = await setup();
    await launchTask(fw, taskInfo('web', 'cpus:0.5;mem:128;ports:[31005-31005]', { command: { value: 'sleep 30' }, killPolicy: { gracePeriodSeconds: 0.1 } }));
    await fw.waitForUpdate('web', 'TASK_RUNNING', { timeoutMs: 10_000 });

    const health = await getJson(`${base}/health`);
    expect(health).toEqual({ status: 200, body: { status: 'ok', lifecycle: 'RUNNING', agentId: agent.agentId, registered: true } });

    const { body: state } = await getJson<{
      agent: { id: string; master: string; httpAddress: string };
      resources: Record<'total' | 'used' | 'free', { cpus: number; mem: number; ports: string }>;
      tasks: { taskId: string; state: string; sandbox: string; pid: number }[];
    }>(`${base}/api/v1/state`);
    expect(state.agent).toMatchObject({ id: agent.agentId, master: h.address, httpAddress: agent.httpAddress });
    expect(state.resources.total).toMatchObject({ cpus: 4, mem: 4096, ports: '31000-31099' });
    expect(state.resources.used).toMatchObject({ cpus: 0.5, mem: 128, ports: '31005-31005' });
    expect(state.resources.free).toMatchObject({ cpus: 3.5, mem: 3968, ports: '31000-31004,31006-31099' });
    expect(state.tasks).toEqual([expect.objectContaining({ taskId: 'web', state: 'TASK_RUNNING', sandbox: agent.checkpoint.sandboxDir(fw.frameworkId, 'web'), pid: expect.any(Number) })]);

    const metrics = await (await secureFetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/agora_agent_tasks\{state="running"\} 1/);
    expect(metrics).toMatch(/agora_agent_resources_used\{resource="cpus"\} 0\.5/);
    expect(metrics).toContain(`agora_agent_resources_used_bytes{resource="mem"} ${128 * 1024 * 1024}\n`);
    expect(metrics).toMatch(/agora_agent_connected 1/);
    expect(metrics).toMatch(/agora_agent_status_updates_acknowledged_total \d+/);

    const { body: agents } = await getJson<{ agents: { id: string; httpAddress: string }[] }>(`https://${h.master.httpAddress}/api/v1/agents`);
    expect(agents.agents.find((a) => a.id === agent.agentId)?.httpAddress).toBe(agent.httpAddress);
    const offer = await fw.nextOffer({ timeoutMs: 5000 });
    expect(offer.agentHttpAddress).toBe(agent.httpAddress);
  });

  it('reads logs by byte offset and length, from either stream', async () => {
    const { fw, base } = await setup();
    await launchTask(fw, taskInfo('talker', 'cpus:0.1;mem:32', { command: { value: 'printf "0123456789abcdef"; printf "oops" >&2' } }));
    await fw.waitForUpdate('talker', 'TASK_FINISHED', { timeoutMs: 10_000 });
    const all = await secureFetch(`${base}/api/v1/tasks/talker/logs`);
    expect(await all.text()).toBe('0123456789abcdef');
    expect(all.headers.get('x-agora-log-size')).toBe('16');
    const slice = await secureFetch(`${base}/api/v1/tasks/talker/logs?stream=stdout&offset=4&length=5`);
    expect(await slice.text()).toBe('45678');
    expect(slice.headers.get('x-agora-log-next-offset')).toBe('9');
    expect(await (await secureFetch(`${base}/api/v1/tasks/talker/logs?offset=100`)).text()).toBe('');
    expect(await (await secureFetch(`${base}/api/v1/tasks/talker/logs?stream=stderr`)).text()).toBe('oops');
    expect((await getJson(`${base}/api/v1/tasks/talker/logs?stream=stdin`)).status).toBe(400);
    expect((await getJson(`${base}/api/v1/tasks/talker/logs?offset=-1`)).status).toBe(400);
    expect((await getJson(`${base}/api/v1/tasks/nobody/logs`)).status).toBe(404);
  });

  it('follows a log as it grows and closes the response when the task ends', async () => {
    const { agent, fw, base } = await setup();
    // Ticks until the test, having seen output stream in, tells it to stop.
    const command = 'i=0; while [ ! -f stop ]; do i=$((i+1)); echo tick $i; sleep 0.05; done; echo bye';
    await launchTask(fw, taskInfo('ticker', 'cpus:0.1;mem:32', { command: { value: command } }));
    await fw.waitForUpdate('ticker', 'TASK_RUNNING', { timeoutMs: 10_000 });
    const res = await secureFetch(`${base}/api/v1/tasks/ticker/logs?follow=1&offset=0`);
    const reader = res.body!.getReader();
    let text = '';
    let chunks = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
      chunks += 1;
      if (chunks === 3) await writeFile(path.join(agent.checkpoint.sandboxDir(fw.frameworkId, 'ticker'), 'stop'), '');
    }
    expect(chunks).toBeGreaterThan(3);
    const lines = text.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('bye');
    expect(lines.slice(0, -1)).toEqual(lines.slice(0, -1).map((_, i) => `tick ${i + 1}`));
    await fw.waitForUpdate('ticker', 'TASK_FINISHED', { timeoutMs: 5000 });
  });

  it('lists and downloads sandbox files, and rejects paths outside the sandbox', async () => {
    const { fw, base } = await setup();
    await launchTask(
      fw,
      taskInfo('files', 'cpus:0.1;mem:32', { command: { value: 'mkdir -p out && echo result > out/data.txt && ln -s /etc/passwd leak && ln -s .. up' } }),
    );
    await fw.waitForUpdate('files', 'TASK_FINISHED', { timeoutMs: 10_000 });
    const { status, body } = await getJson<{ files: { name: string; path: string; type: string; size: number }[] }>(`${base}/api/v1/tasks/files/files`);
    expect(status).toBe(200);
    const names = body.files.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['out', 'stdout', 'stderr', 'leak']));
    expect(body.files.find((f) => f.name === 'out')?.type).toBe('directory');
    const sub = await getJson<{ files: { path: string; size: number }[] }>(`${base}/api/v1/tasks/files/files?path=out`);
    expect(sub.body.files).toEqual([expect.objectContaining({ path: 'out/data.txt', size: 7 })]);

    const download = await secureFetch(`${base}/api/v1/tasks/files/files/download?path=out/data.txt`);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe('result\n');

    for (const bad of ['../../../../etc/passwd', '/etc/passwd', 'out/../../x', 'leak', 'up/stdout']) {
      const res = await getJson<{ code: string }>(`${base}/api/v1/tasks/files/files/download?path=${encodeURIComponent(bad)}`);
      expect(res.status, bad).toBe(bad === '/etc/passwd' ? 404 : 400);
    }
    expect((await getJson(`${base}/api/v1/tasks/files/files?path=..`)).status).toBe(400);
    expect((await getJson(`${base}/api/v1/tasks/files/files/download?path=out`)).status).toBe(400);
    expect((await getJson(`${base}/api/v1/tasks/files/files/download?path=missing`)).status).toBe(404);
    expect((await getJson(`${base}/api/v1/tasks/nobody/files`)).status).toBe(404);
  });
});
