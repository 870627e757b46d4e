// `agora frameworks` as operators run it: two instances against an HA master on ZooKeeper. One
// leads; the CLI finds its Jobs API through the master (the services framework's apiUrl); the
// other redirects to it; when the leader stops, the standby takes over with the same state.
import { afterAll, describe, expect, it } from 'vitest';
import { startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { runCli, startFrameworksProcess, stopCliProcesses, type CliResult, type FrameworksProcess } from '../support/cli.js';
import { eventually } from '../support/master-harness.js';
import { killMasters, spawnMaster } from '../support/master-process.js';
import { testServices } from '../support/services.js';
import { secureFetch } from '../support/security.js';

afterAll(async () => {
  await stopCliProcesses();
  await stopTestAgents();
  await killMasters();
});

const BIG = 'kind: Service\nname: big\ninstances: 1\ncommand: sleep 600\nresources: { cpus: 0.1, mem: 100000 }\n';

async function health(p: FrameworksProcess): Promise<{ lifecycle: string }> {
  return (await secureFetch(`https://${p.httpAddress}/health`)).json() as Promise<{ lifecycle: string }>;
}

describe('agora frameworks', () => {
  it('elects one instance, is found through the master, redirects from the standby and fails over', async () => {
    const cluster = `e2e-fw-${process.pid}`;
    const zk = `zk://${testServices().zk}/agora`;
    const master = await spawnMaster(zk, cluster);
    await startTestAgent(master.grpcAddress, { resources: 'cpus:1;mem:512;disk:512' });
    const flags = ['--master', zk, '--cluster', cluster, '--zk-session-timeout', '2s', '--log-level', 'warn'];
    const first = await startFrameworksProcess(flags);
    await eventually(async () => (await health(first)).lifecycle === 'LEADING', { timeoutMs: 20_000, what: 'the first instance to lead' });
    const second = await startFrameworksProcess(flags);
    expect((await health(second)).lifecycle).toBe('STANDBY');

    const agora = (...args: string[]): Promise<CliResult> => runCli([...args, '--master', `https://${master.httpAddress}`]);
    const frameworks = await agora('get', 'frameworks', '-o', 'wide');
    expect(frameworks.stdout).toMatch(new RegExp(`\\sagora-services\\s+connected\\s.*https://${first.httpAddress}`));

    const applied = await runCli(['apply', '-f', '-', '--no-wait', '--master', `https://${master.httpAddress}`], { stdin: BIG });
    expect([applied.code, applied.stdout]).toEqual([0, expect.stringMatching(/^service\/big created/)]);
    await eventually(async () => /^Pending:\s+1 instance\(s\) waiting: no offer fits/m.test((await agora('describe', 'service/big')).stdout), { timeoutMs: 20_000, what: 'the pending reason' });

    const viaStandby = await runCli(['get', 'services', '--api', `https://${second.httpAddress}`]);
    expect(viaStandby.stdout).toMatch(/\nbig\s+0\/1\s/);

    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    await eventually(async () => (await health(second)).lifecycle === 'LEADING', { timeoutMs: 20_000, what: 'the standby to take over' });
    await eventually(async () => /\nbig\s+0\/1\s/.test((await agora('get', 'services')).stdout), { timeoutMs: 20_000, what: 'the service through the new leader' });
    expect((await agora('get', 'frameworks', '-o', 'wide')).stdout).toMatch(new RegExp(`https://${second.httpAddress}`));
    expect((await agora('delete', 'service/big')).code).toBe(0);
  }, 120_000);
});
