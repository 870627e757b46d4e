// Attacks on the agent gateway, as issue 15 found them on an open master: a rogue agent that
// registers and is sent real launches (env and all), one that re-registers with a real agent's
// id to make its tasks GONE, one that reports another agent's task FINISHED. Now an agent needs
// an agent credential, an agent id belongs to the credential that registered it, and an agent
// speaks only for its own tasks.
import { afterEach, describe, expect, it } from 'vitest';
import type { AgoraError } from '../../core/errors.js';
import { issueToken } from '../support/acl.js';
import { MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { channel, testPki } from '../support/security.js';
import { TestAgent } from '../support/test-agent.js';
import { taskInfo } from '../support/test-framework.js';
import { holdsFor } from '../support/waits.js';

afterEach(stopHarnesses);

describe('agents are who their credentials say', () => {
  it('registering needs agents.register: no credentials, a user token or another CA’s certificate are refused', async () => {
    const h = await MasterHarness.start();
    const user = await issueToken(h.master.httpAddress, 'someone', ['viewer']);
    const cases: Array<[string, Parameters<typeof channel>[0], string, string]> = [
      ['no credentials', {}, 'AGORA_UNAUTHENTICATED', 'no credentials'],
      ['a user token', { token: user }, 'AGORA_PERMISSION_DENIED', "principal 'someone' lacks permission 'agents.register'"],
      ['another CA', { tls: testPki().foreignTls }, 'AGORA_UNAUTHENTICATED', "not signed by this cluster's CA"],
    ];
    for (const [what, credentials, code, message] of cases) {
      const rogue = h.track(TestAgent.open(h.address, { hostname: `rogue-${what.replace(/\W/g, '-')}`, resources: 'cpus:1000;mem:1000000', credentials: channel(credentials) }));
      const outcome = await rogue.register().then(() => 'registered', (e: Error) => e.message);
      expect(outcome, what).toContain(message);
      expect((rogue.error as AgoraError | undefined)?.code, what).toBe(code);
    }
    expect(h.state.agentCount()).toBe(0);
  });

  it('an agent id belongs to the credential that registered it: another agent cannot take it over', async () => {
    const h = await MasterHarness.start();
    const real = await h.agent({ hostname: 'real.test', autoRun: true });
    const fw = await h.framework({ autoAck: true });
    const offer = await fw.nextOffer();
    await fw.launch(offer, [taskInfo('t1', 'cpus:0.5;mem:64', { command: { value: 'serve', environment: { variables: [{ name: 'DB_PASSWORD', value: 'hunter2' }] } } })], { refuseSeconds: 0 });
    await fw.waitForUpdate('t1', 'TASK_RUNNING');
    expect(h.state.agent(real.agentId)?.principal).toBe('agent-1');

    // Another principal with agents.register (say, a second agent's credential) re-registers with
    // the real agent's id and reports no tasks: refused, and the task is not made GONE.
    const other = await issueToken(h.master.httpAddress, 'agent-2', ['agent']);
    const impostor = TestAgent.open(h.address, { hostname: 'impostor.test', agentId: real.agentId, credentials: channel({ token: other }) });
    h.track(impostor);
    const refused = await impostor.register().then(() => 'registered', (e: Error) => e.message);
    expect(refused).toContain(`agent '${real.agentId}' was registered by principal 'agent-1'; principal 'agent-2' cannot re-register it`);
    await holdsFor(200, () => {
      expect(h.state.task(fw.frameworkId, 't1')?.state).toBe('TASK_RUNNING');
      expect(fw.updates('t1').map((s) => s.state)).toEqual(['TASK_RUNNING']);
    }, 'the refused impostor changes no task');
    expect(h.state.agent(real.agentId)).toMatchObject({ state: 'connected', hostname: 'real.test', principal: 'agent-1' });
    expect(impostor.messages.find((m) => m.type === 'launch')).toBeUndefined();
  });

  it('an agent speaks only for its own tasks: another agent’s report of them is dropped', async () => {
    const h = await MasterHarness.start();
    const a = await h.agent({ hostname: 'a.test', autoRun: true });
    const fw = await h.framework({ autoAck: true });
    const offer = await fw.nextOffer({ agentId: a.agentId });
    await fw.launch(offer, [taskInfo('t1', 'cpus:0.5;mem:64')], { refuseSeconds: 0 });
    await fw.waitForUpdate('t1', 'TASK_RUNNING');
    // A second agent, registered with its own credential, says t1 finished.
    const otherToken = await issueToken(h.master.httpAddress, 'agent-b', ['agent']);
    const b = await h.agent({ hostname: 'b.test', credentials: channel({ token: otherToken }) });
    const forged = b.update(fw.frameworkId, 't1', 'TASK_FINISHED');
    // It is acknowledged (so it stops resending) but changes nothing, and the framework never hears it.
    await b.waitForAck(forged.uuid ?? '');
    expect(h.state.task(fw.frameworkId, 't1')).toMatchObject({ state: 'TASK_RUNNING', agentId: a.agentId });
    expect(fw.updates('t1').map((s) => s.state)).toEqual(['TASK_RUNNING']);
    // Nor may it claim the task when it re-registers.
    await b.disconnect();
    const again = await h.agent({
      hostname: 'b.test',
      agentId: b.agentId,
      credentials: channel({ token: otherToken }),
      tasks: [{ frameworkId: fw.frameworkId, task: taskInfo('t1'), latest: { taskId: 't1', state: 'TASK_FAILED', uuid: '', agentId: b.agentId }, unacknowledged: [] }],
    });
    expect(again.agentId).toBe(b.agentId);
    await holdsFor(200, () => {
      expect(h.state.task(fw.frameworkId, 't1')).toMatchObject({ state: 'TASK_RUNNING', agentId: a.agentId });
      expect(fw.updates('t1').map((s) => s.state)).toEqual(['TASK_RUNNING']);
    }, "the other agent's report moves no task");
  });
});
