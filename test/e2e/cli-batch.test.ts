// Jobs through the `agora` CLI against real processes: an HA master on ZooKeeper, an agent, and two
// `agora frameworks` instances. Apply an Indexed Job from YAML, see it (and a pending job with its
// priority and reason) in `get jobs`, `describe job/NAME`, read a task's logs; SIGKILL the leading
// frameworks instance in the middle of the job: the standby takes over, every index completes
// exactly once and no (index, attempt) is launched twice. Invalid specs are refused naming the field.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { unaryCall } from '../../core/grpc.js';
import { JobsClient, type Workload__Output } from '../../proto/index.js';
import { startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { runCli, startFrameworksProcess, stopCliProcesses, type CliResult, type FrameworksProcess } from '../support/cli.js';
import { eventually } from '../support/master-harness.js';
import { killMasters, spawnMaster } from '../support/master-process.js';
import { testServices } from '../support/services.js';
import { adminChannel, secureFetch } from '../support/security.js';
import { tasksWritableDir } from '../support/users.js';

afterAll(async () => {
  await stopCliProcesses();
  await stopTestAgents();
  await killMasters();
});

interface MasterTask {
  id: string;
  state: string;
  labels: Record<string, string>;
}

async function health(p: FrameworksProcess): Promise<string> {
  return ((await (await secureFetch(`https://${p.httpAddress}/health`)).json()) as { lifecycle: string }).lifecycle;
}

function indexedJob(out: string): string {
  return [
    'kind: Job',
    'name: crunch',
    'completions: 8',
    'parallelism: 2',
    'completionMode: Indexed',
    'task:',
    // Indexes 2 and up wait for the test's go-ahead: the failover happens while 2 and 3 run.
    `  command: 'echo "index $AGORA_TASK_INDEX"; if [ $AGORA_TASK_INDEX -ge 2 ]; then while [ ! -f "$OUT/go" ]; do sleep 0.1; done; fi; echo ok >> "$OUT/ok-$AGORA_TASK_INDEX"'`,
    '  resources: { cpus: 0.1, mem: 16 }',
    `  env: { OUT: ${JSON.stringify(out)} }`,
    '',
  ].join('\n');
}

const HUGE = 'kind: Job\nname: huge\npriority: 10\ntask: { command: "true", resources: { cpus: 64, mem: 16 } }\n';

describe('agora CLI with jobs', () => {
  it('runs an Indexed job through a failover of agora frameworks: every index exactly once', async () => {
    const cluster = `e2e-batch-${process.pid}`;
    const zk = `zk://${testServices().zk}/agora`;
    const master = await spawnMaster(zk, cluster);
    await startTestAgent(master.grpcAddress, { resources: 'cpus:2;mem:1024;disk:1024' });
    const flags = ['--master', zk, '--cluster', cluster, '--zk-session-timeout', '2s', '--log-level', 'warn'];
    const first = await startFrameworksProcess(flags);
    await eventually(async () => (await health(first)) === 'LEADING', { timeoutMs: 20_000, what: 'the first instance to lead' });
    const second = await startFrameworksProcess(flags);
    const agora = (...args: string[]): Promise<CliResult> => runCli([...args, '--master', `https://${master.httpAddress}`]);
    const out = await tasksWritableDir('cli-batch');

    const applied = await runCli(['apply', '-f', '-', '--master', `https://${master.httpAddress}`], { stdin: indexedJob(out) });
    expect([applied.code, applied.stdout, applied.stderr]).toEqual([0, 'job/crunch created (version v1)\n', '']);
    expect((await runCli(['apply', '-f', '-', '--master', `https://${master.httpAddress}`], { stdin: HUGE })).code).toBe(0);

    // The queue: the pending job shows its priority and why it waits; the indexed job runs.
    await eventually(async () => /\nhuge\s+0\/1\s+Pending\s+0\s+0\s+10\s+\S+\s+insufficient cpus: need 64, largest offer has /.test((await agora('get', 'jobs')).stdout), {
      timeoutMs: 20_000,
      what: 'huge pending with its reason',
    });
    await eventually(async () => /\ncrunch\s+2\/8\s+Running\s+2\s+0\s+0\s/.test((await agora('get', 'jobs')).stdout), { timeoutMs: 20_000, what: 'crunch running, 2 of 8 done' });
    const described = (await agora('describe', 'job/crunch')).stdout;
    expect(described).toMatch(/^Phase:\s+Running$/m);
    expect(described).toMatch(/^Completions:\s+2\/8 succeeded \| 2 active \| 0 failed \(Indexed, parallelism 2\)$/m);
    expect(described).toMatch(/^Completed indexes:\s+0-1$/m);
    expect(described).toMatch(/^ {2}crunch\.r1\.i0\.a0\.\S+\s+0\s+0\s+Finished\s+0\s/m);
    expect((await agora('describe', 'job/huge')).stdout).toMatch(/^Pending:\s+insufficient cpus: need 64/m);

    // The leader dies in the middle of the job.
    first.kill('SIGKILL');
    // Indexes 2 and 3 finish while no instance leads; their updates wait at the agent.
    await writeFile(`${out}/go`, '');
    await eventually(async () => (await health(second)) === 'LEADING', { timeoutMs: 20_000, what: 'the standby to take over' });
    await eventually(async () => /\ncrunch\s+8\/8\s+Succeeded\s/.test((await agora('get', 'jobs')).stdout), { timeoutMs: 40_000, what: 'crunch to succeed' });

    const files = (await readdir(out)).filter((f) => f.startsWith('ok-')).sort();
    expect(files).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `ok-${i}`));
    for (const f of files) expect(await readFile(`${out}/${f}`, 'utf8')).toBe('ok\n');
    const { tasks } = (await (await secureFetch(`https://${master.httpAddress}/api/v1/tasks?limit=1000`)).json()) as { tasks: MasterTask[] };
    const mine = tasks.filter((t) => t.labels['agora.job'] === 'crunch');
    const keys = mine.map((t) => `${t.labels['agora.job.index']}/${t.labels['agora.job.attempt']}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(mine.filter((t) => t.state === 'TASK_FINISHED').map((t) => Number(t.labels['agora.job.index'])).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);

    // The same job over gRPC (proto3 JSON field names, enums by name).
    const grpcClient = new JobsClient(second.grpcAddress, adminChannel());
    try {
      const w = await unaryCall<Workload__Output>((cb) => grpcClient.get({ kind: 'JOB', name: 'crunch' }, cb));
      expect(w).toMatchObject({ kind: 'JOB', name: 'crunch', job: { completions: 8, parallelism: 2, completionMode: 'INDEXED' }, jobStatus: { phase: 'JOB_SUCCEEDED', succeeded: 8, completedIndexes: [0, 1, 2, 3, 4, 5, 6, 7], runs: 1 } });
      expect(w.jobStatus?.tasks.filter((t) => t.state === 'TASK_FINISHED').map((t) => t.index).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    } finally {
      grpcClient.close();
    }

    const task3 = mine.find((t) => t.labels['agora.job.index'] === '3' && t.state === 'TASK_FINISHED')!;
    const logs = await agora('logs', task3.id);
    expect([logs.code, logs.stdout]).toEqual([0, 'index 3\n']);

    // Invalid specs through the HTTP API: 400 naming the field; nothing created.
    const api = `https://${second.httpAddress}/api/v1/jobs`;
    const cases: [string, string][] = [
      ['name: bad\ngang: true\ncompletions: 2\nparallelism: 3\ntask: { command: x, resources: { cpus: 1, mem: 8 } }\n', 'completions'],
      ['name: bad\nparallelism: -1\ntask: { command: x, resources: { cpus: 1, mem: 8 } }\n', 'parallelism'],
      ['name: bad\nbackoffLimit: -3\ntask: { command: x, resources: { cpus: 1, mem: 8 } }\n', 'backoffLimit'],
      ['name: bad\ncompletions: "3"\ntask: { command: x, resources: { cpus: 1, mem: 8 } }\n', 'completions'],
    ];
    for (const [body, field] of cases) {
      const res = await secureFetch(api, { method: 'POST', body, headers: { 'content-type': 'application/yaml' } });
      expect({ field, status: res.status, body: await res.json() }).toMatchObject({ field, status: 400, body: { code: 'AGORA_INVALID_ARGUMENT', field } });
    }
    const listed = (await agora('get', 'jobs')).stdout;
    expect(listed).not.toMatch(/\nbad\s/);
    expect((await agora('delete', 'job/huge')).code).toBe(0);
  }, 120_000);
});
