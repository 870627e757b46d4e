// Reading /metrics as Prometheus would, and judging it with Prometheus's own linter: Debian's
// `prometheus` package ships `promtool` (scripts/test-services.mjs installs it).
//
//   const m = await scrape(master.httpAddress);      // GET https://…/metrics as the test admin
//   m.value('agora_master_leader')                   // one sample; throws if absent
//   m.has('agora_agents')                            // any sample of the family
//   expect(promtool('check', 'metrics').on(m.text)).toEqual({ status: 0, output: '' });
import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import { secureFetch } from './security.js';

export const PROMTOOL = '/usr/bin/promtool';

export interface Scrape {
  readonly text: string;
  /** The value of one series, written as exposed: `name` or `name{a="x",b="y"}`. Throws if absent. */
  value(series: string): number;
  /** The value of one series, or undefined. */
  find(series: string): number | undefined;
  /** Does any sample of this metric (family or series) exist? */
  has(name: string): boolean;
}

export function parseScrape(text: string): Scrape {
  const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const find = (series: string): number | undefined => {
    const line = lines.find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
  return {
    text,
    find,
    value(series) {
      const v = find(series);
      if (v === undefined) throw new Error(`no ${series} in /metrics:\n${text}`);
      return v;
    },
    has: (name) => lines.some((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`)),
  };
}

/** GET /metrics over HTTPS as the test admin; expects 200 and Prometheus's text format. */
export async function scrape(address: string): Promise<Scrape> {
  const res = await secureFetch(`https://${address}/metrics`, { redirect: 'manual' });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return parseScrape(text);
}

/** `promtool <args…>` with `input` on stdin: its exit status and everything it printed. */
export function promtool(...args: string[]): { on(input?: string): { status: number | null; output: string } } {
  return {
    on(input) {
      const r = spawnSync(PROMTOOL, args, { input: input ?? '', encoding: 'utf8', timeout: 30_000 });
      if (r.error) throw r.error;
      return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
    },
  };
}

/** promtool check metrics passes the exposition with nothing to say. */
export function expectLintClean(m: Scrape): void {
  expect(promtool('check', 'metrics').on(m.text)).toEqual({ status: 0, output: '' });
}
