// `agora logs TASK_ID [-f] [--stderr] [--tail BYTES]`: a task's output, read from the agent that
// ran it (found through the master's /api/v1/tasks and /api/v1/agents).
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../core/errors.js';
import { MasterTaskLocator, readTaskLogs } from '../../frameworks/api/task-logs.js';
import { withClientFlags } from '../client.js';
import { clientFor } from './shared.js';

export function registerLogsCommand(program: Command): void {
  const cmd = program
    .command('logs')
    .description("print a task's stdout (or --stderr); -f follows it")
    .argument('<task>', 'the task id')
    .option('-f, --follow', 'keep printing new output until the task ends')
    .option('--stderr', 'stderr instead of stdout')
    .option('--tail <bytes>', 'only the last BYTES bytes');
  withClientFlags(cmd).action(async (taskId: string, flags: { follow?: boolean; stderr?: boolean; tail?: string }) => {
    if (flags.tail !== undefined && !/^\d+$/.test(flags.tail)) throw new InvalidArgumentError('--tail', `expected a number of bytes, got '${flags.tail}'`);
    const client = clientFor(cmd);
    const locator = new MasterTaskLocator(() => client.masterUrl);
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once('SIGINT', onSignal);
    try {
      const chunks = readTaskLogs(
        locator,
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
