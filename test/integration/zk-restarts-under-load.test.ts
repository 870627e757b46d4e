// No ZooKeeper reply can crash a process (issue 17, deliverable 6): the servers of a 3-node
// ensemble are SIGKILLed and restarted one by one, three rounds, under a load of watches and
// writes, while two `agora master` processes, an `agora frameworks` and an agent keep working.
// A server killed mid-reply leaves half a frame on every connection it had; before the framing was
// mended (core/store/zookeeper-framing.ts) the next connection's replies were misread and the
// client threw from its socket handler ("Unknown code: …"), killing the process.
import { afterEach, describe, expect, it } from 'vitest';
import { startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { startFrameworksProcess, stopCliProcesses, type FrameworksProcess } from '../support/cli.js';
import { eventually } from '../support/master-harness.js';
import { getJson, killMasters, spawnMaster, type MasterProcess } from '../support/master-process.js';
import { secureFetch } from '../support/security.js';
import { startZkEnsemble } from '../support/zookeeper.js';
import { startZkLoad } from '../support/zk-load.js';
import { pace } from '../support/waits.js';

const ROUNDS = 3;
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  await stopCliProcesses();
  await stopTestAgents();
  await killMasters();
});

async function lifecycle(p: FrameworksProcess): Promise<string> {
  return ((await (await secureFetch(`https://${p.httpAddress}/health`)).json()) as { lifecycle: string }).lifecycle;
}

/** Apply and delete a job on the frameworks host, over and over: writes and watches of its own. */
function churnJobs(host: FrameworksProcess): () => Promise<number> {
  let running = true;
  let done = 0;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const api = `https://${host.httpAddress}/api/v1/jobs`;
      const body = `kind: Job\nname: churn-${i % 4}\ntask: { command: "true", resources: { cpus: 0.01, mem: 8 } }\n`;
      const res = await secureFetch(api, { method: 'POST', body, headers: { 'content-type': 'application/yaml' } }).catch(() => undefined);
      if (res?.ok) done += 1;
      await res?.arrayBuffer().catch(() => undefined);
      if (i % 4 === 3) for (let j = 0; j < 4; j++) await secureFetch(`${api}/churn-${j}`, { method: 'DELETE' }).then((r) => r.arrayBuffer(), () => undefined);
      await pace(50, 'the pace of the churn');
    }
  })();
  return async () => {
    running = false;
    await loop;
    return done;
  };
}

describe('ZooKeeper servers restarted under load', () => {
  it('masters, the frameworks host and the store clients ride out every restart: no process exits', async () => {
    const ensemble = await startZkEnsemble(3);
    closers.push(() => ensemble.stop());
    const cluster = `zkload${process.pid}`;
    const zk = `zk://${ensemble.connectString}/agora`;
    // Sessions long enough that a ZooKeeper leader election (when the ensemble's leader is the one
    // killed) is ridden out too: a master that loses its leadership exits by design, which is not
    // what this test is about.
    const session = { '--zk-session-timeout': '8s' };
    const masters: MasterProcess[] = await Promise.all([0, 1].map(() => spawnMaster(zk, cluster, session)));
    const agent = await startTestAgent(`zk://${ensemble.connectString}/agora`, { cluster, resources: 'cpus:2;mem:1024;disk:1024' });
    expect(agent).toBeDefined();
    const host = await startFrameworksProcess(['--master', zk, '--cluster', cluster, '--zk-session-timeout', '8s', '--log-level', 'warn']);
    await eventually(async () => (await lifecycle(host)) === 'LEADING', { timeoutMs: 30_000, what: 'the frameworks to lead' });
    const exits: string[] = [];
    for (const m of masters) void m.exited.then((code) => exits.push(`master ${m.id}: ${code}\n${m.log().slice(-3000)}`));
    void host.exited.then((code) => exits.push(`frameworks: ${code}\n${host.output().slice(-3000)}`));

    const load = await startZkLoad(`zk://${ensemble.connectString}/zk-load`, { clients: 2, nodes: 40 });
    closers.push(() => load.stop());
    const stopChurn = churnJobs(host);
    closers.push(() => stopChurn());
    await pace(1000, 'the load runs for a second before the first restart');

    for (let round = 1; round <= ROUNDS; round++) {
      for (const index of [0, 1, 2]) {
        const writes = load.counts.writes;
        await ensemble.stopServer(index, 'SIGKILL');
        await pace(300, 'the node stays down a moment under the load');
        await ensemble.startServer(index);
        await ensemble.waitForQuorum(60_000);
        // The load goes on through each restart (and did not merely survive by stalling).
        await eventually(() => {
          if (load.counts.writes < writes + 20) throw new Error(`${load.counts.writes - writes} writes since the restart`);
        }, { timeoutMs: 20_000, what: `writes after restarting server ${index} (round ${round})` });
        expect(exits, `round ${round}, server ${index}`).toEqual([]);
      }
    }

    const churned = await stopChurn();
    const counts = await load.stop();
    console.log(`zk restarts under load: ${JSON.stringify({ rounds: ROUNDS, restarts: ROUNDS * 3, ...counts, jobsApplied: churned })}`);
    expect(exits).toEqual([]);
    expect(counts.events).toBeGreaterThan(100);
    expect(counts.sessionEvents.expired).toBe(0);
    expect(churned).toBeGreaterThan(0);
    // Still one leading master, and the frameworks still lead.
    const selves = await Promise.all(masters.map(async (m) => ((await getJson(m.httpAddress, '/api/v1/leader')).body as { self?: boolean }).self === true));
    expect(selves.filter(Boolean).length).toBe(1);
    expect(await lifecycle(host)).toBe('LEADING');
    for (const m of masters) expect(m.log()).not.toMatch(/Unknown code|uncaught/i);
    expect(host.output()).not.toMatch(/Unknown code|uncaught/i);
  }, 300_000);
});
