// The cron framework: scheduled jobs (what Chronos or a Kubernetes CronJob does), on the public
// SDK and the shared FrameworkShell. See README.md in this folder for the rules and the design.
//
//   const cron = await startCron({ master: 'zk://…/agora', state });   // after winning the election
//   await cron.apply({ name: 'nightly', schedule: '0 3 * * *', task: { command: '…', resources: { cpus: 0.1, mem: 64 } } });
//   await cron.trigger('nightly');                                      // a run now
//   await cron.stop();                                                   // on losing it, or shutdown
import { CronFramework, type CronOptions } from './framework.js';

export { CRON_FRAMEWORK_NAME, type CronFramework, type CronOptions } from './framework.js';

/** Load the cron jobs, subscribe (as the framework id it had, if any), reconcile, and run them on schedule until `stop()`. */
export function startCron(options: CronOptions): Promise<CronFramework> {
  return CronFramework.start(options);
}
