// `agora logs` for the people who run workloads, not the cluster: a principal that may read
// services (jobs.read) but not every framework's tasks (frameworks.view) still reads its service's
// task output — the agent will not show it, so the CLI asks the Jobs API, which will — and a
// principal that may read neither gets nothing.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { issueToken } from '../support/acl.js';
import { launchTask, startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { runCli, stopCliProcesses } from '../support/cli.js';
import { startJobsHost, stopJobsHosts } from '../support/jobs-host.js';
import { MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { channel, testPki } from '../support/security.js';
import { FakeServiceController, fakeServicesModule } from '../support/fake-service-controller.js';
import { taskInfo } from '../support/test-framework.js';

afterEach(async () => {
  await stopCliProcesses();
  await stopJobsHosts();
  await stopTestAgents();
  await stopHarnesses();
});
afterAll(stopCliProcesses);

describe('agora logs', () => {
  it('reads a service task through the Jobs API for a principal that may read services', async () => {
    const h = await MasterHarness.start();
    await startTestAgent(h.address);
    // A task of the built-in services framework (its name and principal).
    const fw = await h.framework({ autoAck: true, name: 'agora-services', credentials: channel({ token: testPki().frameworksToken }) });
    await launchTask(fw, taskInfo('web-1', 'cpus:0.1;mem:32', { command: { value: 'echo served; echo oops >&2' } }));
    await fw.waitForUpdate('web-1', 'TASK_FINISHED', { timeoutMs: 10_000 });
    const host = await startJobsHost({ master: h.address, masterHttp: h.master.httpAddress, modules: [fakeServicesModule(new FakeServiceController())] });
    const flags = ['--master', `https://${h.master.httpAddress}`, '--api', `https://${host.httpAddress}`, '--ca', testPki().files.ca];

    const reader = await issueToken(h.master.httpAddress, 'rita', [{ allow: ['jobs.read'], kinds: ['Service'] }]);
    const out = await runCli(['logs', 'web-1', ...flags, '--token', reader]);
    expect([out.code, out.stdout, out.stderr]).toEqual([0, 'served\n', '']);
    const err = await runCli(['logs', 'web-1', '--stderr', ...flags, '--token', reader]);
    expect(err.stdout).toBe('oops\n');

    // Jobs only: no way to this service's output.
    const other = await issueToken(h.master.httpAddress, 'otto', [{ allow: ['jobs.read'], kinds: ['Job'] }]);
    const refused = await runCli(['logs', 'web-1', ...flags, '--token', other]);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain("lacks permission 'jobs.read' on 'SERVICE'");
  });
});
