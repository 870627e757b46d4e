// `npm run bench -- <name> [flags]`: runs bench/<name>.ts and prints its one JSON line on stdout.
// Progress and diagnostics go to stderr. To add a benchmark, write bench/<name>.ts exporting
// `run(argv: string[]): Promise<Record<string, unknown>>` and add one line to BENCHES.

export interface Bench {
  /** Parses its own flags from `argv`; resolves with the figures to print. */
  run(argv: string[]): Promise<Record<string, unknown>>;
}

const BENCHES: Record<string, () => Promise<Bench>> = {
  allocator: () => import('./allocator.js'),
  dashboard: () => import('./dashboard.js'),
  failover: () => import('./failover.js'),
  heal: () => import('./heal.js'),
  jobs: () => import('./jobs.js'),
  launch: () => import('./launch.js'),
  offers: () => import('./offers.js'),
  proxy: () => import('./proxy.js'),
  sse: () => import('./sse.js'),
};

async function main(): Promise<void> {
  const [name, ...argv] = process.argv.slice(2);
  const load = name === undefined ? undefined : BENCHES[name];
  if (load === undefined) {
    process.stderr.write(`usage: npm run bench -- <name> [flags]\nbenchmarks: ${Object.keys(BENCHES).sort().join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  const bench = await load();
  const result = await bench.run(argv);
  process.stdout.write(`${JSON.stringify({ bench: name, ...result })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
