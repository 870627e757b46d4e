// `agora exec [-i] [-t] TASK_ID -- COMMAND [ARGS…]`: run a command inside a running task — in its
// sandbox, as its user, in its cgroup with its environment (process tasks), or in its container
// (Docker tasks) — as `kubectl exec` does. -i passes stdin, -t gives a pseudo-terminal; `-it` for a
// shell. The command's exit status is this command's. Through the master to the task's agent, both
// checking the caller may (permission tasks.exec, or the task's own framework).
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../core/errors.js';
import { RemoteExitError } from '../errors.js';
import { execInTask, sizeOf } from '../exec-stream.js';
import { withClientFlags } from '../client.js';
import { clientFor } from './shared.js';

interface ExecFlags {
  stdin?: boolean;
  tty?: boolean;
  framework?: string;
}

export function registerExecCommand(program: Command): void {
  const cmd = program
    .command('exec')
    .description('run a command inside a running task (its sandbox, user, cgroup and environment, or its container): agora exec -it TASK -- sh')
    .argument('<task>', 'the task id')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('-i, --stdin', 'pass stdin to the command')
    .option('-t, --tty', 'give the command a pseudo-terminal')
    .option('--framework <id>', 'the framework of the task, when task ids collide');
  withClientFlags(cmd).action(async (taskId: string, command: string[], flags: ExecFlags) => {
    if (command.length === 0 || command[0] === '') throw new InvalidArgumentError('command', 'give the command to run after --');
    const tty = Boolean(flags.tty);
    const term = tty && process.env['TERM'] && /^[A-Za-z0-9._+-]{1,64}$/.test(process.env['TERM']) ? process.env['TERM'] : undefined;
    const code = await execInTask(
      clientFor(cmd),
      { taskId, frameworkId: flags.framework },
      { command, stdin: Boolean(flags.stdin), tty, size: tty ? sizeOf(process.stdout) : undefined, term },
      { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
    );
    if (code !== 0) throw new RemoteExitError(code);
  });
}
