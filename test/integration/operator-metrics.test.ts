// What an operator scrapes, judged by Prometheus's own promtool: a real master and a real agent
// over HTTPS, the lint clean on both; build info and process metrics; memory and disk in bytes;
// agents registering, re-registering and removed; registry writes timed and their failures
// counted; health-check failures per task, gone with the task; and in a ZooKeeper group the
// leader gauge moving on failover while a standby serves no cluster figures. The example alert
// rules (docs/alerts.yml) pass `promtool check rules` and name only metrics that exist (the
// workload rules: on a frameworks host; its own metrics are frameworks-metrics.test.ts's; usage
// series — agora_task_*, agora_agent_used, agora_role_used — are checked in agent-usage.test.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { shortId } from '../../core/ids.js';
import { openStore } from '../../core/store/index.js';
import { VERSION } from '../../core/version.js';
import { Master } from '../../master/master.js';
import { REPO_ROOT, launchTask, startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { withWriteFaults } from '../support/faulty-store.js';
import { eventually, MasterHarness, stopHarnesses, TEST_MASTER_OPTIONS } from '../support/master-harness.js';
import { startJobsHost, stopJobsHosts } from '../support/jobs-host.js';
import { expectLintClean, promtool, scrape, type Scrape } from '../support/prometheus.js';
import { secureFetch, testMasterSecurity, testPki } from '../support/security.js';
import { testServices } from '../support/services.js';
import { taskInfo } from '../support/test-framework.js';
import { tempDir } from '../support/tmp.js';

const MIB = 1024 * 1024;
const ALERTS = path.join(REPO_ROOT, 'docs', 'alerts.yml');
const closers: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  await stopTestAgents();
  await stopHarnesses();
});

/** What every process serves, leader, standby or agent. */
function expectProcessFigures(m: Scrape): void {
  expect(m.value(`agora_build_info{version="${VERSION}",node_version="${process.version}"}`)).toBe(1);
  expect(m.value('process_cpu_seconds_total')).toBeGreaterThan(0);
  expect(m.value('process_resident_memory_bytes')).toBeGreaterThan(0);
  expect(m.has('nodejs_heap_size_used_bytes')).toBe(true);
  expect(m.has('nodejs_eventloop_lag_seconds')).toBe(true);
}

describe('operator metrics: a master and an agent', () => {
  it('lint clean with promtool; build info, bytes, agent info, registrations and registry writes', async () => {
    const h = await MasterHarness.start();
    const before = await scrape(h.master.httpAddress);
    expect(before.value('agora_master_leader')).toBe(1);
    expect(before.value('agora_agent_registrations_total')).toBe(0);

    const agent = await startTestAgent(h.address); // cpus:4;mem:4096;disk:4096;ports:[31000-31099]
    await eventually(() => expect(agent.master).toBe(h.address), { what: 'the agent registered' });
    const master = await eventually(
      async () => {
        const m = await scrape(h.master.httpAddress);
        expect(m.value('agora_agent_registrations_total')).toBe(1);
        return m;
      },
      { what: 'the registration counted' },
    );
    expectLintClean(master);
    expectProcessFigures(master);
    expect(master.value('agora_resources_capacity{resource="cpus"}')).toBe(4);
    expect(master.value('agora_resources_capacity{resource="ports"}')).toBe(100);
    expect(master.value('agora_resources_capacity_bytes{resource="mem"}')).toBe(4096 * MIB);
    expect(master.value('agora_resources_capacity_bytes{resource="disk"}')).toBe(4096 * MIB);
    expect(master.value('agora_agent_reregistrations_total')).toBe(0);
    expect(master.value('agora_agent_removals_total{reason="missed_pings"}')).toBe(0);
    // The agent's admission was written to the registry.
    expect(master.value('agora_registry_write_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(master.value('agora_registry_write_failures_total')).toBe(0);

    const own = await scrape(agent.httpAddress);
    expectLintClean(own);
    expectProcessFigures(own);
    expect(own.value(`agora_agent_info{agent_id="${agent.agentId}",hostname="127.0.0.1"}`)).toBe(1);
    expect(own.value('agora_agent_resources_capacity_bytes{resource="mem"}')).toBe(4096 * MIB);
    expect(own.value('agora_agent_resources_capacity_bytes{resource="disk"}')).toBe(4096 * MIB);
    expect(own.value('agora_agent_resources_capacity{resource="cpus"}')).toBe(4);
    expect(own.value('agora_agent_resources_used_bytes{resource="mem"}')).toBe(0);
    expect(own.value('agora_agent_connected')).toBe(1);
  });

  it('counts an agent removed for missed pings', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent({ resources: 'cpus:1;mem:128' });
    agent.setAnswerPings(false);
    await eventually(async () => expect((await scrape(h.master.httpAddress)).value('agora_agent_removals_total{reason="missed_pings"}')).toBe(1), {
      timeoutMs: 10_000,
      what: 'the removal counted',
    });
    expect((await scrape(h.master.httpAddress)).value('agora_agent_removals_total{reason="not_reregistered"}')).toBe(0);
  });

  it('counts registry writes the store refuses', async () => {
    const store = withWriteFaults(await openStore('memory:', { chroot: '/agora' }));
    const master = await Master.start({ ...TEST_MASTER_OPTIONS }, { store, security: testMasterSecurity() });
    closers.push(() => store.close(), () => master.stop());
    store.faults.failUnder('/default/registry/role-weights/');
    const res = await secureFetch(`https://${master.httpAddress}/api/v1/weights`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ role: 'eng', weight: 2 }]) });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(store.faults.refused).toBe(1);
    const m = await scrape(master.httpAddress);
    expect(m.value('agora_registry_write_failures_total')).toBe(1);
    expect(m.value('agora_registry_write_seconds_count')).toBeGreaterThanOrEqual(1);
  });

  it('counts health-check failures per task, and drops the series when the task ends', async () => {
    const h = await MasterHarness.start();
    const agent = await startTestAgent(h.address);
    const fw = await h.framework({ autoAck: true });
    await launchTask(
      fw,
      taskInfo('sickly', 'cpus:0.1;mem:32', {
        command: { value: 'sleep 60' },
        healthCheck: { type: 'COMMAND', command: { value: 'false' }, delaySeconds: 0, intervalSeconds: 0.1, timeoutSeconds: 2, consecutiveFailures: 1000, gracePeriodSeconds: 0 },
        killPolicy: { gracePeriodSeconds: 0.2 },
      }),
    );
    const series = `agora_agent_health_check_failures_total{framework_id="${fw.frameworkId}",task_id="sickly"}`;
    await eventually(async () => expect((await scrape(agent.httpAddress)).value(series)).toBeGreaterThanOrEqual(2), { timeoutMs: 10_000, what: 'failures counted' });
    expectLintClean(await scrape(agent.httpAddress));
    await fw.kill('sickly');
    await fw.waitForUpdate('sickly', 'TASK_KILLED', { timeoutMs: 10_000 });
    await eventually(async () => expect((await scrape(agent.httpAddress)).has('agora_agent_health_check_failures_total')).toBe(false), { what: 'the series gone' });
  });
});

describe('operator metrics: a master group on ZooKeeper', () => {
  it('the leader gauge follows a failover; a standby serves its own figures and none of the cluster', async () => {
    const zkUrl = `zk://${testServices().zk}/agora`;
    const cluster = `metrics-${shortId(6).toLowerCase()}`;
    const start = async (): Promise<Master> => {
      const m = await Master.start({ ...TEST_MASTER_OPTIONS, zk: zkUrl, zkCredentialsFile: testPki().files.zkCredentials, cluster, zkSessionTimeout: '2s', agentReregisterTimeout: '5s' }, { security: testMasterSecurity() });
      closers.push(() => m.stop());
      return m;
    };
    const first = await start();
    const second = await start();
    await eventually(() => expect(first.acting).toBe(true), { timeoutMs: 10_000, what: 'the first master leads' });
    const agent = await startTestAgent(zkUrl, { cluster });
    await eventually(() => expect(agent.master).toBe(first.grpcAddress), { timeoutMs: 10_000, what: 'the agent registered' });

    const leader = await scrape(first.httpAddress);
    expectLintClean(leader);
    expect(leader.value('agora_master_leader')).toBe(1);
    expect(leader.value('agora_agents{state="connected"}')).toBe(1);
    const standby = await scrape(second.httpAddress);
    expectLintClean(standby);
    expectProcessFigures(standby);
    expect(standby.value('agora_master_leader')).toBe(0);
    for (const family of ['agora_agents', 'agora_tasks', 'agora_resources_capacity', 'agora_agent_registrations_total', 'agora_registry_write_seconds_count']) {
      expect(standby.has(family), family).toBe(false);
    }
    expect(standby.has('agora_http_connections')).toBe(true);

    await first.stop();
    const after = await eventually(
      async () => {
        const m = await scrape(second.httpAddress);
        expect(m.value('agora_master_leader')).toBe(1);
        expect(m.value('agora_agent_reregistrations_total')).toBe(1);
        return m;
      },
      { timeoutMs: 15_000, what: 'the second master leads and the agent is back' },
    );
    expectLintClean(after);
    expect(after.value('agora_agent_registrations_total')).toBe(0);
    expect(after.value('agora_agents{state="connected"}')).toBe(1);
  });
});

describe('the example alert rules', () => {
  it('pass promtool check rules and name only metrics a leader serves (a master, a frameworks host) or an agent', async () => {
    const checked = promtool('check', 'rules', ALERTS).on();
    expect(checked.status, checked.output).toBe(0);
    expect(checked.output).toContain('SUCCESS: 7 rules found');
    const h = await MasterHarness.start();
    const host = await startJobsHost({ master: h.address, masterHttp: h.master.httpAddress });
    closers.push(() => stopJobsHosts());
    const agent = await startTestAgent(h.address);
    const served = (await scrape(h.master.httpAddress)).text + (await scrape(host.httpAddress ?? '')).text + (await scrape(agent.httpAddress)).text;
    const named = new Set(readFileSync(ALERTS, 'utf8').match(/\bagora_[a-z_]+/g) ?? []);
    expect(named.size).toBeGreaterThanOrEqual(9);
    for (const name of named) expect(served, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
  });

  it('fire when they should: promtool test rules over made-up workload series', async () => {
    // web: 2 of 3 ready from minute 1 (fires after 5 m); cron job "never": no success, created at
    // 0, every 5 min (fires past 2 intervals); "steady": a success every minute (never fires).
    const cron = (job: string, success: string): string[] => [
      `      - { series: 'agora_cron_created_timestamp_seconds{cronjob="${job}"}', values: '0x12' }`,
      `      - { series: 'agora_cron_last_success_timestamp_seconds{cronjob="${job}"}', values: '${success}' }`,
      `      - { series: 'agora_cron_interval_seconds{cronjob="${job}"}', values: '300x12' }`,
    ];
    const alert = (at: string, name: string, labels: string, annotations: string): string[] => [
      `      - { eval_time: ${at}, alertname: ${name}, exp_alerts: [{ exp_labels: { severity: warning, ${labels} }, exp_annotations: { ${annotations} } }] }`,
    ];
    const none = (at: string, name: string): string => `      - { eval_time: ${at}, alertname: ${name}, exp_alerts: [] }`;
    const file = path.join(await tempDir('rules'), 'alerts.test.yml');
    writeFileSync(
      file,
      [
        `rule_files: [${JSON.stringify(ALERTS)}]`,
        'evaluation_interval: 1m',
        'tests:',
        '  - interval: 1m',
        '    input_series:',
        `      - { series: 'agora_service_instances_desired{service="web"}', values: '3x12' }`,
        `      - { series: 'agora_service_instances{service="web",state="ready"}', values: '3 2x11' }`,
        ...cron('never', '0x12'),
        ...cron('steady', '0 0+60x11'),
        '    alert_rule_test:',
        none('5m', 'AgoraServiceBelowDesired'),
        ...alert('6m', 'AgoraServiceBelowDesired', 'service: web', 'summary: "Service web has fewer instances ready than desired", description: "2 ready for 5 minutes; `agora describe service web` says why instances wait."'),
        none('10m', 'AgoraCronJobNotSucceeding'),
        ...alert('11m', 'AgoraCronJobNotSucceeding', 'cronjob: never', 'summary: "Cron job never has not succeeded in 2 schedules", description: "No success for 11m 0s; see its runs with `agora describe cronjob never`."'),
        '',
      ].join('\n'),
    );
    const tested = promtool('test', 'rules', file).on();
    expect(tested.status, tested.output).toBe(0);
    expect(tested.output).toContain('SUCCESS');
  });
});
