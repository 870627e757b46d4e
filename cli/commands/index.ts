// The commands that talk to a running cluster (kubectl-like), each in its own file, and the two
// that prepare for it: `config` (contexts and credentials) and `tls` (a CA and certificates).
import type { Command } from 'commander';
import { registerAclCommand } from './acl.js';
import { registerAgentAdminCommands } from './agent-admin.js';
import { registerApplyCommand } from './apply.js';
import { registerCompletionCommand } from './completion.js';
import { registerConfigCommand } from './config.js';
import { registerDeleteCommand } from './delete.js';
import { registerDescribeCommand } from './describe.js';
import { registerDiffCommand } from './diff.js';
import { registerExplainCommand } from './explain.js';
import { registerExecCommand } from './exec.js';
import { registerGetCommand } from './get.js';
import { registerLogsCommand } from './logs.js';
import { registerRolloutCommand } from './rollout.js';
import { registerRunnableCommands } from './runnable.js';
import { registerScaleCommand } from './scale.js';
import { registerTlsCommand } from './tls.js';
import { registerTopCommand } from './top.js';
import { registerVersionCommand } from './version.js';

export function registerClientCommands(program: Command): void {
  registerApplyCommand(program);
  registerGetCommand(program);
  registerDescribeCommand(program);
  registerScaleCommand(program);
  registerRolloutCommand(program);
  registerDeleteCommand(program);
  registerDiffCommand(program);
  registerExplainCommand(program);
  registerRunnableCommands(program);
  registerLogsCommand(program);
  registerExecCommand(program);
  registerTopCommand(program);
  registerAclCommand(program);
  registerConfigCommand(program);
  registerTlsCommand(program);
  registerAgentAdminCommands(program);
  registerVersionCommand(program);
  registerCompletionCommand(program);
}
