// Headless Chromium for the dashboard's tests: Debian's `chromium` (scripts/test-services.mjs
// installs it) driven by playwright-core. One browser per test file, a fresh context (cookies,
// storage) per test, screenshots kept as artefacts under test-results/dashboard/.
//
//   const browser = await launchBrowser({ trust: [readFileSync(path.join(dataDir, 'tls', 'server.pem'))] });
//   it('…', async (ctx) => {
//     const t = await browser.open(ctx);           // closed when the test finishes
//     await t.page.goto(up.masterUrl);
//     await t.shot('signed-in');                   // test-results/dashboard/<test>-signed-in.png
//   });
//   afterAll(() => browser.close());
//
// On a failure the test's page is saved (<test>-failure.png) with its console errors and failed
// requests (<test>-console.txt), and the paths are printed.
//
// TLS: the cluster's certificate is trusted by pinning its key, not by ignoring every TLS error.
// Chromium's --ignore-certificate-errors-spki-list takes the base64 SHA-256 of a certificate's
// SubjectPublicKeyInfo and accepts a chain whose leaf has that key (the flag needs a user data
// directory, which playwright always gives it). We pin the master's own server certificate
// (<data-dir>/tls/server.pem): any other certificate — another host's, a forged one — still fails,
// which playwright's ignoreHTTPSErrors would not check. Importing the run's CA into an NSS database
// would be closer to what a user does, but needs certutil and a profile per run for no more trust.
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { TestContext } from 'vitest';
import { REPO_ROOT } from './agent-harness.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTEFACTS = path.join(REPO_ROOT, 'test-results', 'dashboard');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/** The base64 SHA-256 of the SubjectPublicKeyInfo of a certificate (PEM), as Chromium's pin list takes it. */
export function spkiPin(pem: string | Buffer): string {
  const der = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

export interface BrowserOptions {
  /** The server certificates to trust (PEM), pinned by key. */
  readonly trust?: readonly (string | Buffer)[];
}

export interface LaunchedBrowser {
  readonly browser: Browser;
  /** A page in a fresh context for this test, closed (and saved if the test failed) when it finishes. */
  open(ctx: TestContext, options?: PageOptions): Promise<BrowserTest>;
  close(): Promise<void>;
}

export interface PageOptions {
  readonly width?: number;
  readonly height?: number;
}

/** The browser of a test file. */
export async function launchBrowser(options: BrowserOptions = {}): Promise<LaunchedBrowser> {
  const pins = (options.trust ?? []).map(spkiPin);
  const args = pins.length > 0 ? [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${pins.join(',')}`] : CHROMIUM_ARGS;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args });
  return {
    browser,
    open: (ctx, opts) => BrowserTest.open(browser, ctx, opts),
    close: () => browser.close(),
  };
}

/** One test's page: its context, its screenshots, what its console said. */
export class BrowserTest {
  readonly #problems: string[] = [];

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    private readonly name: string,
  ) {
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') this.#problems.push(`console.${m.type()}: ${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (err) => this.#problems.push(`pageerror: ${err.stack ?? err.message}`));
    page.on('requestfailed', (r) => this.#problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`));
  }

  static async open(browser: Browser, ctx: TestContext, opts: PageOptions = {}): Promise<BrowserTest> {
    const context = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 } });
    const t = new BrowserTest(context, await context.newPage(), slug(ctx.task.name));
    ctx.onTestFinished(async () => {
      if (ctx.task.result?.state === 'fail') await t.saveFailure();
      await context.close();
    });
    return t;
  }

  /** Console errors and warnings, uncaught exceptions and failed requests so far. */
  problems(): readonly string[] {
    return this.#problems;
  }

  /** A full-page screenshot, test-results/dashboard/<test>-<step>.png; returns its path. */
  async shot(step: string): Promise<string> {
    mkdirSync(ARTEFACTS, { recursive: true });
    const file = path.join(ARTEFACTS, `${this.name}-${slug(step)}.png`);
    await this.page.screenshot({ path: file, type: 'png', fullPage: true });
    return file;
  }

  private async saveFailure(): Promise<void> {
    mkdirSync(ARTEFACTS, { recursive: true });
    const png = path.join(ARTEFACTS, `${this.name}-failure.png`);
    const log = path.join(ARTEFACTS, `${this.name}-console.txt`);
    const saved = await this.page.screenshot({ path: png, type: 'png', fullPage: true }).then(
      () => png,
      (err: unknown) => `no screenshot (${String(err)})`,
    );
    writeFileSync(log, `${this.page.url()}\n${this.#problems.join('\n')}\n`);
    console.error(`dashboard test failed: ${this.name}\n  screenshot: ${saved}\n  console:    ${log} (${this.#problems.length} line(s))`);
  }
}

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 60) || 'test'
  );
}
