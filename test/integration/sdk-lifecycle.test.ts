// The driver's lifecycle against real masters: it keeps its process alive while it runs (a
// framework that is a child process survives a master restart), `closed` settles once with a typed
// error saying what to do, handlers get the driver and never run before start() resolves, and a
// stopped driver refuses everything at once.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthenticationRefusedError, DriverStoppedError, FrameworkDriver, MasterUnreachableError, silentLogger } from '../../sdk/index.js';
import { REPO_ROOT } from '../support/agent-harness.js';
import { MasterHarness, eventually, rejection, stopHarnesses } from '../support/master-harness.js';
import { freePort } from '../support/ports.js';
import { driverAccess, testPki } from '../support/security.js';
import { holdsFor } from '../support/waits.js';

const drivers: FrameworkDriver[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.allSettled(drivers.splice(0).map((d) => d.stop()));
  await stopHarnesses();
});

/** test/support/lifecycle-framework.ts as its own process; its output so far, and how it exited. */
function framework(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const script = path.join(REPO_ROOT, 'test/support/lifecycle-framework.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LF_CA: testPki().clientTls.ca.toString(), LF_TOKEN: testPki().adminToken, ...env },
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

const quick = { reconnect: { initialMs: 20, maxMs: 100 }, logger: silentLogger() };

describe('a framework process', () => {
  it('stays alive through a master restart, resubscribes, and exits by itself once stopped', async () => {
    const port = await freePort();
    const h = await MasterHarness.start({ store: 'file', master: { grpcPort: port } });
    const fw = framework({ LF_MASTER: h.address });
    await eventually(() => expect(fw.output()).toMatch(/^subscribed /m), { timeoutMs: 15_000, what: 'subscribed' });
    await h.master.stop();
    await eventually(() => expect(fw.output()).toMatch(/disconnected/), { what: 'disconnected' });
    // Nothing but the driver keeps it alive: before, Node exited here with status 0.
    await holdsFor(500, () => fw.child.exitCode === null, 'the framework process exits while its master is down');
    await h.restart();
    await eventually(() => expect(fw.output()).toMatch(/^resubscribed /m), { timeoutMs: 15_000, what: 'resubscribed' });
    fw.child.kill('SIGTERM'); // the script calls driver.stop() and nothing else
    expect(await fw.exited).toBe(0);
    expect(fw.output()).toMatch(/^closed$/m);
  });

  it('given a wrong master address, fails after the configured attempts with an error saying what to do', async () => {
    const port = await freePort(); // nothing listens there
    const fw = framework({ LF_MASTER: `127.0.0.1:${port}`, LF_INITIAL_ATTEMPTS: '3' });
    expect(await fw.exited).toBe(3);
    expect(fw.output()).toMatch(/failed MasterUnreachableError: could not subscribe to a master at 127\.0\.0\.1:\d+ after 3 attempts .*check the master address/);
  });
});

describe('FrameworkDriver.start with a signal', () => {
  it('gives up subscribing when its signal is aborted, stopped, instead of retrying a master forever', async () => {
    const port = await freePort(); // nothing listens there
    const abort = new AbortController();
    const starting = FrameworkDriver.start(
      { master: `127.0.0.1:${port}`, framework: { name: 'abandoned' }, ...quick, reconnect: { initialAttempts: Infinity }, ...driverAccess() },
      {},
      { signal: abort.signal, waitSubscribedMs: 60_000 },
    );
    const t0 = Date.now();
    abort.abort();
    const err = await rejection(starting);
    expect(err).toBeInstanceOf(DriverStoppedError);
    expect(Date.now() - t0).toBeLessThan(5_000);
    // Aborted before it starts: it never connects.
    const early = await rejection(FrameworkDriver.start({ master: `127.0.0.1:${port}`, framework: { name: 'never' }, ...quick, ...driverAccess() }, {}, { signal: AbortSignal.abort() }));
    expect(early).toBeInstanceOf(DriverStoppedError);
  });
});

describe('driver.closed', () => {
  it('resolves on stop(); then waitSubscribed and every call reject at once, naming the stopped driver', async () => {
    const h = await MasterHarness.start();
    const driver = await FrameworkDriver.start({ master: h.address, framework: { name: 'stopper' }, ...quick, ...driverAccess() });
    drivers.push(driver);
    await driver.stop();
    await expect(driver.closed).resolves.toBeUndefined();
    const waited = await rejection(driver.waitSubscribed(60_000));
    expect(waited).toBeInstanceOf(DriverStoppedError);
    expect(waited.message).toMatch(/driver of framework 'stopper' is stopped/);
    for (const call of [driver.revive(), driver.decline(['o1']), driver.kill('t1'), driver.reconcile(), driver.acknowledge({ agentId: 'a', taskId: 't', uuid: 'u' })]) {
      const err = await rejection(call);
      expect(err).toBeInstanceOf(DriverStoppedError);
      expect(err.code).toBe('AGORA_FAILED_PRECONDITION');
    }
  });

  it('rejects with MasterUnreachableError when the master is gone for longer than reconnect.maxAttempts', async () => {
    const h = await MasterHarness.start();
    const errors: string[] = [];
    const driver = await FrameworkDriver.start(
      { master: h.address, framework: { name: 'orphan' }, ...quick, reconnect: { initialMs: 20, maxMs: 50, maxAttempts: 3 }, ...driverAccess() },
      { error: (_driver, err) => void errors.push(err.name) },
    );
    drivers.push(driver);
    await h.master.stop();
    const err = await rejection(driver.closed);
    expect(err).toBeInstanceOf(MasterUnreachableError);
    expect(err.message).toMatch(/after 3 attempts/);
    expect(driver.state).toBe('FAILED');
    await eventually(() => expect(errors).toEqual(['MasterUnreachableError']));
    expect(await rejection(driver.waitSubscribed())).toBe(err);
  });

  it('rejects start() with AuthenticationRefusedError for a token the master does not know, without retrying', async () => {
    const h = await MasterHarness.start();
    const started = Date.now();
    const err = await rejection(FrameworkDriver.start({ master: h.address, framework: { name: 'stranger' }, ...quick, ...driverAccess('agora_0000_not-a-token') }));
    expect(err).toBeInstanceOf(AuthenticationRefusedError);
    expect(err.code).toBe('AGORA_UNAUTHENTICATED');
    expect(err.message).toMatch(/check credentials\.token/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(h.state.frameworkCount()).toBe(0);
  });
});

describe('handlers', () => {
  it('get the driver first and run only once start() has resolved (Mesos-style registered(driver, …))', async () => {
    const h = await MasterHarness.start();
    await h.agent();
    const seen: string[] = [];
    let outer: FrameworkDriver | undefined;
    const driver = await FrameworkDriver.start(
      { master: h.address, framework: { name: 'mesos-style' }, ...quick, ...driverAccess() },
      {
        subscribed: (d, e) => void seen.push(`subscribed ${String(outer === d)} ${d.frameworkId === e.frameworkId}`),
        offers: async (d, offers) => {
          seen.push(`offers ${String(outer === d)}`);
          await d.decline(offers, { refuseSeconds: 60 });
        },
      },
    );
    outer = driver;
    drivers.push(driver);
    expect(seen).toEqual([]); // nothing ran before start() resolved, though SUBSCRIBED (and offers) arrived
    await eventually(() => expect(seen).toEqual(['subscribed true true', 'offers true']), { what: 'handlers ran' });
  });
});
