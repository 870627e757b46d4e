// The driver's lifecycle on a fake clock: against an address where no master listens (a real
// loopback port, nothing bound), it tries once at start, then once per backoff of its own clock —
// never on its own — and after reconnect.initialAttempts failures start() rejects with
// MasterUnreachableError, leaving nothing behind.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FakeClock, FrameworkDriver, MasterUnreachableError, SeededRandom, silentLogger } from '../../sdk/index.js';
import { eventually, holdsFor } from '../support/waits.js';

/** A loopback port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function until(check: () => boolean, what: string): Promise<boolean> {
  return eventually(check, { timeoutMs: 10_000, intervalMs: 5, what });
}

describe('FrameworkDriver lifecycle (fake clock)', () => {
  it('retries only when its clock says so, and gives up after reconnect.initialAttempts with a typed error', async () => {
    const clock = new FakeClock();
    const port = await deadPort();
    let outcome: unknown;
    const started = FrameworkDriver.start(
      { master: `127.0.0.1:${port}`, framework: { name: 'lost' }, insecure: true, clock, random: new SeededRandom(7), logger: silentLogger(), reconnect: { initialMs: 1000, maxMs: 1000, initialAttempts: 3 } },
      {},
      { waitSubscribedMs: 3_600_000 },
    );
    started.then(
      () => (outcome = 'subscribed'),
      (err: unknown) => (outcome = err),
    );
    let advances = 0;
    for (;;) {
      // A failed attempt leaves two timers: start()'s wait and the reconnect.
      await until(() => outcome !== undefined || clock.pending() === 2, 'the next attempt to fail');
      if (outcome !== undefined) break;
      // Real time passes, the fake clock does not: the driver does not try again by itself.
      await holdsFor(50, () => outcome === undefined, 'the driver retries without its clock moving');
      clock.advance(1000); // ≥ the jittered backoff (capped at maxMs)
      advances += 1;
      expect(advances).toBeLessThanOrEqual(2);
    }
    expect(advances).toBe(2); // attempt 1 at start, 2 and 3 after a backoff each
    expect(outcome).toBeInstanceOf(MasterUnreachableError);
    expect((outcome as MasterUnreachableError).message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} after 3 attempts .*check the master address`));
    expect((outcome as MasterUnreachableError).code).toBe('AGORA_UNAVAILABLE');
    expect(clock.pending()).toBe(0); // every timer released
  });
});
