// `agora logs TASK_ID [-f] [--stderr] [--tail BYTES]`: a task's output, read from the agent that
// ran it (found through the master's /api/v1/tasks and /api/v1/agents). `agora logs cronjob/NAME
// [--run RUN_ID]` reads the latest task of the run (the newest run that launched one by default).
import type { Command } from 'commander';
import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import type { CronJobRun, Workload } from '../../proto/index.js';
import { withClientFlags, type AgoraClient } from '../client.js';
import { clientFor, parseRef } from './shared.js';

interface LogFlags {
  follow?: boolean;
  stderr?: boolean;
  tail?: string;
  run?: string;
}

export function registerLogsCommand(program: Command): void {
  const cmd = program
    .command('logs')
    .description("print a task's stdout (or --stderr); -f follows it. cronjob/NAME: its latest run's task (or --run's)")
    .argument('<task>', 'the task id, or cronjob/NAME')
    .option('-f, --follow', 'keep printing new output until the task ends')
    .option('--stderr', 'stderr instead of stdout')
    .option('--tail <bytes>', 'only the last BYTES bytes')
    .option('--run <id>', 'with cronjob/NAME: this run instead of the latest');
  withClientFlags(cmd).action(async (target: string, flags: LogFlags) => {
    if (flags.tail !== undefined && !/^\d+$/.test(flags.tail)) throw new InvalidArgumentError('--tail', `expected a number of bytes, got '${flags.tail}'`);
    const client = clientFor(cmd);
    const taskId = target.includes('/') ? await taskOfRun(client, target, flags.run) : target;
    if (flags.run !== undefined && !target.includes('/')) throw new InvalidArgumentError('--run', 'goes with cronjob/NAME, not a task id');
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once('SIGINT', onSignal);
    try {
      const chunks = client.taskLogs(
        { taskId, stream: flags.stderr ? 'stderr' : 'stdout', offset: flags.tail === undefined ? 0 : -Number(flags.tail), follow: Boolean(flags.follow) },
        abort.signal,
      );
      for await (const chunk of chunks) process.stdout.write(chunk.data);
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    } finally {
      process.off('SIGINT', onSignal);
    }
  });
}

/** The latest task of a cron job's run: `runId`, else the newest run that launched a task. */
async function taskOfRun(client: AgoraClient, target: string, runId: string | undefined): Promise<string> {
  const ref = parseRef(target);
  if (ref.kind !== 'CRONJOB') throw new InvalidArgumentError('KIND/NAME', `logs takes a task id or cronjob/NAME, not ${ref.label}`);
  const w = await client.jobs<Workload>('GET', `/api/v1/cronjobs/${encodeURIComponent(ref.name)}`);
  const all: CronJobRun[] = [...(w.cronjobStatus?.active ?? []), ...(w.cronjobStatus?.history ?? [])];
  if (runId !== undefined) {
    const run = all.find((r) => r.id === runId);
    if (run === undefined) throw new NotFoundError('run', `${runId} of ${ref.label}`);
    const task = run.taskIds?.at(-1);
    if (task === undefined) throw new InvalidArgumentError('--run', `run ${runId} has not launched a task yet`);
    return task;
  }
  const newest = all.filter((r) => (r.taskIds ?? []).length > 0).sort((a, b) => Number(b.startedAtMs ?? 0) - Number(a.startedAtMs ?? 0))[0];
  if (newest === undefined) throw new NotFoundError('run with a task', ref.label);
  return newest.taskIds!.at(-1)!;
}
