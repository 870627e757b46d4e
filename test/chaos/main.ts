// `npm run chaos -- [flags]` (flags: options.ts): one chaos run against a cluster of real processes
// of this checkout's build, its summary as one JSON line on stdout (progress on stderr), and the
// exit code 1 when an invariant was violated (2 on a bad flag, 3 when the run itself failed).
// Everything it started is stopped and removed at the end, on Ctrl-C, and — should this process be
// SIGKILLed — by the next run of the tests (tmp.ts reaps runs whose owner is gone).
import { AgoraError } from '../../core/errors.js';
import { ensureFreshBuild } from '../support/build.js';
import { reapRuns } from '../support/tmp.js';
import { cleanUpActiveRunsSync } from './cleanup.js';
import { parseChaosArgs, type ChaosOptions } from './options.js';
import { runChaos } from './run.js';

// Registered before tmp.ts's handlers (installed with the first run directory), so that this runs
// first: the tasks and their cgroups go, then the exit handlers stop the services and remove the
// directory.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    process.stderr.write(`chaos: ${signal}, cleaning up\n`);
    cleanUpActiveRunsSync();
    process.exit(130);
  });
}

let options: ChaosOptions;
try {
  options = parseChaosArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`chaos: ${(err as Error).message}\n`);
  process.exit(err instanceof AgoraError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? 2 : 3);
}
const log = (line: string): void => void process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
reapRuns();
if (ensureFreshBuild()) log('rebuilt dist/ (sources were newer)');
log(`seed ${options.seed} (replay with --seed ${options.seed})`);
try {
  const summary = await runChaos(options, log);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  for (const v of summary.violations) log(`VIOLATION: ${v}`);
  process.exit(summary.violations.length > 0 ? 1 : 0);
} catch (err) {
  log(`the run failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(3);
}
