// The allocator at scale: a full pass over every agent with every framework wanting offers, and
// an incremental pass after a change on 1% of the agents. Only allocate() is timed.
//
//   npm run bench -- allocator [--agents 10000] [--frameworks 1000] [--roles 10] [--passes 100]
//                              [--incremental-passes 200] [--fairness drf|random] [--seed 1]
//                              [--quota]   (role0 guaranteed 5% of the cluster, role1 limited to 5%)
//
// Agents: cpus:32;mem:131072;disk:1000000;ports:[31000-32000]. Frameworks are spread round-robin
// over the roles; role i has weight 1 + (i mod 3). Between timed passes every offer is recovered
// (no filter), so each full pass hands out the whole cluster again.
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Resources } from '../core/resources.js';
import { createAllocator, type Allocator, type Fairness, type OfferDecision } from '../master/allocator/index.js';

const AGENT = 'cpus:32;mem:131072;disk:1000000;ports:[31000-32000]';

export async function run(argv: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: argv,
    options: {
      agents: { type: 'string', default: '10000' },
      frameworks: { type: 'string', default: '1000' },
      roles: { type: 'string', default: '10' },
      passes: { type: 'string', default: '100' },
      'incremental-passes': { type: 'string', default: '200' },
      fairness: { type: 'string', default: 'drf' },
      seed: { type: 'string', default: '1' },
      warmup: { type: 'string', default: '5' },
      quota: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const n = (flag: keyof typeof values): number => {
    const v = Number(values[flag]);
    if (!Number.isInteger(v) || v < 0) throw new Error(`--${flag} must be a non-negative integer, got ${String(values[flag])}`);
    return v;
  };
  const agents = n('agents');
  const frameworks = n('frameworks');
  const roles = Math.max(1, n('roles'));
  const fairness = values.fairness as Fairness;
  if (fairness !== 'drf' && fairness !== 'random') throw new Error(`--fairness must be drf or random`);

  const t0 = performance.now();
  const allocator = build(agents, frameworks, roles, fairness, n('seed'));
  if (values.quota) {
    // role0 is guaranteed 5% of the cluster and role1 limited to 5%: the quota code paths run on
    // every grant (headroom kept, offers trimmed).
    const share = Math.max(1, Math.round(agents * 0.05));
    allocator.setQuota('role0', { guarantee: Resources.parse(`cpus:${share * 32};mem:${share * 131072}`) });
    allocator.setQuota('role1', { guarantee: Resources.EMPTY, limit: Resources.parse(`cpus:${share * 32};mem:${share * 131072}`) });
  }
  log(`built ${agents} agents × ${frameworks} frameworks in ${(performance.now() - t0).toFixed(0)} ms`);

  let now = 0;
  const full: number[] = [];
  const warmup = n('warmup');
  let offersPerPass = 0;
  for (let i = 0; i < warmup + n('passes'); i++) {
    now += 1000;
    const start = performance.now();
    const offers = allocator.allocate(now);
    const ms = performance.now() - start;
    if (i >= warmup) full.push(ms);
    offersPerPass = offers.length;
    recoverAll(allocator, offers);
  }
  log(`full passes: ${full.length}, ${offersPerPass} offers each`);

  const agentIds = Array.from({ length: agents }, (_, i) => `a${i}`);
  const step = Math.max(1, Math.round(agents / 100));
  let held = allocator.allocate(now);
  const incremental: number[] = [];
  for (let i = 0; i < warmup + n('incremental-passes'); i++) {
    now += 1000;
    const changed = new Set(agentIds.filter((_, j) => (j + i) % 100 === 0).slice(0, step));
    const keep: OfferDecision[] = [];
    for (const o of held) {
      if (changed.has(o.agentId)) allocator.recover(o.frameworkId, o.agentId, o.role, o.resources);
      else keep.push(o);
    }
    const start = performance.now();
    const offers = allocator.allocate(now, changed);
    const ms = performance.now() - start;
    if (i >= warmup) incremental.push(ms);
    held = keep.concat(offers);
  }
  allocator.checkInvariants();
  log(`incremental passes: ${incremental.length} over ${step} agents each`);

  return {
    agents,
    frameworks,
    roles,
    fairness,
    quota: values.quota,
    full_pass_ms_p50: round(percentile(full, 50)),
    full_pass_ms_p99: round(percentile(full, 99)),
    incremental_pass_ms_p50: round(percentile(incremental, 50)),
    incremental_pass_ms_p99: round(percentile(incremental, 99)),
    passes: full.length,
    incremental_passes: incremental.length,
    offers_per_full_pass: offersPerPass,
    mesos_full_pass_ms: 1060,
  };
}

function build(agents: number, frameworks: number, roles: number, fairness: Fairness, seed: number): Allocator {
  const allocator = createAllocator({ fairness, seed, minAllocatable: [Resources.parse('cpus:0.01'), Resources.parse('mem:32')] });
  for (let r = 0; r < roles; r++) allocator.setWeight(`role${r}`, 1 + (r % 3));
  const total = Resources.parse(AGENT);
  for (let i = 0; i < agents; i++) allocator.addAgent({ id: `a${i}`, hostname: `host${i}`, total });
  for (let i = 0; i < frameworks; i++) allocator.addFramework({ id: `f${i}`, roles: [`role${i % roles}`] });
  return allocator;
}

function recoverAll(allocator: Allocator, offers: readonly OfferDecision[]): void {
  for (const o of offers) allocator.recover(o.frameworkId, o.agentId, o.role, o.resources);
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function log(message: string): void {
  process.stderr.write(`allocator bench: ${message}\n`);
}
