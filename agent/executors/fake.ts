// The fake executor (`--executor fake`): no process at all. A task is "running" once its
// startup_seconds have passed, ends after task.fake.duration_seconds with task.fake.exit_code (or
// runs until killed), and carries task.fake.healthy as Container.healthy, which the task manager
// reports on RUNNING updates instead of running a health check. One clock timer per task, so
// scale benchmarks can run thousands of tasks for nothing.
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Container, ContainerCheckpoint, ContainerSpec, Executor, ExitInfo } from '../executor.js';

/** What the fake executor checkpoints: enough to finish the task on time after a restart. */
export interface FakeCheckpoint {
  readonly executor: 'fake';
  /** Clock time when the task started running. */
  readonly startedAt: number;
}

export class FakeExecutor implements Executor {
  readonly kind = 'fake' as const;

  constructor(private readonly clock: Clock) {}

  async launch(spec: ContainerSpec): Promise<Container> {
    const startup = spec.task.fake?.startupSeconds ?? 0;
    if (startup > 0) await this.clock.sleep(startup * 1000);
    return new FakeContainer(spec, this.clock, this.clock.now());
  }

  async recover(spec: ContainerSpec, checkpoint: ContainerCheckpoint): Promise<Container | ExitInfo> {
    const startedAt = typeof checkpoint['startedAt'] === 'number' ? checkpoint['startedAt'] : this.clock.now();
    const duration = spec.task.fake?.durationSeconds;
    if (duration !== undefined && this.clock.now() >= startedAt + duration * 1000) return fakeExit(spec, false);
    return new FakeContainer(spec, this.clock, startedAt);
  }

  async close(): Promise<void> {
    // Fake tasks hold nothing but their timers, which end with them.
  }
}

function fakeExit(spec: ContainerSpec, killed: boolean): ExitInfo {
  if (killed) return { killed: true, signal: 'SIGTERM', message: 'Command terminated by signal SIGTERM' };
  const exitCode = spec.task.fake?.exitCode ?? 0;
  return { exitCode, message: `Command exited with status ${exitCode}` };
}

class FakeContainer implements Container {
  readonly taskId: string;
  readonly checkpoint: ContainerCheckpoint;
  readonly healthy: boolean | undefined;
  private readonly ended: Promise<ExitInfo>;
  private resolveEnded!: (exit: ExitInfo) => void;
  private timer: TimerHandle | undefined;
  private done = false;

  constructor(
    private readonly spec: ContainerSpec,
    private readonly clock: Clock,
    startedAt: number,
  ) {
    this.taskId = spec.taskId;
    this.healthy = spec.task.fake?.healthy;
    this.checkpoint = { executor: 'fake', startedAt } satisfies FakeCheckpoint;
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    const duration = spec.task.fake?.durationSeconds;
    if (duration !== undefined) {
      const left = startedAt + duration * 1000 - clock.now();
      this.timer = clock.setTimeout(() => this.end(fakeExit(spec, false)), left);
    }
  }

  wait(): Promise<ExitInfo> {
    return this.ended;
  }

  async kill(): Promise<void> {
    this.end(fakeExit(this.spec, true));
    await this.ended;
  }

  private end(exit: ExitInfo): void {
    if (this.done) return;
    this.done = true;
    this.clock.clearTimeout(this.timer);
    this.resolveEnded(exit);
  }
}
