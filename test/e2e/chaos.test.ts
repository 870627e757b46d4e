// The chaos run (test/chaos/, `npm run chaos`) in short, with a fixed seed: 50 s of SIGKILLs,
// SIGSTOPs and ZooKeeper node stops on 3 ZooKeepers, 3 masters, 3 agents and 2 frameworks processes,
// during two rolling updates of a service, a cron job every 5 s and an Indexed job. The same
// invariants as the long run, strictly: nothing completed twice, nothing lost or orphaned, no two
// masters answering as leader, no process dying of something the chaos did not do to it, the
// minimum healthy capacity held in 99% of probes, and convergence within 30 s.
//
// Seed 10's schedule (plan.ts): 23 faults — 6 ZooKeeper node stops, 5 SIGSTOPs and 2 SIGKILLs of
// masters, 5 SIGKILLs and 2 SIGSTOPs of frameworks processes, 2 SIGKILLs and 1 SIGSTOP of agents.
import { describe, expect, it } from 'vitest';
import { compileChaosOptions, DEFAULT_OPTIONS } from '../chaos/options.js';
import { runChaos } from '../chaos/run.js';

const SEED = Number(process.env['AGORA_CHAOS_SEED'] ?? 10);

describe('chaos', () => {
  it(`holds its invariants through 50 s of faults (seed ${SEED})`, async () => {
    const options = compileChaosOptions({ ...DEFAULT_OPTIONS, seed: SEED, durationMs: 50_000, faultIntervalMs: 2_000, convergeTimeoutMs: 30_000 });
    const summary = await runChaos(options, (line) => process.stderr.write(`[chaos] ${line}\n`));
    process.stdout.write(`${JSON.stringify(summary)}\n`);

    // The chaos happened: every kind of fault found its target at least once.
    for (const kind of ['kill.master', 'kill.agent', 'kill.frameworks', 'stop.master', 'stop.agent', 'stop.frameworks', 'zk.stop']) {
      expect(summary.faults[kind] ?? 0, kind).toBeGreaterThan(0);
    }
    expect(summary.rolling_updates).toBe(2);
    expect(summary.probes).toBeGreaterThan(50);
    expect({
      batch_indexes_twice: summary.batch_indexes_twice,
      cron_slots_twice: summary.cron_slots_twice,
      cron_succeeded_twice: summary.cron_succeeded_twice,
      finished_reported_lost: summary.finished_reported_lost,
      lost_or_orphaned: summary.lost_or_orphaned,
      leader_overlaps: summary.leader_overlaps,
      unexpected_exits: summary.unexpected_exits,
      not_converged: summary.not_converged,
      violations: summary.violations,
    }).toEqual({
      batch_indexes_twice: {},
      cron_slots_twice: {},
      cron_succeeded_twice: [],
      finished_reported_lost: [],
      lost_or_orphaned: 0,
      leader_overlaps: 0,
      unexpected_exits: [],
      not_converged: [],
      violations: [],
    });
    expect(summary.capacity_held_share).toBeGreaterThanOrEqual(0.99);
    expect(summary.converged).toBe(true);
  }, 150_000);
});
