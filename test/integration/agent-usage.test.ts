// Measured usage per task on a real agent under a real master, against tasks whose use is known:
// a busy loop held to 0.5 cores by its CFS quota (cpus:0.5) and a process holding 64 MiB, on the
// process executor (cgroups v1 on the test machine) and on Docker (busybox: a shell loop, and
// 48 MiB written to the container's /dev/shm, which the kernel charges to its memory). The same
// figures on GET /api/v1/containers and the agent's /metrics (promtool-clean), gone with the task;
// read with the same credentials as /api/v1/state; and summed at the master, per agent and per
// role (/api/v1/agents, its /metrics); `agora top` and `agora top tasks` printing them. And the
// sandbox disk a task wrote (24 MiB, measured by the disk watch's du), summed the same way and in
// the master's usage history.
import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/agent.js';
import type { ContainerJson } from '../../agent/containers.js';
import { getJson, launchTask, startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { runCli, stopCliProcesses } from '../support/cli.js';
import { eventually, MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { issueToken } from '../support/acl.js';
import { expectLintClean, scrape } from '../support/prometheus.js';
import { secureFetch } from '../support/security.js';
import { testServices } from '../support/services.js';
import { taskInfo, type TestFramework } from '../support/test-framework.js';

const MIB = 1024 * 1024;
const BURN = 'while :; do :; done';
const HOLD_64 = `exec ${process.execPath} -e "const b = Buffer.alloc(64 * 1024 * 1024, 1); setInterval(() => b[0]++, 1000)"`;

afterEach(async () => {
  await stopCliProcesses();
  await stopTestAgents();
  await stopHarnesses();
});

async function setup(flags: Record<string, string> = {}, masterFlags: Record<string, string> = {}): Promise<{ h: MasterHarness; agent: Agent; fw: TestFramework; base: string }> {
  const h = await MasterHarness.start({ master: masterFlags });
  const agent = await startTestAgent(h.address, { usageInterval: '200ms', ...flags });
  const fw = await h.framework({ autoAck: true });
  return { h, agent, fw, base: `https://${agent.httpAddress}` };
}

/** The task's entry on /api/v1/containers once it has a usage sample that `ready` accepts. */
async function measured(base: string, taskId: string, ready: (c: ContainerJson) => boolean): Promise<ContainerJson> {
  return eventually(
    async () => {
      const { status, body } = await getJson<{ containers: ContainerJson[] }>(`${base}/api/v1/containers`);
      expect(status).toBe(200);
      const c = body.containers.find((x) => x.taskId === taskId);
      if (!c?.usage || !ready(c)) throw new Error(`${taskId} not measured yet: ${JSON.stringify(c)}`);
      return c;
    },
    { timeoutMs: 20_000, intervalMs: 100, what: `${taskId}'s usage` },
  );
}

/** Utilisation over a long window (Δcpu-seconds ÷ Δwall of two samples `windowMs` apart), and the sampler's own latest. */
async function utilisationOver(base: string, taskId: string, windowMs: number): Promise<{ average: number; last: number }> {
  const first = await measured(base, taskId, (c) => c.usage?.cpuUtilization !== null);
  const second = await measured(base, taskId, (c) => (c.usage?.sampledAtMs ?? 0) - (first.usage?.sampledAtMs ?? 0) >= windowMs);
  const [a, b] = [first.usage, second.usage];
  if (!a || !b) throw new Error('no usage');
  return { average: (b.cpuSeconds - a.cpuSeconds) / ((b.sampledAtMs - a.sampledAtMs) / 1000), last: b.cpuUtilization ?? -1 };
}

describe('agent: usage per task', () => {
  it('process executor (cgroups v1): a loop at cpus:0.5 uses ≈0.5 cores; 64 MiB held is in the working set; on /containers and /metrics', async () => {
    const { h, fw, base } = await setup();
    await launchTask(
      fw,
      taskInfo('burn', 'cpus:0.5;mem:32', { command: { value: BURN }, labels: { 'agora.service': 'spin' } }),
      taskInfo('hold', 'cpus:0.2;mem:256;disk:16', { command: { value: HOLD_64 } }),
    );
    await fw.waitForUpdate('burn', 'TASK_RUNNING', { timeoutMs: 10_000 });
    await fw.waitForUpdate('hold', 'TASK_RUNNING', { timeoutMs: 10_000 });

    const burn = await utilisationOver(base, 'burn', 2_000);
    // The CFS quota holds it to 0.5 at most; less when the machine is loaded (a 2-core CI machine
    // at a load of 9 gave it 0.35). A figure in the wrong unit (µs for ns) would be 1000× off.
    expect(burn.average).toBeGreaterThan(0.15);
    expect(burn.average).toBeLessThan(0.56);
    // The sampler's own figure is over one 200 ms window, which may hold a third 50 ms CFS slice.
    expect(burn.last).toBeGreaterThan(0.1);
    expect(burn.last).toBeLessThan(0.8);

    const hold = await measured(base, 'hold', (c) => (c.usage?.memoryWorkingSetBytes ?? 0) >= 64 * MIB);
    expect(hold.usage?.memoryWorkingSetBytes).toBeLessThan(64 * MIB + 96 * MIB); // node itself: ~40-60 MiB
    expect(hold.usage?.memoryRssBytes).toBeGreaterThanOrEqual(64 * MIB);
    expect(hold.usage?.memoryLimitBytes).toBe(256 * MIB);
    expect(hold.usage?.oomKills).toBe(0);
    expect(hold.allocation).toEqual({ cpus: 0.2, memBytes: 256 * MIB, diskBytes: 16 * MIB });
    expect(hold.workload).toBe('');
    const burnEntry = await measured(base, 'burn', () => true);
    expect(burnEntry).toMatchObject({ workload: 'service/spin', executor: 'process', allocation: { cpus: 0.5, memBytes: 32 * MIB, diskBytes: 0 } });
    // Held to its quota, the loop is throttled in most periods.
    expect(burnEntry.usage?.cpuThrottledPeriods).toBeGreaterThan(0);
    expect(burnEntry.usage?.cpuThrottledSeconds).toBeGreaterThan(0);

    const m = await scrape(base.slice('https://'.length));
    expectLintClean(m);
    const burnLabels = `{framework_id="${fw.frameworkId}",task_id="burn",workload="service/spin"}`;
    const holdLabels = `{framework_id="${fw.frameworkId}",task_id="hold",workload=""}`;
    expect(m.value(`agora_task_cpu_seconds_total${burnLabels}`)).toBeGreaterThan(0.5);
    expect(m.value(`agora_task_cpu_utilization${burnLabels}`)).toBeLessThan(0.8);
    expect(m.value(`agora_task_cpu_throttled_seconds_total${burnLabels}`)).toBeGreaterThan(0);
    expect(m.value(`agora_task_memory_working_set_bytes${holdLabels}`)).toBeGreaterThanOrEqual(64 * MIB);
    expect(m.value(`agora_task_memory_rss_bytes${holdLabels}`)).toBeGreaterThanOrEqual(64 * MIB);
    expect(m.value(`agora_task_memory_limit_bytes${holdLabels}`)).toBe(256 * MIB);
    expect(m.value(`agora_task_oom_kills_total${holdLabels}`)).toBe(0);

    // Read as /api/v1/state is: credentials with cluster.view, and a framework's tasks only to its
    // principal and to holders of frameworks.view.
    expect((await secureFetch(`${base}/api/v1/containers`, { token: null })).status).toBe(401);
    const master = h.master.httpAddress;
    const bob = await issueToken(master, 'bob', [{ allow: ['frameworks.register'] }]);
    const refused = await secureFetch(`${base}/api/v1/containers`, { token: bob });
    expect([refused.status, await refused.text()]).toEqual([403, expect.stringContaining('cluster.view')]);
    const carol = await issueToken(master, 'carol', [{ allow: ['cluster.view'] }]);
    expect(await (await secureFetch(`${base}/api/v1/containers`, { token: carol })).json()).toEqual({ containers: [] });

    // Gone with the task: from /containers and every family of /metrics.
    await fw.kill('burn');
    await fw.waitForUpdate('burn', 'TASK_KILLED', { timeoutMs: 10_000 });
    await eventually(async () => !(await scrape(base.slice('https://'.length))).text.includes('task_id="burn"'), { what: "burn's series gone" });
    const { body } = await getJson<{ containers: ContainerJson[] }>(`${base}/api/v1/containers`);
    expect(body.containers.map((c) => c.taskId)).toEqual(['hold']);
  });

  it('the master: used per agent on /api/v1/agents, agora_agent_used and agora_role_used on its /metrics (promtool-clean)', async () => {
    const { h, agent, fw, base } = await setup();
    await launchTask(
      fw,
      taskInfo('burn', 'cpus:0.5;mem:32', { command: { value: BURN } }),
      taskInfo('hold', 'cpus:0.2;mem:256', { command: { value: HOLD_64 } }),
    );
    const hold = await measured(base, 'hold', (c) => (c.usage?.memoryWorkingSetBytes ?? 0) >= 64 * MIB);
    await measured(base, 'burn', (c) => (c.usage?.cpuUtilization ?? 0) > 0.1);
    const agentId = agent.agentId as string;
    type Used = { cpus: number; memBytes: number; sampledAtMs: number; roles: Record<string, { cpus: number; memBytes: number }> };
    // The master shows exactly the agent's sums of one round of samples: read the agent's
    // containers, the master's agents, and the containers again; when both container reads are of
    // the round the master reports, the sums must match.
    const { used, containers } = await eventually(
      async () => {
        const before = (await getJson<{ containers: ContainerJson[] }>(`${base}/api/v1/containers`)).body.containers;
        const { body } = await getJson<{ agents: { id: string; used: Used | null }[] }>(`https://${h.master.httpAddress}/api/v1/agents`);
        const after = (await getJson<{ containers: ContainerJson[] }>(`${base}/api/v1/containers`)).body.containers;
        const u = body.agents.find((a) => a.id === agentId)?.used;
        const rounds = new Set([...before, ...after].map((c) => c.usage?.sampledAtMs));
        if (!u || u.memBytes < 64 * MIB || rounds.size !== 1 || !rounds.has(u.sampledAtMs)) throw new Error(`not one round yet: ${JSON.stringify(u)}`);
        return { used: u, containers: after };
      },
      { timeoutMs: 15_000, intervalMs: 20, what: "the agent's usage at the master" },
    );
    const sum = (f: (c: ContainerJson) => number): number => containers.reduce((acc, c) => acc + f(c), 0);
    expect(used.cpus).toBeCloseTo(sum((c) => c.usage?.cpuUtilization ?? 0), 9);
    expect(used.memBytes).toBe(sum((c) => c.usage?.memoryWorkingSetBytes ?? 0));
    // Both quotas together are 0.7 cores; one 200 ms window may catch a CFS period more (100 ms).
    expect(used.cpus).toBeGreaterThan(0.1);
    expect(used.cpus).toBeLessThan(0.7 + 0.5);
    expect(used.memBytes).toBeLessThan(64 * MIB + 128 * MIB);
    expect(Object.keys(used.roles)).toEqual([hold.role]);
    expect(used.roles[hold.role]?.memBytes).toBe(used.memBytes);

    const m = await scrape(h.master.httpAddress);
    expectLintClean(m);
    expect(m.value(`agora_agent_used{agent_id="${agentId}",resource="cpus"}`)).toBeGreaterThan(0.1);
    expect(m.value(`agora_agent_used_bytes{agent_id="${agentId}",resource="mem"}`)).toBeGreaterThanOrEqual(64 * MIB);
    expect(m.value(`agora_role_used{role="${hold.role}",resource="cpus"}`)).toBeGreaterThan(0.1);
    expect(m.value(`agora_role_used_bytes{role="${hold.role}",resource="mem"}`)).toBeGreaterThanOrEqual(64 * MIB);

    // agora top: used / allocated / total per agent (cpus:0.7 allocated of the test agent's 4).
    const master = ['--master', `https://${h.master.httpAddress}`];
    const top = await runCli(['top', ...master]);
    expect(top.code, top.stderr).toBe(0);
    const row = new RegExp(`^127\\.0\\.0\\.1\\s+${agentId}\\s+(\\d+(?:\\.\\d+)?)/0\\.7/4\\s+\\d+%\\s+(\\d+(?:\\.\\d+)?)Mi/288Mi/4Gi\\s`, 'm');
    const found = row.exec(top.stdout);
    expect(found, top.stdout).not.toBeNull();
    expect(Number(found?.[1])).toBeGreaterThan(0.1);
    expect(Number(found?.[2])).toBeGreaterThanOrEqual(64);
    // agora top tasks: the busy loop first by CPU, the 64 MiB holder first by memory.
    const byCpu = await runCli(['top', 'tasks', ...master]);
    expect(byCpu.code, byCpu.stderr).toBe(0);
    expect(byCpu.stdout).toMatch(/^TASK\s+WORKLOAD\s+AGENT\s+CPUS \(USED\/ALLOC\)\s+MEM \(USED\/LIMIT\)/);
    expect(byCpu.stdout.split('\n').slice(1, 3).map((l) => l.split(/\s+/)[0])).toEqual(['burn', 'hold']);
    expect(byCpu.stdout).toMatch(/\nhold\s+<none>\s+127\.0\.0\.1\s+[\d.]+\/0\.2\s+\d+(\.\d+)?Mi\/256Mi\s/);
    const byMem = await runCli(['top', 'tasks', '--sort-by', 'mem', '--limit', '1', ...master]);
    expect(byMem.stdout.split('\n').slice(1).filter((l) => l !== '').map((l) => l.split(/\s+/)[0])).toEqual(['hold']);
    const bad = await runCli(['top', 'tasks', '--sort-by', 'disk', ...master]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("--sort-by: expected cpu or mem, got 'disk'");
  });

  it('the master: sandbox disk in use (the disk watch\u2019s du) on /api/v1/agents, the usage history, its /metrics and agora top', async () => {
    const { h, agent, fw } = await setup({ diskWatchInterval: '200ms' }, { usageHistoryInterval: '200ms' });
    // 24 MiB of zeros written into the sandbox (the cwd): real blocks, which du counts.
    await launchTask(fw, taskInfo('fill', 'cpus:0.1;mem:32;disk:64', { command: { value: 'dd if=/dev/zero of=fill bs=1M count=24 && sleep 600' } }));
    const agentId = agent.agentId as string;
    const master = `https://${h.master.httpAddress}`;
    type Used = { diskBytes: number; roles: Record<string, { diskBytes: number }> };
    const used = await eventually(
      async () => {
        const { body } = await getJson<{ agents: { id: string; used: Used | null }[] }>(`${master}/api/v1/agents`);
        const u = body.agents.find((a) => a.id === agentId)?.used;
        if (!u || u.diskBytes < 24 * MIB) throw new Error(`not measured yet: ${JSON.stringify(u)}`);
        return u;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: "the sandbox's disk at the master" },
    );
    // The file, the task's stdout and stderr, and directory blocks: a few KiB more.
    expect(used.diskBytes).toBeLessThan(24 * MIB + 4 * MIB);
    const [role, byRole] = Object.entries(used.roles)[0] ?? [];
    expect(byRole?.diskBytes).toBe(used.diskBytes);

    type Sample = { used: { disk: number } };
    const history = await eventually(
      async () => {
        const { body } = await getJson<{ samples: Sample[] }>(`${master}/api/v1/usage/history`);
        const last = body.samples.at(-1);
        if (!last || last.used.disk < 24) throw new Error(`no sample with the disk yet: ${JSON.stringify(last)}`);
        return last;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'a usage history sample with the disk' },
    );
    expect(history.used.disk).toBeLessThan(24 + 4); // MiB

    const m = await scrape(h.master.httpAddress);
    expectLintClean(m);
    expect(m.value(`agora_agent_used_bytes{agent_id="${agentId}",resource="disk"}`)).toBeGreaterThanOrEqual(24 * MIB);
    expect(m.value(`agora_role_used_bytes{role="${role}",resource="disk"}`)).toBeGreaterThanOrEqual(24 * MIB);

    // agora top: disk used / allocated / total (disk:64 of the test agent's 4096).
    const top = await runCli(['top', '--master', master]);
    expect(top.code, top.stderr).toBe(0);
    expect(top.stdout).toMatch(/^AGENT\s+ID\s+CPUS \(USED\/ALLOC\/TOTAL\)\s+CPU%\s+MEM \(USED\/ALLOC\/TOTAL\)\s+MEM%\s+DISK \(USED\/ALLOC\/TOTAL\)\s+TASKS$/m);
    const found = new RegExp(`^127\\.0\\.0\\.1\\s+${agentId}\\s.*\\s(\\d+(?:\\.\\d+)?)Mi/64Mi/4Gi\\s+1$`, 'm').exec(top.stdout);
    expect(found, top.stdout).not.toBeNull();
    expect(Number(found?.[1])).toBeGreaterThanOrEqual(24);
  });

  it('Docker: a shell loop at cpus:0.5 uses ≈0.5 cores; 48 MiB in /dev/shm is in the working set', async () => {
    const { dockerSocket, busyboxImage } = testServices();
    const { fw, base } = await setup({ dockerSocket });
    const docker = { type: 'CONTAINER_DOCKER' as const, docker: { image: busyboxImage, network: 'NETWORK_NONE' as const } };
    await launchTask(
      fw,
      taskInfo('dburn', 'cpus:0.5;mem:32', { command: { value: BURN }, container: docker }),
      taskInfo('dhold', 'cpus:0.1;mem:128', { command: { value: 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=48 && sleep 600' }, container: docker }),
    );
    await fw.waitForUpdate('dburn', 'TASK_RUNNING', { timeoutMs: 30_000 });
    await fw.waitForUpdate('dhold', 'TASK_RUNNING', { timeoutMs: 30_000 });

    const burn = await utilisationOver(base, 'dburn', 2_000);
    expect(burn.average).toBeGreaterThan(0.15);
    expect(burn.average).toBeLessThan(0.56);

    const hold = await measured(base, 'dhold', (c) => (c.usage?.memoryWorkingSetBytes ?? 0) >= 48 * MIB);
    expect(hold.usage?.memoryWorkingSetBytes).toBeLessThan(48 * MIB + 16 * MIB);
    expect(hold.usage?.memoryLimitBytes).toBe(128 * MIB);
    expect(hold.executor).toBe('docker');

    const m = await scrape(base.slice('https://'.length));
    expectLintClean(m);
    expect(m.value(`agora_task_memory_working_set_bytes{framework_id="${fw.frameworkId}",task_id="dhold",workload=""}`)).toBeGreaterThanOrEqual(48 * MIB);
  });
});
