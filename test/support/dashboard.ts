// The dashboard's browser tests' vocabulary over a real `agora up`: sign in as a user does (the
// token from the data directory, typed into the sign-in page), go to a page by its hash route,
// apply workloads through the CLI, read the Jobs API to know what the page should show.
//
//   const t = await browser.open(ctx);
//   await signIn(t.page, cluster);
//   await visit(t.page, cluster, ['services', 'web']);
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { runCli, startUpProcess, type UpProcess } from './cli.js';
import { tempDir } from './tmp.js';
import { eventually } from './waits.js';

/** How long a page has to show what the API already says (the live streams, a reload, a render). */
export const SHOWS_MS = 15_000;

export interface DashboardCluster {
  readonly up: UpProcess;
  readonly dataDir: string;
  readonly token: string;
  /** The master's server certificate (PEM), for the browser to pin. */
  readonly serverCert: Buffer;
}

/** `agora up` with room for a few services, a cron run and a job; resolves once the Jobs API answers. */
export async function startDashboardCluster(): Promise<DashboardCluster> {
  const dataDir = await tempDir('dashboard-up');
  const up = await startUpProcess(dataDir, 30_000, 'cpus:4;mem:4096;disk:4096');
  await eventually(async () => (await up.fetch(`${up.masterUrl}/api/v1/services`)).status === 200, { timeoutMs: 20_000, what: 'the Jobs API' });
  const token = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
  return { up, dataDir, token, serverCert: readFileSync(path.join(dataDir, 'tls', 'server.pem')) };
}

/**
 * Apply a spec (YAML) through the CLI; a service's deployment is followed to its end. `warning`:
 * the one warning apply must print (a spec no agent could take), else it must print none.
 */
export async function apply(cluster: DashboardCluster, spec: string, warning?: RegExp): Promise<string> {
  const r = await runCli(['apply', '-f', '-', '--master', cluster.up.masterUrl, '--timeout', '60s'], { stdin: spec, timeoutMs: 70_000 });
  expect(r.code, r.stderr).toBe(0);
  if (warning) expect(r.stderr).toMatch(new RegExp(`^warning: ${warning.source}[^\\n]*\\n$`));
  else expect(r.stderr).toBe('');
  return r.stdout;
}

/** GET a master or Jobs API path as the cluster's admin, as JSON. */
export async function api<T>(cluster: DashboardCluster, apiPath: string): Promise<T> {
  const res = await cluster.up.fetch(`${cluster.up.masterUrl}${apiPath}`);
  if (res.status !== 200) throw new Error(`GET ${apiPath}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * Sign in through the sign-in page, as a user does; resolves once the shell shows who is signed in
 * and follows the event streams. (Waiting for `live` also means the shell's effects have run — its
 * hash-route listener among them: a route set before that is not seen.)
 */
export async function signIn(page: Page, cluster: DashboardCluster): Promise<void> {
  await page.goto(`${cluster.up.masterUrl}/`);
  await page.getByTestId('token').fill(cluster.token);
  await page.getByTestId('sign-in').click();
  await page.getByTestId('principal').waitFor({ state: 'attached', timeout: SHOWS_MS }); // hidden in a narrow window
  await expect.poll(() => textOf(page.getByTestId('live')), { timeout: SHOWS_MS }).toBe('live');
}

/** Go to a page by its hash route (#/services/web), without reloading the app. */
export async function visit(page: Page, cluster: DashboardCluster, parts: readonly string[]): Promise<void> {
  const hash = `#/${parts.map(encodeURIComponent).join('/')}`;
  if (page.url().startsWith(cluster.up.masterUrl)) await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  else await page.goto(`${cluster.up.masterUrl}/${hash}`);
}

/** The status of a GET the page makes with its own credentials (the session cookie, if any). */
export function statusFromPage(page: Page, apiPath: string): Promise<number> {
  return page.evaluate<number>(`fetch(${JSON.stringify(apiPath)}, { headers: { 'x-agora-request': 'dashboard' } }).then((r) => r.status)`);
}

/** Mark the page's window; `stillMarked` is true until the page is reloaded or left. */
export async function markWindow(page: Page): Promise<void> {
  await page.evaluate('window.agoraTestMark = true');
}
export function stillMarked(page: Page): Promise<boolean> {
  return page.evaluate<boolean>('window.agoraTestMark === true');
}

/** The element's text, trimmed ('' when it is not there yet). */
export async function textOf(locator: Locator): Promise<string> {
  return ((await locator.count()) > 0 ? ((await locator.first().textContent()) ?? '') : '').trim();
}

/** How wide the page is and its window (the page's code is a string: these files have no DOM types). */
export function pageWidth(page: Page): Promise<{ scrollWidth: number; innerWidth: number }> {
  return page.evaluate<{ scrollWidth: number; innerWidth: number }>('({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })');
}

/** Click an action and, if it asks first, confirm. */
export async function act(page: Page, testId: string): Promise<void> {
  await page.getByTestId(testId).click();
  const confirm = page.getByTestId('confirm');
  if (await confirm.isVisible().catch(() => false)) await confirm.click();
}

export interface TaskRow {
  readonly id: string;
  readonly frameworkId: string;
  readonly agentId: string;
  readonly state: string;
  readonly labels?: Record<string, string>;
}

/** A running task of the service `name`, from the master's task list. */
export async function runningTaskOf(cluster: DashboardCluster, name: string): Promise<TaskRow> {
  return (await eventually(
    async () => {
      const { tasks } = await api<{ tasks: TaskRow[] }>(cluster, '/api/v1/tasks');
      return tasks.find((t) => t.labels?.['agora.service'] === name && t.state === 'TASK_RUNNING') ?? false;
    },
    { timeoutMs: 20_000, what: `a running task of service ${name}` },
  )) as TaskRow;
}

/** A shell loop printing a numbered line every `everyMs`: a task whose output grows. */
export function tickerCommand(word: string, everyMs = 200): string {
  return `i=0; while true; do i=$((i+1)); echo ${word} $i; sleep ${everyMs / 1000}; done`;
}

export function serviceSpec(name: string, command: string, instances = 1): string {
  return ['kind: Service', `name: ${name}`, `instances: ${instances}`, `command: ${JSON.stringify(command)}`, 'resources: { cpus: 0.1, mem: 32 }', ''].join('\n');
}
