import { defineConfig } from 'vitest/config';

// Two projects. `unit` is the pure tests (test/unit, and the chaos run's pure judge): no services,
// so `npm run test:unit` runs them without starting ZooKeeper or dockerd. `services` is everything
// that talks to real processes: its global setup starts ZooKeeper, an ensemble and dockerd once.
// `vitest run` (what `npm test` runs) runs both.
const UNIT = ['test/unit/**/*.test.ts', 'test/chaos/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Integration tests start real processes; two cores do not take many at once.
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      {
        extends: true,
        test: {
          name: 'services',
          include: ['test/**/*.test.ts'],
          exclude: UNIT,
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
