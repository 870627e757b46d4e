#!/usr/bin/env node
// The `agora` command. Each subcommand lives in its own file and registers itself on the program.
import { Command, CommanderError } from 'commander';
import { AgoraError } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import { registerAgentCommand } from './agent-command.js';
import { registerClientCommands } from './commands/index.js';
import { registerFrameworksCommand } from './frameworks-command.js';
import { registerMasterCommand } from './master-command.js';
import { registerUpCommand } from './up-command.js';

export function buildProgram(): Command {
  const program = new Command('agora')
    .description('Agora: a two-level cluster manager (master, agents, frameworks)')
    .version(VERSION, '-V, --version')
    .showHelpAfterError()
    .exitOverride();
  registerMasterCommand(program);
  registerAgentCommand(program);
  registerUpCommand(program);
  registerFrameworksCommand(program);
  registerClientCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    // Usage errors (commander has printed them) and bad input exit 2; other failures exit 1.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof AgoraError) {
      process.stderr.write(`error: ${err.message}\n`);
      return err.code === 'AGORA_INVALID_ARGUMENT' ? 2 : 1;
    }
    process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly || process.argv[1]?.endsWith('/agora')) {
  process.exitCode = await main(process.argv);
}
