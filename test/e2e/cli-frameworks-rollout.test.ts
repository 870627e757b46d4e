// The services framework fails over in the middle of a rolling update: the active `agora frameworks`
// process is SIGKILLed while the new version's instances come up one at a time; the standby takes
// over from the persisted deployment and the update completes exactly once.
import { afterAll, describe, expect, it } from 'vitest';
import { startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { runCli, startFrameworksProcess, stopCliProcesses, type FrameworksProcess } from '../support/cli.js';
import { eventually } from '../support/master-harness.js';
import { killMasters, spawnMaster } from '../support/master-process.js';
import { testServices } from '../support/services.js';
import { secureFetch } from '../support/security.js';

afterAll(async () => {
  await stopCliProcesses();
  await stopTestAgents();
  await killMasters();
});

// Each instance becomes healthy ~1.5 s after it starts, and the update adds one instance at a time,
// so the rollout takes several seconds: long enough to kill the framework in the middle of it.
function spec(colour: string): string {
  return [
    'kind: Service',
    'name: slow',
    'instances: 3',
    `env: { COLOUR: ${colour} }`,
    "command: 'sleep 1.5 && touch ready && exec sleep 600'",
    'resources: { cpus: 0.05, mem: 16 }',
    'healthCheck: { type: COMMAND, command: { value: "test -f ready" }, delaySeconds: 0, intervalSeconds: 0.3, gracePeriodSeconds: 10, consecutiveFailures: 3 }',
    'upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 0.34 }',
    'killGracePeriodSeconds: 0.2',
    '',
  ].join('\n');
}

interface ServiceJson {
  version?: string;
  serviceStatus?: {
    healthy?: number;
    deployments?: Array<{ version?: string; phase?: string }>;
    tasks?: Array<{ taskId: string; version?: string; state?: string }>;
  };
}

async function health(p: FrameworksProcess): Promise<{ lifecycle: string }> {
  return (await secureFetch(`https://${p.httpAddress}/health`)).json() as Promise<{ lifecycle: string }>;
}

describe('agora frameworks fails over during a rolling update', () => {
  it('the standby finishes the update, once', async () => {
    const cluster = `e2e-roll-${process.pid}`;
    const zk = `zk://${testServices().zk}/agora`;
    const master = await spawnMaster(zk, cluster);
    await startTestAgent(master.grpcAddress, { resources: 'cpus:2;mem:1024;disk:512' });
    const flags = ['--master', zk, '--cluster', cluster, '--zk-session-timeout', '2s', '--log-level', 'warn'];
    const first = await startFrameworksProcess(flags);
    await eventually(async () => (await health(first)).lifecycle === 'LEADING', { timeoutMs: 20_000, what: 'the first instance to lead' });
    const second = await startFrameworksProcess(flags);
    const cli = (args: string[], stdin?: string) => runCli([...args, '--master', `https://${master.httpAddress}`], stdin === undefined ? {} : { stdin });
    const service = async (): Promise<ServiceJson> => {
      const res = await cli(['get', 'services', 'slow', '-o', 'json']);
      if (res.code !== 0) throw new Error(res.stderr);
      // `get -o json` prints the document apply takes back: the service's status is under `status`.
      const doc = JSON.parse(res.stdout) as { status?: ServiceJson['serviceStatus'] & { version?: string } };
      return { version: doc.status?.version, serviceStatus: doc.status };
    };

    expect((await cli(['apply', '-f', '-', '--no-wait'], spec('red'))).code).toBe(0);
    await eventually(async () => (await service()).serviceStatus?.healthy === 3, { timeoutMs: 30_000, what: 'v1 healthy' });

    expect((await cli(['apply', '-f', '-', '--no-wait'], spec('blue'))).code).toBe(0);
    // Kill the active framework once the first new instance is up but the update is not done.
    await eventually(async () => {
      const s = await service();
      const v2 = s.serviceStatus?.tasks?.filter((t) => t.version === 'v2') ?? [];
      return v2.length >= 1 && s.serviceStatus?.deployments?.[0]?.phase !== 'DEPLOYMENT_SUCCEEDED';
    }, { timeoutMs: 30_000, intervalMs: 100, what: 'the update under way' });
    first.kill('SIGKILL');
    await eventually(async () => (await health(second)).lifecycle === 'LEADING', { timeoutMs: 20_000, what: 'the standby to take over' });

    const done = await eventually(async () => {
      const s = await service();
      const v2 = s.serviceStatus?.deployments?.filter((d) => d.version === 'v2') ?? [];
      if (!v2.some((d) => d.phase === 'DEPLOYMENT_SUCCEEDED')) throw new Error(`v2 deployments: ${JSON.stringify(v2)}`);
      return s;
    }, { timeoutMs: 60_000, intervalMs: 250, what: 'the update to complete' });
    expect(done.version).toBe('v2');
    // Exactly one deployment to v2, succeeded; three instances, all of v2, none twice.
    expect(done.serviceStatus?.deployments?.filter((d) => d.version === 'v2').map((d) => d.phase)).toEqual(['DEPLOYMENT_SUCCEEDED']);
    const live = (done.serviceStatus?.tasks ?? []).filter((t) => t.state === 'TASK_RUNNING');
    expect(live.map((t) => t.version)).toEqual(['v2', 'v2', 'v2']);
    expect(new Set(live.map((t) => t.taskId)).size).toBe(3);
    const running = (await (await secureFetch(`https://${master.httpAddress}/api/v1/tasks?state=running&limit=1000`)).json()) as { total: number };
    expect(running.total).toBe(3);
    expect((await cli(['delete', 'service/slow'])).code).toBe(0);
  }, 150_000);
});
