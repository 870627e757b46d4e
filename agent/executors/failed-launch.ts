// A container that never started, for every executor: wait() reports why, kill() has nothing to do.
import type { Container, ExitInfo } from '../executor.js';

export const REASON_LAUNCH_FAILED = 'REASON_CONTAINER_LAUNCH_FAILED';

export function failedLaunch(taskId: string, message: string, reason = REASON_LAUNCH_FAILED): Container {
  const exit: ExitInfo = { launchFailed: true, reason, message };
  return { taskId, checkpoint: {}, wait: async () => exit, kill: async () => undefined };
}
