// One rule for "did the task run?" (sdk/task-outcome.ts), settled with batch: a cron run's task
// lost with its agent before it was seen RUNNING never ran, so its attempt goes again (the same
// attempt, a new task) instead of failing the run — cron used to count it as a failed attempt.
// The task is held before RUNNING for real: its image is pulled from a registry that never answers.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CRON_FRAMEWORK_NAME, startCron } from '../../frameworks/cron/index.js';
import type { CronJobRecord } from '../../frameworks/cron/model.js';
import { FAST_DRIVER, startClusterBase, started, stopFrameworkClusters, until } from '../support/framework-cluster.js';
import { frameworksAccess } from '../support/security.js';
import { testServices } from '../support/services.js';

const sockets = new Set<net.Socket>();
let registry: net.Server | undefined;

afterEach(async () => {
  // The silent registry goes first, so the pulls it holds fail and the agents can stop.
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => (registry ? registry.close(() => resolve()) : resolve()));
  registry = undefined;
  await stopFrameworkClusters();
});

/** A "registry" that accepts connections and never says a word. */
async function silentRegistry(): Promise<number> {
  registry = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => registry!.listen(0, '127.0.0.1', resolve));
  return (registry.address() as net.AddressInfo).port;
}

describe('cron: a task that never ran is no failed attempt', () => {
  it('a run whose task is lost with its agent before RUNNING launches the same attempt again', async () => {
    const { dockerSocket } = testServices();
    const port = await silentRegistry();
    const { master, agents, state } = await startClusterBase(CRON_FRAMEWORK_NAME, { agents: [{ dockerSocket }] });
    // Cron is partition-aware: a task whose agent goes is UNREACHABLE, held until given up (here after 1 s).
    const cron = await started(startCron({ master: master.address, state, access: frameworksAccess(), driver: FAST_DRIVER, waitSubscribedMs: 10_000, unreachableTimeoutMs: 1000 }));
    const task = { container: { image: `127.0.0.1:${port}/agora/never:1`, network: 'none' }, resources: { cpus: 0.05, mem: 16 } };
    await cron.apply({ name: 'stuck', schedule: '0 0 1 1 *', retries: 0, task });
    await cron.trigger('stuck');
    const record = async (): Promise<CronJobRecord> => (await state.get<CronJobRecord>('cronjobs/stuck'))!.value;
    const first = await until(async () => (await record()).runs[0]?.tasks[0], 'the first task launched');
    // Its agent goes away while the image is still being pulled (nothing of the task has run).
    void agents[0]!.stop();
    const relaunched = await until(async () => {
      const run = (await record()).runs[0];
      return run?.tasks.find((t) => t.taskId === first.taskId)?.finishedAt !== undefined && run;
    }, 'the task to be given up', 20_000);
    expect(relaunched.tasks[0]).toMatchObject({ taskId: first.taskId, attempt: 1, voided: true });
    expect(relaunched.tasks[0]!.state).toMatch(/^TASK_(LOST|GONE)$/);
    expect(relaunched.tasks[0]!.runningAt).toBeUndefined();
    // Not failed: the same attempt waits for an offer (retries 0 — a failed attempt would end the run).
    expect(relaunched).toMatchObject({ state: 'pending', attempts: 1 });
    const [run] = (await cron.get('stuck')).cronjobStatus!.active ?? [];
    expect(run).toMatchObject({ attempts: 1, taskIds: [] });
    expect(run!.phase).not.toBe('JOB_FAILED');
  });
});
