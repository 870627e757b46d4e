// Health checks against real servers and commands: HTTP (a server flipped from 200 to 500), TCP
// and sandbox commands (run as the task's user); the schedule (delay, interval, grace period,
// consecutive failures) on a FakeClock, the probes on real sockets and processes.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { HealthChecker, type CheckOutcome, type HealthCheckTarget } from '../../agent/health/index.js';
import type { HealthCheck__Output } from '../../proto/index.js';
import { removeDir, tempDir } from '../support/tmp.js';
import { NOBODY } from '../support/users.js';
import { eventually } from '../support/waits.js';

let sandbox: string;
let server: http.Server;
let httpPort: number;
let status = 200;
const checkers: HealthChecker[] = [];

beforeAll(async () => {
  sandbox = await tempDir('health-checks');
  // As the agent makes a sandbox: the task's user's, 0700.
  fs.chownSync(sandbox, NOBODY.uid, NOBODY.gid);
  fs.chmodSync(sandbox, 0o700);
  server = http.createServer((req, res) => {
    res.statusCode = req.url === '/health' ? status : 404;
    res.end();
  });
  httpPort = await listen(server);
});

afterEach(() => {
  for (const c of checkers.splice(0)) c.stop();
  status = 200;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  removeDir(sandbox);
});

function listen(s: http.Server | net.Server): Promise<number> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as net.AddressInfo).port)));
}

function healthCheck(overrides: Partial<HealthCheck__Output>): HealthCheck__Output {
  return { type: 'CHECK_TYPE_UNSPECIFIED', http: null, tcp: null, command: null, ...overrides };
}

const httpCheck = (extra: Partial<HealthCheck__Output> = {}, statuses: number[] = []): HealthCheck__Output =>
  healthCheck({ type: 'HTTP', http: { scheme: '', port: 0, portName: 'web', path: '/health', statuses }, ...extra });

/** Fast real-time settings: no delay, 30 ms between checks, no grace. */
const fast = { delaySeconds: 0, intervalSeconds: 0.03, timeoutSeconds: 2, gracePeriodSeconds: 0 };

interface Recorder {
  results: [boolean, string][];
  failed: string[];
  checks: CheckOutcome[];
  /** Resolves with the next check's outcome. */
  next(): Promise<CheckOutcome>;
}

function run(check: HealthCheck__Output, target: Partial<HealthCheckTarget> = {}, clock?: FakeClock): Recorder {
  const rec: Recorder = { results: [], failed: [], checks: [], next: () => new Promise((resolve) => waiters.push(resolve)) };
  const waiters: ((o: CheckOutcome) => void)[] = [];
  const checker = new HealthChecker({
    check,
    target: { sandbox, env: {}, ports: [{ number: httpPort, name: 'web' }], user: NOBODY, ...target },
    ...(clock ? { clock } : {}),
    onResult: (healthy, message) => rec.results.push([healthy, message]),
    onFailed: (message) => rec.failed.push(message),
    onCheck: (o) => {
      rec.checks.push(o);
      for (const w of waiters.splice(0)) w(o);
    },
  });
  checkers.push(checker.start());
  return rec;
}

async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  await eventually(check, { what, timeoutMs, intervalMs: 10 });
}

describe('HTTP health checks', () => {
  it('reports healthy, then unhealthy when the server turns to 500, then fails after consecutive failures', async () => {
    // The schedule on a FakeClock: each check runs when the clock reaches it, the probe for real.
    const clock = new FakeClock();
    const rec = run(httpCheck({ ...fast, consecutiveFailures: 3 }), {}, clock);
    const nextCheck = async (n: number, ms = 30): Promise<void> => {
      clock.advance(ms);
      await until(() => rec.checks.length === n, `check ${n}`);
    };
    await nextCheck(1, 0);
    await nextCheck(2);
    await nextCheck(3);
    expect(rec.results).toEqual([[true, `HTTP GET http://127.0.0.1:${httpPort}/health returned 200`]]);
    status = 500;
    for (const n of [4, 5, 6]) await nextCheck(n);
    expect(rec.failed).toHaveLength(1);
    expect(rec.results.map(([h]) => h)).toEqual([true, false]);
    expect(rec.results[1]?.[1]).toBe(`HTTP GET http://127.0.0.1:${httpPort}/health returned 500`);
    expect(rec.checks.slice(-3).map((c) => c.consecutiveFailures)).toEqual([1, 2, 3]);
    // Checking stopped: no check is scheduled, and a second of the checker's time runs none.
    expect(clock.pending()).toBe(0);
    clock.advance(1000);
    expect(rec.checks).toHaveLength(6);
  });

  it('recovers: a success between failures resets the count', async () => {
    const rec = run(httpCheck({ ...fast, consecutiveFailures: 5 }));
    await until(() => rec.results.length === 1, 'healthy');
    status = 503;
    await until(() => rec.checks.at(-1)?.consecutiveFailures === 2, 'two failures');
    status = 200;
    await until(() => rec.results.length === 3, 'healthy again');
    expect(rec.results.map(([h]) => h)).toEqual([true, false, true]);
    expect(rec.checks.at(-1)?.consecutiveFailures).toBe(0);
    expect(rec.failed).toEqual([]);
  });

  it('uses the given healthy statuses instead of 200-399', async () => {
    const rec = run(httpCheck({ ...fast }, [204]));
    const outcome = await rec.next();
    expect(outcome).toMatchObject({ healthy: false, message: expect.stringContaining('returned 200') });
  });

  it('checks an IPv6 host (an agent advertising one) with the address in brackets', async () => {
    const v6 = http.createServer((_req, res) => res.end());
    const port = await new Promise<number>((resolve) => v6.listen(0, '::1', () => resolve((v6.address() as net.AddressInfo).port)));
    try {
      const outcomes: CheckOutcome[] = [];
      const checker = new HealthChecker({
        check: httpCheck({ ...fast }),
        target: { sandbox, env: {}, ports: [{ number: port, name: 'web' }], user: NOBODY },
        host: '::1',
        onResult: () => undefined,
        onFailed: () => undefined,
        onCheck: (o) => outcomes.push(o),
      });
      checkers.push(checker.start());
      await until(() => outcomes.length > 0, 'a check');
      expect(outcomes[0]).toMatchObject({ healthy: true, message: `HTTP GET http://[::1]:${port}/health returned 200` });
    } finally {
      await new Promise((resolve) => v6.close(resolve));
    }
  });

  it('fails, saying why, when the port cannot be resolved', async () => {
    const rec = run(healthCheck({ ...fast, http: { scheme: '', port: 0, portName: 'admin', path: '', statuses: [] } }));
    expect(await rec.next()).toEqual({ healthy: false, ignored: false, consecutiveFailures: 1, message: "the task has no port named 'admin'" });
  });

  it('times out a check that hangs', async () => {
    const hanging = net.createServer(() => undefined); // accepts, never answers
    const port = await listen(hanging);
    try {
      const rec = run(httpCheck({ ...fast, timeoutSeconds: 0.2 }), { ports: [{ number: port, name: 'web' }] });
      const t0 = Date.now();
      const outcome = await rec.next();
      expect(Date.now() - t0).toBeGreaterThanOrEqual(180);
      expect(outcome.message).toBe(`HTTP GET http://127.0.0.1:${port}/health failed: timed out after 0.2 s`);
    } finally {
      hanging.close();
    }
  });
});

describe('TCP health checks', () => {
  it('is healthy while something listens on the port at port_index, unhealthy once it stops', async () => {
    const listener = net.createServer((s) => s.destroy());
    const port = await listen(listener);
    const rec = run(healthCheck({ ...fast, type: 'TCP', tcp: { port: 0, portIndex: 1, portName: '' } }), {
      ports: [{ number: httpPort }, { number: port }],
    });
    await until(() => rec.results.length === 1, 'healthy');
    expect(rec.results[0]).toEqual([true, `TCP connect to 127.0.0.1:${port} succeeded`]);
    await new Promise((resolve) => listener.close(resolve));
    await until(() => rec.results.length === 2, 'unhealthy');
    expect(rec.results[1]).toEqual([false, `TCP connect to 127.0.0.1:${port} failed: ECONNREFUSED`]);
  });
});

describe('command health checks', () => {
  const command = (value: string): HealthCheck__Output['command'] => ({ value, arguments: [], environment: { variables: [{ name: 'EXTRA', value: 'x' }] }, user: '', uris: [] });

  it('runs in the sandbox with the task env: exit 0 is healthy', async () => {
    fs.rmSync(path.join(sandbox, 'ok'), { force: true });
    const rec = run(healthCheck({ ...fast, type: 'COMMAND', command: command('[ "$MODE$EXTRA" = livex ] && test -f ok') }), { env: { MODE: 'live' } });
    await until(() => rec.results.length === 1, 'a result');
    expect(rec.results[0]?.[0]).toBe(false);
    fs.writeFileSync(path.join(sandbox, 'ok'), '');
    await until(() => rec.results.length === 2, 'healthy');
    expect(rec.results[1]).toEqual([true, 'health check command exited with status 0']);
  });

  it("runs as the task's user: its ids, its groups, its files", async () => {
    fs.rmSync(path.join(sandbox, 'who'), { force: true });
    const rec = run(healthCheck({ ...fast, type: 'COMMAND', command: command('id -u > who; id -g >> who; id -G >> who; ! cat /etc/shadow 2>/dev/null') }));
    expect(await rec.next()).toMatchObject({ healthy: true });
    expect(fs.readFileSync(path.join(sandbox, 'who'), 'utf8')).toBe(`${NOBODY.uid}\n${NOBODY.gid}\n${NOBODY.groups.join(' ')}\n`);
    expect(fs.statSync(path.join(sandbox, 'who')).uid).toBe(NOBODY.uid);
  });

  it('reports the output of a failing command and kills one that overruns its timeout', async () => {
    const failing = run(healthCheck({ ...fast, type: 'COMMAND', command: command('echo not ready >&2; exit 4') }));
    expect((await failing.next()).message).toBe('health check command exited with status 4: not ready');
    const slow = run(healthCheck({ ...fast, timeoutSeconds: 0.2, type: 'COMMAND', command: command('echo $$ > slow.pid; sleep 5') }));
    const outcome = await slow.next();
    expect(outcome).toMatchObject({ healthy: false, message: 'timed out after 0.2 s' });
    const pid = Number(fs.readFileSync(path.join(sandbox, 'slow.pid'), 'utf8'));
    await until(() => !fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '), 'the command to be killed');
  });
});

describe('health check schedule (FakeClock)', () => {
  it('waits delay_seconds (default 15) before the first check, then checks every interval_seconds (default 10)', async () => {
    const clock = new FakeClock();
    const rec = run(httpCheck(), {}, clock);
    const t0 = clock.now();
    await clock.advanceAsync(14_999);
    expect(rec.checks).toHaveLength(0);
    const first = rec.next();
    await clock.advanceAsync(1);
    await first;
    expect(clock.now() - t0).toBe(15_000);
    await clock.advanceAsync(9_999);
    expect(rec.checks).toHaveLength(1);
    const second = rec.next();
    await clock.advanceAsync(1);
    await second;
    expect(rec.checks).toHaveLength(2);
  });

  it('ignores failures inside the grace period until the first success, then counts them', async () => {
    status = 500;
    const clock = new FakeClock();
    // delay 1 s, interval 2 s, grace 10 s (default), 3 consecutive failures (default).
    const rec = run(httpCheck({ delaySeconds: 1, intervalSeconds: 2 }), {}, clock);
    const times: number[] = [];
    const t0 = clock.now();
    for (let i = 0; i < 8 && rec.failed.length === 0; i++) {
      const next = rec.next();
      await clock.advanceAsync(i === 0 ? 1_000 : 2_000);
      const outcome = await next;
      times.push((clock.now() - t0) / 1000);
      if (outcome.ignored) expect(rec.results).toEqual([]);
    }
    // Checks at 1, 3, 5, 7, 9 s are ignored; 11, 13, 15 s count; the third fails the task.
    expect(times).toEqual([1, 3, 5, 7, 9, 11, 13, 15]);
    expect(rec.checks.map((c) => c.ignored)).toEqual([true, true, true, true, true, false, false, false]);
    expect(rec.results).toEqual([[false, `HTTP GET http://127.0.0.1:${httpPort}/health returned 500`]]);
    expect(rec.failed).toHaveLength(1);
    expect(clock.pending()).toBe(0);
  });

  it('counts failures inside the grace period once the task has been healthy', async () => {
    const clock = new FakeClock();
    const rec = run(httpCheck({ delaySeconds: 0, intervalSeconds: 1, consecutiveFailures: 2, gracePeriodSeconds: 60 }), {}, clock);
    let next = rec.next();
    await clock.advanceAsync(1);
    expect((await next).healthy).toBe(true);
    status = 500;
    for (let i = 0; i < 2; i++) {
      next = rec.next();
      await clock.advanceAsync(1_000);
      expect(await next).toMatchObject({ healthy: false, ignored: false, consecutiveFailures: i + 1 });
    }
    expect(rec.results.map(([h]) => h)).toEqual([true, false]);
    expect(rec.failed).toHaveLength(1);
  });
});
