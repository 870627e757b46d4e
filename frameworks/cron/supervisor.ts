// The effectful half of the cron framework: it plans every cron job (runs.ts over the pure
// planner), persists each plan *before* acting on it, then kills what the plan kills, lists the
// runs waiting for an offer (launcher.ts launches them), sets one wake-up, and turns status
// updates into run state. Every method runs inside the shell's serial section.
//
//   wake-up, update, API call ─► replan ─► per job: planJob ─► applyPlan ─► book.put ─► kills
//                                              └─► pending runs ─► revive / suppress ─► offers ─► launcher
//   update ─► taskUpdate ─► book.put ─► (ended: replan — retries, dependents)
import type { TaskStatus__Output } from '../../proto/index.js';
import type { FrameworkDriver } from '../../sdk/driver.js';
import { KillTracker } from '../common/kill-tracker.js';
import { OfferInterest } from '../offer-interest.js';
import type { CronBook } from './book.js';
import { liveTasks, needsLaunch, type CronJobRecord } from './model.js';
import type { ParentOutcome } from './planner.js';
import type { SupervisorBaseDeps } from '../common/supervisor-deps.js';
import { applyPlan, giveUpUnreachable, latestOutcome, planJob, taskUpdate } from './runs.js';
import { pendingRun, type PendingRun } from './tasks.js';

export interface CronSupervisorDeps extends SupervisorBaseDeps {
  readonly book: CronBook;
  readonly role: string;
  /** A kill not answered within the grace period and this much more is sent again. */
  readonly killRetryMs: number;
  /** How long a task whose agent stopped answering keeps its run active. */
  readonly unreachableTimeoutMs: number;
  /** The views may have changed. */
  readonly publish: () => void;
}

/**
 * Plan at least this often. The shell already splits a long sleep (a yearly job's next time) into
 * day-long ones; this shorter bound is a safety net, e.g. against a wall-clock step while asleep.
 */
const MAX_SLEEP_MS = 3_600_000;
const NON_TERMINAL = new Set(['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_UNREACHABLE']);

export class CronSupervisor {
  pending: readonly PendingRun[] = [];
  readonly #kills: KillTracker;
  readonly #offers: OfferInterest;

  constructor(private readonly deps: CronSupervisorDeps) {
    this.#offers = new OfferInterest(deps.driver, deps.logger);
    this.#kills = new KillTracker({ clock: deps.clock, logger: deps.logger, driver: deps.driver, retryMs: deps.killRetryMs });
  }

  /** After each (re)subscription: reconcile every task that may be live, then plan. */
  async subscribed(driver: FrameworkDriver): Promise<void> {
    this.#offers.subscribed();
    this.#kills.subscribed();
    for (const record of this.deps.book.records.values()) for (const run of record.runs) for (const t of liveTasks(run)) driver.trackTask(t.taskId, t.agentId);
    driver.reconcile([]).catch((err: unknown) => this.deps.logger.warn({ err }, 'implicit reconcile failed'));
    await this.replan();
  }

  declinedIdle(): void {
    this.#offers.declinedIdle();
  }

  /** Plan every job (parents before their dependents see them), persist, act, and wake up when needed. */
  async replan(): Promise<void> {
    const { book, clock } = this.deps;
    const now = clock.now();
    let wakeAt: number | undefined;
    for (const name of this.#order()) {
      const stored = book.records.get(name);
      if (stored === undefined) continue;
      const given = giveUpUnreachable(stored, now, this.deps.unreachableTimeoutMs);
      const record = given.record;
      const p = planJob(record, this.#parents(record), now);
      const { record: next, kill } = applyPlan(record, p, now);
      kill.push(...given.kill);
      if (given.nextAt !== undefined) wakeAt = Math.min(wakeAt ?? given.nextAt, given.nextAt);
      for (const s of p.skip) this.deps.logger.info({ cronjob: name, reason: s.reason, count: s.count, first: new Date(s.first).toISOString() }, 'scheduled times skipped');
      try {
        await book.put(next); // the new runs and lastScheduleTime, before anything is launched or killed
      } catch (err) {
        this.deps.logger.error({ err, cronjob: name }, 'could not save the plan; nothing of it is carried out');
        continue;
      }
      for (const run of given.ended) this.deps.logger.warn({ cronjob: name, runId: run.id, state: run.state }, 'a task unreachable for too long was given up');
      for (const s of p.start) this.deps.logger.info({ cronjob: name, runId: s.runId, scheduledTime: new Date(s.scheduledTime).toISOString() }, 'run planned');
      for (const k of kill) this.killTask(k.taskId, k.agentId, next.spec.task.killGracePeriodSeconds, k.reason);
      if (p.wakeAt !== undefined) wakeAt = Math.min(wakeAt ?? p.wakeAt, p.wakeAt);
    }
    const due = this.#kills.retry(now);
    if (due !== undefined) wakeAt = Math.min(wakeAt ?? due, due);
    this.pending = [...book.records.values()].flatMap((r) => r.runs.filter(needsLaunch).map((run) => pendingRun(r.spec, run, this.deps.role)));
    await this.#offers.want(this.pending.length > 0);
    this.deps.wake(Math.min(wakeAt ?? Infinity, now + MAX_SLEEP_MS));
    this.deps.publish();
  }

  /** A status update: the run's new state; a run that ended replans (retries, dependents). */
  async update(status: TaskStatus__Output): Promise<void> {
    const { book, clock, logger } = this.deps;
    const state = String(status.state);
    if (!NON_TERMINAL.has(state)) this.#kills.ended(status.taskId);
    const name = book.owner.get(status.taskId);
    const record = name === undefined ? undefined : book.records.get(name);
    if (record === undefined) {
      if (NON_TERMINAL.has(state) && state !== 'TASK_UNREACHABLE' && !this.#kills.has(status.taskId)) {
        logger.warn({ taskId: status.taskId, state }, 'killing a task no cron job owns');
        this.killTask(status.taskId, status.agentId, 0, 'no cron job owns it');
      }
      return;
    }
    const out = taskUpdate(record, status, clock.now());
    if (out.effect === 'none') return;
    if (out.effect === 'kill') {
      if (!this.#kills.has(status.taskId)) this.killTask(status.taskId, status.agentId, record.spec.task.killGracePeriodSeconds, `run ${out.run?.id ?? ''} is over`);
      return;
    }
    await book.put(out.record);
    if (out.effect === 'ended') logger.info({ cronjob: record.name, runId: out.run?.id, state: out.run?.state, exitCode: out.run?.exitCode, taskId: status.taskId }, 'run attempt ended');
    if (out.effect === 'relaunch') logger.warn({ cronjob: record.name, runId: out.run?.id, taskId: status.taskId, state }, 'the master never ran the task; launching the attempt again');
    await this.replan();
  }

  /** Ask the master to kill a task (again after the grace period and killRetryMs without an answer: common/kill-tracker.ts). */
  killTask(taskId: string, agentId: string, graceSeconds: number, reason: string): void {
    this.#kills.kill(taskId, agentId, graceSeconds, reason);
  }

  /** Jobs by name, parents first where they are cron jobs here (a dependent sees its parents' plans). */
  #order(): string[] {
    const { records } = this.deps.book;
    const out: string[] = [];
    const seen = new Set<string>();
    const visit = (name: string): void => {
      if (seen.has(name) || !records.has(name)) return;
      seen.add(name);
      for (const parent of records.get(name)!.spec.after) visit(parent);
      out.push(name);
    };
    for (const name of [...records.keys()].sort()) visit(name);
    return out;
  }

  #parents(record: CronJobRecord): Record<string, ParentOutcome | undefined> {
    return Object.fromEntries(record.spec.after.map((p) => [p, latestOutcome(this.deps.book.records.get(p))]));
  }
}
