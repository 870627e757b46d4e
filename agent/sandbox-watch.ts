// The agent's watch over its running tasks' sandboxes: the disk watch (disk-watch.ts, every
// --disk-watch-interval) and the log rotation (log-rotation.ts, every --log-rotation-interval),
// on the agent's clock, started once recovery has re-adopted the tasks and stopped first when
// the agent stops (the tasks may outlive the agent; their logs then grow until the next one).
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { OptionsOf } from '../core/options.js';
import type { KillPolicy__Output } from '../proto/index.js';
import type { SandboxLimitsView } from './context.js';
import { DiskWatch, type DiskUsage } from './disk-watch.js';
import type { DiskMeasure } from './disk-usage.js';
import { LogRotation } from './log-rotation.js';
import type { RotationState } from './sandbox-files.js';
import type { SANDBOX_LIMIT_OPTIONS, SandboxTask } from './sandbox-limits.js';
import type { TaskManager } from './task-manager.js';

export type SandboxLimitOptions = OptionsOf<typeof SANDBOX_LIMIT_OPTIONS>;

/** A container over its limit is destroyed at once, as Mesos does: no grace period to write more. */
const AT_ONCE: KillPolicy__Output = { gracePeriodSeconds: 0 };

export class SandboxWatch implements SandboxLimitsView {
  readonly disk: DiskWatch;
  readonly logs: LogRotation;

  constructor(deps: { options: SandboxLimitOptions; clock: Clock; logger: Logger; tasks: TaskManager; measure?: DiskMeasure }) {
    const { options, clock, logger, tasks } = deps;
    const running = (): Iterable<SandboxTask> => tasks.tasks.values();
    this.disk = new DiskWatch({
      clock,
      intervalMs: options.diskWatchInterval,
      timeoutMs: options.diskWatchTimeout,
      enforce: options.enforceDiskLimit,
      log: logger.child({ component: 'disk-watch' }),
      tasks: running,
      onExceeded: (task, cause) => tasks.kill(task.frameworkId, task.taskId, AT_ONCE, cause),
      ...(deps.measure ? { measure: deps.measure } : {}),
    });
    this.logs = new LogRotation({
      clock,
      intervalMs: options.logRotationInterval,
      maxBytes: options.logMaxSize,
      maxFiles: options.logMaxFiles,
      log: logger.child({ component: 'log-rotation' }),
      tasks: running,
    });
  }

  start(): void {
    this.disk.start();
    this.logs.start();
  }

  stop(): void {
    this.disk.stop();
    this.logs.stop();
  }

  rotation(sandbox: string, stream: string): RotationState {
    return this.logs.rotation(sandbox, stream);
  }

  diskUsage(frameworkId: string, taskId: string): DiskUsage | undefined {
    return this.disk.usage(frameworkId, taskId);
  }
}
