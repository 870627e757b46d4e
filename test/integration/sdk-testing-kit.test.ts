// agora/sdk/testing for integration tests: startTestCluster runs a real master and agents in this
// process, secured as `agora up` is, with tasks on the fake executor that the test ends. The first
// test is sdk/README.md's sample: the handlers unit-tested with the FakeDriver
// (test/unit/sdk-testing-kit.test.ts) run unchanged against it.
import { afterEach, describe, expect, it } from 'vitest';
import { AuthenticationRefusedError, FrameworkDriver, MasterUnreachableError } from '../../sdk/index.js';
import { eventually, startTestCluster, taskSpec, type TestCluster } from '../../sdk/testing/index.js';
import { keepCopies } from '../support/kit-sample.js';

let cluster: TestCluster | undefined;
const drivers: FrameworkDriver[] = [];

afterEach(async () => {
  await Promise.allSettled(drivers.splice(0).map((d) => d.stop()));
  await cluster?.stop();
  cluster = undefined;
});

async function started(driver: Promise<FrameworkDriver>): Promise<FrameworkDriver> {
  const d = await driver;
  drivers.push(d);
  return d;
}

describe('startTestCluster', () => {
  // sdk/README.md's sample, verbatim.
  it('runs a framework against a real master and agents; the test fails and finishes its tasks', async () => {
    await using cluster = await startTestCluster({ agents: [{ resources: 'cpus:1;mem:256' }, { resources: 'cpus:1;mem:256', attributes: { rack: 'r2' } }] });
    const framework = keepCopies({ count: 2, command: 'sleep 3600', resources: 'cpus:1;mem:128' });
    await using _driver = await FrameworkDriver.start(cluster.driverOptions('copies'), framework);

    await eventually(() => expect(cluster.runningTasks().sort()).toEqual(['copy-1', 'copy-2']), { timeoutMs: 10_000 });
    cluster.fail('copy-1', 3);
    await eventually(() => expect(cluster.runningTasks().sort()).toEqual(['copy-2', 'copy-3']), { timeoutMs: 10_000 });
    cluster.finish('copy-2');
    await eventually(() => expect(cluster.taskState('copy-4')).toBe('TASK_RUNNING'), { timeoutMs: 10_000 });
    // One copy per agent (each has room for one), and the framework's own view.
    expect(cluster.agents.map((a) => a.executor.running().length)).toEqual([1, 1]);
    expect(framework.live).toEqual(new Set(['copy-3', 'copy-4']));
  });

  it('is secure by default: refuses a framework without a token, with a forged one, one not allowed to register, and plaintext', async () => {
    cluster = await startTestCluster({ agents: 0 });
    // No token: the SDK refuses before it connects.
    const noToken = cluster.driverOptions('intruder', { credentials: { ca: cluster.security.ca } });
    await expect(FrameworkDriver.start(noToken, {}, { waitSubscribedMs: 10_000 })).rejects.toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'credentials.token' });
    const forged = cluster.driverOptions('intruder', { credentials: { ca: cluster.security.ca, token: `agora_${'0'.repeat(16)}_${'0'.repeat(64)}` } });
    await expect(FrameworkDriver.start(forged, {}, { waitSubscribedMs: 10_000 })).rejects.toBeInstanceOf(AuthenticationRefusedError);
    // A real token of a principal that may not register a framework (policy viewer): refused by the master's authorisation.
    const viewer = cluster.driverOptions('intruder', { credentials: { ca: cluster.security.ca, token: await cluster.token('bob', ['viewer']) } });
    await expect(FrameworkDriver.start(viewer, {}, { waitSubscribedMs: 10_000 })).rejects.toMatchObject({ code: 'AGORA_PERMISSION_DENIED' });
    // Plaintext to a TLS master gets nowhere.
    const plaintext = cluster.driverOptions('intruder', { credentials: undefined, insecure: true, reconnect: { initialMs: 10, maxMs: 20, initialAttempts: 2 } });
    await expect(FrameworkDriver.start(plaintext, {}, { waitSubscribedMs: 10_000 })).rejects.toBeInstanceOf(MasterUnreachableError);
    expect([...cluster.master.state.allFrameworks()]).toEqual([]);
  });

  it('adds and stops agents, and brings the master back with the framework resubscribed', async () => {
    cluster = await startTestCluster({ agents: 1 });
    const offered: string[] = [];
    let resubscribed = 0;
    await started(
      FrameworkDriver.start(cluster.driverOptions('watcher'), {
        subscribed: (_d, event) => void (event.resubscribed && resubscribed++),
        offers: async (d, offers) => {
          offered.push(...offers.map((o) => o.agentId));
          await d.decline(offers, { refuseSeconds: 0.05 });
        },
      }),
    );
    const added = await cluster.addAgent({ resources: 'cpus:1;mem:128' });
    await eventually(() => expect(offered).toContain(added.id), { timeoutMs: 10_000 });
    await cluster.stopAgent(added.id);
    expect(cluster.agents.map((a) => a.id)).not.toContain(added.id);

    await cluster.restartMaster();
    await eventually(() => expect(resubscribed).toBe(1), { timeoutMs: 10_000, what: 'the framework to resubscribe to the new master' });
    // The agent that stayed is back with the new master, and offered again.
    offered.length = 0;
    await eventually(() => expect(offered).toContain(cluster!.agents[0]?.id), { timeoutMs: 10_000 });
  });

  it('launches a builder-made task spec on a real offer; refuses to end a task not running, and bad agents', async () => {
    cluster = await startTestCluster();
    const driver = await started(
      FrameworkDriver.start(cluster.driverOptions('builders'), {
        offers: async (d, offers) => {
          const [first] = offers;
          if (first) await d.launch([first], [taskSpec({ offer: first, taskId: 'built', resources: 'cpus:0.5;mem:64' })]);
        },
      }),
    );
    await eventually(() => expect(cluster!.taskState('built')).toBe('TASK_RUNNING'), { timeoutMs: 10_000 });
    expect(() => cluster!.finish('nope')).toThrow(expect.objectContaining({ code: 'AGORA_NOT_FOUND' }));
    expect(() => cluster!.fail('built', 0)).toThrow(expect.objectContaining({ field: 'exitCode' }));
    // A bad agent is refused naming its flag, and the cluster is as it was.
    await expect(cluster.addAgent({ resources: 'cpus:lots' })).rejects.toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: expect.stringMatching(/resources/) });
    expect(cluster.agents).toHaveLength(1);
    await expect(startTestCluster({ agents: -1 })).rejects.toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'agents' });
    await driver.kill('built');
    await eventually(() => expect(cluster!.runningTasks()).toEqual([]), { timeoutMs: 10_000 });
  });
});
