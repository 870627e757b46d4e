// A batch index runs once across a master outage (issue 17, part 1). The timing of the report: a
// one-task job, the master gone 1.5 s after the task starts and for 10 s, the task finishing during
// the outage. The agent re-registers with the new master reporting TASK_FINISHED (not yet
// acknowledged); the framework reconnects and reconciles. Before the fix the master dropped the
// report of a task it did not know, answered the reconciliation "knows nothing of this task", the
// framework took that as TASK_LOST, burned a retry and ran the index again.
import { afterEach, describe, expect, it } from 'vitest';
import type { Event } from '../../proto/index.js';
import { startTestAgent } from '../support/agent-harness.js';
import { tempDir } from '../support/tmp.js';
import { finished, jobSpec, ran, startBatchCluster, stopBatchClusters, until } from './batch-harness.js';
import { holdsFor, pace } from '../support/waits.js';

afterEach(stopBatchClusters);

describe('batch: a master outage while the task finishes', () => {
  it('runs the index once and succeeds; no TASK_LOST reaches the framework', async () => {
    const c = await startBatchCluster();
    await c.batch.apply(jobSpec('once', 'exec sleep 2.5', { completionMode: 'Indexed', completions: 1 }));
    const taskId = await until(async () => {
      const t = (await c.record('once'))?.run.tasks.find((x) => x.state === 'TASK_RUNNING');
      return t?.taskId;
    }, 'the task running');
    await pace(1500, "into the task's 2.5 s, so it ends while the master is down");
    const grpc = c.master.address;
    await c.master.master.stop();
    // The task finishes (at 2.5 s) while no master is there; the outage is issue 17's 10 s.
    await pace(10_000, 'the outage');
    // The agent has this long to re-register (Mesos: 10 min) before its tasks are given up on; its
    // reconnection after 10 s of failed connects can take several seconds.
    await c.master.restart({ grpcPort: grpc.split(':')[1], agentReregisterTimeout: '30s' });
    // Everything the new master tells the framework about the task.
    const told: string[] = [];
    const state = c.master.state;
    const send = state.sendEvent.bind(state);
    state.sendEvent = (frameworkId: string, event: Event): boolean => {
      if (event.update?.status?.taskId === taskId) told.push(String(event.update.status.state));
      return send(frameworkId, event);
    };

    const status = await finished(c, 'once', 20_000);
    expect(status).toMatchObject({ phase: 'JOB_SUCCEEDED', succeeded: 1, failed: 0 });
    const tasks = ran(await c.record('once'));
    expect(tasks.map((t) => [t.taskId, t.index, t.attempt, t.state])).toEqual([[taskId, 0, 0, 'TASK_FINISHED']]);
    expect(told).toContain('TASK_FINISHED');
    expect(told.filter((s) => s !== 'TASK_FINISHED')).toEqual([]);
    // Settled: the agent has had its update acknowledged, and nothing else was launched.
    await holdsFor(1000, async () => {
      expect(ran(await c.record('once'))).toHaveLength(1);
      expect(told.filter((s) => s !== 'TASK_FINISHED')).toEqual([]);
    }, 'no second launch');
  }, 60_000);

  it('a task whose agent is not back within the re-registration timeout keeps its index (unreachable), and finishing it counts once', async () => {
    // Before batch was partition-aware the master's inference here was TASK_LOST: the index was
    // launched again at once, and when the agent came back reporting TASK_FINISHED it had run twice
    // (the chaos run, seed 17: an agent SIGSTOPped past its pings).
    const workDir = await tempDir('batch-late-agent');
    const c = await startBatchCluster({ agents: [{ workDir }] });
    await c.batch.apply(jobSpec('late', 'exec sleep 2', { completionMode: 'Indexed', completions: 1 }));
    const taskId = await until(async () => (await c.record('late'))?.run.tasks.find((x) => x.state === 'TASK_RUNNING')?.taskId, 'the task running');
    // The agent stops (its task runs on) and the master fails over; the agent is not back within
    // the re-registration timeout, so the framework hears TASK_UNREACHABLE: it may still run.
    await c.agents[0]!.stop();
    const grpc = c.master.address;
    await c.master.restart({ grpcPort: grpc.split(':')[1], agentReregisterTimeout: '200ms' });
    const away = await until(async () => (await c.record('late'))?.run.tasks.find((x) => x.taskId === taskId && x.state === 'TASK_UNREACHABLE'), 'the task unreachable');
    expect(away.unreachableSinceMs).toBeGreaterThan(0);
    // The task finishes meanwhile; nothing else is launched for its index.
    await holdsFor(2000, async () => expect((await c.record('late'))!.run.tasks.map((t) => t.taskId)).toEqual([taskId]), 'nothing else launched for the index');
    // The agent comes back and reports it.
    await startTestAgent(c.master.address, { workDir });
    const status = await finished(c, 'late', 20_000);
    expect(status).toMatchObject({ phase: 'JOB_SUCCEEDED', succeeded: 1, failed: 0 });
    const tasks = (await c.record('late'))!.run.tasks;
    expect(tasks.map((t) => [t.taskId, t.state])).toEqual([[taskId, 'TASK_FINISHED']]);
  }, 60_000);
});
