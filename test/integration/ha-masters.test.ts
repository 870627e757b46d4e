// A ZooKeeper-backed master group: one leader, standbys that redirect, failover on SIGKILL, no
// split brain after SIGSTOP/SIGCONT, and the ensemble losing and regaining quorum.
import { afterEach, describe, expect, it } from 'vitest';
import { fromGrpcError, unaryCall } from '../../core/grpc.js';
import { NotLeaderError } from '../../core/errors.js';
import { SchedulerClient, type Ack__Output } from '../../proto/index.js';
import { FrameworkDriver } from '../../sdk/index.js';
import { getJson, killMasters, spawnMaster, type MasterProcess } from '../support/master-process.js';
import { eventually } from '../support/master-harness.js';
import { TestAgent } from '../support/test-agent.js';
import { TestFramework } from '../support/test-framework.js';
import { testServices } from '../support/services.js';
import { startZkEnsemble, type ZkEnsemble } from '../support/zookeeper.js';
import { driverAccess, adminChannel } from '../support/security.js';
import { holdsFor, within } from '../support/waits.js';

const SESSION_MS = 2000;
let cluster = 0;
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  await killMasters();
});

function newCluster(): string {
  return `ha${process.pid}x${++cluster}`;
}

/** The master that says it leads, once every live master agrees on it. */
async function leaderOf(masters: readonly MasterProcess[], timeoutMs = 10_000): Promise<MasterProcess> {
  return eventually(
    async () => {
      const views = await Promise.all(masters.map(async (m) => ({ m, view: (await getJson(m.httpAddress, '/api/v1/leader')).body as { self?: boolean; leader?: { id: string } } })));
      const leaders = views.filter((v) => v.view.self);
      if (leaders.length !== 1) throw new Error(`${leaders.length} masters say they lead`);
      const leader = leaders[0]!.m;
      for (const v of views) if (v.view.leader?.id !== leader.id) throw new Error(`${v.m.id} thinks ${v.view.leader?.id} leads`);
      return leader;
    },
    { timeoutMs, intervalMs: 50, what: 'one agreed leader' },
  );
}

describe('a ZooKeeper-backed master group', () => {
  it('elects one leader; standbys redirect HTTP (307), refuse gRPC with the leader, and clients find the leader', async () => {
    const { zkEnsemble } = testServices();
    const name = newCluster();
    const masters = await Promise.all([0, 1, 2].map(() => spawnMaster(`zk://${zkEnsemble}/agora`, name)));
    const leader = await leaderOf(masters);
    const standby = masters.find((m) => m !== leader)!;

    expect((await getJson(standby.httpAddress, '/health')).status).toBe(200);
    const view = await getJson(standby.httpAddress, '/api/v1/leader');
    expect(view.body).toMatchObject({ self: false, leader: { id: leader.id, grpcAddress: leader.grpcAddress, httpAddress: leader.httpAddress } });
    const redirected = await getJson(standby.httpAddress, '/api/v1/state?x=1');
    expect(redirected.status).toBe(307);
    expect(redirected.location).toBe(`https://${leader.httpAddress}/api/v1/state?x=1`);

    const client = new SchedulerClient(standby.grpcAddress, adminChannel());
    closers.push(async () => client.close());
    const err = await unaryCall<Ack__Output>((cb) => client.Revive({ frameworkId: 'x', roles: [] }, cb)).catch((e: unknown) => fromGrpcError(e));
    expect(err).toBeInstanceOf(NotLeaderError);
    expect((err as NotLeaderError).leader).toBe(leader.grpcAddress);

    // A framework given only the standby's address follows the redirect; one given ZooKeeper reads the election.
    const viaStandby = await FrameworkDriver.start({ master: standby.grpcAddress, framework: { name: 'via-standby' }, ...driverAccess() });
    closers.push(() => viaStandby.stop());
    expect(viaStandby.masterAddress).toBe(leader.grpcAddress);
    const viaZk = await FrameworkDriver.start({ master: `zk://${zkEnsemble}/agora`, cluster: name, framework: { name: 'via-zk' }, ...driverAccess() });
    closers.push(() => viaZk.stop());
    expect(viaZk.masterAddress).toBe(leader.grpcAddress);
  }, 90_000);

  it('replaces a SIGKILLed leader within the session timeout + 2 s, keeping the registry; frameworks follow', async () => {
    const { zkEnsemble } = testServices();
    const name = newCluster();
    const masters = await Promise.all([0, 1, 2].map(() => spawnMaster(`zk://${zkEnsemble}/agora`, name)));
    const leader = await leaderOf(masters);
    const resubscribed: string[] = [];
    const driver = await FrameworkDriver.start(
      { master: `zk://${zkEnsemble}/agora`, cluster: name, framework: { name: 'survivor', failoverTimeoutSeconds: 60 }, reconnect: { initialMs: 50, maxMs: 500 }, ...driverAccess() },
      { subscribed: (_driver, s) => void (s.resubscribed && resubscribed.push(s.frameworkId)) },
    );
    closers.push(() => driver.stop());
    const frameworkId = driver.frameworkId;

    const killedAt = Date.now();
    leader.kill('SIGKILL');
    const rest = masters.filter((m) => m !== leader);
    const next = await leaderOf(rest, SESSION_MS + 8000);
    const electedMs = Date.now() - killedAt;
    expect(electedMs).toBeLessThan(SESSION_MS + 2000 + 500); // + polling slack
    await eventually(() => {
      if (!resubscribed.includes(frameworkId ?? '')) throw new Error('not resubscribed yet');
    }, { timeoutMs: 8000, what: 'the framework resubscribed' });
    expect(driver.masterAddress).toBe(next.grpcAddress);
    const frameworks = (await getJson(next.httpAddress, '/api/v1/frameworks')).body as { frameworks: Array<{ id: string; state: string }> };
    expect(frameworks.frameworks.find((f) => f.id === frameworkId)?.state).toBe('connected');
  }, 90_000);

  it('a leader frozen past its session never acts again: no offers, no launches, and it exits', async () => {
    const { zkEnsemble } = testServices();
    const name = newCluster();
    const masters = await Promise.all([0, 1].map(() => spawnMaster(`zk://${zkEnsemble}/agora`, name)));
    const old = await leaderOf(masters);
    const agent = await TestAgent.connect(old.grpcAddress, {});
    closers.push(() => agent.close());
    const framework = await TestFramework.subscribe(old.grpcAddress, { name: 'frozen-watcher' });
    closers.push(() => framework.dispose());
    const offer = (await framework.nextOffers())[0]!;

    old.kill('SIGSTOP');
    const other = masters.find((m) => m !== old)!;
    await eventually(async () => {
      const view = (await getJson(other.httpAddress, '/api/v1/leader')).body as { self?: boolean };
      if (!view.self) throw new Error('not leading yet');
    }, { timeoutMs: SESSION_MS + 8000, intervalMs: 50, what: 'the other master leads' });
    const offersBefore = framework.events.items.filter((e) => e.type === 'offers').length;
    const messagesBefore = agent.messages.mark();
    old.kill('SIGCONT');
    // Whatever reaches it now is refused: the old offer cannot launch anything.
    const accept = await framework
      .launch([offer.id], [{ taskId: 'zombie', name: 'zombie', agentId: offer.agentId, resources: offer.resources.slice(0, 1), command: { value: 'true' } }])
      .then(() => 'accepted', (err: unknown) => String((err as Error).message));
    expect(accept).not.toBe('accepted');
    const code = await within(old.exited, 8000, 'still running');
    expect(code).toBe(1);
    expect(framework.events.items.filter((e) => e.type === 'offers').length).toBe(offersBefore);
    expect(agent.messages.items.slice(messagesBefore).filter((m) => m.type === 'launch' || m.type === 'launchGroup')).toEqual([]);
    expect(old.log()).toMatch(/lost leadership/);
  }, 90_000);

  it('survives losing one ZooKeeper node; stops leading without quorum; elects again when quorum returns', async () => {
    const ensemble: ZkEnsemble = await startZkEnsemble(3);
    closers.push(() => ensemble.stop());
    const name = newCluster();
    const zk = `zk://${ensemble.connectString}/agora`;
    const masters = await Promise.all([0, 1, 2].map(() => spawnMaster(zk, name)));
    const leader = await leaderOf(masters);
    const framework = await TestFramework.subscribe(leader.grpcAddress, { name: 'remembered', failoverTimeoutSeconds: 3600 });
    closers.push(() => framework.dispose());
    const frameworkId = framework.frameworkId;

    // One ZooKeeper node down: quorum holds, nothing changes.
    const zkLeader = (await ensemble.leader()) ?? 0;
    await ensemble.stopServer(zkLeader);
    await holdsFor(SESSION_MS + 1000, async () => expect((await leaderOf(masters)).id).toBe(leader.id), 'the leader keeps leading through a session timeout');

    // Two down: no quorum; the leader must stop (it exits), nobody leads.
    const second = [0, 1, 2].find((i) => i !== zkLeader)!;
    await ensemble.stopServer(second);
    const code = await within(leader.exited, SESSION_MS * 4, 'still running');
    expect(code).toBe(1);
    const standbys = masters.filter((m) => m !== leader);
    for (const m of standbys) expect(((await getJson(m.httpAddress, '/api/v1/leader')).body as { self?: boolean }).self).not.toBe(true);

    // Quorum back: a standby is elected and finds the registry intact.
    await ensemble.startServer(second);
    await ensemble.startServer(zkLeader);
    const next = await leaderOf(standbys, 30_000);
    const frameworks = (await getJson(next.httpAddress, '/api/v1/frameworks')).body as { frameworks: Array<{ id: string }> };
    expect(frameworks.frameworks.map((f) => f.id)).toContain(frameworkId);
  }, 90_000);
});
