// `npm run bench -- dashboard [--tasks 1000] [--baseline 10] [--batch 100] [--batch-every-ms 100]`:
// whether the dashboard's tasks page stays responsive with many tasks. A real master and agent in
// this process whose tasks cost nothing (the SDK testing kit's startTestCluster: the fake executor,
// tasks end when the bench says), a framework holding N running tasks, and the page in headless
// Chromium (test/support/browser.ts), signed in by the session cookie. Measured in the page:
//
//   list_ms      navigation start → the first task row in the DOM (#/tasks loaded from scratch)
//   filter_ms    typing a task's id into the `filter-q` box → the list showing that one row;
//                the box waits SEARCH_PAUSE_MS (300 ms) for typing to pause before asking, so
//   filter_after_pause_ms  is what the page takes once the typing paused: filter_ms less that
//   longtask_ms  the main thread's longest task (PerformanceObserver 'longtask', ≥ 50 ms by
//                definition; 0 when none) while every task ends: N status updates in batches
//   settle_ms    first update sent → no row of the list says running any more
//
// The same with --baseline tasks first, on a fresh cluster, as the baseline of the same run.
// Targets (issue 21): list < 1 s, filter < 200 ms once typing paused, no long task > 200 ms.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { grpcChannelCredentials } from '../core/security/tls.js';
import { startTestCluster, type TestCluster } from '../sdk/testing/index.js';
import { launchBrowser, type LaunchedBrowser } from '../test/support/browser.js';
import { SEARCH_PAUSE_MS } from '../web/pages/cluster-model.js';
import { TestFramework, taskInfo } from '../test/support/test-framework.js';

const ROW = '[data-testid^="task-row-"]';

// Runs in the page before its scripts: long tasks, and each change of the number of task rows with its time.
const PROBE = `
window.__bench = { rows: [], long: [] };
new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__bench.long.push({ start: e.startTime, duration: e.duration }); })
  .observe({ type: 'longtask', buffered: true });
let last = -1;
new MutationObserver(() => {
  const n = document.querySelectorAll('${ROW}').length;
  if (n !== last) { last = n; window.__bench.rows.push([performance.now(), n]); }
}).observe(document, { childList: true, subtree: true });
`;

interface Probe {
  rows: [number, number][];
  long: { start: number; duration: number }[];
}

export async function run(argv: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({ args: argv, options: { tasks: { type: 'string', default: '1000' }, baseline: { type: 'string', default: '10' }, batch: { type: 'string', default: '100' }, 'batch-every-ms': { type: 'string', default: '100' } } });
  const tasks = positive(values.tasks, '--tasks');
  const baseline = positive(values.baseline, '--baseline');
  const pacing = { batch: positive(values.batch, '--batch'), everyMs: positive(values['batch-every-ms'], '--batch-every-ms') };
  const small = await measure(baseline, pacing);
  const large = await measure(tasks, pacing);
  return {
    tasks,
    baseline_tasks: baseline,
    ...large,
    ...Object.fromEntries(Object.entries(small).map(([k, v]) => [`baseline_${k}`, v])),
    targets: { list_ms: 1000, filter_after_pause_ms: 200, longtask_ms: 200 },
  };
}

async function measure(n: number, pacing: { batch: number; everyMs: number }): Promise<Record<string, number | boolean>> {
  process.stderr.write(`dashboard: a cluster with ${n} running task(s)\n`);
  // Pings every second, as a real cluster's (the kit's 100 ms × 10 let an agent busy launching 1,000 tasks look unreachable).
  const master = { agentPingInterval: '1s', maxAgentPingTimeouts: 10 };
  const cluster = await startTestCluster({ master, agents: [{ resources: `cpus:${Math.max(8, n)};mem:${Math.max(8192, n * 16)};disk:1024;ports:[31000-31099]` }] });
  const fw = await TestFramework.subscribe(cluster.masterAddress, { name: 'bench-dashboard', autoAck: true, credentials: grpcChannelCredentials({ ca: cluster.security.ca }, cluster.security.adminToken) });
  let browser: LaunchedBrowser | undefined;
  try {
    const ids = await launchTasks(cluster, fw, n);
    browser = await launchBrowser({ trust: [cluster.security.masterTls.cert] });
    const page = await signedInPage(browser, `https://${cluster.masterHttpAddress}`, cluster.security.adminToken);
    const list = await timeList(page, `https://${cluster.masterHttpAddress}`);
    const filter = await timeFilter(page, ids[Math.floor(n / 2)] ?? '', list.rows);
    const updates = await timeUpdates(page, cluster, ids, pacing);
    return { ...list, ...filter, ...updates };
  } finally {
    await browser?.close();
    await fw.close();
    await cluster.stop();
  }
}

/** Launch `n` tasks (ids t-0000…) on the fake executor and wait until all run. */
async function launchTasks(cluster: TestCluster, fw: TestFramework, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `t-${String(i).padStart(4, '0')}`);
  for (let i = 0; i < n; i += 100) {
    const offer = await fw.nextOffer({ timeoutMs: 10_000 });
    await fw.launch(offer, ids.slice(i, i + 100).map((id) => taskInfo(id, 'cpus:0.5;mem:8', { command: { value: 'true' } })), { refuseSeconds: 0 });
  }
  await until(() => cluster.runningTasks().length === n && ids.every((id) => cluster.taskState(id) === 'TASK_RUNNING'), 60_000, `${n} tasks running`);
  return ids;
}

async function signedInPage(browser: LaunchedBrowser, url: string, token: string): Promise<Page> {
  const context = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(PROBE);
  const page = await context.newPage();
  // The session cookie, set by the page itself (the browser trusts the cluster's certificate; node's requests would not).
  await page.goto(`${url}/`);
  const body = JSON.stringify({ token });
  const status = await page.evaluate<number>(`fetch('/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json', 'x-agora-request': 'dashboard' }, body: ${JSON.stringify(body)} }).then((r) => r.status)`);
  if (status !== 200) throw new Error(`sign-in: ${status}`);
  await page.goto('about:blank');
  return page;
}

async function timeList(page: Page, url: string): Promise<{ list_ms: number; rows: number }> {
  await page.goto(`${url}/#/tasks`);
  await waitInPage(page, `document.querySelectorAll('${ROW}').length > 0`);
  const probe = await read(page);
  const first = probe.rows.find(([, count]) => count > 0);
  return { list_ms: round(first?.[0] ?? NaN), rows: probe.rows.at(-1)?.[1] ?? 0 };
}

async function timeFilter(page: Page, id: string, rows: number): Promise<{ filter_ms: number; filter_after_pause_ms: number }> {
  const box = page.getByTestId('filter-q');
  const started = await page.evaluate<number>('performance.now()');
  await box.fill(id);
  await waitInPage(page, `document.querySelectorAll('${ROW}').length === 1`);
  const shown = (await read(page)).rows.find(([t, count]) => t >= started && count === 1);
  await box.fill('');
  await waitInPage(page, `document.querySelectorAll('${ROW}').length >= ${rows}`);
  const took = (shown?.[0] ?? NaN) - started;
  return { filter_ms: round(took), filter_after_pause_ms: round(took - SEARCH_PAUSE_MS) };
}

async function timeUpdates(page: Page, cluster: TestCluster, ids: readonly string[], pacing: { batch: number; everyMs: number }): Promise<Record<string, number | boolean>> {
  await page.evaluate('window.__bench.long = []');
  const startedAt = await page.evaluate<number>('performance.now()');
  const started = performance.now();
  for (let i = 0; i < ids.length; i += pacing.batch) {
    for (const id of ids.slice(i, i + pacing.batch)) cluster.finish(id);
    await new Promise((resolve) => setTimeout(resolve, pacing.everyMs));
  }
  await until(() => ids.every((id) => cluster.taskState(id) !== 'TASK_RUNNING'), 60_000, 'every task finished');
  const settled = await waitInPage(page, `![...document.querySelectorAll('${ROW}')].some((r) => /running/i.test(r.textContent))`).then(
    () => true,
    () => false,
  );
  const settleMs = performance.now() - started;
  const long = (await read(page)).long.filter((e) => e.start >= startedAt);
  return { longtask_ms: round(Math.max(0, ...long.map((e) => e.duration))), longtasks: long.length, settle_ms: round(settleMs), settled };
}

/**
 * Until `expression` is true in the page (polled from here: the page's CSP forbids the eval that
 * waitForFunction's string form needs). The figures come from the page's own probe, not from this.
 */
async function waitInPage(page: Page, expression: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate<boolean>(expression))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting in the page for ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function read(page: Page): Promise<Probe> {
  return page.evaluate<Probe>('window.__bench');
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function positive(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new Error(`${flag}: a whole number from 1 to 100000, not '${text}'`);
  return n;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
