// Greedy tasks on a real agent under a real master: a task that writes more than its `disk`
// resource into its sandbox is failed with REASON_CONTAINER_LIMITATION_DISK and its resources go
// back, while one within its limit runs on; a task that writes megabytes of output keeps its
// stdout under --log-max-size with at most --log-max-files rotated copies (process and Docker
// tasks alike); and a follow of the logs endpoint goes on across the rotations.
import fs from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/agent.js';
import { getJson, launchTask, startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { eventually, MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { secureFetch } from '../support/security.js';
import { testServices } from '../support/services.js';
import { taskInfo, type TestFramework } from '../support/test-framework.js';
import { pace } from '../support/waits.js';

const MIB = 1024 * 1024;

afterEach(async () => {
  await stopTestAgents();
  await stopHarnesses();
});

async function setup(flags: Record<string, string>): Promise<{ h: MasterHarness; agent: Agent; fw: TestFramework; base: string }> {
  const h = await MasterHarness.start();
  const agent = await startTestAgent(h.address, flags);
  const fw = await h.framework({ autoAck: true });
  return { h, agent, fw, base: `https://${agent.httpAddress}` };
}

const sizeOf = (file: string): number => fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;

/** 40,000 numbered lines of 65 bytes (2.6 MB) in bursts of 1,000 every 50 ms, then `done`. */
const CHATTY = `awk 'BEGIN { for (i = 1; i <= 40000; i++) { printf "line %08d %s\\n", i, "${'x'.repeat(50)}"; if (i % 1000 == 0) { fflush(); system("sleep 0.05") } } print "done"; fflush() }'`;

/** Samples the sizes of `file` every 10 ms until `done` resolves; the largest seen. */
async function largestWhile(file: string, done: Promise<unknown>): Promise<number> {
  let over = false;
  void done.finally(() => (over = true));
  let largest = 0;
  while (!over) {
    largest = Math.max(largest, sizeOf(file));
    await pace(10, 'the sampling interval');
  }
  return Math.max(largest, sizeOf(file));
}

describe('agent: disk limit (disk/du)', () => {
  it('fails a task that writes 30 MB under disk:10 with REASON_CONTAINER_LIMITATION_DISK, frees its resources, and leaves one within its limit running', async () => {
    const { h, agent, fw, base } = await setup({ diskWatchInterval: '200ms' });
    await launchTask(
      fw,
      taskInfo('hog', 'cpus:0.1;mem:32;disk:10', { command: { value: 'head -c 30M /dev/zero > f; sleep 60' } }),
      taskInfo('tidy', 'cpus:0.1;mem:32;disk:10', { command: { value: 'head -c 2M /dev/zero > f; sleep 60' } }),
    );
    const failed = await fw.waitForUpdate('hog', 'TASK_FAILED', { timeoutMs: 10_000 });
    expect(failed.reason).toBe('REASON_CONTAINER_LIMITATION_DISK');
    // Measured while or after the 30 MB were written: over 10, at most 30 (and the blocks of `f`).
    const used = /^disk usage of the sandbox \((\d+(?:\.\d)?) MB\) exceeds the task's disk limit of 10 MB$/.exec(failed.message);
    expect(used, failed.message).not.toBeNull();
    expect(Number(used?.[1])).toBeGreaterThan(10);
    expect(Number(used?.[1])).toBeLessThanOrEqual(30.1);
    expect(fw.updates('hog').map((u) => u.state)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
    // Signalled (SIGTERM, and SIGKILL with no grace period); its resources back with the master and the agent.
    expect([9, 15]).toContain(failed.termSignal);
    const agentId = agent.agentId as string;
    await eventually(() => h.taskAllocation(agentId).scalar('disk') === 10, { what: "only tidy's disk allocated" });
    await eventually(async () => {
      const { body } = await getJson<{ resources: { used: { disk?: number } } }>(`${base}/api/v1/state`);
      return body.resources.used.disk === 10;
    }, { what: "the agent counting only tidy's disk" });
    // tidy (2 MB of its 10) is measured round after round and left alone.
    const first = await eventually(async () => {
      const { body } = await getJson<{ tasks: { taskId: string; diskUsage: { usedBytes: number; limitMb: number; measuredAtMs: number } | null }[] }>(`${base}/api/v1/state`);
      const usage = body.tasks.find((t) => t.taskId === 'tidy')?.diskUsage;
      if (!usage || usage.usedBytes < 2 * MIB) throw new Error(`tidy not measured yet: ${JSON.stringify(usage)}`);
      return usage;
    }, { what: "tidy's disk usage" });
    expect(first.limitMb).toBe(10);
    expect(first.usedBytes).toBeLessThan(3 * MIB);
    await eventually(() => (agent.sandboxLimits.diskUsage(fw.frameworkId, 'tidy')?.measuredAtMs ?? 0) > first.measuredAtMs, { what: 'tidy measured again' });
    expect(fw.updates('tidy').map((u) => u.state)).toEqual(['TASK_STARTING', 'TASK_RUNNING']);
  });

  it('with --enforce-disk-limit false, lets the task run over its limit', async () => {
    const { agent, fw } = await setup({ diskWatchInterval: '100ms', enforceDiskLimit: 'false' });
    await launchTask(fw, taskInfo('hog', 'cpus:0.1;mem:32;disk:1', { command: { value: 'head -c 3M /dev/zero > f; sleep 60' } }));
    await fw.waitForUpdate('hog', 'TASK_RUNNING', { timeoutMs: 10_000 });
    await eventually(() => (agent.sandboxLimits.diskUsage(fw.frameworkId, 'hog')?.usedBytes ?? 0) >= 3 * MIB, { what: 'hog measured over its limit' });
    // Three more disk sweeps (each one a new measurement) kill nothing.
    for (let sweep = 0; sweep < 3; sweep++) {
      const at = agent.sandboxLimits.diskUsage(fw.frameworkId, 'hog')?.measuredAtMs ?? 0;
      await eventually(() => (agent.sandboxLimits.diskUsage(fw.frameworkId, 'hog')?.measuredAtMs ?? 0) > at, { what: 'hog measured again' });
      expect(fw.updates('hog').map((u) => u.state)).toEqual(['TASK_STARTING', 'TASK_RUNNING']);
    }
  });
});

describe('agent: stdout and stderr rotation', () => {
  it('keeps a chatty task\u2019s stdout under --log-max-size (+ one interval) with at most --log-max-files copies', async () => {
    const { agent, fw } = await setup({ logMaxSize: '1MiB', logMaxFiles: '2', logRotationInterval: '100ms' });
    await launchTask(fw, taskInfo('chatty', 'cpus:0.5;mem:64', { command: { value: `${CHATTY}; echo oops >&2; sleep 60` } }));
    await fw.waitForUpdate('chatty', 'TASK_RUNNING', { timeoutMs: 10_000 });
    const sandbox = agent.checkpoint.sandboxDir(fw.frameworkId, 'chatty');
    const stdout = path.join(sandbox, 'stdout');
    const finished = eventually(() => fs.readFileSync(stdout, 'utf8').endsWith('done\n'), { timeoutMs: 30_000, intervalMs: 50, what: 'chatty done' });
    const largest = await largestWhile(stdout, finished);
    await finished;
    // A burst is 65 KB every 50 ms, so one 100 ms interval adds about 130 KB to the cap.
    expect(largest).toBeLessThanOrEqual(MIB + 512 * 1024);
    const names = fs.readdirSync(sandbox).sort();
    expect(names).toEqual(['stderr', 'stdout', 'stdout.1', 'stdout.2']);
    for (const copy of ['stdout.1', 'stdout.2']) {
      const text = fs.readFileSync(path.join(sandbox, copy), 'utf8');
      expect(text.length).toBeGreaterThan(MIB);
      expect(text.length).toBeLessThanOrEqual(MIB + 512 * 1024);
      expect(text).not.toContain('\0');
    }
    // The current file starts where a rotation left off: whole lines of ours, no hole of zeros.
    const current = fs.readFileSync(stdout, 'utf8');
    expect(current).not.toContain('\0');
    expect(current).toMatch(/^(line \d{8} x{50}\n)*done\n$/);
    expect(fs.readFileSync(path.join(sandbox, 'stderr'), 'utf8')).toBe('oops\n');
    expect(agent.sandboxLimits.rotation(sandbox, 'stdout').count).toBeGreaterThanOrEqual(2);
  });

  it('keeps a follow of the logs endpoint delivering across rotations: every line in order, none twice', async () => {
    const { agent, fw, base } = await setup({ logMaxSize: '256KiB', logMaxFiles: '3', logRotationInterval: '50ms' });
    await launchTask(fw, taskInfo('chatty', 'cpus:0.5;mem:64', { command: { value: CHATTY } }));
    await fw.waitForUpdate('chatty', 'TASK_RUNNING', { timeoutMs: 10_000 });
    const res = await secureFetch(`${base}/api/v1/tasks/chatty/logs?follow=1&offset=0`);
    expect(res.status).toBe(200);
    let text = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += Buffer.from(chunk).toString();
    const sandbox = agent.checkpoint.sandboxDir(fw.frameworkId, 'chatty');
    const rotations = agent.sandboxLimits.rotation(sandbox, 'stdout').count;
    expect(rotations).toBeGreaterThanOrEqual(5);
    const lines = text.split('\n');
    expect(lines.at(-2)).toBe('done');
    const numbers = lines.slice(0, -2).map((l) => Number(/^line (\d{8}) x{50}$/.exec(l)?.[1] ?? NaN));
    expect(numbers.every((n, i) => Number.isInteger(n) && (i === 0 || n > (numbers[i - 1] as number)))).toBe(true);
    // copytruncate may lose what is written between its copy and its truncation: a sliver, which
    // grows on a loaded machine (2.5 % seen under CI with the suite beside it).
    expect(numbers.length).toBeGreaterThan(40_000 * 0.9);
    // A plain read says how many rotations there were, so a poller knows its offset is in stdout.1.
    // (The rotator may still rotate once after the follow ended: the header gives the count then.)
    const plain = await secureFetch(`${base}/api/v1/tasks/chatty/logs?offset=0&length=10`);
    const reported = Number(plain.headers.get('x-agora-log-rotations'));
    expect(reported).toBeGreaterThanOrEqual(rotations);
    expect(reported).toBeLessThanOrEqual(agent.sandboxLimits.rotation(sandbox, 'stdout').count);
    await plain.arrayBuffer();
  });

  it('caps the sandbox copy of a Docker task\u2019s output, and the engine\u2019s json-file log alike', async () => {
    const { dockerSocket, busyboxImage } = testServices();
    const { agent, fw } = await setup({ dockerSocket, logMaxSize: '1MiB', logMaxFiles: '1', logRotationInterval: '100ms' });
    const command = 'i=0; while [ $i -lt 30 ]; do head -c 100000 /dev/zero | tr "\\0" x; echo; i=$((i+1)); usleep 50000; done; echo done; sleep 60';
    await launchTask(
      fw,
      taskInfo('boxed', 'cpus:0.5;mem:64', { command: { value: command }, container: { type: 'CONTAINER_DOCKER', docker: { image: busyboxImage, network: 'NETWORK_NONE' } } }),
    );
    await fw.waitForUpdate('boxed', 'TASK_RUNNING', { timeoutMs: 20_000 });
    const docker = new Docker({ socketPath: dockerSocket });
    const [found] = await docker.listContainers({ filters: { label: ['agora.task-id=boxed'] } });
    const inspected = await docker.getContainer(found?.Id ?? '').inspect();
    expect(inspected.HostConfig.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': String(MIB), 'max-file': '2' } });
    const sandbox = agent.checkpoint.sandboxDir(fw.frameworkId, 'boxed');
    const stdout = path.join(sandbox, 'stdout');
    const finished = eventually(() => fs.readFileSync(stdout, 'utf8').endsWith('done\n'), { timeoutMs: 30_000, intervalMs: 50, what: 'boxed done' });
    const largest = await largestWhile(stdout, finished);
    await finished;
    expect(largest).toBeLessThanOrEqual(MIB + 512 * 1024);
    expect(fs.readdirSync(sandbox).filter((n) => n.startsWith('stdout')).sort()).toEqual(['stdout', 'stdout.1']);
    expect(fs.readFileSync(stdout, 'utf8')).toMatch(/^(x+\n)*done\n$/);
  });
});
