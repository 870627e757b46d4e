// The services framework with a real master, a real agent and real processes: a service comes up
// with healthy endpoints, a killed task is replaced, scaling up and down, bad specs change nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../support/master-harness.js';
import { get, portOf, sleepSpec, startCluster, stopClusters, until, webSpec } from './services-harness.js';

afterEach(stopClusters);

describe('services: basics', () => {
  it('runs 3 instances with healthy endpoints that answer, and replaces one whose process is killed', async () => {
    const c = await startCluster();
    const out = await c.services.apply(webSpec());
    expect(out).toMatchObject({ kind: 'SERVICE', name: 'web', version: 'v1', result: 'CREATED' });
    const endpoints = await until(async () => {
      const e = await c.services.endpoints('web');
      return e.length === 3 && e;
    }, '3 endpoints');
    for (const e of endpoints) expect((await get(portOf(e))).body).toBe('ok v1\n');
    const status = await until(async () => {
      const s = (await c.services.get('web')).serviceStatus!;
      return s.deployments?.[0]?.phase === 'DEPLOYMENT_SUCCEEDED' && s;
    }, 'the deployment to succeed');
    expect(status).toMatchObject({ instances: 3, running: 3, healthy: 3, ready: 3, version: 'v1', pendingReason: '' });
    expect(status.deployments?.[0]).toMatchObject({ progress: 1, steps: [{ action: 'start', done: true }, { action: 'wait-healthy', done: true }] });

    const victim = endpoints[0]!.taskId!;
    const frameworkId = (await c.state.get<{ id: string }>('framework'))!.value.id;
    const pgid = c.agents[0]!.tasks.task(frameworkId, victim)?.container?.checkpoint['pgid'] as number;
    process.kill(-pgid, 'SIGKILL');
    await eventually(async () => {
      const e = await c.services.endpoints('web');
      return e.length === 3 && !e.some((x) => x.taskId === victim);
    }, { timeoutMs: 15_000, what: 'the killed task replaced' });
    expect((await c.services.get('web')).serviceStatus?.tasks?.map((t) => t.taskId)).not.toContain(victim);
  });

  it('scales 3 → 6 → 1, keeping the oldest', async () => {
    const c = await startCluster();
    await c.services.apply(sleepSpec());
    const running = async (n: number) =>
      until(async () => {
        const s = (await c.services.get('sleepy')).serviceStatus!;
        return s.running === n && s.tasks!.length === n && s;
      }, `${n} running`);
    const first = await running(3);
    const oldest = String(first.tasks![0]!.taskId);
    const up = await c.services.scale('sleepy', 6);
    expect(up).toMatchObject({ version: 'v1', fromVersion: 'v1' });
    await running(6);
    await c.services.scale('sleepy', 1);
    const last = await running(1);
    expect(last.tasks![0]!.taskId).toBe(oldest);
    await c.services.scale('sleepy', 2);
    await running(2);
    const killed = await c.services.killTasks('sleepy', [oldest], true);
    expect(killed).toMatchObject({ version: 'v1' });
    const after = await running(1);
    expect(after).toMatchObject({ instances: 1 });
    expect(after.tasks![0]!.taskId).not.toBe(oldest);
    expect((await c.services.get('sleepy')).serviceStatus?.versions?.map((v) => v.version)).toEqual(['v1']);
  });

  it('refuses invalid specs with the field at fault, and changes nothing', async () => {
    const c = await startCluster();
    await c.services.apply(sleepSpec({ instances: 1 }));
    const before = JSON.stringify(await c.services.list());
    const cases: [Record<string, unknown>, string][] = [
      [sleepSpec({ resources: { cpus: 0, mem: 16 } }), 'resources.cpus'],
      [sleepSpec({ ports: [{ name: 'http' }, { name: 'bad name' }] }), 'ports[1].name'],
      [sleepSpec({ healthCheck: { http: { port: 'nope' } }, ports: [{ name: 'http' }] }), 'healthCheck.http.port'],
      [sleepSpec({ name: 'Not_A_Label' }), 'name'],
      [sleepSpec({ instance: 2 }), 'instance'],
      [sleepSpec({ constraints: [['hostname', 'SOMETIMES']] }), 'constraints[0].operator'],
      [sleepSpec({ upgradeStrategy: { minimumHealthCapacity: 1.5 } }), 'upgradeStrategy.minimumHealthCapacity'],
    ];
    for (const [spec, field] of cases) {
      await expect(c.services.apply(spec)).rejects.toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field });
    }
    expect(JSON.stringify(await c.services.list())).toBe(before);
    const dry = await c.services.apply(sleepSpec({ instances: 1, env: { X: '1' } }), { dryRun: true });
    expect(dry).toMatchObject({ result: 'UPDATED', version: 'v2' });
    expect((await c.services.get('sleepy')).version).toBe('v1');
    await expect(c.services.get('nope')).rejects.toMatchObject({ code: 'AGORA_NOT_FOUND' });
    await expect(c.services.scale('sleepy', -1)).rejects.toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'instances' });
  });
});
