// Issue 17's reproduction as reported, with real processes: a one-task batch job on masters in an HA
// group over a three-node ZooKeeper ensemble, and a 10 s loss of ZooKeeper's quorum 1.5 s after the
// task starts. The leading master gives up leadership (its session cannot be vouched for), the task
// finishes during the outage, a standby is elected when quorum returns, the agent re-registers
// reporting TASK_FINISHED and the framework reconciles. The index must run once and succeed.
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../core/store/index.js';
import { BATCH_FRAMEWORK_NAME, startBatch, type BatchHandle } from '../../frameworks/batch/index.js';
import { readJobRecord, type JobRecord } from '../../frameworks/batch/book.js';
import { FrameworkState } from '../../sdk/state.js';
import { startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { FAST_DRIVER, until } from '../support/framework-cluster.js';
import { killMasters, spawnMaster } from '../support/master-process.js';
import { driverAccess, securedZkUrl } from '../support/security.js';
import { startZkEnsemble } from '../support/zookeeper.js';
import { jobSpec } from './batch-harness.js';
import { pace } from '../support/waits.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  await stopTestAgents();
  await killMasters();
});

describe('batch: ZooKeeper loses quorum while the task finishes', () => {
  it('runs the index once and succeeds', async () => {
    const ensemble = await startZkEnsemble(3);
    closers.push(() => ensemble.stop());
    const cluster = `q${process.pid}`;
    const zk = `zk://${ensemble.connectString}/agora`;
    // The agent has 60 s to come back (Mesos: 10 min): what counts here is what the master answers meanwhile.
    await Promise.all([0, 1].map(() => spawnMaster(zk, cluster, { '--agent-reregister-timeout': '60s' })));
    await startTestAgent(zk, { cluster });
    const store = await openStore(securedZkUrl(zk));
    const state = new FrameworkState(store, cluster, BATCH_FRAMEWORK_NAME);
    const batch: BatchHandle = await startBatch({
      master: zk,
      cluster,
      state,
      access: driverAccess(),
      retryBackoff: { initialMs: 100, maxMs: 400 },
      killRetryMs: 2_000,
      driver: FAST_DRIVER,
      waitSubscribedMs: 20_000,
    });
    // Last in, first out: the framework stops before its store closes.
    closers.push(() => store.close(), () => batch.stop());
    const record = (): Promise<JobRecord | undefined> => readJobRecord(state, 'once');

    await batch.apply(jobSpec('once', 'exec sleep 3', { completionMode: 'Indexed', completions: 1 }));
    const taskId = await until(async () => (await record())?.run.tasks.find((t) => t.state === 'TASK_RUNNING')?.taskId, 'the task running', 30_000);
    await pace(1500, "into the task's 3 s, so it ends while ZooKeeper has no quorum");
    const zkLeader = (await ensemble.leader()) ?? 0;
    const others = [0, 1, 2].filter((i) => i !== zkLeader);
    await ensemble.stopServer(zkLeader);
    await ensemble.stopServer(others[0]!);
    // The task finishes (at 3 s) in the middle of the outage, which lasts 10 s.
    await pace(10_000, 'the outage');
    await ensemble.startServer(others[0]!);
    await ensemble.startServer(zkLeader);
    await ensemble.waitForQuorum();

    const done = await until(async () => {
      const r = await record();
      return (r?.run.phase === 'JOB_SUCCEEDED' || r?.run.phase === 'JOB_FAILED') && r;
    }, 'the job to finish', 60_000);
    expect(done.run.phase).toBe('JOB_SUCCEEDED');
    expect(done.run.tasks.map((t) => [t.taskId, t.index, t.attempt, t.state])).toEqual([[taskId, 0, 0, 'TASK_FINISHED']]);
    expect(done.run.tasks[0]!.inferred).toBeUndefined();
  }, 150_000);
});
