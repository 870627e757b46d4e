// Deployments with real tasks: a rolling update keeps every instance serving, a version whose health
// check fails is rolled back automatically, canaries wait for promote or abort.
import { afterEach, describe, expect, it } from 'vitest';
import type { WatchEvent } from '../../proto/index.js';
import type { ServicesHandle } from '../../frameworks/services/index.js';
import { get, portOf, startCluster, stopClusters, until, webSpec } from './services-harness.js';
import { pace } from '../support/waits.js';

afterEach(stopClusters);

async function phaseOf(services: ServicesHandle, name = 'web'): Promise<string> {
  return String((await services.get(name)).serviceStatus?.deployments?.[0]?.phase);
}

async function endpointsAt(services: ServicesHandle, version: string, n: number): Promise<void> {
  await until(async () => {
    const status = (await services.get('web')).serviceStatus!;
    const mine = new Set(status.tasks!.filter((t) => t.version === version).map((t) => t.taskId));
    return status.endpoints!.length === n && status.endpoints!.every((e) => mine.has(e.taskId)) && status.tasks!.length === n;
  }, `${n} endpoints of version ${version} only`);
}

/**
 * Sample until `done`: each sample, how many of the service's tasks (any version, any state) answer
 * over HTTP — what clients see, rather than the framework's own list, which a kill may have just
 * changed between reading it and probing it.
 */
async function sampleWhile(services: ServicesHandle, done: () => Promise<boolean>, timeoutMs = 30_000): Promise<number[]> {
  const samples: number[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) {
      const status = (await services.get('web')).serviceStatus;
      throw new Error(`the deployment did not finish in ${timeoutMs} ms: ${JSON.stringify({ deployments: status?.deployments, tasks: status?.tasks, pending: status?.pendingReason, backoffUntilMs: status?.backoffUntilMs })}`);
    }
    const tasks = (await services.get('web')).serviceStatus?.tasks ?? [];
    const answers = await Promise.all(tasks.map((t) => get(Number(t.ports?.[0]?.number ?? 0)).then((r) => r.status === 200, () => false)));
    samples.push(answers.filter(Boolean).length);
    await pace(30, 'the sampling interval');
  }
  return samples;
}

describe('services: deployments', () => {
  it('rolls out a new version without ever dropping below 3 serving instances', async () => {
    const c = await startCluster();
    const events: WatchEvent[] = [];
    c.services.watch((e) => events.push(e));
    await c.services.apply(webSpec());
    await endpointsAt(c.services, 'v1', 3);
    // One extra instance at a time, so the update takes several steps to sample through.
    const out = await c.services.apply(webSpec({ env: { COLOUR: 'blue' }, upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 0.34 } }));
    expect(out).toMatchObject({ result: 'UPDATED', version: 'v2' });
    const samples = await sampleWhile(c.services, async () => (await phaseOf(c.services)) === 'DEPLOYMENT_SUCCEEDED');
    expect(samples.length).toBeGreaterThanOrEqual(3);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(3);
    await endpointsAt(c.services, 'v2', 3);
    for (const e of await c.services.endpoints('web')) expect((await get(portOf(e))).body).toBe('ok v2\n');
    const types = new Set(events.map((e) => e.type));
    expect([...types].sort()).toEqual(['ADDED', 'DEPLOYMENT_PROGRESS', 'ENDPOINTS', 'MODIFIED']);
    const progress = events.filter((e) => e.type === 'DEPLOYMENT_PROGRESS' && e.deployment?.version === 'v2');
    expect(progress.at(-1)?.deployment).toMatchObject({ phase: 'DEPLOYMENT_SUCCEEDED', progress: 1, fromVersion: 'v1' });
    expect(progress.some((e) => (e.deployment?.progress as number) > 0 && (e.deployment?.progress as number) < 1)).toBe(true);

    const ports = (await c.services.endpoints('web')).map(portOf);
    await c.services.delete('web');
    expect(events.at(-1)).toMatchObject({ type: 'DELETED', name: 'web', kind: 'SERVICE' });
    await expect(c.services.get('web')).rejects.toMatchObject({ code: 'AGORA_NOT_FOUND' });
    await until(async () => (await Promise.all(ports.map((p) => get(p).then(() => true, () => false)))).every((up) => !up), 'the deleted service to stop serving');
  });

  it('fails a version whose health check fails and returns to the old version', async () => {
    const c = await startCluster();
    await c.services.apply(webSpec());
    await endpointsAt(c.services, 'v1', 3);
    const broken = webSpec({ healthCheck: { http: { port: 'http', path: '/missing' }, delaySeconds: 0, intervalSeconds: 0.1, gracePeriodSeconds: 0.2, consecutiveFailures: 2 } });
    const out = await c.services.apply(broken);
    const samples = await sampleWhile(c.services, async () => (await c.services.get('web')).serviceStatus?.deployments?.some((d) => d.id === out.deploymentId && d.phase === 'DEPLOYMENT_FAILED') ?? false);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(3);
    const w = await c.services.get('web');
    expect(w.version).toBe('v1');
    expect(w.serviceStatus?.deployments?.find((d) => d.id === out.deploymentId)?.message).toMatch(/returns to version v1/);
    await endpointsAt(c.services, 'v1', 3);
    expect(w.serviceStatus?.versions?.map((v) => v.version)).toEqual(['v1', 'v2']);
  }, 60_000);

  it('pauses after the canary; promote finishes, abort returns to the old version; rollback', async () => {
    const c = await startCluster();
    await c.services.apply(webSpec());
    await endpointsAt(c.services, 'v1', 3);
    await c.services.apply(webSpec({ canary: { instances: 1 }, env: { V: '2' } }));
    await until(async () => (await phaseOf(c.services)) === 'DEPLOYMENT_PAUSED', 'the canary deployment to pause');
    const paused = (await c.services.get('web')).serviceStatus!;
    expect(paused.endpoints).toHaveLength(4);
    expect(paused.tasks!.filter((t) => t.canary).map((t) => t.version)).toEqual(['v2']);
    expect(paused.deployments![0]!.steps![1]).toMatchObject({ action: 'canary', done: false });
    const promoted = await c.services.promote('web');
    expect(promoted.phase).toBe('DEPLOYMENT_IN_PROGRESS');
    await until(async () => (await phaseOf(c.services)) === 'DEPLOYMENT_SUCCEEDED', 'the promoted deployment to finish');
    await endpointsAt(c.services, 'v2', 3);

    await c.services.apply(webSpec({ canary: { instances: 1 }, env: { V: '3' } }));
    await until(async () => (await phaseOf(c.services)) === 'DEPLOYMENT_PAUSED', 'the second canary to pause');
    const aborted = await c.services.abort('web');
    expect(aborted).toMatchObject({ phase: 'DEPLOYMENT_ABORTED', version: 'v3', fromVersion: 'v2' });
    expect((await c.services.get('web')).version).toBe('v2');
    await endpointsAt(c.services, 'v2', 3);
    await expect(c.services.promote('web')).rejects.toMatchObject({ code: 'AGORA_FAILED_PRECONDITION' });

    const back = await c.services.rollback('web', 'v1');
    expect(back).toMatchObject({ version: 'v4', fromVersion: 'v2' });
    await endpointsAt(c.services, 'v4', 3);
    for (const e of await c.services.endpoints('web')) expect((await get(portOf(e))).body).toBe('ok v4\n');
    expect((await c.services.get('web')).service?.env).toEqual({});
  }, 60_000);
});
