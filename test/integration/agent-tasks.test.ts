// A real agent (process executor) under a real master, driven by a test framework: tasks run,
// fail, are killed with a grace period, time out, are re-sent until acknowledged, and survive a
// master restart.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskStatus__Output } from '../../proto/index.js';
import { launchTask, processAlive, startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { eventually, MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { testServices } from '../support/services.js';
import { taskInfo } from '../support/test-framework.js';
import { holdsFor, pace } from '../support/waits.js';

afterEach(async () => {
  await stopTestAgents();
  await stopHarnesses();
});

function states(updates: TaskStatus__Output[]): string[] {
  return updates.map((u) => u.state);
}

describe('agent: tasks', () => {
  it('runs a command: STARTING, RUNNING, FINISHED with exit 0, in its sandbox with its environment', async () => {
    const h = await MasterHarness.start();
    const agent = await startTestAgent(h.address);
    const fw = await h.framework({ autoAck: true });
    const command = 'echo "id=$AGORA_TASK_ID fw=$AGORA_FRAMEWORK_ID agent=$AGORA_AGENT_ID port=$PORT p0=$PORT0 p1=$PORT1 http=$PORT_HTTP admin=$PORT_ADMIN_UI x=$GREETING"; pwd';
    await launchTask(
      fw,
      taskInfo('ok', 'cpus:0.1;mem:32;ports:[31010-31011]', {
        command: { value: command, environment: { variables: [{ name: 'GREETING', value: 'hello' }] } },
        discovery: { name: 'ok', ports: [{ number: 31010, name: 'http' }, { number: 31011, name: 'admin-ui' }] },
      }),
    );
    const finished = await fw.waitForUpdate('ok', 'TASK_FINISHED', { timeoutMs: 10_000 });
    expect(states(fw.updates('ok'))).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    expect(finished.exitCode).toBe(0);
    expect(finished.agentId).toBe(agent.agentId);
    const sandbox = agent.checkpoint.sandboxDir(fw.frameworkId, 'ok');
    const stdout = await readFile(path.join(sandbox, 'stdout'), 'utf8');
    expect(stdout).toContain(`id=ok fw=${fw.frameworkId} agent=${agent.agentId} port=31010 p0=31010 p1=31011 http=31010 admin=31011 x=hello`);
    expect(stdout.trim().split('\n').at(-1)).toBe(sandbox);
    // The terminal update was acknowledged: the agent forgets the task, keeps the sandbox.
    await eventually(() => agent.tasks.tasks.size === 0 && agent.tasks.completed.length === 1, { what: 'task forgotten' });
  });

  it('reports a failing command as FAILED with its exit code', async () => {
    const h = await MasterHarness.start();
    await startTestAgent(h.address);
    const fw = await h.framework({ autoAck: true });
    await launchTask(fw, taskInfo('bad', 'cpus:0.1;mem:32', { command: { value: 'echo oops >&2; exit 7' } }));
    const failed = await fw.waitForUpdate('bad', 'TASK_FAILED', { timeoutMs: 10_000 });
    expect(failed.exitCode).toBe(7);
    expect(failed.reason).toBe('REASON_COMMAND_EXECUTOR_FAILED');
    expect(states(fw.updates('bad'))).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
  });

  it('kills with SIGTERM and the grace period, reporting KILLING to frameworks that ask for it', async () => {
    const h = await MasterHarness.start();
    const agent = await startTestAgent(h.address);
    const fw = await h.framework({ autoAck: true, capabilities: ['TASK_KILLING_STATE'] });
    // One task leaves politely on SIGTERM; the other ignores it and is SIGKILLed after its grace.
    await launchTask(
      fw,
      taskInfo('polite', 'cpus:0.1;mem:32', { command: { value: 'trap "echo bye; exit 0" TERM; echo ready; while true; do sleep 0.05; done' } }),
      taskInfo('stubborn', 'cpus:0.1;mem:32', { command: { value: 'trap "" TERM; echo ready; while true; do sleep 0.05; done' }, killPolicy: { gracePeriodSeconds: 0.6 } }),
    );
    await fw.waitForUpdate('polite', 'TASK_RUNNING', { timeoutMs: 10_000 });
    await fw.waitForUpdate('stubborn', 'TASK_RUNNING', { timeoutMs: 10_000 });
    // RUNNING means started, not that the shell has set its trap yet: wait until each says so.
    for (const id of ['polite', 'stubborn']) {
      await eventually(async () => {
        const out = await readFile(path.join(agent.checkpoint.sandboxDir(fw.frameworkId, id), 'stdout'), 'utf8').catch(() => '');
        if (!out.includes('ready')) throw new Error(`${id} not ready`);
      }, { timeoutMs: 10_000, what: `${id} trapped SIGTERM` });
    }
    const started = Date.now();
    await fw.kill('polite');
    await fw.kill('stubborn');
    const polite = await fw.waitForUpdate('polite', 'TASK_KILLED', { timeoutMs: 10_000 });
    const stubborn = await fw.waitForUpdate('stubborn', 'TASK_KILLED', { timeoutMs: 10_000 });
    const stubbornMs = Date.now() - started;
    expect(states(fw.updates('polite'))).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
    expect(polite.reason).toBe('REASON_KILLED_BY_FRAMEWORK');
    expect(stubborn.termSignal).toBe(9);
    expect(stubbornMs).toBeGreaterThanOrEqual(550);
    expect(await readFile(path.join(agent.checkpoint.sandboxDir(fw.frameworkId, 'polite'), 'stdout'), 'utf8')).toContain('bye');
  });

  it('reports health changes on RUNNING updates and kills a task that keeps failing its health check', async () => {
    const h = await MasterHarness.start();
    await startTestAgent(h.address);
    const fw = await h.framework({ autoAck: true });
    await launchTask(
      fw,
      taskInfo('sickly', 'cpus:0.1;mem:32', {
        command: { value: 'touch healthy; sleep 1.5; rm healthy; sleep 30' },
        healthCheck: { type: 'COMMAND', command: { value: 'test -f healthy' }, delaySeconds: 0.1, intervalSeconds: 0.15, timeoutSeconds: 2, consecutiveFailures: 3, gracePeriodSeconds: 1 },
        killPolicy: { gracePeriodSeconds: 0.2 },
      }),
    );
    const killed = await fw.waitForUpdate('sickly', 'TASK_KILLED', { timeoutMs: 10_000 });
    expect(killed.reason).toBe('REASON_HEALTH_CHECK_FAILED');
    expect(killed.message).toBe('health check failed');
    const seen = fw.updates('sickly').map((u) => `${u.state}${u.healthy === undefined || u.healthy === null ? '' : u.healthy ? '+' : '-'}`);
    expect(seen).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_RUNNING+', 'TASK_RUNNING-', 'TASK_KILLED']);
  });

  it('runs a task with a container image in Docker, whatever the default executor', async () => {
    const { dockerSocket, busyboxImage } = testServices();
    const h = await MasterHarness.start();
    const agent = await startTestAgent(h.address, { dockerSocket, executor: 'process' });
    const fw = await h.framework({ autoAck: true });
    await launchTask(
      fw,
      taskInfo('boxed', 'cpus:0.1;mem:64', {
        command: { value: 'echo "in docker $AGORA_TASK_ID at $AGORA_SANDBOX"; exit 4' },
        container: { type: 'CONTAINER_DOCKER', docker: { image: busyboxImage, network: 'NETWORK_NONE' } },
      }),
    );
    const failed = await fw.waitForUpdate('boxed', 'TASK_FAILED', { timeoutMs: 30_000 });
    expect(failed.exitCode).toBe(4);
    expect(states(fw.updates('boxed'))).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
    const stdout = await readFile(path.join(agent.checkpoint.sandboxDir(fw.frameworkId, 'boxed'), 'stdout'), 'utf8');
    expect(stdout).toBe('in docker boxed at /mnt/agora/sandbox\n');
  });

  it('fails a task that outlives its max completion time', async () => {
    const h = await MasterHarness.start();
    await startTestAgent(h.address);
    const fw = await h.framework({ autoAck: true });
    await launchTask(fw, taskInfo('slow', 'cpus:0.1;mem:32', { command: { value: 'sleep 30' }, maxCompletionTimeSeconds: 0.5, killPolicy: { gracePeriodSeconds: 0.2 } }));
    const failed = await fw.waitForUpdate('slow', 'TASK_FAILED', { timeoutMs: 10_000 });
    expect(failed.reason).toBe('REASON_MAX_COMPLETION_TIME_REACHED');
  });

  it('resends an unacknowledged update with the same uuid until it is acknowledged, and only then sends the next', async () => {
    const h = await MasterHarness.start();
    const agent = await startTestAgent(h.address, { statusUpdateRetry: '300ms', statusUpdateRetryMax: '300ms' });
    const fw = await h.framework({ autoAck: false });
    await launchTask(fw, taskInfo('quiet', 'cpus:0.1;mem:32', { command: { value: 'true' } }));
    const starting = await fw.waitForUpdate('quiet', 'TASK_STARTING', { timeoutMs: 10_000 });
    await eventually(() => fw.updates('quiet').filter((u) => u.uuid === starting.uuid).length >= 3, { timeoutMs: 5000, what: 'STARTING resent' });
    // Nothing after STARTING is sent while STARTING is unacknowledged (though the task has ended).
    expect(new Set(states(fw.updates('quiet')))).toEqual(new Set(['TASK_STARTING']));
    await eventually(() => agent.updates.pendingCount() === 3, { what: 'STARTING, RUNNING and FINISHED queued' });
    expect(new Set(states(fw.updates('quiet')))).toEqual(new Set(['TASK_STARTING']));
    await fw.acknowledge(starting);
    const running = await fw.waitForUpdate('quiet', 'TASK_RUNNING', { timeoutMs: 5000 });
    await fw.acknowledge(running);
    const finished = await fw.waitForUpdate('quiet', 'TASK_FINISHED', { timeoutMs: 5000 });
    await fw.acknowledge(finished);
    await eventually(() => agent.updates.pendingCount() === 0, { what: 'all acknowledged' });
    // A resend already on its way when the ack landed may still arrive; after that, silence.
    await pace(200, 'a resend already on its way lands');
    const since = fw.events.mark();
    await holdsFor(800, () => expect(fw.updates('quiet', since)).toEqual([]), 'no resend after every update was acknowledged');
    expect(new Set(fw.updates('quiet').map((u) => u.uuid))).toEqual(new Set([starting.uuid, running.uuid, finished.uuid]));
  });

  it('kills the tasks of a framework that is torn down', async () => {
    const h = await MasterHarness.start();
    const agent = await startTestAgent(h.address);
    const fw = await h.framework({ autoAck: true });
    await launchTask(fw, taskInfo('doomed', 'cpus:0.1;mem:32', { command: { value: 'sleep 30' }, killPolicy: { gracePeriodSeconds: 0.2 } }));
    await fw.waitForUpdate('doomed', 'TASK_RUNNING', { timeoutMs: 10_000 });
    const pid = agent.tasks.task(fw.frameworkId, 'doomed')?.container?.checkpoint['pid'] as number;
    expect(await processAlive(pid)).toBe(true);
    await fw.teardown();
    await eventually(async () => !(await processAlive(pid)), { timeoutMs: 5000, what: 'task process gone' });
    await eventually(() => agent.tasks.tasks.size === 0, { timeoutMs: 5000, what: 'task forgotten (the master acknowledges for a removed framework)' });
  });

  it('re-registers with the same id and its tasks after the master restarts', async () => {
    const h = await MasterHarness.start({ store: 'file' });
    const agent = await startTestAgent(h.address);
    const fw = await h.framework({ autoAck: true, failoverTimeoutSeconds: 60 });
    await launchTask(fw, taskInfo('long', 'cpus:0.5;mem:64', { command: { value: 'sleep 30' }, killPolicy: { gracePeriodSeconds: 0.2 } }));
    await fw.waitForUpdate('long', 'TASK_RUNNING', { timeoutMs: 10_000 });
    const agentId = agent.agentId;
    const oldGrpc = h.address;
    await h.restart({ grpcPort: oldGrpc.split(':')[1] });
    expect(h.address).toBe(oldGrpc);
    // Both sides: the master has the agent back, and the agent has read the master's answer.
    await eventually(() => h.state.agent(agentId ?? '')?.state === 'connected' && agent.master === oldGrpc, { timeoutMs: 10_000, what: 'agent re-registered' });
    expect(agent.agentId).toBe(agentId);
    expect(h.state.task(fw.frameworkId, 'long')?.state).toBe('TASK_RUNNING');
    expect(h.state.agent(agentId ?? '')?.reregisteredAtMs).toBeDefined();
    expect(agent.master).toBe(oldGrpc);
  });
});
