// Runs fuzz cases against a FuzzTarget and judges each one:
//   - an answer came (within REQUEST_DEADLINE_MS), and the process is still up;
//   - a rejection is a 4xx with { code, message } (HTTP) or an INVALID_ARGUMENT-family status with
//     a message (gRPC) — never 5xx / INTERNAL / UNKNOWN;
//   - /health answers within a second, right after the case and throughout (polled concurrently);
//   - the cluster's normalised state is what it was, after a rejected input or any read;
//   - the test's own checks (e.g. nothing outside a sandbox is ever served).
//
//   const session = new FuzzSession(target, { snapshot, cleanup });
//   const report = await runFuzz('master HTTP', session, caseArbitrary, settings);
//   expect(report.failures).toEqual([]);     // report.text says what failed, with the seed
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, type FuzzSettings } from './fuzz.js';
import type { FuzzCase, FuzzTarget, Outcome } from './fuzz-target.js';

export type ViolationKind = 'no-answer' | 'server-error' | 'unexpected-status' | 'no-message' | 'unhealthy' | 'process-exited' | 'state-changed' | 'sandbox-escape';

export interface Violation {
  readonly kind: ViolationKind;
  readonly detail: string;
}

export interface Verdict {
  readonly c: FuzzCase;
  readonly outcome: Outcome | undefined;
  readonly violations: readonly Violation[];
  /** Error lines the process logged during the case (stacks of failed handlers). */
  readonly serverLog: readonly string[];
}

export interface SessionOptions {
  /** The cluster's state with what moves by itself stripped out. */
  readonly snapshot: (target: FuzzTarget) => Promise<unknown>;
  /** Undo an accepted case where possible (delete what it created). */
  readonly cleanup?: (target: FuzzTarget, c: FuzzCase, o: Outcome) => Promise<void>;
  /** More checks on an answer. */
  readonly check?: (target: FuzzTarget, c: FuzzCase, o: Outcome) => Violation[];
  /** How long this case's stream may take to answer before it is judged open (the target's default otherwise). */
  readonly streamWaitMs?: (target: FuzzTarget, c: FuzzCase) => number | undefined;
}

const GRPC_REJECTIONS = new Set(['INVALID_ARGUMENT', 'NOT_FOUND', 'ALREADY_EXISTS', 'FAILED_PRECONDITION', 'OUT_OF_RANGE', 'RESOURCE_EXHAUSTED', 'ABORTED', 'PERMISSION_DENIED']);
const SETTLE_MS = { interval: 150, max: 6_000 };
/** AGORA_FUZZ_TRACE=1: one line per case on stderr (route, input, status, time). */
const TRACE = process.env['AGORA_FUZZ_TRACE'] === '1';

export class FuzzSession {
  #baseline: unknown;
  readonly counts = { sent: 0, accepted: 0, rejected: 0, unsent: 0, routes: new Map<string, number>() };
  /** When each case ran, to name the cases behind a background health problem. */
  readonly timeline: { from: number; to: number; what: string }[] = [];

  constructor(
    public target: FuzzTarget,
    readonly options: SessionOptions,
  ) {}

  /** Take the first baseline once the cluster is quiet. */
  async begin(): Promise<void> {
    this.#baseline = await this.settle();
  }

  /** The snapshot once two in a row agree (or the last one after SETTLE_MS.max). */
  async settle(): Promise<unknown> {
    const deadline = Date.now() + SETTLE_MS.max;
    let last = await this.options.snapshot(this.target);
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS.interval));
      const next = await this.options.snapshot(this.target);
      if (isDeepStrictEqual(next, last) || Date.now() > deadline) return next;
      last = next;
    }
  }

  /** The check's own check: send a write that must be accepted, say where the snapshot saw it, then undo it. */
  async changesMadeBy(c: FuzzCase): Promise<string[]> {
    const outcome = await this.target.send(c);
    if (!outcome.accepted) throw new Error(`${c.route} was refused: ${String(outcome.status)} ${outcome.message ?? outcome.transport ?? ''}`);
    const seen = differences(this.#baseline, await this.settle());
    await this.options.cleanup?.(this.target, c, outcome);
    this.#baseline = await this.settle();
    return seen;
  }

  async run(c: FuzzCase): Promise<Verdict> {
    const empty = (violations: Violation[] = []): Verdict => ({ c, outcome: undefined, violations, serverLog: [] });
    if (!this.target.alive) return empty([{ kind: 'process-exited', detail: 'the process had already exited' }]);
    const mark = this.target.log().length;
    const from = Date.now();
    const streamWaitMs = this.options.streamWaitMs?.(this.target, c);
    const outcome = await this.target.send(c, streamWaitMs === undefined ? {} : { streamWaitMs });
    this.timeline.push({ from, to: Date.now(), what: `${c.route} ${c.note}` });
    if (TRACE) process.stderr.write(`[fuzz] ${c.route} ${describe(c.note, 160)} ${c.via === 'grpc' ? describe(c.request ?? c.raw, 200) : describe(c.url, 200)} → ${String(outcome.status)} ${outcome.code ?? ''} ${describe(outcome.message ?? '', 100)} ${outcome.ms} ms\n`);
    if (outcome.unsent) {
      this.counts.unsent += 1;
      return empty();
    }
    this.counts.sent += 1;
    bump(this.counts.routes, c.route);
    if (outcome.accepted) this.counts.accepted += 1;
    else this.counts.rejected += 1;
    const violations = [...judge(c, outcome), ...(this.options.check?.(this.target, c, outcome) ?? [])];
    for (const p of await this.target.health.now()) violations.push({ kind: 'unhealthy', detail: `${p.url}: ${p.why}` });
    if (!this.target.alive) {
      violations.push({ kind: 'process-exited', detail: 'the process exited during the case' });
    } else {
      violations.push(...(await this.#compareState(c, outcome)));
    }
    const serverLog = errorLines(this.target.log().slice(mark));
    return { c, outcome, violations, serverLog };
  }

  async #compareState(c: FuzzCase, outcome: Outcome): Promise<Violation[]> {
    const reads = c.via === 'http' && (c.method === 'GET' || c.method === 'HEAD');
    if (outcome.accepted && !reads) {
      await this.options.cleanup?.(this.target, c, outcome);
      this.#baseline = await this.settle();
      return [];
    }
    let now: unknown;
    try {
      now = await this.options.snapshot(this.target);
    } catch (err) {
      return [{ kind: 'unhealthy', detail: `the state could not be read: ${(err as Error).message}` }];
    }
    if (isDeepStrictEqual(now, this.#baseline)) return [];
    const diff = differences(this.#baseline, now).join('; ');
    // Judge later cases on their own.
    this.#baseline = await this.settle();
    return [{ kind: 'state-changed', detail: `${reads ? 'a read' : 'a rejected input'} changed the state: ${diff}` }];
  }
}

/** The checks every answer gets. */
export function judge(c: FuzzCase, o: Outcome): Violation[] {
  // A server may answer a request over its limits before reading it all, and hang up: the client
  // then fails to write the rest. That is a refusal, not a hang.
  if (o.transport !== undefined && !(overLimit(c) && /EPIPE|ECONNRESET|other side closed/.test(o.transport))) return [{ kind: 'no-answer', detail: o.transport }];
  if (o.transport !== undefined) return [];
  if (c.via === 'http') {
    const status = o.status as number;
    if (c.expect !== undefined && status !== c.expect) return [{ kind: 'unexpected-status', detail: `expected ${c.expect}, got ${status} ${o.code ?? ''}`.trim() }];
    if (status >= 500) return [{ kind: 'server-error', detail: `${status} ${o.code ?? ''} ${o.message ?? ''}`.trim() }];
    if (o.accepted) return [];
    if (status < 400 || status === 401) return [{ kind: 'unexpected-status', detail: `${status}` }];
    if (!o.code || !o.message) return [{ kind: 'no-message', detail: `${status} without { code, message }: ${describe(o.text ?? '')}` }];
    return [];
  }
  if (o.accepted) return [];
  const status = String(o.status);
  if (status === 'INTERNAL' || status === 'UNKNOWN') return [{ kind: 'server-error', detail: `${status}: ${o.message ?? ''}` }];
  if (!GRPC_REJECTIONS.has(status)) return [{ kind: 'unexpected-status', detail: `${status}: ${o.message ?? ''}` }];
  if (!o.message) return [{ kind: 'no-message', detail: `${status} without details` }];
  return [];
}

// ---- running a property -------------------------------------------------------------------------

export interface FuzzReport {
  /** Distinct failures (by kind, route, status and message shape), each with one example. */
  readonly failures: readonly Verdict[];
  readonly text: string;
}

/**
 * Run `arbitrary`'s cases through the session with fast-check. CI (settings.seeds = 0): one seed,
 * the first failure shrunk to a minimal one. Survey (AGORA_FUZZ_SEEDS = n): n seeds, every failure
 * collected, nothing shrunk; a process that dies is started again with `revive`.
 */
export async function runFuzz(name: string, session: FuzzSession, arbitrary: fc.Arbitrary<FuzzCase>, settings: FuzzSettings, revive?: () => Promise<FuzzTarget>): Promise<FuzzReport> {
  const started = Date.now();
  // A target serves several runs (one per test): judge only what its health watch saw during this one.
  const watchAtStart = session.target.health;
  const problemsBefore = watchAtStart.problems.length;
  const distinct = new Map<string, Verdict>();
  const seeds = settings.seeds > 0 ? Array.from({ length: settings.seeds }, (_, i) => settings.seed + i) : [settings.seed];
  const lines: string[] = [];
  for (const seed of seeds) {
    let first: Verdict | undefined;
    let last: Verdict | undefined;
    const property = fc.asyncProperty(arbitrary, async (c) => {
      // After a crash every case fails alike: report the one that crashed it, do not shrink on.
      if (first?.violations.some((v) => v.kind === 'process-exited') && settings.seeds === 0) return;
      const verdict = await session.run(c);
      if (verdict.violations.length === 0) return;
      if (settings.seeds > 0) {
        record(distinct, verdict);
        if (!session.target.alive && revive) {
          session.target = await revive();
          await session.begin();
        }
        return;
      }
      first ??= verdict;
      last = verdict;
      throw new Error(formatVerdict(verdict));
    });
    const details = await fc.check(property, { seed, numRuns: settings.runs, interruptAfterTimeLimit: settings.budgetMs, markInterruptAsFailure: false });
    if (details.failed && first && last) {
      record(distinct, last);
      if (first !== last && signature(first) !== signature(last)) record(distinct, first);
      lines.push(`seed ${seed}: failed after ${details.numRuns} cases, shrunk ${details.numShrinks} times; replay with AGORA_FUZZ_SEED=${seed} (fast-check path ${details.counterexamplePath ?? '?'})`);
    } else {
      lines.push(`seed ${seed}: ${details.numRuns} cases${details.interrupted ? ' (stopped by the time budget)' : ''}`);
    }
  }
  const health = session.target.health;
  for (const p of health === watchAtStart ? health.problems.slice(problemsBefore) : health.problems) {
    const during = session.timeline.filter((t) => t.from <= p.at + p.ms && t.to >= p.at).map((t) => t.what);
    record(distinct, { c: { via: 'http', server: 'master', route: 'GET /health (background)', method: 'GET', url: '/health', note: `during: ${during.join(' | ') || 'between cases'}` }, outcome: undefined, violations: [{ kind: 'unhealthy', detail: `${p.url}: ${p.why}` }], serverLog: [] });
  }
  const failures = [...distinct.values()];
  const { counts } = session;
  const summary = [
    `${name}: ${counts.sent} cases in ${((Date.now() - started) / 1000).toFixed(1)} s (${counts.accepted} accepted, ${counts.rejected} rejected, ${counts.unsent} refused by the client), seed ${settings.seed}${settings.seeds > 0 ? `…${settings.seed + settings.seeds - 1}` : ''}`,
    `  /health: ${health.polls} polls, slowest ${health.slowestMs} ms`,
    `  routes: ${[...counts.routes].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ×${n}`).join(', ')}`,
    ...lines.map((l) => `  ${l}`),
  ];
  const text = [...summary, ...(failures.length > 0 ? [`${failures.length} distinct failure(s):`, ...failures.map(formatVerdict)] : [])].join('\n');
  return { failures, text };
}

function record(into: Map<string, Verdict>, v: Verdict): void {
  const key = signature(v);
  if (!into.has(key)) into.set(key, v);
}

/** What makes two failures the same: kind, route, status and the message with its particulars blurred. */
export function signature(v: Verdict): string {
  const blur = (s: string): string => s.replace(/'[^']*'|"[^"]*"/g, '…').replace(/\d+/g, '#').slice(0, 80);
  return v.violations.map((x) => `${x.kind} ${v.c.route} ${String(v.outcome?.status ?? '')} ${blur(v.outcome?.message ?? x.detail)}`).join(' + ');
}

export function formatVerdict(v: Verdict): string {
  const c = v.c;
  const where = c.via === 'http' ? `${c.method} ${clip(c.url)} (${c.server})` : `gRPC ${c.route}${c.raw ? ` raw ${Buffer.from(c.raw).toString('hex').slice(0, 120)}` : ''}`;
  const body = c.via === 'http' && c.body ? `\n    body:    ${c.body.note}: ${describe(typeof c.body.body === 'string' ? c.body.body : c.body.body === undefined ? undefined : Buffer.from(c.body.body).toString('utf8'), 300)}` : '';
  const request = c.via === 'grpc' && c.request ? `\n    request: ${describe(c.request, 300)}` : '';
  const o = v.outcome;
  const answer = o ? `${String(o.status)} ${o.code ?? ''} ${describe(o.message ?? o.transport ?? o.text ?? '', 300)} (${o.ms} ms)` : '—';
  return [
    `  - ${v.violations.map((x) => `[${x.kind}] ${x.detail}`).join('\n    ')}`,
    `    route:   ${c.route}`,
    `    case:    ${where}`,
    `    input:   ${clip(c.note)}${body}${request}`,
    `    answer:  ${answer}`,
    ...(v.serverLog.length > 0 ? [`    server:  ${v.serverLog.join('\n             ').slice(0, 3000)}`] : []),
  ].join('\n');
}

/** Past what servers read: Node's 16 KiB request head, the 4 MiB body limit. */
function overLimit(c: FuzzCase): boolean {
  if (c.via !== 'http') return false;
  const body = c.body?.body;
  return c.url.length > 16 * 1024 || (body !== undefined && Buffer.byteLength(body) > 4 * 1024 * 1024);
}

function clip(s: string, max = 240): string {
  return s.length > max ? `${s.slice(0, max)}…(${s.length} chars)` : s;
}

/** Log lines at level error or above, with the stack of the error they carry. */
function errorLines(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { stack?: string }; url?: string; method?: string };
      if ((entry.level ?? 0) >= 50) out.push(`${entry.msg ?? ''} ${entry.url ?? entry.method ?? ''}: ${entry.err?.stack ?? ''}`.trim());
    } catch {
      // not a log line
    }
  }
  return out;
}

/** Up to five paths where a and b differ, with both values. */
export function differences(a: unknown, b: unknown, at = '', out: string[] = []): string[] {
  if (out.length >= 5 || isDeepStrictEqual(a, b)) return out;
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`, out);
    return out;
  }
  out.push(`${at || '.'}: ${describe(a, 80)} → ${describe(b, 80)}`);
  return out;
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
