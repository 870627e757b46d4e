// What an operator scrapes from the frameworks host (`agora frameworks`): a real host with the
// real services, cron and batch frameworks against a real master and agent, real tasks. Workload
// figures follow a service through a deployment and a crash, cron jobs through runs that succeed
// and fail, a job to its completions; the Jobs API counts and times its requests, refusals
// included; promtool finds nothing to say; /metrics is refused without credentials, as the
// master's is, unless --open-metrics; a standby serves no workload figures.
import { chmod, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FrameworksHost } from '../../frameworks/host.js';
import { issueToken } from '../support/acl.js';
import { startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { call, jobsClient, startJobsHost, stopJobsHosts, uniqueStore } from '../support/jobs-host.js';
import { eventually, MasterHarness, rejection, stopHarnesses } from '../support/master-harness.js';
import { freePorts } from '../support/ports.js';
import { expectLintClean, parseScrape, scrape, type Scrape } from '../support/prometheus.js';
import { channel, secureFetch } from '../support/security.js';
import { tempDir } from '../support/tmp.js';
import { JobsClient } from '../../proto/index.js';
import { startUp } from '../../cli/up-command.js';

afterEach(async () => {
  await stopJobsHosts();
  await stopTestAgents();
  await stopHarnesses();
});

async function cluster(flags: Record<string, unknown> = {}): Promise<{ h: MasterHarness; host: FrameworksHost }> {
  const h = await MasterHarness.start();
  const ports = (await freePorts(4)).map((p) => `${p}-${p}`).join(',');
  await startTestAgent(h.address, { resources: `cpus:4;mem:4096;disk:1024;ports:[${ports}]` });
  const host = await startJobsHost({ master: h.address, masterHttp: h.master.httpAddress, flags });
  return { h, host };
}

/** Scrape until `check` passes; the scrape it passed on. */
async function scraped(host: FrameworksHost, check: (m: Scrape) => void, what: string): Promise<Scrape> {
  return eventually(
    async () => {
      const m = await scrape(host.httpAddress ?? '');
      check(m);
      return m;
    },
    { timeoutMs: 30_000, what },
  );
}

/** A service of `sh` tasks; one exits 1 each time the test drops a `crash` file in `dir` (the task that renames it). */
function serviceDoc(dir: string, extra = ''): string {
  const loop = `while true; do if mv ${dir}/crash ${dir}/crashed.$$ 2>/dev/null; then exit 1; fi; sleep 0.1; done`;
  return ['kind: Service', 'name: web', 'instances: 3', `command: ${JSON.stringify(loop)}`, 'resources: { cpus: 0.05, mem: 16 }', 'killGracePeriodSeconds: 0.2', extra].join('\n');
}

describe('frameworks host metrics', () => {
  it('follow a service through a deployment and a crash, and drop it when deleted', async () => {
    const { host } = await cluster();
    const dir = await tempDir('metrics');
    await chmod(dir, 0o777);
    const jobs = jobsClient(host);
    const before = await scrape(host.httpAddress ?? '');
    expect(before.value('agora_frameworks_leader')).toBe(1);
    expect(before.has('agora_service_instances_desired')).toBe(false);
    expect(before.value('agora_jobs{phase="pending"}')).toBe(0);

    await call((cb) => jobs.apply({ document: serviceDoc(dir) }, cb));
    await scraped(
      host,
      (m) => {
        expect(m.value('agora_service_instances_desired{service="web"}')).toBe(3);
        expect(m.value('agora_service_instances{service="web",state="running"}')).toBe(3);
        expect(m.value('agora_service_instances{service="web",state="ready"}')).toBe(3);
        expect(m.value('agora_service_deployment_phase{service="web",phase="succeeded"}')).toBe(1);
      },
      'web running 3 of 3, its deployment succeeded',
    );

    // Version 2 is ready only once the test says so: its deployment stays in progress until then.
    const ready = path.join(dir, 'go');
    const gated = `readinessCheck: { command: ${JSON.stringify(`test -e ${ready}`)}, delaySeconds: 0, intervalSeconds: 0.2, timeoutSeconds: 1 }`;
    await call((cb) => jobs.apply({ document: serviceDoc(dir, gated) }, cb));
    const rolling = await scraped(host, (m) => expect(m.value('agora_service_deployment_phase{service="web",phase="in_progress"}')).toBe(1), 'the v2 deployment in progress');
    expect(rolling.value('agora_service_deployment_phase{service="web",phase="succeeded"}')).toBe(0);
    expect(rolling.value('agora_service_instances_desired{service="web"}')).toBe(3);
    expectLintClean(rolling);
    await writeFile(ready, '');
    await scraped(
      host,
      (m) => {
        expect(m.value('agora_service_deployment_phase{service="web",phase="succeeded"}')).toBe(1);
        expect(m.value('agora_service_instances{service="web",state="ready"}')).toBe(3);
      },
      'the v2 deployment succeeded, 3 ready',
    );
    expect((await scrape(host.httpAddress ?? '')).value('agora_service_restarts_total{service="web"}')).toBe(0);

    // One task crashes (exit 1): one restart, and the service is back at 3.
    await writeFile(path.join(dir, 'crash.tmp'), '');
    await rename(path.join(dir, 'crash.tmp'), path.join(dir, 'crash'));
    await scraped(
      host,
      (m) => {
        expect(m.value('agora_service_restarts_total{service="web"}')).toBe(1);
        expect(m.value('agora_service_instances{service="web",state="running"}')).toBe(3);
      },
      'one restart, back at 3 running',
    );

    await call((cb) => jobs.delete({ kind: 'SERVICE', name: 'web' }, cb));
    const gone = await scrape(host.httpAddress ?? '');
    expect(gone.has('agora_service_instances_desired')).toBe(false);
    expect(gone.has('agora_service_restarts_total')).toBe(false);
    expect(gone.has('agora_service_deployment_phase')).toBe(false);
  });

  it('cron runs that succeed and fail, a job to its completions, the Jobs API counted', async () => {
    const { h, host } = await cluster();
    const jobs = jobsClient(host);
    const task = (command: string): string => `task: { command: ${JSON.stringify(command)}, resources: { cpus: 0.05, mem: 16 }, killGracePeriodSeconds: 0.2 }`;
    await call((cb) => jobs.apply({ document: ['kind: CronJob', 'name: tick', "schedule: '*/1 * * * * *'", task('true')].join('\n') }, cb));
    await call((cb) => jobs.apply({ document: ['kind: CronJob', 'name: broken', "schedule: '*/1 * * * * *'", 'retries: 0', task('exit 3')].join('\n') }, cb));
    await call((cb) => jobs.apply({ document: ['kind: Job', 'name: batch', 'completions: 3', 'parallelism: 3', task('true')].join('\n') }, cb));
    // Every second, but a run lasts 60 s and FORBID keeps it alone: the times in between are skipped.
    await call((cb) => jobs.apply({ document: ['kind: CronJob', 'name: slow', "schedule: '*/1 * * * * *'", 'concurrencyPolicy: FORBID', task('sleep 60')].join('\n') }, cb));

    const first = await scraped(
      host,
      (m) => {
        expect(m.value('agora_cron_last_success_timestamp_seconds{cronjob="tick"}')).toBeGreaterThan(0);
        expect(m.value('agora_cron_runs_total{cronjob="tick",outcome="succeeded"}')).toBeGreaterThanOrEqual(1);
        expect(m.value('agora_cron_last_failure_timestamp_seconds{cronjob="broken"}')).toBeGreaterThan(0);
        expect(m.value('agora_cron_runs_total{cronjob="broken",outcome="failed"}')).toBeGreaterThanOrEqual(1);
        expect(m.value('agora_job_tasks{job="batch",state="succeeded"}')).toBe(3);
        expect(m.value('agora_job_phase{job="batch",phase="succeeded"}')).toBe(1);
        expect(m.value('agora_cron_runs_total{cronjob="slow",outcome="skipped"}')).toBeGreaterThanOrEqual(1);
      },
      'a cron success, a cron failure, the job complete, a skipped time',
    );
    expect(first.value('agora_cron_last_success_timestamp_seconds{cronjob="broken"}')).toBe(0);
    expect(first.value('agora_cron_last_failure_timestamp_seconds{cronjob="tick"}')).toBe(0);
    expect(first.value('agora_cron_interval_seconds{cronjob="tick"}')).toBe(1);
    expect(first.value('agora_cron_next_schedule_timestamp_seconds{cronjob="tick"}')).toBeGreaterThan(first.value('agora_cron_last_schedule_timestamp_seconds{cronjob="tick"}'));
    expect(first.value('agora_jobs{phase="succeeded"}')).toBe(1);
    expect(first.value('agora_cron_active_runs{cronjob="slow"}')).toBe(1);
    expect(first.value('agora_cron_runs_total{cronjob="slow",outcome="succeeded"}')).toBe(0);
    expect(first.value('agora_job_completions{job="batch"}')).toBe(3);
    expect(first.value('agora_job_tasks{job="batch",state="failed"}')).toBe(0);
    const success = first.value('agora_cron_last_success_timestamp_seconds{cronjob="tick"}');
    const failure = first.value('agora_cron_last_failure_timestamp_seconds{cronjob="broken"}');
    await scraped(
      host,
      (m) => {
        expect(m.value('agora_cron_last_success_timestamp_seconds{cronjob="tick"}')).toBeGreaterThan(success);
        expect(m.value('agora_cron_last_failure_timestamp_seconds{cronjob="broken"}')).toBeGreaterThan(failure);
      },
      'the next runs: the last success and the last failure move on',
    );

    // Refused calls are counted with their code: gRPC without a token, HTTP with a bad spec.
    const anonymous = new JobsClient(host.grpcAddress ?? '', channel({ token: undefined }));
    expect((await rejection(call((cb) => anonymous.get({ kind: 'JOB', name: 'batch' }, cb)))).code).toBe('AGORA_UNAUTHENTICATED');
    anonymous.close();
    const bad = await secureFetch(`https://${host.httpAddress ?? ''}/api/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: 'name: x\ncompletions: -1\n' });
    expect(bad.status).toBe(400);
    expect((await secureFetch(`https://${host.httpAddress ?? ''}/api/v1/jobs/batch`)).status).toBe(200);
    const api = await scrape(host.httpAddress ?? '');
    expect(api.value('agora_jobs_api_requests_total{transport="grpc",method="Apply",code="OK"}')).toBe(4);
    expect(api.value('agora_jobs_api_request_duration_seconds_count{transport="grpc",method="Apply"}')).toBe(4);
    expect(api.value('agora_jobs_api_requests_total{transport="grpc",method="Get",code="UNAUTHENTICATED"}')).toBe(1);
    expect(api.value('agora_jobs_api_requests_total{transport="http",method="POST /api/v1/jobs",code="400"}')).toBe(1);
    expect(api.value('agora_jobs_api_requests_total{transport="http",method="GET /api/v1/jobs/:name",code="200"}')).toBe(1);
    expect(api.value('agora_jobs_api_request_duration_seconds_count{transport="http",method="GET /api/v1/jobs/:name"}')).toBe(1);
    expectLintClean(api);

    await call((cb) => jobs.delete({ kind: 'CRONJOB', name: 'tick' }, cb));
    await call((cb) => jobs.delete({ kind: 'CRONJOB', name: 'slow' }, cb));
    await call((cb) => jobs.delete({ kind: 'JOB', name: 'batch' }, cb));
    const after = await scrape(host.httpAddress ?? '');
    expect(after.has('agora_cron_last_success_timestamp_seconds{cronjob="tick"}')).toBe(false);
    expect(after.has('agora_cron_runs_total{cronjob="tick",outcome="succeeded"}')).toBe(false);
    expect(after.has('agora_job_tasks{job="batch",state="succeeded"}')).toBe(false);
    expect(after.has('agora_cron_active_runs{cronjob="slow"}')).toBe(false);
    expect(after.value('agora_jobs{phase="succeeded"}')).toBe(0);
    void h;
  });

  it('refuses /metrics as the master does: no credentials 401, no cluster.view 403; --open-metrics serves anyone', async () => {
    const { h, host } = await cluster();
    const url = `https://${host.httpAddress ?? ''}/metrics`;
    expect((await secureFetch(url, { token: null })).status).toBe(401);
    expect((await secureFetch(`https://${h.master.httpAddress}/metrics`, { token: null })).status).toBe(401);
    const reader = await issueToken(h.master.httpAddress, 'rita', [{ allow: ['jobs.read'] }]);
    const denied = await secureFetch(url, { token: reader });
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain("lacks permission 'cluster.view'");

    const open = await startJobsHost({ master: h.address, masterHttp: h.master.httpAddress, store: uniqueStore(), flags: { openMetrics: true } });
    const res = await secureFetch(`https://${open.httpAddress ?? ''}/metrics`, { token: null });
    expect(res.status).toBe(200);
    expectLintClean(parseScrape(await res.text()));
  });

  it('agora up: the master\'s /metrics carries the frameworks\' figures, each family once', async () => {
    const dataDir = await tempDir('up-metrics');
    const up = await startUp({ httpPort: 0, grpcPort: 0, agentHttpPort: 0, dataDir, executor: 'process', resources: 'cpus:2;mem:2048;disk:2048', hostname: '127.0.0.1', logLevel: 'silent', insecure: true, writeContext: false, allowRootTasks: false, allowPrivileged: false });
    try {
      await up.frameworks.waitLeading(10_000);
      const base = `http://${up.master.httpAddress}`;
      const bad = await fetch(`${base}/api/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: 'name: x\ncompletions: -1\n' });
      expect(bad.status).toBe(400);
      const m = parseScrape(await (await fetch(`${base}/metrics`)).text());
      expectLintClean(m);
      expect(m.value('agora_master_leader')).toBe(1);
      expect(m.value('agora_frameworks_leader')).toBe(1);
      expect(m.value('agora_jobs{phase="pending"}')).toBe(0);
      expect(m.value('agora_jobs_api_requests_total{transport="http",method="POST /api/v1/jobs",code="400"}')).toBe(1);
      // The master's own routes are not the Jobs API's.
      expect(m.text).not.toContain('method="GET /metrics"');
    } finally {
      await up.stop();
    }
  });

  it('a standby serves its own figures and no workloads', async () => {
    const h = await MasterHarness.start();
    const store = uniqueStore();
    const leader = await startJobsHost({ master: h.address, masterHttp: h.master.httpAddress, store });
    const standby = await startJobsHost({ master: h.address, masterHttp: h.master.httpAddress, store, lead: false });
    const m = await scrape(standby.httpAddress ?? '');
    expectLintClean(m);
    expect(m.value('agora_frameworks_leader')).toBe(0);
    expect(m.has('process_cpu_seconds_total')).toBe(true);
    expect(m.has('agora_jobs')).toBe(false);
    expect((await scrape(leader.httpAddress ?? '')).value('agora_jobs{phase="running"}')).toBe(0);
  });
});
