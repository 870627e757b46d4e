// Offers → launches, for the jobs of the queue in order (priority, then submission).
//
//   pool = this round's new offers (and offers a gang gave up)
//   for each queued job, in order:
//     consecutive non-gang jobs ─► one matchOffers(pool, their tasks in queue order) ─► launch
//     a gang job ─► decideGang(its held offers + pool) ─► accept: launch the whole wave at once,
//                                                          the rest back to the pool
//                                                    ─► hold: keep the offers its partial placement
//                                                          uses, the rest back to the pool
//                                                    ─► release: all back to the pool, cool down
//   what is left of the pool ─► decline (short filter while anything waits, long when idle)
//
// Priority: a job's tasks are placed before those of every job after it in the queue, so a
// lower-priority job only gets what no higher-priority job of the round could use (backfill); a
// gang job keeps what it holds until it launches or gives up (bounded by maxHoldMs). No preemption.
// Every task is persisted (STAGING) before its launch is sent (a job whose write fails launches
// nothing; its offers are declined); a launch the master refuses voids its tasks (no failure), and
// they are placed again; an unanswered one is left to reconciliation.
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Offer__Output, TaskInfo } from '../../proto/index.js';
import type { SchedulerDriver } from '../../sdk/driver-api.js';
import { matchOffers, type Launch } from '../../sdk/offers.js';
import { LaunchProtocol } from '../common/launch-protocol.js';
import type { ValueResolver } from '../common/value-refs.js';
import type { JobBook, JobTaskEntry } from './book.js';
import { decideGang, describeGang, type HeldOffer } from './gang.js';
import type { GangHolds } from './holds.js';
import type { CompiledBatchOptions } from './options.js';
import { explainPending } from './queue.js';
import type { QueueEntry, JobSupervisor } from './supervisor.js';
import { jobTasks, mintTaskId, taskInfo, type JobTask } from './tasks.js';
import { resourcesText } from './spec.js';

export interface JobLauncherDeps {
  readonly book: JobBook;
  readonly holds: GangHolds;
  readonly supervisor: JobSupervisor;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly role: string;
  readonly options: CompiledBatchOptions;
  readonly values?: ValueResolver;
}

export class JobLauncher {
  readonly #protocol: LaunchProtocol;

  constructor(private readonly deps: JobLauncherDeps) {
    this.#protocol = new LaunchProtocol({ logger: deps.logger, declinedIdle: () => deps.supervisor.declinedIdle() });
  }

  /** One offer round: new offers (none on a wake-up: held offers are looked at again). */
  async offers(driver: SchedulerDriver, offers: readonly Offer__Output[]): Promise<void> {
    const { supervisor, holds, clock } = this.deps;
    const now = clock.now();
    const queue = supervisor.queue;
    if (queue.length === 0 && holds.size === 0) {
      await this.#protocol.declineAll(driver, offers.map((o) => o.id), false);
      return;
    }
    let pool: HeldOffer[] = offers.map((offer) => ({ offer, receivedAtMs: now }));
    let batch: QueueEntry[] = [];
    let launched = false;
    for (const entry of queue) {
      if (!entry.spec.gang) {
        batch.push(entry);
        continue;
      }
      [pool, launched] = await this.#place(driver, batch, pool, launched);
      batch = [];
      [pool, launched] = await this.#gang(driver, entry, pool, now, launched);
    }
    [pool, launched] = await this.#place(driver, batch, pool, launched);
    const waiting = queue.some((q) => this.deps.supervisor.reasons.get(q.spec.name) !== '') || holds.size > 0;
    await this.#protocol.declineAll(driver, pool.map((h) => h.offer.id), waiting);
    // The jobs of this round (their launches and reasons changed); the others' plans stand.
    if (launched || holds.size > 0 || offers.length > 0) await supervisor.replan(queue.map((q) => q.spec.name));
  }

  /** Consecutive non-gang jobs: their tasks, in queue order, in one match. */
  async #place(driver: SchedulerDriver, entries: readonly QueueEntry[], pool: HeldOffer[], launched: boolean): Promise<[HeldOffer[], boolean]> {
    if (entries.length === 0) return [pool, launched];
    const { supervisor, options, role } = this.deps;
    if (pool.length === 0) {
      // Nothing to place on (a wake-up round, or others took it all): keep what the last offers said.
      for (const e of entries) if (!supervisor.reasons.get(e.spec.name)) supervisor.reasons.set(e.spec.name, 'waiting for offers');
      return [pool, launched];
    }
    const offers = pool.map((h) => h.offer);
    const tasks = entries.flatMap((e) => jobTasks(e.spec, e.decisions, role));
    let result: ReturnType<typeof matchOffers<JobTask>>;
    try {
      result = matchOffers(offers, tasks, { strategy: options.placement, role });
    } catch (err) {
      // Specs are validated, so this is a bug; the offers go back rather than leak.
      this.deps.logger.error({ err, jobs: entries.map((e) => e.spec.name) }, 'offer matching refused the pending tasks');
      for (const e of entries) supervisor.reasons.set(e.spec.name, `cannot be matched: ${(err as Error).message}`);
      return [pool, launched];
    }
    const unplaced = new Map<string, number>();
    for (const u of result.unplaced) unplaced.set(u.task.job, (unplaced.get(u.task.job) ?? 0) + 1);
    const placed = new Map<string, number>();
    for (const l of result.launches) for (const p of l.tasks) placed.set(p.task.job, (placed.get(p.task.job) ?? 0) + 1);
    for (const [i, e] of entries.entries()) {
      const left = unplaced.get(e.spec.name) ?? 0;
      const why = left === 0 ? '' : explainPending({ ...e, pending: left }, offers) || whoTookThem(e, left, entries.slice(0, i), placed);
      supervisor.reasons.set(e.spec.name, why);
    }
    if (result.launches.length > 0) {
      await this.#launch(driver, result.launches);
      launched = true;
    }
    const used = new Set(result.launches.flatMap((l) => l.offerIds));
    return [pool.filter((h) => !used.has(h.offer.id)), launched];
  }

  async #gang(driver: SchedulerDriver, entry: QueueEntry, pool: HeldOffer[], now: number, launched: boolean): Promise<[HeldOffer[], boolean]> {
    const { holds, supervisor, options, role, logger } = this.deps;
    const name = entry.spec.name;
    const group = jobTasks(entry.spec, entry.decisions, role);
    const candidates = [...holds.take(name), ...pool];
    const match = { strategy: options.placement, role };
    let decision: ReturnType<typeof decideGang<JobTask>>;
    try {
      decision = decideGang(group, candidates, now, { maxHoldMs: options.maxHoldMs, coolDownMs: options.coolDownMs, match }, holds.memory(name));
    } catch (err) {
      logger.error({ err, job: name }, 'gang matching refused the group');
      supervisor.reasons.set(name, `cannot be matched: ${(err as Error).message}`);
      return [candidates, launched];
    }
    if (decision.action === 'accept') {
      supervisor.reasons.set(name, '');
      logger.info({ job: name, tasks: group.length, reason: decision.reason }, 'gang accepted');
      await this.#launch(driver, decision.launches);
      const used = new Set(decision.launches.flatMap((l) => l.offerIds));
      return [candidates.filter((h) => !used.has(h.offer.id)), true];
    }
    if (decision.action === 'hold') {
      // Hold only the offers the partial placement uses; the rest may serve other jobs.
      const partial = candidates.length === 0 ? [] : matchOffers(candidates.map((h) => h.offer), group, match).launches;
      const keep = new Set(partial.flatMap((l) => l.offerIds));
      const kept = candidates.filter((h) => keep.has(h.offer.id));
      holds.hold(name, kept);
      supervisor.reasons.set(name, describeGang(group, kept.length, decision.covered));
      return [candidates.filter((h) => !keep.has(h.offer.id)), launched];
    }
    if (candidates.length > 0 && holds.memory(name).coolDownUntilMs !== decision.coolDownUntilMs) {
      logger.info({ job: name, offers: candidates.length, reason: decision.reason }, 'gang released its offers');
    }
    holds.remember(name, { coolDownUntilMs: decision.coolDownUntilMs });
    supervisor.reasons.set(name, decision.reason);
    return [candidates, launched];
  }

  /**
   * Persist every task (STAGING) first, one write per job; then send every accept at once. A job
   * whose write fails launches nothing (the tasks wait for another round), and offers left with
   * nothing to launch are declined, never kept.
   */
  async #launch(driver: SchedulerDriver, launches: readonly Launch<JobTask>[]): Promise<void> {
    const { book, clock, logger } = this.deps;
    const now = clock.now();
    const planned: { launch: Launch<JobTask>; infos: TaskInfo[]; job: Map<string, string> }[] = [];
    const added = new Map<string, JobTaskEntry[]>();
    for (const launch of launches) {
      const infos: TaskInfo[] = [];
      const job = new Map<string, string>();
      for (const placement of launch.tasks) {
        const record = book.get(placement.task.job);
        if (record === undefined) continue;
        const d = placement.task.decision;
        const taskId = mintTaskId(record.name, record.runs, d);
        const entry: JobTaskEntry = { taskId, attempt: d.attempt, ...(d.index === undefined ? {} : { index: d.index }), state: 'TASK_STAGING', launchedAtMs: now, agentId: launch.agentId, hostname: launch.hostname };
        added.set(record.name, [...(added.get(record.name) ?? []), entry]);
        infos.push(taskInfo(record.spec, record.runs, taskId, launch.agentId, placement, this.deps.values));
        job.set(taskId, record.name);
      }
      planned.push({ launch, infos, job });
    }
    const saved = new Set<string>();
    for (const [name, entries] of added) {
      const record = book.get(name)!;
      try {
        await book.put({ ...record, run: { ...record.run, tasks: [...record.run.tasks, ...entries] } });
        saved.add(name);
      } catch (err) {
        logger.error({ err, job: name }, 'could not record the launch; not launching');
      }
    }
    const ready = planned.map(({ launch, infos, job }) => ({ launch, infos: infos.filter((i) => saved.has(job.get(i.taskId!)!)), job: new Map([...job].filter(([, name]) => saved.has(name))) }));
    const sends = ready.filter((s) => s.infos.length > 0);
    await this.#protocol.declineAll(driver, ready.filter((s) => s.infos.length === 0).flatMap((s) => s.launch.offerIds), true);
    // Accepts leave the unused part of their offers with the short filter: the framework is busy.
    // Sent at once; an unanswered one is left to reconciliation (common/launch-protocol.ts).
    const outcomes = await Promise.all(sends.map((s) => this.#protocol.send(driver, s.launch, s.infos, true)));
    for (const [i, sent] of outcomes.entries()) {
      if (sent.result !== 'refused') continue;
      // Refused, so never launched: void the tasks (no failure: the offer went away, not the task).
      const message = `launch refused: ${(sent.error as Error).message}`;
      for (const [taskId, name] of sends[i]!.job) {
        await book.updateTask(name, taskId, (t) => ({ ...t, state: 'TASK_DROPPED', voided: true, finishedAtMs: clock.now(), message }));
      }
    }
  }
}

/**
 * Why tasks that would fit the round's offers were not placed: the offers went to jobs ahead of
 * this one in the queue, or to its own other tasks — said only when it is so.
 */
function whoTookThem(entry: QueueEntry, left: number, ahead: readonly QueueEntry[], placed: ReadonlyMap<string, number>): string {
  const took = ahead.filter((a) => (placed.get(a.spec.name) ?? 0) > 0).map((a) => a.spec.name);
  if (took.length > 0) {
    const names = took.length > 3 ? `${took.slice(0, 3).join(', ')} and ${took.length - 3} more` : took.join(', ');
    return `waiting for offers: jobs ahead of it in the queue (${names}) took the ones that fit`;
  }
  const own = placed.get(entry.spec.name) ?? 0;
  const each = resourcesText(entry.spec.task.resources);
  if (own > 0) return `waiting for offers: ${own} of its tasks launched on this round's offers, ${left} more need room (${each} each)`;
  return `waiting for offers with room for ${left} task${left === 1 ? '' : 's'} (${each} each)`;
}
