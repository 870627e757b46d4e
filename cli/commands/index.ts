// The commands that talk to a running cluster (kubectl-like), each in its own file.
import type { Command } from 'commander';
import { registerApplyCommand } from './apply.js';
import { registerDeleteCommand } from './delete.js';
import { registerDescribeCommand } from './describe.js';
import { registerGetCommand } from './get.js';
import { registerLogsCommand } from './logs.js';
import { registerRolloutCommand } from './rollout.js';
import { registerRunnableCommands } from './runnable.js';
import { registerScaleCommand } from './scale.js';
import { registerTopCommand } from './top.js';

export function registerClientCommands(program: Command): void {
  registerApplyCommand(program);
  registerGetCommand(program);
  registerDescribeCommand(program);
  registerScaleCommand(program);
  registerRolloutCommand(program);
  registerDeleteCommand(program);
  registerRunnableCommands(program);
  registerLogsCommand(program);
  registerTopCommand(program);
}
