// The dashboard's reads of agents through the master, on a real master and a real agent over
// HTTPS: a task's logs (and a follow that streams new output), its sandbox listing and a download,
// and the agent's containers — forwarded with the caller's token (header or session cookie), so
// the agent authorises the caller again; refused to whoever may not see the framework's tasks.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/agent.js';
import { issueToken } from '../support/acl.js';
import { launchTask, startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { MasterHarness, eventually, stopHarnesses } from '../support/master-harness.js';
import { secureFetch, testPki } from '../support/security.js';
import { taskInfo, type TestFramework } from '../support/test-framework.js';

afterEach(async () => {
  await stopTestAgents();
  await stopHarnesses();
});

type Json = Record<string, any>;

// Writes a line to each stream and 100 kB of random bytes to data.bin, then waits for a file `go`
// in its sandbox before it writes `second`.
const COMMAND = 'echo first; echo oops >&2; head -c 100000 /dev/urandom > data.bin; while [ ! -f go ]; do sleep 0.05; done; echo second; sleep 60';

async function cluster(): Promise<{ h: MasterHarness; agent: Agent; fw: TestFramework; base: string }> {
  const h = await MasterHarness.start();
  const agent = await startTestAgent(h.address);
  const fw = await h.framework({ autoAck: true });
  await launchTask(fw, taskInfo('t1', 'cpus:0.1;mem:32', { command: { value: COMMAND } }));
  await fw.waitForUpdate('t1', 'TASK_RUNNING');
  const base = `https://${h.master.httpAddress}/api/v1/agents/${agent.agentId}`;
  return { h, agent, fw, base };
}

/** The connections established to the agent's HTTP port, by the caller's address (the kernel's table: Linux). */
async function agentConnections(agent: Agent): Promise<Set<string>> {
  const port = Number(agent.httpAddress.split(':').at(-1)).toString(16).toUpperCase().padStart(4, '0');
  const open = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const rows = (await readFile(table, 'utf8').catch(() => '')).split('\n').slice(1);
    for (const row of rows) {
      // columns: sl, local address (hex ip:port), remote address, state (01 = ESTABLISHED)
      const [, local, remote, state] = row.trim().split(/\s+/);
      if (local?.endsWith(`:${port}`) && state === '01' && remote) open.add(remote);
    }
  }
  return open;
}

describe('the agent proxy', () => {
  it('serves a task’s logs, sandbox listing and downloads, byte for byte', async () => {
    const { agent, fw, base } = await cluster();
    const q = `frameworkId=${fw.frameworkId}`;
    await eventually(async () => expect(await (await secureFetch(`${base}/tasks/t1/logs?${q}`)).text()).toBe('first\n'));
    const stderr = await secureFetch(`${base}/tasks/t1/logs?${q}&stream=stderr`);
    expect(stderr.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(stderr.headers.get('x-agora-log-size')).toBe('5');
    expect(await stderr.text()).toBe('oops\n');

    const listing = (await (await secureFetch(`${base}/tasks/t1/files?${q}`)).json()) as Json;
    expect(listing.files.map((f: Json) => f.name)).toEqual(expect.arrayContaining(['stdout', 'stderr', 'data.bin']));
    await eventually(async () => expect(((await (await secureFetch(`${base}/tasks/t1/files?${q}`)).json()) as Json).files.find((f: Json) => f.name === 'data.bin').size).toBe(100_000));
    const download = await secureFetch(`${base}/tasks/t1/files/download?${q}&path=data.bin`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toBe('attachment; filename="data.bin"');
    // A task's bytes on the dashboard's origin: never sniffed, never a page that runs script there.
    expect(download.headers.get('x-content-type-options')).toBe('nosniff');
    expect(download.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'");
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(bytes.equals(await readFile(path.join(listing.sandbox as string, 'data.bin')))).toBe(true);

    // The agent's own errors come through as it sent them.
    const outside = await secureFetch(`${base}/tasks/t1/files/download?${q}&path=../../etc/passwd`);
    expect(outside.status).toBe(400);
    expect(((await outside.json()) as Json).code).toBe('AGORA_INVALID_ARGUMENT');
    // The containers, as the agent lists them.
    const containers = (await (await secureFetch(`${base}/containers`)).json()) as Json;
    expect(containers.containers.map((c: Json) => c.taskId)).toEqual(['t1']);
    expect(agent.agentId).toBeTruthy();
  });

  it('streams a followed log as the task writes it, and with the session cookie too', async () => {
    const { agent, fw, base } = await cluster();
    const q = `frameworkId=${fw.frameworkId}`;
    const listing = (await (await secureFetch(`${base}/tasks/t1/files?${q}`)).json()) as Json;
    const abort = new AbortController();
    const res = await secureFetch(`${base}/tasks/t1/logs?${q}&follow=1`, { token: null, headers: { cookie: `agora_session=${testPki().adminToken}` }, signal: abort.signal });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const readUntil = async (want: string): Promise<void> => {
      while (!text.includes(want)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the follow ended before '${want}': ${text}`);
        text += Buffer.from(value).toString('utf8');
      }
    };
    await readUntil('first\n');
    await writeFile(path.join(listing.sandbox as string, 'go'), '');
    await readUntil('second\n');
    expect(text).toBe('first\nsecond\n');
    // Hanging up ends the master's request to the agent too: the connection that carried the
    // follow closes (the master's pool may open a fresh one; that one carries nothing).
    const during = await agentConnections(agent);
    expect(during.size).toBeGreaterThan(0);
    abort.abort();
    await eventually(async () => {
      const now = await agentConnections(agent);
      expect([...during].filter((c) => now.has(c))).toEqual([]);
    }, { what: 'the upstream follow closed' });
  });

  it('answers NOT_FOUND to a principal that may not see the framework’s tasks, and needs a token to forward', async () => {
    const { h, fw, base } = await cluster();
    const q = `frameworkId=${fw.frameworkId}`;
    const carl = await issueToken(h.master.httpAddress, 'carl', [{ allow: ['cluster.view'] }]);
    for (const path of [`/tasks/t1/logs?${q}`, `/tasks/t1/files?${q}`, `/tasks/t1/files/download?${q}&path=stdout`, '/tasks/t1/logs']) {
      const r = await secureFetch(`${base}${path}`, { token: carl });
      expect(r.status, path).toBe(404);
      const body = (await r.json()) as Json;
      expect(body.code, path).toBe('AGORA_NOT_FOUND');
      expect(JSON.stringify(body)).not.toContain('first');
    }
    expect((await (await secureFetch(`https://${h.master.httpAddress}/api/v1/frameworks/${fw.frameworkId}/tasks/t1`, { token: carl })).json()) as Json).toMatchObject({ code: 'AGORA_NOT_FOUND' });
    // A task that ran on another agent is not this agent's.
    const other = await secureFetch(`https://${h.master.httpAddress}/api/v1/agents/nope/tasks/t1/logs?${q}`);
    expect(other.status).toBe(404);
    // A caller known by its client certificate only has no token to forward.
    const byCert = await secureFetch(`${base}/tasks/t1/logs?${q}`, { token: null, tls: testPki().adminCertTls });
    expect(byCert.status).toBe(409);
    expect(((await byCert.json()) as Json)).toMatchObject({ code: 'AGORA_FAILED_PRECONDITION' });
    // Unauthenticated: nothing.
    expect((await secureFetch(`${base}/tasks/t1/logs?${q}`, { token: null })).status).toBe(401);
  });

  it('reads an ended run on its agent while a new run of the same task id lives on another', async () => {
    const { h, fw, base } = await cluster();
    const q = `frameworkId=${fw.frameworkId}`;
    await eventually(async () => expect(await (await secureFetch(`${base}/tasks/t1/logs?${q}`)).text()).toBe('first\n'));
    const other = await startTestAgent(h.address);
    await fw.kill('t1');
    await fw.waitForUpdate('t1', 'TASK_KILLED');
    const offer = await fw.nextOffer({ agentId: other.agentId, timeoutMs: 10_000 });
    await fw.launch(offer, [taskInfo('t1', 'cpus:0.1;mem:32', { command: { value: 'echo again; sleep 60' } })], { refuseSeconds: 0 });
    await eventually(() => expect(h.state.task(fw.frameworkId, 't1')).toMatchObject({ agentId: other.agentId, state: 'TASK_RUNNING' }));
    const ended = await secureFetch(`${base}/tasks/t1/logs?${q}`);
    expect(ended.status, await ended.clone().text()).toBe(200);
    expect(await ended.text()).toMatch(/^first\n/);
    await eventually(async () => expect(await (await secureFetch(`https://${h.master.httpAddress}/api/v1/agents/${other.agentId}/tasks/t1/logs?${q}`)).text()).toBe('again\n'));
  });

  it('answers UNAVAILABLE naming the agent when it cannot be reached', async () => {
    const { h, agent, fw, base } = await cluster();
    const address = agent.httpAddress;
    await stopTestAgents();
    const r = await secureFetch(`${base}/tasks/t1/logs?frameworkId=${fw.frameworkId}`);
    const body = (await r.json()) as Json;
    expect(r.status).toBe(503);
    expect(body.code).toBe('AGORA_UNAVAILABLE');
    expect(body.message).toContain(address);
    expect(h.master.httpAddress).toBeTruthy();
  });
});
