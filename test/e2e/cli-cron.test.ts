// Cron jobs through the `agora` CLI, as users run them. On `agora up`: apply a CronJob YAML, run
// it by hand, read its history (`describe`) and its output (`logs cronjob/NAME`), suspend and
// resume, and invalid specs refused with the field named. With two `agora frameworks` processes:
// the leader is SIGKILLed in the middle of a run; the standby takes over, that run is recorded
// once, the next scheduled run happens once, and the master saw one launch per run.
import { afterAll, describe, expect, it } from 'vitest';
import { startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { runCli, startFrameworksProcess, startUpProcess, stopCliProcesses, type CliResult, type FrameworksProcess } from '../support/cli.js';
import { eventually } from '../support/master-harness.js';
import { killMasters, spawnMaster } from '../support/master-process.js';
import { testServices } from '../support/services.js';
import { tempDir } from '../support/tmp.js';
import { secureFetch } from '../support/security.js';

afterAll(async () => {
  await stopCliProcesses();
  await stopTestAgents();
  await killMasters();
});

/** Poll until `check` finds something (eventually() retries only on false or a throw). */
async function waitFor<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  return (await eventually(async () => (await check()) ?? false, { timeoutMs, what })) as T;
}

const HELLO = `kind: CronJob
name: hello
schedule: "0 0 1 1 *"
timeZone: Europe/Berlin
task:
  command: echo "hello from $AGORA_RUN_ID"; echo oops >&2
  resources: { cpus: 0.05, mem: 16 }
`;

describe('agora CLI: cron jobs', () => {
  it('apply, run, describe, logs, suspend and resume on agora up; invalid specs name the field', async () => {
    const up = await startUpProcess(await tempDir('cron-up'));
    const agora = (...args: string[]): Promise<CliResult> => runCli([...args, '--master', up.masterUrl]);
    const applied = await runCli(['apply', '-f', '-', '--master', up.masterUrl], { stdin: HELLO });
    expect([applied.code, applied.stdout]).toEqual([0, 'cronjob/hello created (version v1)\n']);

    const run = await agora('run', 'cronjob/hello');
    expect(run.code).toBe(0);
    const runId = run.stdout.trim();
    expect(runId).toMatch(/^hello-manual-\d+$/);
    const workload = async (): Promise<{ version: string; cronjobStatus: { history?: Run[] } }> => (await up.fetch(`${up.masterUrl}/api/v1/cronjobs/hello`)).json() as never;
    await waitFor(async () => (await workload()).cronjobStatus.history?.find((r) => r.id === runId && r.phase === 'JOB_SUCCEEDED'), 'the run to succeed');
    const described = (await agora('describe', 'cronjob/hello')).stdout;
    expect(described).toMatch(new RegExp(`^\\s+${runId} \\(manual\\)\\s+Succeeded\\s+1\\s+0\\s+\\S+Z\\s+\\S+Z\\s+${runId}\\.1\\.\\w+\\s+attempt 1 succeeded$`, 'm'));
    expect(described).toMatch(/^Schedule:\s+0 0 1 1 \* \(Europe\/Berlin\)$/m);
    expect(described).toMatch(/^Next schedule:\s+\d{4}-12-31T23:00:00.000Z$/m); // midnight on 1 January in Berlin (CET)

    expect(await agora('logs', 'cronjob/hello')).toMatchObject({ code: 0, stdout: `hello from ${runId}\n` });
    expect(await agora('logs', 'cronjob/hello', '--run', runId, '--stderr')).toMatchObject({ code: 0, stdout: 'oops\n' });
    expect((await agora('logs', 'cronjob/hello', '--run', 'nope')).code).toBe(1);

    expect((await agora('get', 'cronjobs')).stdout).toMatch(/\nhello\s+0 0 1 1 \*\s+false\s+0\s/);
    expect(await agora('suspend', 'cronjob/hello')).toMatchObject({ code: 0, stdout: 'cronjob/hello suspended\n' });
    expect((await agora('get', 'cronjobs')).stdout).toMatch(/\nhello\s+0 0 1 1 \*\s+true\s/);
    expect(await agora('resume', 'cj/hello')).toMatchObject({ code: 0, stdout: 'cronjob/hello resumed\n' });
    expect((await agora('run', 'service/hello')).code).toBe(2);

    // Invalid specs through the API: 400 naming the field, nothing created; through the CLI: exit 2.
    const task = { command: 'true', resources: { cpus: 0.05, mem: 16 } };
    const bad: [Record<string, unknown>, string][] = [
      [{ schedule: '61 * * * *' }, 'schedule'],
      [{ schedule: '@often' }, 'schedule'],
      [{ schedule: '* * *' }, 'schedule'],
      [{ schedule: '* * * * *', timeZone: 'Mars/Olympus' }, 'timeZone'],
      [{ schedule: '* * * * *', retries: -1 }, 'retries'],
      [{ schedule: '* * * * *', startingDeadlineSeconds: -5 }, 'startingDeadlineSeconds'],
      [{ schedule: '* * * * *', activeDeadlineSeconds: 0 }, 'activeDeadlineSeconds'],
      [{ schedule: '* * * * *', task: { ...task, resources: { cpus: -1, mem: 16 } } }, 'task.resources.cpus'],
    ];
    for (const [fields, field] of bad) {
      const res = await up.fetch(`${up.masterUrl}/api/v1/cronjobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'broken', task, ...fields }) });
      const body = (await res.json()) as { code: string; field: string; message: string };
      expect({ fields, status: res.status, code: body.code, field: body.field }).toEqual({ fields, status: 400, code: 'AGORA_INVALID_ARGUMENT', field });
    }
    expect((await up.fetch(`${up.masterUrl}/api/v1/cronjobs/broken`)).status).toBe(404);
    const badCli = await runCli(['apply', '-f', '-', '--master', up.masterUrl], { stdin: 'kind: CronJob\nname: broken\nschedule: "* * * * *"\ntimeZone: Nowhere/Town\ntask: { command: "true", resources: { cpus: 0.05, mem: 16 } }\n' });
    expect([badCli.code, badCli.stderr]).toEqual([2, expect.stringMatching(/^error: standard input: timeZone: unknown time zone 'Nowhere\/Town'/)]);
    expect((await workload()).version).toBe('v3'); // suspend and resume made v2 and v3; the refused specs nothing
  }, 90_000);

  it('agora frameworks SIGKILLed in the middle of a run: the standby records it once and runs the next time once', async () => {
    const cluster = `e2e-cron-${process.pid}`;
    const zk = `zk://${testServices().zk}/agora`;
    const master = await spawnMaster(zk, cluster);
    await startTestAgent(master.grpcAddress, { resources: 'cpus:1;mem:512;disk:512' });
    const flags = ['--master', zk, '--cluster', cluster, '--zk-session-timeout', '2s', '--log-level', 'warn'];
    const health = async (p: FrameworksProcess): Promise<string> => ((await (await secureFetch(`https://${p.httpAddress}/health`)).json()) as { lifecycle: string }).lifecycle;
    const first = await startFrameworksProcess(flags);
    await eventually(async () => (await health(first)) === 'LEADING', { timeoutMs: 20_000, what: 'the first instance to lead' });
    const second = await startFrameworksProcess(flags);
    const agora = (...args: string[]): Promise<CliResult> => runCli([...args, '--master', `https://${master.httpAddress}`]);
    const spec = 'kind: CronJob\nname: tick\nschedule: "*/5 * * * * *"\nconcurrencyPolicy: Forbid\nsuccessfulJobsHistoryLimit: 10\ntask: { command: "sleep 3; echo done $AGORA_CRONJOB $AGORA_SCHEDULED_TIME", resources: { cpus: 0.05, mem: 16 } }\n';
    expect((await runCli(['apply', '-f', '-', '--master', `https://${master.httpAddress}`], { stdin: spec })).code).toBe(0);

    const status = async (): Promise<{ active: Run[]; history: Run[] }> => {
      const r = await agora('get', 'cronjob', 'tick', '-o', 'json');
      const s = (JSON.parse(r.stdout) as { status: { active?: Run[]; history?: Run[] } }).status;
      return { active: s.active ?? [], history: (s.history ?? []).filter((h) => h.phase !== 'JOB_SKIPPED') };
    };
    // A run is RUNNING 3 s of every 5, and each look is a CLI process: on a loaded machine, allow a minute.
    const running = await waitFor(async () => (await status()).active.find((r) => r.phase === 'JOB_RUNNING'), 'a running run', 60_000);
    first.kill('SIGKILL');
    await eventually(async () => (await health(second)) === 'LEADING', { timeoutMs: 20_000, what: 'the standby to take over' });
    const done = await waitFor(async () => (await status()).history.find((r) => r.id === running.id), 'the interrupted run to be recorded');
    expect(done).toMatchObject({ phase: 'JOB_SUCCEEDED', attempts: 1, exitCode: 0, taskIds: running.taskIds });
    const next = await waitFor(async () => (await status()).history.find((r) => Number(r.scheduledForMs) > Number(running.scheduledForMs) && r.phase === 'JOB_SUCCEEDED'), 'the next run');
    expect((await agora('logs', 'cronjob/tick', '--run', next.id)).stdout).toBe(`done tick ${new Date(Number(next.scheduledForMs)).toISOString()}\n`);
    expect((await agora('suspend', 'cronjob/tick')).code).toBe(0);

    const { active, history } = await status();
    const runs = [...active, ...history];
    expect(runs.filter((r) => r.id === running.id)).toHaveLength(1);
    expect(new Set(runs.map((r) => r.id)).size).toBe(runs.length);
    const { tasks } = (await (await secureFetch(`https://${master.httpAddress}/api/v1/tasks?limit=10000`)).json()) as { tasks: { id: string }[] };
    for (const run of runs) {
      expect(tasks.filter((t) => t.id.startsWith(`${run.id}.`)).map((t) => t.id)).toEqual(run.taskIds);
    }
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 120_000);
});

interface Run {
  id: string;
  phase: string;
  attempts: number;
  exitCode?: number;
  taskIds: string[];
  scheduledForMs: string | number;
}
