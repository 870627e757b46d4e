// The web dashboard in headless Chromium against a real `agora up`, as issue 21 lists: a
// signed-out visitor sees only the sign-in page; sign in with the admin token; see an agent and a
// running service; scale it from the page and watch the count change live; a harmful action asks
// first; follow a task's log; roll back; run a cron job now; see why a pending job waits; sign out;
// and a 400 px window has no sideways overflow. Screenshots of each step go to
// test-results/dashboard/ (test/support/browser.ts).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type LaunchedBrowser } from '../support/browser.js';
import { stopCliProcesses, killProcessesUnder } from '../support/cli.js';
import { act, api, apply, markWindow, pageWidth, runningTaskOf, serviceSpec, SHOWS_MS, signIn, startDashboardCluster, statusFromPage, stillMarked, textOf, tickerCommand, visit, type DashboardCluster } from '../support/dashboard.js';
import { eventually, within } from '../support/waits.js';

let cluster: DashboardCluster;
let browser: LaunchedBrowser;

const CRON = 'kind: CronJob\nname: hello\nschedule: "0 0 1 1 *"\ntimeZone: Europe/Berlin\ntask:\n  command: echo hello from the dashboard\n  resources: { cpus: 0.05, mem: 16 }\n';
const HUGE_JOB = 'kind: Job\nname: huge\ntask: { command: "true", resources: { cpus: 64, mem: 16 } }\n';

interface ServiceView {
  version: string;
  serviceStatus: { running: number; version: string; versions: { version: string }[] };
}
interface JobView {
  jobStatus: { pendingReason?: string };
}

beforeAll(async () => {
  cluster = await startDashboardCluster();
  browser = await launchBrowser({ trust: [cluster.serverCert] });
  // What the pages show: a service to scale (1 instance), one whose output grows, one with two
  // versions to roll back, a cron job run by hand only, and a job that cannot fit.
  await Promise.all([
    apply(cluster, serviceSpec('web', 'exec sleep 3600')),
    apply(cluster, serviceSpec('ticker', tickerCommand('tick'))),
    apply(cluster, serviceSpec('site', tickerCommand('first', 1000))).then(() => apply(cluster, serviceSpec('site', tickerCommand('second', 1000)))),
    apply(cluster, CRON),
    apply(cluster, HUGE_JOB, /job\/huge: task\.resources\.cpus: 64 is more than any agent has/),
  ]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  cluster?.up.kill('SIGTERM');
  if (cluster) await within(cluster.up.exited, 10_000, undefined);
  await stopCliProcesses();
  if (cluster) await killProcessesUnder(cluster.dataDir);
});

describe('the web dashboard', () => {
  it('shows a signed-out visitor the sign-in page and nothing else', async (ctx) => {
    const t = await browser.open(ctx);
    await t.page.goto(`${cluster.up.masterUrl}/`);
    await expect.poll(() => t.page.getByTestId('token').isVisible(), { timeout: SHOWS_MS }).toBe(true);
    expect(await t.page.getByTestId('principal').count()).toBe(0);
    expect(await t.page.locator('nav').count()).toBe(0);
    await t.shot('sign-in');
    expect(await statusFromPage(t.page, '/api/v1/state')).toBe(401);
    expect(await statusFromPage(t.page, '/api/v1/services')).toBe(401);
  });

  it('signs in with the admin token and shows the overview and the agent', async (ctx) => {
    const t = await browser.open(ctx);
    await signIn(t.page, cluster);
    expect(await textOf(t.page.getByTestId('principal'))).toBe('admin');
    await expect.poll(() => textOf(t.page.getByTestId('stat-agents')), { timeout: SHOWS_MS }).toMatch(/\b1\b/);
    await expect.poll(() => textOf(t.page.getByTestId('stat-tasks-running')), { timeout: SHOWS_MS }).toMatch(/\d/);
    for (const id of ['stat-frameworks', 'chart-cpu', 'chart-mem', 'chart-disk', 'roles', 'leader', 'events']) {
      await t.page.getByTestId(id).waitFor({ timeout: SHOWS_MS });
    }
    await t.shot('overview');
    expect(await statusFromPage(t.page, '/api/v1/state')).toBe(200);

    const { agents } = await api<{ agents: { id: string; hostname: string }[] }>(cluster, '/api/v1/agents');
    const [agent] = agents;
    expect(agent).toBeDefined();
    await visit(t.page, cluster, ['agents']);
    const row = t.page.getByTestId(`agent-row-${agent?.id ?? ''}`);
    await expect.poll(() => textOf(row), { timeout: SHOWS_MS }).toContain(agent?.hostname ?? '?');
    await t.shot('agents');
  });

  it('lists the running service and scales it from the page, asking first, the count changing live', async (ctx) => {
    const t = await browser.open(ctx);
    await signIn(t.page, cluster);
    await visit(t.page, cluster, ['services']);
    await expect.poll(() => textOf(t.page.getByTestId('service-row-web')), { timeout: SHOWS_MS }).toContain('web');
    await t.shot('services');
    await t.page.getByTestId('service-row-web').getByRole('link').first().click();
    const running = t.page.getByTestId('instances-running');
    await expect.poll(() => textOf(running), { timeout: SHOWS_MS }).toBe('1');
    const task = await runningTaskOf(cluster, 'web');
    await t.page.getByTestId(`task-row-${task.id}`).waitFor({ timeout: SHOWS_MS });
    await t.shot('service');

    // Cancel: nothing happens.
    await t.page.getByTestId('scale-input').fill('2');
    await t.page.getByTestId('scale').click();
    await t.page.getByTestId('confirm').waitFor({ timeout: SHOWS_MS });
    await t.shot('scale-asks');
    await t.page.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => t.page.getByTestId('confirm').count()).toBe(0);
    expect((await api<ServiceView>(cluster, '/api/v1/services/web')).serviceStatus.running).toBe(1);
    expect(await textOf(running)).toBe('1');

    // Confirm: the count follows the live stream, with no reload of the page.
    await markWindow(t.page);
    await t.page.getByTestId('scale').click();
    await t.page.getByTestId('confirm').click();
    await expect.poll(() => textOf(running), { timeout: 30_000 }).toBe('2');
    expect(await stillMarked(t.page), 'the page was not reloaded').toBe(true);
    expect((await api<ServiceView>(cluster, '/api/v1/services/web')).serviceStatus.running).toBe(2);
    await t.shot('scaled');
  });

  it("follows a task's log while the page stays open", async (ctx) => {
    const t = await browser.open(ctx);
    await signIn(t.page, cluster);
    const task = await runningTaskOf(cluster, 'ticker');
    await visit(t.page, cluster, ['tasks']);
    await t.page.getByTestId(`task-row-${task.id}`).waitFor({ timeout: SHOWS_MS });
    await t.shot('tasks');
    await visit(t.page, cluster, ['tasks', task.frameworkId, task.id]);
    await t.page.getByTestId('status-history').waitFor({ timeout: SHOWS_MS });
    await t.page.getByTestId('stream-stdout').click();
    const follow = t.page.getByTestId('follow');
    if (!(await follow.isChecked())) await follow.check();
    const log = t.page.getByTestId('log');
    const lastTick = async (): Promise<number> => Math.max(0, ...[...(await textOf(log)).matchAll(/^tick (\d+)$/gm)].map((m) => Number(m[1])));
    await expect.poll(lastTick, { timeout: SHOWS_MS }).toBeGreaterThan(0);
    const first = await lastTick();
    // Five more lines (a second of output) arrive in the open page.
    await expect.poll(lastTick, { timeout: SHOWS_MS }).toBeGreaterThanOrEqual(first + 5);
    await t.page.getByTestId('usage').waitFor({ timeout: SHOWS_MS });
    await t.shot('log');

    // The sandbox: its files listed, and stdout downloaded as a file holding the output.
    await t.page.getByTestId('files').getByTestId('file-row-stdout').waitFor({ timeout: SHOWS_MS });
    const [download] = await Promise.all([t.page.waitForEvent('download', { timeout: SHOWS_MS }), t.page.getByTestId('download-stdout').click()]);
    expect(download.suggestedFilename()).toBe('stdout');
    expect(readFileSync((await download.path()) ?? '', 'utf8')).toMatch(/^tick 1\ntick 2\n/);
  });

  it('rolls a service back to its previous version from the page', async (ctx) => {
    const t = await browser.open(ctx);
    await signIn(t.page, cluster);
    const before = await api<ServiceView>(cluster, '/api/v1/services/site');
    expect(before.version).toBe('v2');
    await visit(t.page, cluster, ['services', 'site']);
    await t.page.locator('[data-testid^="task-row-site.v2."]').first().waitFor({ timeout: SHOWS_MS });
    await t.page.getByTestId('rollback').click();
    await t.page.getByTestId('rollback-version').selectOption('v1');
    await t.shot('rollback-asks');
    await t.page.getByTestId('confirm').click();
    // The rollback is a new version (v3, with v1's spec); the page's instances move to it.
    await expect.poll(async () => (await api<ServiceView>(cluster, '/api/v1/services/site')).version, { timeout: SHOWS_MS }).toBe('v3');
    await t.page.locator('[data-testid^="task-row-site.v3."]').first().waitFor({ timeout: 30_000 });
    await expect.poll(() => textOf(t.page.locator('main')), { timeout: SHOWS_MS }).toContain('v3');
    await t.shot('rolled-back');
  });

  it('runs a cron job now and shows the run with its outcome', async (ctx) => {
    const t = await browser.open(ctx);
    await signIn(t.page, cluster);
    await visit(t.page, cluster, ['cronjobs']);
    await t.page.getByTestId('cronjob-row-hello').waitFor({ timeout: SHOWS_MS });
    await visit(t.page, cluster, ['cronjobs', 'hello']);
    await t.page.getByTestId('next-run').waitFor({ timeout: SHOWS_MS });
    expect(await t.page.getByTestId('run-row').count()).toBe(0);
    await act(t.page, 'run-now');
    await expect.poll(() => textOf(t.page.getByTestId('run-row')), { timeout: 30_000 }).toMatch(/succeeded/i);
    await t.shot('cron-run');
  });

  it('leaves a workload list alone while tasks of another kind come and go', async (ctx) => {
    const t = await browser.open(ctx);
    await signIn(t.page, cluster);
    await visit(t.page, cluster, ['cronjobs']);
    await t.page.getByTestId('cronjob-row-hello').waitFor({ timeout: SHOWS_MS });
    const loads: string[] = [];
    t.page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/v1/cronjobs') loads.push(r.url());
    });
    // A listener of its own in the page on the master's stream: once it has seen the new service's
    // tasks run, the dashboard's stream (pushed the same events at the same time) has seen them too.
    const seen = t.page.evaluate(
      () =>
        new Promise<void>((resolve) => {
          const es = new EventSource('/api/v1/events', { withCredentials: true });
          const running = new Set<string>();
          es.addEventListener('task_updated', (e) => {
            const d = JSON.parse(String((e as unknown as { data: unknown }).data)) as { taskId?: string; state?: string };
            if (d.state === 'TASK_RUNNING' && d.taskId?.startsWith('quiet.')) running.add(d.taskId);
            if (running.size === 2) {
              es.close();
              resolve();
            }
          });
        }),
    );
    await apply(cluster, serviceSpec('quiet', 'exec sleep 3600', 2));
    expect(await within(seen.then(() => true), 30_000, false), "the new service's two tasks ran").toBe(true);
    // A reload would follow an event at once (the list pages are not paced); one more round trip
    // through the page makes sure any such request was already sent.
    await statusFromPage(t.page, '/api/v1/session');
    expect(loads, 'the cron job list reloaded for task events of a service').toEqual([]);
  });

  it('shows why a pending job waits, as the API says', async (ctx) => {
    const t = await browser.open(ctx);
    await signIn(t.page, cluster);
    const reasonNow = async (): Promise<string | false> => (await api<JobView>(cluster, '/api/v1/jobs/huge')).jobStatus.pendingReason || false;
    await eventually(reasonNow, { timeoutMs: SHOWS_MS, what: 'a pending reason' });
    await visit(t.page, cluster, ['jobs']);
    await t.page.getByTestId('job-row-huge').waitFor({ timeout: SHOWS_MS });
    await visit(t.page, cluster, ['jobs', 'huge']);
    // The reason names the largest offer of the moment, which moves as other tasks come and go:
    // the page must show what the API says at the time it is read.
    await expect
      .poll(async () => {
        const [shown, said] = [await textOf(t.page.getByTestId('pending-reason')), await reasonNow()];
        return said !== false && shown.includes(said) ? 'the API’s reason' : `page: ${shown} / api: ${String(said)}`;
      }, { timeout: SHOWS_MS })
      .toBe('the API’s reason');
    await t.page.getByTestId('completions').waitFor({ timeout: SHOWS_MS });
    await t.shot('pending-job');
  });

  it('fits a 400 px window with no sideways overflow', async (ctx) => {
    const t = await browser.open(ctx, { width: 400, height: 800 });
    await signIn(t.page, cluster);
    const task = await runningTaskOf(cluster, 'ticker');
    const pages: [string, readonly string[], string][] = [
      ['overview', [], 'stat-agents'],
      ['services', ['services'], 'service-row-web'],
      ['service', ['services', 'web'], 'instances-running'],
      ['tasks', ['tasks'], `task-row-${task.id}`],
      ['task', ['tasks', task.frameworkId, task.id], 'log'],
    ];
    for (const [name, route, testId] of pages) {
      await visit(t.page, cluster, route);
      await t.page.getByTestId(testId).first().waitFor({ timeout: SHOWS_MS });
      await t.shot(`narrow-${name}`);
      const { scrollWidth, innerWidth } = await pageWidth(t.page);
      expect(innerWidth).toBe(400);
      expect(scrollWidth, `the ${name} page is wider than the window`).toBeLessThanOrEqual(400);
    }
  });

  it('signs out: back to the sign-in page, and the API refuses the page', async (ctx) => {
    const t = await browser.open(ctx);
    await signIn(t.page, cluster);
    expect(await statusFromPage(t.page, '/api/v1/state')).toBe(200);
    await t.page.getByTestId('sign-out').click();
    await t.page.getByTestId('token').waitFor({ timeout: SHOWS_MS });
    expect(await t.page.getByTestId('principal').count()).toBe(0);
    await t.shot('signed-out');
    expect(await statusFromPage(t.page, '/api/v1/state')).toBe(401);
    await t.page.reload();
    await t.page.getByTestId('token').waitFor({ timeout: SHOWS_MS });
    expect(await t.page.context().cookies()).toEqual([]);
  });
});
