// A Job's task template is the one every kind has (frameworks/common/task-template.ts): the fields
// batch used to refuse — command together with container.image, ports, healthCheck — now run on a
// real agent as they do for a Service or a CronJob.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testServices } from '../support/services.js';
import { finished, jobSpec, ran, startBatchCluster, stopBatchClusters } from './batch-harness.js';

afterEach(stopBatchClusters);

const WITH_PORTS = 'cpus:4;mem:4096;disk:4096;ports:[31000-31099]';

describe('batch: the shared task template on a real agent', () => {
  it('runs command + container.image: the command runs with sh -c inside the image', async () => {
    const { dockerSocket, busyboxImage } = testServices();
    const c = await startBatchCluster({ agents: [{ dockerSocket }] });
    const command = 'echo "$AGORA_JOB in $AGORA_SANDBOX"; test "$AGORA_SANDBOX" = /mnt/agora/sandbox';
    const out = await c.batch.apply(jobSpec('boxed', command, { task: { container: { image: busyboxImage, network: 'none' }, resources: { cpus: 0.1, mem: 64 } } }));
    expect(out.result).toBe('CREATED');
    const status = await finished(c, 'boxed', 60_000);
    expect(status).toMatchObject({ phase: 'JOB_SUCCEEDED', succeeded: 1, failed: 0 });
    const [task] = ran(await c.record('boxed'));
    const sandbox = c.agents[0]!.checkpoint.sandboxDir(await c.frameworkId(), task!.taskId);
    expect(await readFile(path.join(sandbox, 'stdout'), 'utf8')).toBe('boxed in /mnt/agora/sandbox\n');
  });

  it('gives a task its named port ($PORT0, $PORT_HTTP) from the offer', async () => {
    const c = await startBatchCluster({ agents: [{ resources: WITH_PORTS }] });
    const command = 'echo "$PORT0 $PORT_HTTP"; test -n "$PORT0" && test "$PORT0" = "$PORT_HTTP"';
    await c.batch.apply(jobSpec('ported', command, { task: { ports: [{ name: 'http' }] } }));
    expect(await finished(c, 'ported')).toMatchObject({ phase: 'JOB_SUCCEEDED', succeeded: 1 });
    const [task] = ran(await c.record('ported'));
    const stdout = await readFile(path.join(c.agents[0]!.checkpoint.sandboxDir(await c.frameworkId(), task!.taskId), 'stdout'), 'utf8');
    const [p0, named] = stdout.trim().split(' ').map(Number);
    expect(p0).toBeGreaterThanOrEqual(31000);
    expect(p0).toBeLessThanOrEqual(31099);
    expect(named).toBe(p0);
  });

  it('kills a task that fails its health check, and that is a failed attempt', async () => {
    const c = await startBatchCluster();
    const healthCheck = { command: 'exit 1', delaySeconds: 0, intervalSeconds: 0.2, timeoutSeconds: 1, consecutiveFailures: 1, gracePeriodSeconds: 0 };
    await c.batch.apply(jobSpec('sickly', 'sleep 30', { backoffLimit: 0, task: { healthCheck } }));
    const status = await finished(c, 'sickly');
    expect(status).toMatchObject({ phase: 'JOB_FAILED', succeeded: 0, failed: 1 });
    const [task] = ran(await c.record('sickly'));
    expect(task?.state).toBe('TASK_KILLED');
  });
});
