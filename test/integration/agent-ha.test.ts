// An agent and a group of masters on ZooKeeper: the agent finds the leader through the election
// (zk://), follows it when leadership moves, keeping its id and tasks; given plain addresses, it
// follows a standby's redirect to the leader.
import { afterEach, describe, expect, it } from 'vitest';
import { shortId } from '../../core/ids.js';
import { Master } from '../../master/master.js';
import { launchTask, startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { eventually, TEST_MASTER_OPTIONS } from '../support/master-harness.js';
import { testServices } from '../support/services.js';
import { TestFramework, taskInfo } from '../support/test-framework.js';
import { testMasterSecurity, testPki } from '../support/security.js';

const masters: Master[] = [];
const frameworks: TestFramework[] = [];

afterEach(async () => {
  await Promise.allSettled(frameworks.splice(0).map((f) => f.close()));
  await stopTestAgents();
  await Promise.allSettled(masters.splice(0).map((m) => m.stop()));
});

async function startGroup(n: number): Promise<{ zkUrl: string; cluster: string; group: Master[] }> {
  const zkUrl = `zk://${testServices().zk}/agora`;
  const cluster = `agent-ha-${shortId(6).toLowerCase()}`;
  const group: Master[] = [];
  for (let i = 0; i < n; i++) {
    const master = await Master.start({ ...TEST_MASTER_OPTIONS, zk: zkUrl, zkCredentialsFile: testPki().files.zkCredentials, cluster, zkSessionTimeout: '2s', agentReregisterTimeout: '5s' }, { security: testMasterSecurity() });
    masters.push(master);
    group.push(master);
  }
  return { zkUrl, cluster, group };
}

function leaderOf(group: Master[]): Master {
  const leader = group.find((m) => m.isLeader);
  if (!leader) throw new Error('no leader yet');
  return leader;
}

describe('agent: masters in HA', () => {
  it('finds the leader through zk:// and follows it to the next leader with its id and tasks', async () => {
    const { zkUrl, cluster, group } = await startGroup(2);
    const first = await eventually(() => leaderOf(group), { timeoutMs: 10_000, what: 'a leader' });
    const agent = await startTestAgent(zkUrl, { cluster });
    await eventually(() => agent.master === first.grpcAddress, { timeoutMs: 10_000, what: 'agent registered with the leader' });
    const agentId = agent.agentId;

    const fw = await TestFramework.subscribe(first.grpcAddress, { autoAck: true, failoverTimeoutSeconds: 60 });
    frameworks.push(fw);
    await launchTask(fw, taskInfo('kept', 'cpus:0.1;mem:32', { command: { value: 'sleep 30' }, killPolicy: { gracePeriodSeconds: 0.2 } }));
    await fw.waitForUpdate('kept', 'TASK_RUNNING', { timeoutMs: 10_000 });

    await first.stop();
    const second = group.find((m) => m !== first) as Master;
    await eventually(() => second.isLeader && agent.master === second.grpcAddress, { timeoutMs: 15_000, what: 'agent re-registered with the new leader' });
    expect(agent.agentId).toBe(agentId);
    await eventually(() => second.state.task(fw.frameworkId, 'kept')?.state === 'TASK_RUNNING', { timeoutMs: 5000, what: 'the new leader knows the task' });
    expect(second.state.agent(agentId ?? '')?.state).toBe('connected');
  });

  it('follows a standby\u2019s redirect to the leader when given plain addresses', async () => {
    const { cluster, group } = await startGroup(2);
    const leader = await eventually(() => leaderOf(group), { timeoutMs: 10_000, what: 'a leader' });
    const standby = group.find((m) => m !== leader) as Master;
    const agent = await startTestAgent(`${standby.grpcAddress},${standby.grpcAddress}`, { cluster });
    await eventually(() => agent.master === leader.grpcAddress, { timeoutMs: 10_000, what: 'agent registered with the leader' });
    expect(leader.state.agent(agent.agentId ?? '')?.state).toBe('connected');
  });
});
