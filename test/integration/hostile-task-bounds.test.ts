// Ids, names and durations at their edges, against a real master and a real agent (in-process,
// process executor, real sandboxes on disk). Before: a 200-character task id with ':' passed
// validation, the agent failed to make its sandbox (ENAMETOOLONG) and the task stayed STAGING
// holding its resources; killGracePeriodSeconds 2592000 became SIGKILL after 4 ms and
// maxCompletionTimeSeconds 1e308 failed the task at once (Node timers overflow past 24.8 days);
// negative values were accepted. Now the master refuses them (TASK_ERROR or INVALID_ARGUMENT,
// naming the field) and what it accepts runs as asked.
import { afterEach, describe, expect, it } from 'vitest';
import { idPathComponent } from '../../core/ids.js';
import { isTerminal } from '../../core/task-state.js';
import { launchTask, startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { MasterHarness, rejection, stopHarnesses } from '../support/master-harness.js';
import { taskInfo, type TestFramework } from '../support/test-framework.js';
import { holdsFor } from '../support/waits.js';

afterEach(async () => {
  await stopTestAgents();
  await stopHarnesses();
});

async function cluster(): Promise<{ h: MasterHarness; fw: TestFramework }> {
  const h = await MasterHarness.start();
  await startTestAgent(h.address);
  const fw = await h.framework({ autoAck: true });
  return { h, fw };
}

/** A 200-character id with a ':' every other character: 399 bytes as a directory name. */
const LONG_COLON_ID = `t${':a'.repeat(99)}b`;

describe('ids that must fit a directory name on the agent', () => {
  it('refuses a 200-character id whose sandbox name is too long, and frees its resources', async () => {
    const { h, fw } = await cluster();
    expect(LONG_COLON_ID).toHaveLength(200);
    expect(Buffer.byteLength(idPathComponent(LONG_COLON_ID))).toBeGreaterThan(255);
    await launchTask(fw, taskInfo(LONG_COLON_ID, 'cpus:1;mem:64'));
    const status = await fw.waitForUpdate(LONG_COLON_ID, 'TASK_ERROR');
    expect(status.reason).toBe('REASON_TASK_INVALID');
    expect(status.message).toContain('operations[0].launch.taskInfos[0].taskId');
    expect(status.message).toContain('at most 255');
    expect(h.state.task(fw.frameworkId, LONG_COLON_ID)).toBeUndefined();
    h.invariant();
  });

  it('runs ids at the bound: 200 plain characters, and a colon id of exactly 255 bytes encoded', async () => {
    const { h, fw } = await cluster();
    const plain = `p${'x'.repeat(199)}`;
    // '%' + 'c' + 84 × '%3a' + 2 = 1 + 1 + 252 + 1 = 255 bytes
    const colons = `c${':'.repeat(84)}z`;
    expect(Buffer.byteLength(idPathComponent(colons))).toBe(255);
    for (const id of [plain, colons]) {
      await launchTask(fw, taskInfo(id, 'cpus:0.1;mem:16', { command: { value: 'exit 0' } }));
      const done = await fw.waitForUpdate(id, 'TASK_FINISHED', { timeoutMs: 15_000 });
      expect(done.state).toBe('TASK_FINISHED');
    }
    h.invariant();
  });

  it('refuses a framework id that could not name a directory, at subscription', async () => {
    const h = await MasterHarness.start();
    const err = await rejection(h.framework({ id: LONG_COLON_ID }));
    expect(err).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'frameworkInfo.id' });
    expect(h.state.frameworkCount()).toBe(0);
  });
});

describe('durations at their edges', () => {
  const refused: Array<[string, Record<string, unknown>, string]> = [
    ['a 30-day kill grace', { killPolicy: { gracePeriodSeconds: 2_592_000 } }, 'killPolicy.gracePeriodSeconds'],
    ['a negative kill grace', { killPolicy: { gracePeriodSeconds: -1 } }, 'killPolicy.gracePeriodSeconds'],
    ['a max completion time of 1e308 s', { maxCompletionTimeSeconds: 1e308 }, 'maxCompletionTimeSeconds'],
    ['a negative max completion time', { maxCompletionTimeSeconds: -5 }, 'maxCompletionTimeSeconds'],
    ['an infinite max completion time', { maxCompletionTimeSeconds: Number.POSITIVE_INFINITY }, 'maxCompletionTimeSeconds'],
    ['a health check every 0 s', { healthCheck: { type: 'TCP', tcp: { port: 1 }, intervalSeconds: 0 } }, 'healthCheck.intervalSeconds'],
    ['a health check timeout of NaN', { healthCheck: { type: 'TCP', tcp: { port: 1 }, timeoutSeconds: Number.NaN } }, 'healthCheck.timeoutSeconds'],
    ['a readiness delay of 2 days', { readinessCheck: { type: 'TCP', tcp: { port: 1 }, delaySeconds: 172_800 } }, 'readinessCheck.delaySeconds'],
  ];
  it.each(refused)('refuses %s with TASK_ERROR naming the field, before the agent sees it', async (_what, extra, field) => {
    const { h, fw } = await cluster();
    await launchTask(fw, taskInfo('t1', 'cpus:1;mem:64', extra));
    const status = await fw.waitForUpdate('t1', 'TASK_ERROR');
    expect(status.source).toBe('SOURCE_MASTER');
    expect(status.message).toContain(`taskInfos[0].${field}`);
    expect(h.state.task(fw.frameworkId, 't1')).toBeUndefined();
    h.invariant();
  });

  it('a max completion time past 24.8 days does not end the task early', async () => {
    const { fw } = await cluster();
    await launchTask(fw, taskInfo('long', 'cpus:0.1;mem:16', { maxCompletionTimeSeconds: 30 * 24 * 3600 }));
    await fw.waitForUpdate('long', 'TASK_RUNNING', { timeoutMs: 15_000 });
    // An overflowed Node timer would fire after 1 ms.
    await holdsFor(500, () => expect(fw.updates('long').filter((u) => isTerminal(u.state as never))).toEqual([]), 'the task is not ended early');
  });

  it('a task with the longest kill grace (1 day) runs, and a kill with 30 days of grace is refused', async () => {
    const { fw } = await cluster();
    await launchTask(fw, taskInfo('graceful', 'cpus:0.1;mem:16', { killPolicy: { gracePeriodSeconds: 86_400 } }));
    await fw.waitForUpdate('graceful', 'TASK_RUNNING', { timeoutMs: 15_000 });
    const err = await rejection(fw.kill('graceful', '', { killPolicy: { gracePeriodSeconds: 2_592_000 } }));
    expect(err).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'killPolicy.gracePeriodSeconds' });
    await holdsFor(300, () => expect(fw.updates('graceful').map((u) => u.state)).not.toContain('TASK_KILLED'), 'the refused kill kills nothing');
    // A kill within the bound still works.
    await fw.kill('graceful', '', { killPolicy: { gracePeriodSeconds: 1 } });
    await fw.waitForUpdate('graceful', 'TASK_KILLED', { timeoutMs: 15_000 });
  });

  it.each([
    ['a failover timeout of 10 years', { failoverTimeoutSeconds: 315_360_000 }],
    ['a negative failover timeout', { failoverTimeoutSeconds: -1 }],
    ['a NaN failover timeout', { failoverTimeoutSeconds: Number.NaN }],
  ])('refuses %s at subscription', async (_what, options) => {
    const h = await MasterHarness.start();
    const err = await rejection(h.framework(options));
    expect(err).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'frameworkInfo.failoverTimeoutSeconds' });
    expect(h.state.frameworkCount()).toBe(0);
  });
});
