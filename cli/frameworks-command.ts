// `agora frameworks`: the built-in frameworks and the Jobs API (gRPC 5061, HTTP 5060). Run several
// against one store: they elect a leader ('agora-frameworks'); the others redirect to it.
import type { Command } from 'commander';
import { createLogger } from '../core/logger.js';
import { compileFrameworksOptions, FRAMEWORKS_OPTIONS } from '../frameworks/host-options.js';
import { addSpecOptions, runUntilSignal } from './process.js';

export function registerFrameworksCommand(program: Command): void {
  const cmd = program.command('frameworks').description('run the built-in frameworks and the Jobs API (several instances elect a leader)');
  addSpecOptions(cmd, FRAMEWORKS_OPTIONS);
  cmd.action(async (raw: Record<string, unknown>) => {
    const options = compileFrameworksOptions(raw);
    const logger = createLogger({ level: options.logLevel, name: 'agora-frameworks' });
    // Loaded here, not at start-up: the client commands need none of it.
    const { FrameworksHost } = await import('../frameworks/host.js');
    const host = await FrameworksHost.run(options, { logger });
    process.stdout.write(`frameworks listening: grpc ${host.grpcAddress ?? ''}, http ${options.insecure ? 'http' : 'https'}://${host.httpAddress ?? ''}\n`);
    process.stdout.write(`service dns: ${options.dnsBind ?? options.bind}:${host.dnsPort ?? ''} (udp, tcp)\n`);
    await runUntilSignal(logger, () => host.stop());
  });
}
