// `npm run bench -- offers [--offers 200] [--tasks 2000] [--rounds 10]`: how long the SDK's
// matchOffers takes to place many pending tasks (with Marathon constraints) on a batch of offers,
// per placement strategy. Wall-clock p50/p99 over `rounds`, after one warm-up round.
import { parseArgs } from 'node:util';
import { Resources } from '../core/resources.js';
import { attributesToWire, resourcesToWire } from '../core/wire.js';
import type { Offer__Output } from '../proto/index.js';
import { matchOffers, type ConstraintInput, type PendingTask } from '../sdk/index.js';

function offersOf(n: number): Offer__Output[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `o${i}`,
    frameworkId: 'fw',
    agentId: `a${i}`,
    hostname: `h${i}`,
    resources: resourcesToWire(Resources.parse('cpus:8;mem:16384;ports:[31000-31099]')),
    attributes: attributesToWire({ zone: `z${i % 4}`, rack: `r${i % 20}` }),
    agentHttpAddress: '',
    allocationRole: '',
    unavailability: null,
    domain: null,
  })) as unknown as Offer__Output[];
}

const CONSTRAINTS: ConstraintInput[][] = [[], [['hostname', 'UNIQUE']], [['zone', 'GROUP_BY']], [['rack', 'MAX_PER', '8']], [['zone', 'LIKE', 'z[0-2]']]];

function tasksOf(n: number): PendingTask[] {
  return Array.from({ length: n }, (_, i) => ({
    resources: i % 3 === 0 ? 'cpus:1;mem:1024' : 'cpus:0.5;mem:512',
    group: `g${i % 20}`,
    ports: 1 + (i % 2),
    constraints: CONSTRAINTS[i % 5] ?? [],
  }));
}

function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return Math.round((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0) * 100) / 100;
}

export async function run(argv: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({ args: argv, options: { offers: { type: 'string', default: '200' }, tasks: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '10' } } });
  const offers = offersOf(Number(values.offers));
  const pending = tasksOf(Number(values.tasks));
  const rounds = Number(values.rounds);
  const out: Record<string, unknown> = { offers: offers.length, tasks: pending.length, rounds };
  for (const strategy of ['first-fit', 'bin-pack', 'spread'] as const) {
    matchOffers(offers, pending, { strategy }); // warm-up
    const times: number[] = [];
    let placed = 0;
    for (let r = 0; r < rounds; r++) {
      const started = performance.now();
      const result = matchOffers(offers, pending, { strategy });
      times.push(performance.now() - started);
      placed = result.launches.reduce((n, l) => n + l.tasks.length, 0);
    }
    const key = strategy.replace('-', '_');
    out[`${key}_ms_p50`] = percentile(times, 0.5);
    out[`${key}_ms_p99`] = percentile(times, 0.99);
    out[`${key}_placed`] = placed;
  }
  return out;
}
