// Shared plumbing for the long-running commands: flags from an option spec, and ordered shutdown
// on SIGINT / SIGTERM (stop intake, drain, force after a grace period).
import type { Command } from 'commander';
import type { Logger } from '../core/logger.js';
import { shownDefault, type OptionSpec } from '../core/options.js';

/** Add one `--flag <value>` per option; defaults are applied by compileOptions, not commander. */
export function addSpecOptions(cmd: Command, spec: Record<string, OptionSpec<unknown>>): void {
  for (const option of Object.values(spec)) {
    const def = shownDefault(option);
    // A switch may be given alone (`--insecure`) or with a value (`--insecure false`).
    cmd.option(`${option.flag} ${typeof option.default === 'boolean' ? '[value]' : '<value>'}`, `${option.description}${def === undefined ? '' : ` (default ${def})`}`);
  }
}

/** Resolve when SIGINT/SIGTERM arrives and `stop` finishes; a second signal, or the grace period, forces exit. */
export function runUntilSignal(logger: Logger, stop: () => Promise<void>, graceMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, 'shutting down');
      const force = setTimeout(() => {
        logger.error({ graceMs }, 'shutdown took too long: exiting');
        process.exit(1);
      }, graceMs);
      force.unref();
      stop()
        .catch((err: unknown) => logger.error({ err }, 'shutdown failed'))
        .finally(() => {
          clearTimeout(force);
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve();
        });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
