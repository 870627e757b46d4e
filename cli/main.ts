#!/usr/bin/env node
// The `agora` command. Each subcommand lives in its own file and registers itself on the program.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { AgoraError } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import { registerAgentCommand } from './agent-command.js';
import { ExitCode } from './errors.js';
import { runComplete } from './commands/completion.js';
import { registerClientCommands } from './commands/index.js';
import { registerFrameworksCommand } from './frameworks-command.js';
import { groupCommands } from './help-groups.js';
import { registerMasterCommand } from './master-command.js';
import { registerUpCommand } from './up-command.js';
import { RemoteExitError } from './errors.js';

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
  groupCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  // Shell completion (commands/completion.ts): the words are the line being typed, not flags.
  if (argv[2] === '__complete') {
    await runComplete(program, argv.slice(3));
    return 0;
  }
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    // Usage errors (commander has printed them) and bad input exit 2; other failures exit 1.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof ExitCode) return err.exitCode;
    // `agora exec`: the remote command's own status, as kubectl passes it back.
    if (err instanceof RemoteExitError) return err.exitCode;
    if (err instanceof AgoraError) {
      process.stderr.write(`error: ${err.message}\n`);
      return err.code === 'AGORA_INVALID_ARGUMENT' ? 2 : 1;
    }
    process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

/**
 * True when node was asked to run this file, however it was named: `node dist/cli/main.js` (or
 * `node dist/cli/main`, which node completes), the `agora` bin (npm's symlink in
 * node_modules/.bin, or a shim), or a path through a symlinked package (`npm install ../agora`,
 * pnpm). Real paths are compared, not URLs: a symlink or a character a URL escapes must not make
 * the command exit 0 having done nothing.
 */
export function isEntryPoint(script: string | undefined, moduleUrl: string): boolean {
  if (script === undefined) return false;
  const self = realpathSync(fileURLToPath(moduleUrl));
  for (const candidate of [script, `${script}.js`]) {
    try {
      if (realpathSync(candidate) === self) return true;
    } catch {
      // not a file by this name; node may have added the extension
    }
  }
  return false;
}

if (isEntryPoint(process.argv[1], import.meta.url)) {
  process.exitCode = await main(process.argv);
}
