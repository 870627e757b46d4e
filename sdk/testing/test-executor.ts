// The executor of a kit cluster's agents: the agent's own fake executor (agent/executors/fake.ts —
// no process, "running" at once, ended after task.fake.duration_seconds or by a kill), plus a hand
// for the test: end a running task now, as a success or a failure with an exit code.
//
//   agent ── launch ──► TestExecutor ──► FakeExecutor.launch ──► container
//   test  ── finish(taskId) / fail(taskId, 3) ─────────────────► container ends ─► TASK_FINISHED / TASK_FAILED
import type { Container, ContainerCheckpoint, ContainerSpec, Executor, ExitInfo } from '../../agent/executor.js';
import { FakeExecutor } from '../../agent/executors/fake.js';
import type { Clock } from '../../core/clock.js';
import { NotFoundError } from '../../core/errors.js';

/** A container the test can end: the fake one's end, or the test's, whichever comes first. */
class HandledContainer implements Container {
  readonly taskId: string;
  readonly checkpoint: ContainerCheckpoint;
  readonly healthy: boolean | undefined;
  readonly #ended: Promise<ExitInfo>;
  #end!: (exit: ExitInfo) => void;

  constructor(readonly inner: Container) {
    this.taskId = inner.taskId;
    this.checkpoint = inner.checkpoint;
    this.healthy = inner.healthy;
    const byTest = new Promise<ExitInfo>((resolve) => (this.#end = resolve));
    this.#ended = Promise.race([inner.wait(), byTest]);
  }

  wait(): Promise<ExitInfo> {
    return this.#ended;
  }

  async kill(gracePeriodMs: number): Promise<void> {
    await this.inner.kill(gracePeriodMs);
    this.#end({ killed: true, signal: 'SIGTERM', message: 'Command terminated by signal SIGTERM' });
  }

  /** End it as the test says; the fake container's own timer is let go by a kill. */
  end(exitCode: number, message: string): void {
    this.#end({ exitCode, message });
    void this.inner.kill(0);
  }
}

export class TestExecutor implements Executor {
  readonly kind = 'fake' as const;
  readonly #fake: FakeExecutor;
  /** Live containers by task id (a task id is unique per framework; the kit keys by task id alone). */
  readonly #live = new Map<string, HandledContainer>();

  constructor(clock: Clock) {
    this.#fake = new FakeExecutor(clock);
  }

  async launch(spec: ContainerSpec): Promise<Container> {
    return this.#track(new HandledContainer(await this.#fake.launch(spec)));
  }

  async recover(spec: ContainerSpec, checkpoint: ContainerCheckpoint): Promise<Container | ExitInfo> {
    const recovered = await this.#fake.recover(spec, checkpoint);
    return 'wait' in recovered ? this.#track(new HandledContainer(recovered)) : recovered;
  }

  #track(container: HandledContainer): HandledContainer {
    this.#live.set(container.taskId, container);
    void container.wait().then(() => {
      if (this.#live.get(container.taskId) === container) this.#live.delete(container.taskId);
    });
    return container;
  }

  /** Is the task running here now? */
  has(taskId: string): boolean {
    return this.#live.has(taskId);
  }

  /** The ids of the tasks running here. */
  running(): string[] {
    return [...this.#live.keys()];
  }

  /** End a running task with `exitCode` (0: TASK_FINISHED, else TASK_FAILED). */
  end(taskId: string, exitCode: number): void {
    const container = this.#live.get(taskId);
    if (!container) throw new NotFoundError('running task', taskId);
    container.end(exitCode, `Command exited with status ${exitCode}`);
  }

  async close(): Promise<void> {
    await this.#fake.close();
  }
}
