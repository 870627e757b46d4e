// `agora agent`: one agent process. Every timeout is a flag; bad flags fail at start, naming the
// flag. SIGINT/SIGTERM stop the agent and leave its tasks running (a restart with the same
// --work-dir re-adopts them) unless --kill-tasks-on-stop; a shutdown from the master ends it too.
import type { Command } from 'commander';
import { createLogger } from '../core/logger.js';
import { Agent } from '../agent/agent.js';
import { AGENT_OPTIONS, compileAgentOptions } from '../agent/options.js';
import { addSpecOptions, runUntilSignal } from './process.js';

export function registerAgentCommand(program: Command): void {
  const cmd = program.command('agent').description('run an agent: offer this machine\u2019s resources to the master and run tasks');
  addSpecOptions(cmd, AGENT_OPTIONS);
  cmd.action(async (raw: Record<string, unknown>) => {
    const options = compileAgentOptions(raw);
    const logger = createLogger({ level: options.logLevel, name: 'agora-agent' });
    const agent = await Agent.start(options, { logger });
    process.stdout.write(`agent listening: http ${agent.security.tls ? 'https' : 'http'}://${agent.httpAddress}, work dir ${agent.checkpoint.workDir}\n`);
    await Promise.race([runUntilSignal(logger, () => agent.stop()), agent.stopped]);
  });
}
