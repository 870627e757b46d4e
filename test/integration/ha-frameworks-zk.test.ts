// The frameworks host rides out what the masters ride out (issue 17, deliverable 3): losing the
// ZooKeeper server it is connected to, one of three, moves its session to another server; it keeps
// leading, its frameworks keep their ids and subscriptions, and work goes on. Real processes: a
// 3-server ensemble, an `agora master`, an agent, an `agora frameworks`.
import { afterEach, describe, expect, it } from 'vitest';
import { readLeader } from '../../core/election.js';
import { openStore } from '../../core/store/index.js';
import { frameworkElectionPath } from '../../sdk/leader.js';
import { FRAMEWORKS_ELECTION_NAME } from '../../frameworks/host.js';
import { startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { runCli, startFrameworksProcess, stopCliProcesses, type FrameworksProcess } from '../support/cli.js';
import { eventually } from '../support/master-harness.js';
import { getJson, killMasters, spawnMaster } from '../support/master-process.js';
import { driverAccess, secureFetch } from '../support/security.js';
import { testServices } from '../support/services.js';
import { FrameworkDriver } from '../../sdk/driver.js';
import { startZkEnsemble, zkCommand, type ZkEnsemble } from '../support/zookeeper.js';
import { holdsFor } from '../support/waits.js';

const SESSION_MS = 2000;
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  await stopCliProcesses();
  await stopTestAgents();
  await killMasters();
});

interface FrameworkView {
  id: string;
  name: string;
  state: string;
  registeredAtMs: number;
  reregisteredAtMs: number | null;
}

async function lifecycle(p: FrameworksProcess): Promise<string> {
  return ((await (await secureFetch(`https://${p.httpAddress}/health`)).json()) as { lifecycle: string }).lifecycle;
}

/** The ensemble member (index) serving the session `sessionId` (hex), from its `cons` listing. */
async function serverOf(ensemble: ZkEnsemble, sessionId: string): Promise<number> {
  const sid = BigInt(`0x${sessionId}`);
  for (const [index, member] of ensemble.servers.entries()) {
    if (!member.running) continue;
    const cons = await zkCommand(member.port, 'cons');
    const sids = [...cons.matchAll(/sid=0x([0-9a-f]+)/g)].map((m) => BigInt(`0x${m[1]}`));
    if (sids.includes(sid)) return index;
  }
  throw new Error(`no server holds session ${sessionId}`);
}

describe('agora frameworks and a lost ZooKeeper server', () => {
  it('stays leader through the loss of its ZooKeeper server: same frameworks, same subscriptions, work goes on', async () => {
    const ensemble = await startZkEnsemble(3);
    closers.push(() => ensemble.stop());
    const cluster = `fwzk${process.pid}`;
    const zk = `zk://${ensemble.connectString}/agora`;
    const master = await spawnMaster(zk, cluster);
    await startTestAgent(master.grpcAddress, { resources: 'cpus:2;mem:1024;disk:1024' });
    const host = await startFrameworksProcess(['--master', zk, '--cluster', cluster, '--zk-session-timeout', `${SESSION_MS}ms`, '--log-level', 'info']);
    await eventually(async () => (await lifecycle(host)) === 'LEADING', { timeoutMs: 30_000, what: 'the frameworks to lead' });
    const frameworks = async (): Promise<FrameworkView[]> => ((await getJson(master.httpAddress, '/api/v1/frameworks')).body as { frameworks: FrameworkView[] }).frameworks.filter((f) => f.name.startsWith('agora-'));
    const before = await eventually(async () => {
      const list = await frameworks();
      if (list.length < 3 || list.some((f) => f.state !== 'connected')) throw new Error(`frameworks: ${JSON.stringify(list.map((f) => [f.name, f.state]))}`);
      return list;
    }, { timeoutMs: 20_000, what: 'the built-in frameworks subscribed' });

    // The server holding the frameworks host's session (its election node's owner) goes.
    const reader = await openStore(zk, { createChroot: false });
    closers.push(() => reader.close());
    const leader = await readLeader(reader, frameworkElectionPath(cluster, FRAMEWORKS_ELECTION_NAME));
    const victim = await serverOf(ensemble, leader!.sessionId!);
    await ensemble.stopServer(victim);

    // Through the session timeout and more, it never stops leading.
    await holdsFor(SESSION_MS * 2 + 1000, async () => expect(await lifecycle(host).catch(() => 'unreachable')).toBe('LEADING'), 'the frameworks keep leading');
    expect(host.output()).not.toMatch(/lost leadership/);
    // Its session moved to another server: the same session, the same election node.
    const after = await readLeader(reader, frameworkElectionPath(cluster, FRAMEWORKS_ELECTION_NAME));
    expect(after).toMatchObject({ id: leader!.id, sessionId: leader!.sessionId });
    expect(await serverOf(ensemble, leader!.sessionId!)).not.toBe(victim);

    // The frameworks were not restarted: same ids, never re-registered, still connected.
    const now = await frameworks();
    expect(now.map((f) => [f.name, f.id, f.registeredAtMs, f.reregisteredAtMs, f.state]).sort()).toEqual(before.map((f) => [f.name, f.id, f.registeredAtMs, f.reregisteredAtMs, 'connected']).sort());

    // And work goes on: a job applied now runs to completion.
    const job = 'kind: Job\nname: after-loss\ncompletions: 2\nparallelism: 2\ntask: { command: "true", resources: { cpus: 0.1, mem: 16 } }\n';
    const applied = await runCli(['apply', '-f', '-', '--master', `https://${master.httpAddress}`], { stdin: job });
    expect([applied.code, applied.stderr]).toEqual([0, '']);
    await eventually(async () => /\nafter-loss\s+2\/2\s+Succeeded\s/.test((await runCli(['get', 'jobs', '--master', `https://${master.httpAddress}`])).stdout), { timeoutMs: 30_000, what: 'the job to succeed' });
    expect(await lifecycle(host)).toBe('LEADING');
  }, 120_000);

  it('a framework whose subscription another took is started afresh: the host resigns and leads again', async () => {
    // The chaos run's case: a host that had lost the election but not yet noticed subscribed a
    // framework with its id after the new leader had, and the leader's framework stopped for good.
    // Here the other subscription is a driver of the test's own, with the services framework's id.
    const cluster = `fwref${process.pid}`;
    const zk = `zk://${testServices().zk}/agora`;
    const master = await spawnMaster(zk, cluster);
    await startTestAgent(master.grpcAddress, { resources: 'cpus:2;mem:1024;disk:1024' });
    const host = await startFrameworksProcess(['--master', zk, '--cluster', cluster, '--log-level', 'info']);
    const services = async (): Promise<FrameworkView | undefined> =>
      ((await getJson(master.httpAddress, '/api/v1/frameworks')).body as { frameworks: FrameworkView[] }).frameworks.find((f) => f.name === 'agora-services');
    const before = await eventually(async () => {
      const f = await services();
      if (f?.state !== 'connected') throw new Error(`agora-services: ${f?.state ?? 'absent'}`);
      return f;
    }, { timeoutMs: 20_000, what: 'the services framework subscribed' });

    const intruderErrors: string[] = [];
    const intruder = await FrameworkDriver.start({ master: master.grpcAddress, framework: { name: 'agora-services', id: before.id, roles: ['*'] }, ...driverAccess() }, { error: (_driver, e) => void intruderErrors.push(e.message) });
    closers.push(() => intruder.stop());
    await eventually(() => /the master refused a framework: resigning/.test(host.output()), { timeoutMs: 10_000, what: 'the host to resign' });
    // It stands again, leads, and subscribes the framework with its id, taking it back.
    await eventually(() => intruderErrors.some((m) => /failed over/.test(m)), { timeoutMs: 20_000, what: 'the framework taken back from the intruder' });
    await eventually(async () => (await lifecycle(host)) === 'LEADING', { timeoutMs: 20_000, what: 'the host to lead again' });
    const after = await services();
    expect(after).toMatchObject({ id: before.id, state: 'connected' });

    // And it works: a service applied now runs.
    const spec = 'kind: Service\nname: back\ninstances: 1\ncommand: "sleep 60"\nresources: { cpus: 0.1, mem: 16 }\n';
    const applied = await runCli(['apply', '-f', '-', '--master', `https://${master.httpAddress}`], { stdin: spec });
    expect([applied.code, applied.stderr]).toEqual([0, '']);
    await eventually(async () => /\nback\s+1\/1\s/.test((await runCli(['get', 'services', '--master', `https://${master.httpAddress}`])).stdout), { timeoutMs: 30_000, what: 'the service to run' });
  }, 120_000);
});
