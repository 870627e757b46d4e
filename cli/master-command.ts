// `agora master`: one master process. Every default of ARCHITECTURE.md is a flag; bad flags fail at
// start, naming the flag.
import type { Command } from 'commander';
import { createLogger } from '../core/logger.js';
import { Master } from '../master/master.js';
import { MASTER_OPTIONS, compileMasterOptions } from '../master/options.js';
import { addSpecOptions, runUntilSignal } from './process.js';

export function registerMasterCommand(program: Command): void {
  const cmd = program.command('master').description('run a master (several with --zk form a highly available group)');
  addSpecOptions(cmd, MASTER_OPTIONS);
  cmd.action(async (raw: Record<string, unknown>) => {
    const options = compileMasterOptions(raw);
    const logger = createLogger({ level: options.logLevel, name: 'agora-master' });
    const master = await Master.start(options, {
      logger,
      // As Mesos: a master that lost leadership exits; its supervisor starts a fresh standby.
      onLostLeadership: (reason) => {
        logger.error({ reason }, 'lost leadership: exiting');
        process.exit(1);
      },
    });
    process.stdout.write(`master ${master.masterInfo.id} ${master.isLeader ? 'leading' : 'standing by'}: grpc ${master.grpcAddress}, http ${master.httpScheme}://${master.httpAddress}\n`);
    await runUntilSignal(logger, () => master.stop());
  });
}
