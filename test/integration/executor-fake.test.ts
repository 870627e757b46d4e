// The fake executor on a FakeClock: running at once (or after startup_seconds), ending after
// duration_seconds with exit_code, killed on request, its health verdict exposed, recovered from
// its checkpoint — and thousands of tasks costing one timer each.
import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from '../../core/clock.js';
import type { ContainerSpec, ExitInfo } from '../../agent/executor.js';
import { createExecutor } from '../../agent/executors/index.js';
import type { FakeTask__Output, TaskInfo__Output } from '../../proto/index.js';
import { NOBODY } from '../support/users.js';

let counter = 0;

function makeSpec(fake: Partial<FakeTask__Output> | null): ContainerSpec {
  const taskId = `f${++counter}`;
  const task: TaskInfo__Output = {
    name: taskId, taskId, agentId: 'agent-1', resources: [], command: null, container: null,
    healthCheck: null, readinessCheck: null, killPolicy: null, labels: {}, discovery: null,
    data: Buffer.alloc(0), fake: fake ? { exitCode: 0, startupSeconds: 0, ...fake } : null, executorId: '', secrets: null,
  };
  return { frameworkId: 'fw', taskId, task, sandbox: '/nonexistent', runtimeDir: '/nonexistent', user: NOBODY, env: {}, cpus: 0.1, memMb: 32, ports: [] };
}

/** The exit, if the container has ended by now. */
async function settled(wait: Promise<ExitInfo>): Promise<ExitInfo | undefined> {
  let exit: ExitInfo | undefined;
  void wait.then((e) => (exit = e));
  await flushMicrotasks();
  return exit;
}

describe('fake executor', () => {
  it('runs at once and ends after duration_seconds with exit_code', async () => {
    const clock = new FakeClock();
    const executor = createExecutor('fake', { clock });
    const container = await executor.launch(makeSpec({ durationSeconds: 30, exitCode: 2, healthy: true }));
    expect(container.healthy).toBe(true);
    clock.advance(29_999);
    expect(await settled(container.wait())).toBeUndefined();
    clock.advance(1);
    expect(await settled(container.wait())).toEqual({ exitCode: 2, message: 'Command exited with status 2' });
  });

  it('waits startup_seconds before it is running', async () => {
    const clock = new FakeClock();
    const launched = createExecutor('fake', { clock }).launch(makeSpec({ startupSeconds: 2 }));
    let running = false;
    void launched.then(() => (running = true));
    await clock.advanceAsync(1_999);
    expect(running).toBe(false);
    await clock.advanceAsync(1);
    expect(running).toBe(true);
  });

  it('runs until killed when it has no duration, and reports the kill', async () => {
    const clock = new FakeClock();
    const container = await createExecutor('fake', { clock }).launch(makeSpec(null));
    expect(container.healthy).toBeUndefined();
    clock.advance(3_600_000);
    expect(await settled(container.wait())).toBeUndefined();
    await container.kill(5_000);
    expect(await container.wait()).toMatchObject({ killed: true, signal: 'SIGTERM' });
    expect(clock.pending()).toBe(0);
  });

  it('recovers from its checkpoint: still running, or ended while the agent was down', async () => {
    const clock = new FakeClock();
    const spec = makeSpec({ durationSeconds: 10 });
    const container = await createExecutor('fake', { clock }).launch(spec);
    const fresh = createExecutor('fake', { clock });
    clock.advance(4_000);
    const live = await fresh.recover(spec, container.checkpoint);
    expect('wait' in live).toBe(true);
    clock.advance(6_000);
    expect(await fresh.recover(spec, container.checkpoint)).toEqual({ exitCode: 0, message: 'Command exited with status 0' });
  });

  it('keeps thousands of tasks for one timer each', async () => {
    const clock = new FakeClock();
    const executor = createExecutor('fake', { clock });
    const containers = await Promise.all(Array.from({ length: 2_000 }, (_, i) => executor.launch(makeSpec({ durationSeconds: 1 + (i % 10) }))));
    expect(clock.pending()).toBe(2_000);
    clock.advance(10_000);
    const exits = await Promise.all(containers.map((c) => c.wait()));
    expect(exits.every((e) => e.exitCode === 0)).toBe(true);
    expect(clock.pending()).toBe(0);
  });
});
