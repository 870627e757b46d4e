// One chaos run, end to end — what `npm run chaos` and test/e2e/chaos.test.ts both run:
//
//   start the cluster ─► workloads (service v1, cron every 5 s, Indexed job) ready
//     ─► chaos: the planned faults, rolling updates at 1/3 and 2/3, probes every 500 ms
//     ─► convergence: no faults; wait until every process is up, one master leads, the service runs
//        its last version N times, the job has succeeded and a cron run after the chaos succeeded
//     ─► the verdict (judge.ts) ─► one summary, violations listed ─► clean up, always
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { makeTestPki, PKI_ENV } from '../support/pki.js';
import { removeDir, tempDir } from '../support/tmp.js';
import { call } from './api.js';
import { ChaosCluster } from './cluster.js';
import { killEverythingUnder, registerRun, removeTaskCgroups } from './cleanup.js';
import { capacityVerdict, completedTwice, duplicates, findOrphans, minimumHealthy, orphanCount, overlappingClaims, parseLedger, reportedLost, type Orphans } from './judge.js';
import { cronView, frameworkAddresses, jobView, leadingMaster, liveView, Prober, recordedTasks, serviceView } from './observe.js';
import type { ChaosOptions } from './options.js';
import { countFaults, planFaults, type Fault } from './plan.js';
import { sleep } from './supervisor.js';
import { apply, BATCH_PARALLELISM, BATCH_TASK_SECONDS, CRONJOB, cronSpec, jobSpec, Marks, MINIMUM_HEALTH_CAPACITY, serviceSpec } from './workloads.js';

/** Two masters' `self: true` answers this close together count as two leaders at once. */
const CLAIM_WINDOW_MS = 300;

export interface ChaosSummary {
  chaos: 'agora';
  seed: number;
  duration_s: number;
  faults_planned: number;
  faults: Record<string, number>;
  faults_skipped: number;
  restarts: Record<string, number>;
  rolling_updates: number;
  probes: number;
  capacity_min_healthy: number;
  capacity_held_share: number;
  capacity_min_seen: number;
  leader_overlaps: number;
  /** The overlapping claims: which master (address), seconds after the chaos started. */
  leader_overlap_claims: { master: string; at_s: number }[];
  /** The longest this process's event loop stalled: above a second, its probes' timing is suspect. */
  event_loop_max_ms: number;
  unexpected_exits: { process: string; status: string; at_s: number; log: string }[];
  batch_indexes: number;
  batch_indexes_twice: Record<string, string[]>;
  cron_slots: number;
  cron_slots_twice: Record<string, string[]>;
  cron_succeeded_twice: string[];
  finished_reported_lost: string[];
  orphans: Orphans | null;
  lost_or_orphaned: number;
  /** For each task found lost or orphaned: what the leading master says of it. */
  orphans_in_master: Record<string, string>;
  converged: boolean;
  convergence_s: number | null;
  not_converged: string[];
  violations: string[];
  kept: string | null;
}

export async function runChaos(o: ChaosOptions, log: (line: string) => void = () => undefined): Promise<ChaosSummary> {
  const dir = await tempDir('chaos');
  // Outside a test run (npm run chaos), the run makes its own certificates and tokens.
  const ownPki = !process.env[PKI_ENV];
  if (ownPki) {
    const pki = path.join(dir, 'pki');
    fs.mkdirSync(pki, { mode: 0o700 });
    await makeTestPki(pki);
    process.env[PKI_ENV] = pki;
  }
  let cluster: ChaosCluster | undefined;
  const unregister = registerRun(dir, () => (cluster ? cluster.agents.map((_, i) => cluster!.agentWorkDir(i)) : []));
  try {
    log(`seed ${o.seed}: starting 3 ZooKeepers, 3 masters, 3 agents, 2 frameworks processes in ${dir}`);
    cluster = await ChaosCluster.start(path.join(dir, 'cluster'));
    return await new ChaosRun(o, cluster, new Marks(path.join(dir, 'marks')), log, dir).run();
  } finally {
    await cluster?.stop().catch(() => undefined);
    killEverythingUnder(dir);
    await sleep(300);
    if (cluster) removeTaskCgroups(cluster.agents.map((_, i) => cluster!.agentWorkDir(i)));
    if (o.keep) keepEvidence(dir);
    removeDir(dir);
    unregister();
    if (ownPki) delete process.env[PKI_ENV];
  }
}

class ChaosRun {
  readonly #faults: Fault[];
  readonly #done: Fault[] = [];
  #skipped = 0;
  readonly #holds: Promise<void>[] = [];
  readonly #minHealthy: number;
  readonly #completions: number;
  readonly #loopDelay = monitorEventLoopDelay({ resolution: 20 });

  constructor(
    private readonly o: ChaosOptions,
    private readonly cluster: ChaosCluster,
    private readonly marks: Marks,
    private readonly log: (line: string) => void,
    private readonly dir: string,
  ) {
    this.#faults = planFaults(o);
    this.#minHealthy = minimumHealthy(o.instances, MINIMUM_HEALTH_CAPACITY);
    // Indexes for 40% of the chaos at full parallelism, unless told: the job runs through the
    // chaos and has time to finish, slowed by it, before the convergence window ends.
    this.#completions = o.batchIndexes > 0 ? o.batchIndexes : Math.max(6, Math.ceil(((o.durationMs / 1000) * 0.4 * BATCH_PARALLELISM) / BATCH_TASK_SECONDS));
  }

  async run(): Promise<ChaosSummary> {
    const fw = (): (string | undefined)[] => frameworkAddresses(this.cluster);
    let version = await apply(fw, 'services', serviceSpec(this.marks, this.o.instances, 'c0'));
    await apply(fw, 'cronjobs', cronSpec(this.marks));
    await this.until('the service to run and the first cron run', 60_000, async () => (await this.serviceProblems(version)).length === 0 && this.marks.read(this.marks.cronLedger) !== '');
    await apply(fw, 'jobs', jobSpec(this.marks, this.#completions));
    this.log(`workloads ready; ${this.#faults.length} faults planned over ${this.o.durationMs / 1000} s`);

    this.#loopDelay.enable();
    const prober = new Prober(this.cluster, this.marks, this.o.holdMaxMs + 5_000);
    prober.start();
    const t0 = Date.now();
    let updates = 0;
    const rolling = (async () => {
      for (const [share, colour] of [[1 / 3, 'c1'], [2 / 3, 'c2']] as const) {
        await sleep(Math.max(0, t0 + this.o.durationMs * share - Date.now()));
        version = await apply(fw, 'services', serviceSpec(this.marks, this.o.instances, colour), this.o.durationMs);
        updates += 1;
        this.log(`rolling update to ${version} (${colour})`);
      }
    })();
    rolling.catch(() => undefined); // awaited (and thrown) after the faults; not an unhandled rejection meanwhile
    for (const fault of this.#faults) {
      await sleep(Math.max(0, t0 + fault.atMs - Date.now()));
      this.#inject(fault);
    }
    await sleep(Math.max(0, t0 + this.o.durationMs - Date.now()));
    await rolling;
    await Promise.all(this.#holds);
    const chaosEnd = Date.now();
    this.log(`chaos over: ${JSON.stringify(countFaults(this.#done))}, ${this.#skipped} skipped; converging`);

    let problems: string[] = [];
    let convergedAt: number | undefined;
    while (Date.now() < chaosEnd + this.o.convergeTimeoutMs) {
      problems = await this.convergenceProblems(version, chaosEnd);
      if (problems.length === 0) {
        convergedAt = Date.now();
        break;
      }
      await sleep(1_000);
    }
    prober.stop();
    this.#loopDelay.disable();
    this.log(convergedAt ? `converged in ${((convergedAt - chaosEnd) / 1000).toFixed(1)} s` : `not converged: ${problems.join('; ')}`);
    return this.verdict(prober, updates, convergedAt === undefined ? undefined : convergedAt - chaosEnd, problems, t0, chaosEnd);
  }

  #inject(fault: Fault): void {
    let done: boolean;
    if (fault.kind === 'zk') {
      const member = this.cluster.ensemble.servers[fault.index];
      done = member?.running === true && this.cluster.ensemble.servers.every((s) => s.running);
      if (done) {
        const until = Date.now() + (fault.holdMs ?? 0);
        for (const p of this.cluster.all()) p.storeFault(until);
        this.#holds.push(
          (async () => {
            await this.cluster.ensemble.stopServer(fault.index);
            await sleep(fault.holdMs ?? 0);
            await this.cluster.ensemble.startServer(fault.index);
            // Back only once it answers again (a JVM start takes a while past holdMs).
            for (const p of this.cluster.all()) p.storeFault(Date.now());
          })().catch((err: Error) => this.log(`ZooKeeper node ${fault.index}: ${err.message.split('\n')[0]}`)),
        );
      }
    } else {
      const target = this.cluster.processes(fault.role!)[fault.index]!;
      done = fault.kind === 'kill' ? target.kill() : target.freeze(fault.holdMs ?? 0);
      if (done && fault.kind === 'stop') this.#holds.push(sleep(fault.holdMs ?? 0));
    }
    if (done) this.#done.push(fault);
    else this.#skipped += 1;
  }

  async serviceProblems(version: string): Promise<string[]> {
    const s = await serviceView(this.cluster);
    if (!s) return ['the services framework does not answer'];
    const problems: string[] = [];
    const live = s.tasks.filter((t) => t.state === 'TASK_RUNNING');
    if (s.version !== version) problems.push(`service at ${s.version}, not ${version}`);
    if (live.length !== this.o.instances || live.some((t) => t.version !== version)) {
      const why = s.pendingReason ? `; the framework says: ${s.pendingReason}` : '';
      problems.push(`service runs ${live.map((t) => `${t.version} ${t.taskId}`).join(',') || 'nothing'} (want ${this.o.instances} × ${version}${why})`);
    }
    if (s.healthy !== this.o.instances) problems.push(`${s.healthy}/${this.o.instances} healthy`);
    if (s.deploymentPhase !== 'DEPLOYMENT_SUCCEEDED') problems.push(`deployment ${s.deploymentPhase}`);
    const beats = this.marks.available();
    const fresh = [...beats.values()].reduce((a, b) => a + b, 0);
    if ((beats.get(version) ?? 0) !== this.o.instances || fresh !== this.o.instances) problems.push(`heartbeats ${JSON.stringify(Object.fromEntries(beats))}`);
    return problems;
  }

  async convergenceProblems(version: string, chaosEnd: number): Promise<string[]> {
    const problems: string[] = [];
    const down = this.cluster.all().filter((p) => !p.up || !p.address).map((p) => p.name);
    if (down.length > 0) problems.push(`down: ${down.join(', ')}`);
    if (!this.cluster.ensemble.servers.every((s) => s.running)) problems.push('a ZooKeeper node is down');
    if (!(await leadingMaster(this.cluster))) problems.push('not exactly one master leads');
    problems.push(...(await this.serviceProblems(version)));
    const job = await jobView(this.cluster);
    if (job?.phase !== 'JOB_SUCCEEDED') problems.push(`job ${job?.phase ?? 'unknown'} (${job?.completedIndexes.length ?? '?'}/${this.#completions})`);
    const cron = await cronView(this.cluster);
    if (!cron?.history.some((r) => r.phase === 'JOB_SUCCEEDED' && Number(r.scheduledForMs) > chaosEnd)) problems.push('no cron run succeeded since the chaos');
    return problems;
  }

  async verdict(prober: Prober, updates: number, convergenceMs: number | undefined, notConverged: string[], t0: number, chaosEnd: number): Promise<ChaosSummary> {
    // The cron job stops scheduling, so that the last views agree on a quiet cluster.
    await call(frameworkAddresses(this.cluster).find((a) => a) ?? '', `/api/v1/cronjobs/${CRONJOB}/suspend`, { method: 'POST', body: '{}' }).catch(() => undefined);
    await this.until('the last cron run to end', 15_000, async () => (await cronView(this.cluster))?.active.length === 0).catch(() => undefined);
    let orphans: Orphans | null = null;
    let masterStates: Record<string, string> = {};
    for (let attempt = 0; attempt < 5; attempt++) {
      const view = await liveView(this.cluster);
      orphans = view ? findOrphans(view) : null;
      masterStates = view?.masterStates ?? {};
      if (orphans && orphanCount(orphans) === 0) break;
      await sleep(1_000);
    }
    const batchLedger = parseLedger(this.marks.read(this.marks.batchLedger));
    const cronLedger = parseLedger(this.marks.read(this.marks.cronLedger));
    const [job, cron] = await Promise.all([jobView(this.cluster), cronView(this.cluster)]);
    const records = recordedTasks(job, cron);
    const lost = [...reportedLost(batchLedger, records.batch), ...reportedLost(cronLedger, records.cron)].map((r) => `${r.taskId}:${r.state}`);
    const succeededSlots = (cron?.history ?? []).filter((r) => r.phase === 'JOB_SUCCEEDED').map((r) => String(r.scheduledForMs));
    const capacity = capacityVerdict(prober.capacity.filter((p) => p.atMs >= t0 && p.atMs <= chaosEnd), this.#minHealthy);
    const overlapping = overlappingClaims(prober.claims, CLAIM_WINDOW_MS);
    const overlaps = overlapping.length;
    const batchTwice = completedTwice(batchLedger);
    const cronTwice = completedTwice(cronLedger);
    const cronSucceededTwice = duplicates(succeededSlots);
    const lostOrOrphaned = orphans ? orphanCount(orphans) : -1;
    const exits = this.cluster
      .all()
      .flatMap((p) => p.unexpectedExits)
      .map((e) => ({ process: e.process, status: e.status, at_s: Number(((e.atMs - t0) / 1000).toFixed(1)), log: e.log.slice(-600) }));

    const violations: string[] = [];
    const count = (n: number, what: string): void => void (n > 0 && violations.push(`${n} ${what}`));
    count(Object.keys(batchTwice).length, 'batch index(es) completed twice');
    count(Object.keys(cronTwice).length, 'cron slot(s) completed twice');
    count(cronSucceededTwice.length, 'cron slot(s) recorded as succeeded twice');
    count(lost.length, 'task(s) that completed recorded as failed or lost');
    count(overlaps, `answer(s) of a master claiming to lead within ${CLAIM_WINDOW_MS} ms of another's`);
    count(exits.length, `exit(s) the chaos did not cause (${[...new Set(exits.map((e) => e.process))].join(', ')})`);
    if (orphans === null) violations.push('the final views could not be taken (a side did not answer)');
    else count(lostOrOrphaned, 'task(s) lost or orphaned at the end');
    if (capacity.share < this.o.minCapacity) violations.push(`capacity held in ${(capacity.share * 100).toFixed(1)}% of probes, under ${(this.o.minCapacity * 100).toFixed(1)}%`);
    if (convergenceMs === undefined) violations.push(`no convergence within ${this.o.convergeTimeoutMs / 1000} s: ${notConverged.join('; ')}`);

    return {
      chaos: 'agora',
      seed: this.o.seed,
      duration_s: this.o.durationMs / 1000,
      faults_planned: this.#faults.length,
      faults: countFaults(this.#done),
      faults_skipped: this.#skipped,
      restarts: Object.fromEntries(this.cluster.all().map((p) => [p.name, p.starts - 1])),
      rolling_updates: updates,
      probes: capacity.probes,
      capacity_min_healthy: this.#minHealthy,
      capacity_held_share: Number(capacity.share.toFixed(4)),
      capacity_min_seen: capacity.minSeen,
      leader_overlaps: overlaps,
      leader_overlap_claims: overlapping.map((c) => ({ master: c.master, at_s: Number(((c.atMs - t0) / 1000).toFixed(2)) })),
      event_loop_max_ms: Math.round(this.#loopDelay.max / 1e6),
      unexpected_exits: exits,
      batch_indexes: this.#completions,
      batch_indexes_twice: batchTwice,
      cron_slots: new Set(cronLedger.map((e) => e.key)).size,
      cron_slots_twice: cronTwice,
      cron_succeeded_twice: cronSucceededTwice,
      finished_reported_lost: lost,
      orphans,
      lost_or_orphaned: lostOrOrphaned,
      orphans_in_master: Object.fromEntries([...new Set(Object.values(orphans ?? {}).flat())].map((id) => [id, masterStates[id] ?? 'unknown to the master'])),
      converged: convergenceMs !== undefined,
      convergence_s: convergenceMs === undefined ? null : Number((convergenceMs / 1000).toFixed(1)),
      not_converged: convergenceMs === undefined ? notConverged : [],
      violations,
      kept: this.o.keep ? keptDir(this.dir) : null,
    };
  }

  async until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`chaos: ${what} did not happen within ${timeoutMs / 1000} s`);
      await sleep(500);
    }
  }
}

/** Where --keep copies a run (outside the test runs' directory, which reapers empty). */
function keptDir(dir: string): string {
  return path.join(os.tmpdir(), `agora-chaos-${path.basename(path.dirname(dir))}`);
}

/** Copies the logs, ledgers, heartbeats and agents' work directories (not the PKI) for a post-mortem. */
function keepEvidence(dir: string): void {
  const dest = keptDir(dir);
  try {
    fs.cpSync(dir, dest, { recursive: true, filter: (src) => path.basename(src) !== 'pki' && !fs.statSync(src).isSocket() });
  } catch {
    // best effort: a file that went away while copying
  }
}
