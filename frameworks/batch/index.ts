// The batch framework: run-to-completion jobs (Kubernetes Job, Nomad batch) with completions,
// parallelism, retries with backoff, deadlines, TTL, Indexed mode, gang scheduling and priority,
// on the public SDK.
//
//   const batch = await startBatch({ master: 'zk://…/agora', state });   // after winning the election
//   await batch.apply({ name: 'crunch', completions: 4, parallelism: 2, task: { command: '…', resources: { cpus: 1, mem: 128 } } });
//   …
//   await batch.stop();                                                  // on losing it, or shutdown
//
// See README.md in this folder for the design.
import { BatchFramework } from './framework.js';
import type { BatchHandle, BatchOptions } from './options.js';

export { BATCH_FRAMEWORK_NAME, type BatchHandle, type BatchOptions } from './options.js';
export { validateJobSpec, type JobSpecDoc } from './spec.js';

/** Start the batch framework: load its jobs, subscribe (as the framework id it had, if any), reconcile their tasks, and run them. */
export async function startBatch(options: BatchOptions): Promise<BatchHandle> {
  return BatchFramework.start(options);
}
