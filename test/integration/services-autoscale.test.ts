// Autoscaling a service on measured usage: a real master and agent (process executor, cgroups v1,
// --usage-interval 200ms), the services framework reading the agent's /api/v1/containers with its
// own token and the cluster CA (frameworks/task-usage.ts). Tasks of cpus 0.2 that burn CPU for a
// few seconds (held at 0.2 cores by their quota: utilisation 1.0 of the allocation) then go idle:
// the service scales out to its max 3, then back in to its min 1 once the burn is over and the
// short down-stabilisation window has passed; each decision is recorded with its reason.
import { afterAll, describe, expect, it } from 'vitest';
import { servicesModule } from '../../frameworks/host-modules.js';
import type { Workload } from '../../proto/index.js';
import { startJobsHost, stopJobsHosts } from '../support/jobs-host.js';
import { describeService } from '../../cli/commands/describe.js';
import { httpAuth } from '../../frameworks/api/http-client.js';
import { startServices, SERVICES_FRAMEWORK_NAME, type ServicesHandle } from '../../frameworks/services/index.js';
import { taskUsageReader } from '../../frameworks/task-usage.js';
import { silentLogger } from '../../core/logger.js';
import { FAST_DRIVER, startClusterBase, started, stopFrameworkClusters, until } from '../support/framework-cluster.js';
import { frameworksAccess, secureFetch } from '../support/security.js';

afterAll(async () => {
  await stopJobsHosts();
  await stopFrameworkClusters();
});

const BURN_THEN_IDLE = `end=$(( $(date +%s) + 6 )); while [ $(date +%s) -lt $end ]; do :; done; exec sleep 600`;

describe('services: autoscaling', () => {
  it('scales out to max while the tasks burn CPU, back in to min after, recording each decision', async () => {
    const { master, state } = await startClusterBase(SERVICES_FRAMEWORK_NAME, { agents: [{ usageInterval: '200ms' }] });
    const access = frameworksAccess();
    const measureUsage = taskUsageReader({
      masterHttp: () => master.master.httpAddress,
      http: httpAuth(access.credentials.token, { ca: access.credentials.ca }),
      scheme: 'https',
      logger: silentLogger(),
    });
    const services: ServicesHandle = await started(
      startServices({ master: master.address, state, access, tickMs: 100, driver: FAST_DRIVER, waitSubscribedMs: 10_000, autoscaleIntervalMs: 300, measureUsage }),
    );
    await services.apply({
      name: 'burner',
      instances: 1,
      command: BURN_THEN_IDLE,
      resources: { cpus: 0.2, mem: 32 },
      killGracePeriodSeconds: 0.5,
      autoscale: { min: 1, max: 3, targetCpuUtilization: 0.5, scaleDownStabilizationSeconds: 2 },
    });

    const out = await until(async () => {
      const w = await services.get('burner');
      return w.serviceStatus?.instances === 3 && w.serviceStatus.running === 3 ? w : undefined;
    }, 'the service scaled out to 3 running', 30_000);
    const ups = out.serviceStatus?.autoscaleDecisions ?? [];
    expect(ups.length).toBeGreaterThan(0);
    expect(ups.every((d) => Number(d.to) > Number(d.from))).toBe(true);
    expect(ups.at(-1)?.to).toBe(3);
    expect(ups[0]?.reason).toMatch(/^cpu \d\.\d\d of 0\.50 target over \d tasks? → \d+/);
    expect(ups.at(-1)?.reason).toMatch(/→ 3$|→ \d+; clamped to max 3$/);

    const back = await until(async () => {
      const w = await services.get('burner');
      return w.serviceStatus?.instances === 1 && w.serviceStatus.running === 1 ? w : undefined;
    }, 'the service scaled back in to 1 after the burn', 40_000);
    const decisions = back.serviceStatus?.autoscaleDecisions ?? [];
    const last = decisions.at(-1);
    expect(Number(last?.to)).toBe(1);
    expect(Number(last?.from)).toBeGreaterThan(1);
    expect(last?.reason).toMatch(/^cpu 0\.\d\d of 0\.50 target over \d tasks → \d+(; clamped to min 1)?/);
    expect(Number(last?.atMs)).toBeGreaterThan(Number(ups.at(-1)?.atMs));
    expect(back.service?.autoscale).toMatchObject({ min: 1, max: 3, targetCpuUtilization: 0.5, scaleDownStabilizationSeconds: 2 });
    // `agora describe service` prints the bounds and the decisions, newest first.
    const text = describeService(back);
    expect(text).toMatch(/Autoscale:\s+1\.\.3 instances, target cpu 0\.5 of the allocation; stabilisation down 2s, up 0s/);
    const section = text.slice(text.indexOf('Autoscaling:'));
    expect(section.split('\n')[2]).toContain(last?.reason ?? '?');
  }, 90_000);

  it('runs in the frameworks host (agora frameworks --autoscale-interval), reading the agents with the host’s token and CA', async () => {
    const { master } = await startClusterBase(SERVICES_FRAMEWORK_NAME, { agents: [{ usageInterval: '200ms' }] });
    const host = await startJobsHost({ master: master.address, masterHttp: master.master.httpAddress, modules: [servicesModule], flags: { autoscaleInterval: '300ms' } });
    const api = `https://${host.httpAddress}/api/v1/services`;
    const spec = { name: 'hot', instances: 1, command: BURN_THEN_IDLE.replace('+ 6', '+ 30'), resources: { cpus: 0.2, mem: 32 }, killGracePeriodSeconds: 0.5, autoscale: { min: 1, max: 2, targetCpuUtilization: 0.5 } };
    const created = await secureFetch(api, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spec) });
    expect(created.status).toBe(201);
    const w = await until(async () => {
      const got = (await (await secureFetch(`${api}/hot`)).json()) as Workload;
      return got.serviceStatus?.instances === 2 ? got : undefined;
    }, 'the host scaled the service out to 2', 30_000);
    expect(w.serviceStatus?.autoscaleDecisions?.[0]).toMatchObject({ from: 1, to: 2 });
    expect(w.serviceStatus?.autoscaleDecisions?.[0]?.reason).toMatch(/^cpu \d\.\d\d of 0\.50 target over 1 task → \d+(; clamped to max 2)?$/);
  }, 60_000);
});
