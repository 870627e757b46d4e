// A small framework run as its own process by the driver lifecycle tests: it subscribes, prints
// what happens, and does nothing to keep itself alive — the driver must. SIGTERM stops the driver;
// the process must then exit by itself. Settings come from the environment:
//   LF_MASTER, LF_CA (PEM), LF_TOKEN, LF_INITIAL_ATTEMPTS (default the SDK's)
import { FrameworkDriver, silentLogger } from '../../sdk/index.js';

const env = process.env;
const initialAttempts = env['LF_INITIAL_ATTEMPTS'] ? Number(env['LF_INITIAL_ATTEMPTS']) : undefined;
try {
  const driver = await FrameworkDriver.start(
    {
      master: env['LF_MASTER'] ?? '',
      framework: { name: 'lifecycle', failoverTimeoutSeconds: 60 },
      credentials: { ca: env['LF_CA'] ?? '', token: env['LF_TOKEN'] ?? '' },
      reconnect: { initialMs: 50, maxMs: 200, ...(initialAttempts ? { initialAttempts } : {}) },
      logger: silentLogger(),
    },
    {
      subscribed: (_driver, e) => console.log(`${e.resubscribed ? 'resubscribed' : 'subscribed'} ${e.frameworkId}`),
      disconnected: () => console.log('disconnected'),
    },
  );
  process.once('SIGTERM', () => void driver.stop());
  await driver.closed;
  console.log('closed');
} catch (err) {
  console.log(`failed ${(err as Error).name}: ${(err as Error).message}`);
  process.exitCode = 3;
}
