// What a framework author's own logger gets from the driver through a master restart: one warning
// for the outage (not one per reconnection attempt), the cause without gRPC's wrapping, and the
// resubscription.
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameworkDriver, createLogger } from '../../sdk/index.js';
import { MasterHarness, eventually, stopHarnesses } from '../support/master-harness.js';
import { freePort } from '../support/ports.js';
import { driverAccess } from '../support/security.js';

const drivers: FrameworkDriver[] = [];
afterEach(async () => {
  await Promise.allSettled(drivers.splice(0).map((d) => d.stop()));
  await stopHarnesses();
});

type Line = Record<string, unknown> & { level: number; msg: string };

/** A pino logger at debug whose JSON lines land in `lines`, as an author's own destination would. */
function capturingLogger(lines: Line[]): ReturnType<typeof createLogger> {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done): void {
      for (const text of chunk.toString().split('\n')) if (text !== '') lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  return createLogger({ name: 'mine', level: 'debug', destination });
}

describe('a custom logger given to FrameworkDriver', () => {
  it('gets one warning per master outage, the cause without gRPC wrapping, and the resubscription', async () => {
    const lines: Line[] = [];
    const port = await freePort();
    const h = await MasterHarness.start({ store: 'file', master: { grpcPort: port } });
    const driver = await FrameworkDriver.start({ master: h.address, framework: { name: 'logged' }, logger: capturingLogger(lines), reconnect: { initialMs: 20, maxMs: 100 }, ...driverAccess() }, {});
    drivers.push(driver);
    await h.master.stop();
    // Several failed attempts while the master is down (each one a line at debug).
    await eventually(() => expect(lines.filter((l) => l.msg === 'connection attempt failed').length).toBeGreaterThanOrEqual(3), { timeoutMs: 10_000, what: 'three failed attempts' });
    await h.restart();
    await driver.waitSubscribed(15_000);

    const warnings = lines.filter((l) => l.level >= 40);
    expect(warnings.map((l) => l.msg)).toEqual(['disconnected from master']);
    const failed = lines.filter((l) => l.msg === 'connection attempt failed');
    expect(failed.every((l) => l.level === 20)).toBe(true);
    // The first attempts may meet the master as it shuts down ('not the leader; …'); once it is
    // gone, the cause is the refused connection, without gRPC's wrapping.
    expect(failed.map((l) => l.reason)).toContainEqual(expect.stringMatching(/^connect ECONNREFUSED 127\.0\.0\.1:\d+$/));
    const text = JSON.stringify(lines);
    expect(text).not.toMatch(/No connection established|Resolution note|Last error/);
    expect(lines.filter((l) => l.msg === 'subscribed').map((l) => l.resubscribed)).toEqual([false, true]);
  });
});
