// The effectful half of the batch framework: it runs the planner over every job, carries the plans
// out (persist started/finished, kill, delete after the TTL), keeps the queue of jobs waiting for
// offers (in orderQueue order) for the launcher, and turns status updates into persisted task
// state. Every method runs inside the shell's serial section.
//
//   update ──► book (task state) ──┐
//   API (apply, trigger, …) ───────┼──► replan ──► planJob per job ──► kill / delete / persist run
//   wake-ups (backoff, deadline, ──┘                    └─► queue (pending launches) ──► launcher
//            ttl, kill retry)
import { isTerminal, type TaskState } from '../../core/task-state.js';
import type { TaskStatus__Output } from '../../proto/index.js';
import { isAuthoritativeEnd, isInferredEnd } from '../../sdk/task-ends.js';
import { neverRan } from '../../sdk/task-outcome.js';
import { KillTracker } from '../common/kill-tracker.js';
import { OfferInterest } from '../offer-interest.js';
import type { JobBook, JobRecord, JobRun, JobTaskEntry } from './book.js';
import type { GangHolds } from './holds.js';
import type { CompiledBatchOptions } from './options.js';
import { planJob, type JobPlan, type LaunchDecision } from './planner.js';
import { orderQueue } from './queue.js';
import type { JobSpecDoc } from './spec.js';
import type { SupervisorBaseDeps } from '../common/supervisor-deps.js';

export interface JobSupervisorDeps extends SupervisorBaseDeps {
  readonly book: JobBook;
  readonly holds: GangHolds;
  readonly options: CompiledBatchOptions;
  /** The views of these jobs (all, when undefined) may have changed. */
  readonly publish: (names?: readonly string[]) => void;
  /** A job was deleted (its TTL passed): publish DELETED with its last view. */
  readonly deleted: (record: JobRecord) => void;
  /** Offers to give back at once (held by a job that no longer waits). */
  readonly decline: (offerIds: readonly string[]) => void;
}

/** A job with tasks to launch now, in queue order. */
export interface QueueEntry {
  readonly spec: JobSpecDoc;
  readonly submittedAtMs: number;
  readonly pending: number;
  readonly record: JobRecord;
  readonly decisions: readonly LaunchDecision[];
}

export class JobSupervisor {
  queue: readonly QueueEntry[] = [];
  readonly plans = new Map<string, JobPlan>();
  /** Why each queued job still waits, from the last offer round. */
  readonly reasons = new Map<string, string>();
  /** Kills sent and not yet answered, the job's tasks' and orphans' (common/kill-tracker.ts). */
  readonly #kills: KillTracker;
  readonly #offers: OfferInterest;
  /** The last plan's queue entry of each job with launches pending, and each job's next wake-up. */
  readonly #entries = new Map<string, QueueEntry>();
  readonly #wakes = new Map<string, number>();

  constructor(private readonly deps: JobSupervisorDeps) {
    this.#offers = new OfferInterest(deps.driver, deps.logger);
    this.#kills = new KillTracker({ clock: deps.clock, logger: deps.logger, driver: deps.driver, retryMs: deps.options.killRetryMs });
  }

  /** After every (re)subscription: offer interest starts afresh (offer-interest.ts), kills are sent again. */
  subscribed(): void {
    this.#offers.subscribed();
    this.#kills.subscribed();
  }

  declinedIdle(): void {
    this.#offers.declinedIdle();
  }

  /**
   * Plan jobs and carry the plans out: every job, or only `names` (the jobs an event changed; the
   * others keep their last plan, queue entry and wake-up — what makes an apply or a batch of
   * updates cost one job's plan, not every job's). Then the queue, held offers, offer interest,
   * the wake-up and the views.
   */
  async replan(names?: Iterable<string>): Promise<void> {
    const { book, clock, options } = this.deps;
    const now = clock.now();
    const todo = names === undefined ? [...book.records.keys()] : [...new Set(names)];
    if (names === undefined) {
      this.#entries.clear();
      this.#wakes.clear();
    }
    for (const name of todo.sort()) {
      this.#entries.delete(name);
      this.#wakes.delete(name);
      let record = book.records.get(name);
      if (record === undefined) continue;
      const plan = planJob(record.spec, record.run, now, { backoff: options.retryBackoff, unreachableTimeoutMs: options.unreachableTimeoutMs });
      if (plan.delete) {
        await this.deleteJob(record, 'its ttlSecondsAfterFinished passed');
        this.deps.deleted(record);
        continue;
      }
      record = await this.#persistRun(record, plan);
      this.plans.set(name, plan);
      if (plan.wakeAtMs !== undefined) this.#wakes.set(name, plan.wakeAtMs);
      await this.#kill(record, plan.kill);
      if (plan.launch.length > 0) this.#entries.set(name, { spec: record.spec, submittedAtMs: record.run.submittedAtMs, pending: plan.launch.length, record, decisions: plan.launch });
      else this.reasons.delete(name);
    }
    this.queue = orderQueue([...this.#entries.values()]);
    let wakeAt: number | undefined;
    const wake = (at: number | undefined): void => void (at !== undefined && (wakeAt = Math.min(wakeAt ?? at, at)));
    for (const at of this.#wakes.values()) wake(at);
    // Offers held for a gang job that no longer waits for a wave go back.
    const waiting = new Set(this.queue.map((q) => q.spec.name));
    for (const job of this.deps.holds.jobs()) if (!waiting.has(job)) this.deps.decline(this.deps.holds.take(job).map((h) => h.offer.id));
    wake(this.#kills.retry(now));
    wake(this.deps.holds.nextExpiry(options.maxHoldMs));
    await this.#offers.want(this.queue.length > 0 || this.deps.holds.size > 0);
    if (wakeAt !== undefined) this.deps.wake(wakeAt);
    this.deps.publish(names === undefined ? undefined : todo);
  }

  /** Write what the plan decided about the run (started, finished, phase), only when it changed. */
  async #persistRun(record: JobRecord, plan: JobPlan): Promise<JobRecord> {
    const { startedAtMs: _s, finishedAtMs: _f, phase: _p, reason: _r, ...rest } = record.run;
    const run: JobRun = {
      ...rest,
      ...(plan.startedAtMs === undefined ? {} : { startedAtMs: plan.startedAtMs }),
      ...(plan.finishedAtMs === undefined ? {} : { finishedAtMs: plan.finishedAtMs, phase: plan.phase }),
      ...(plan.finishedAtMs !== undefined && plan.reason !== undefined ? { reason: plan.reason } : {}),
    };
    if (record.run.finishedAtMs === undefined && run.finishedAtMs !== undefined) {
      const level = plan.phase === 'JOB_FAILED' ? 'warn' : 'info';
      this.deps.logger[level]({ job: record.name, phase: plan.phase, reason: plan.reason, message: plan.message }, 'job finished');
    }
    const next = { ...record, run };
    await this.deps.book.put(next);
    return next;
  }

  /** Kill what the plan says (marking killRequested first); the kill tracker sends again what goes unanswered. */
  async #kill(record: JobRecord, taskIds: readonly string[]): Promise<void> {
    if (taskIds.length === 0) return;
    const ids = new Set(taskIds);
    if (record.run.tasks.some((t) => ids.has(t.taskId) && t.killRequested !== true)) {
      const tasks = record.run.tasks.map((t) => (ids.has(t.taskId) && t.killRequested !== true ? { ...t, killRequested: true } : t));
      await this.deps.book.put({ ...record, run: { ...record.run, tasks } });
    }
    for (const t of record.run.tasks) {
      if (ids.has(t.taskId) && !this.#kills.has(t.taskId)) this.#kills.kill(t.taskId, t.agentId, record.spec.task.killGracePeriodSeconds, `job ${record.name}: the plan kills it`);
    }
  }

  /** Kill the active tasks of a job that goes away, and forget it (state, holds). */
  async deleteJob(record: JobRecord, why: string): Promise<void> {
    for (const t of record.run.tasks) if (!isTerminal(t.state)) this.killOrphan(t.taskId, t.agentId, record.spec.task.killGracePeriodSeconds);
    await this.deps.book.remove(record.name);
    this.forgetRun(record.name);
    this.deps.logger.info({ job: record.name, why }, 'job deleted');
  }

  /** The job's run is over for good (deleted, or a new run starts): its held offers go back; its gang memory, plan and reason go. */
  forgetRun(name: string): void {
    this.deps.decline(this.deps.holds.forget(name).map((h) => h.offer.id));
    this.plans.delete(name);
    this.reasons.delete(name);
    this.#entries.delete(name);
    this.#wakes.delete(name);
  }

  /** Kill a task no job owns (its job was deleted, or the book never knew it). */
  killOrphan(taskId: string, agentId: string, graceSeconds = 0): void {
    this.#kills.kill(taskId, agentId, graceSeconds, 'no job owns it');
  }

  /** A status update: as updates([status]). */
  async update(status: TaskStatus__Output): Promise<void> {
    await this.updates([status]);
  }

  /**
   * Status updates, in order: each task's new state (a task that never ran is voided), then one
   * write per job for all of its changed tasks, then one plan of the jobs that changed. The SDK
   * acknowledges the updates once this resolves, so only after the writes are durable; a job whose
   * write fails fails the whole batch (none is acknowledged; the agents send them again).
   */
  async updates(statuses: readonly TaskStatus__Output[]): Promise<void> {
    const changes = new Map<string, Map<string, JobTaskEntry>>();
    for (const status of statuses) this.#apply(status, changes);
    let failure: unknown;
    const replan: string[] = [];
    const viewOnly: string[] = [];
    for (const [name, tasks] of changes) {
      const before = new Map([...tasks.keys()].map((id) => [id, this.deps.book.task(name, id)]));
      try {
        await this.deps.book.updateTasks(name, new Map([...tasks].map(([id, entry]) => [id, () => entry])));
      } catch (err) {
        failure ??= err;
        continue;
      }
      // A task still active and otherwise the same to the planner (STAGING → STARTING → RUNNING)
      // changes no plan: the thousands of RUNNINGs of a large job cost a write, not a plan each.
      if ([...tasks].some(([id, next]) => mattersToPlan(before.get(id), next))) replan.push(name);
      else viewOnly.push(name);
    }
    if (replan.length > 0) await this.replan(replan);
    if (viewOnly.length > 0) this.deps.publish(viewOnly);
    if (failure !== undefined) throw failure;
  }

  /** One update against the book as `changes` (the batch so far) leaves it; the task's next entry goes into `changes`. */
  #apply(status: TaskStatus__Output, changes: Map<string, Map<string, JobTaskEntry>>): void {
    const { book, clock, logger } = this.deps;
    const state = status.state as TaskState;
    const ended = isTerminal(state) || state === 'TASK_UNKNOWN';
    const name = book.owner.get(status.taskId);
    const record = name === undefined ? undefined : book.get(name);
    const task = name === undefined ? undefined : (changes.get(name)?.get(status.taskId) ?? book.task(name, status.taskId));
    if (record === undefined || task === undefined) {
      if (ended) this.#kills.ended(status.taskId);
      else if (!this.#kills.has(status.taskId)) {
        logger.warn({ taskId: status.taskId, state }, 'killing a task no job owns');
        this.killOrphan(status.taskId, status.agentId);
      }
      return;
    }
    const change = (next: JobTaskEntry): void => {
      let tasks = changes.get(record.name);
      if (tasks === undefined) changes.set(record.name, (tasks = new Map()));
      tasks.set(task.taskId, next);
    };
    // The agent's own end overrides the master's inference (a LOST while the agent was away): the
    // task is counted once, by how it really ended.
    const revived = overridden(task, status, clock.now());
    if (revived !== undefined) {
      logger.warn({ job: record.name, taskId: task.taskId, index: task.index, was: task.state, state: revived.state }, 'the agent reported how a task taken for lost ended');
      change(revived);
      return;
    }
    // A terminal state is final: a repeated or late update (at-least-once delivery) changes nothing.
    if (isTerminal(task.state)) {
      // Voided, yet alive after all (an unanswered launch that did happen): its index was launched
      // again, so this one goes.
      if (ended) this.#kills.ended(task.taskId);
      else if (task.voided === true && !this.#kills.has(task.taskId)) {
        logger.warn({ job: record.name, taskId: task.taskId, state }, 'killing a task that was taken for never launched');
        this.killOrphan(task.taskId, status.agentId, record.spec.task.killGracePeriodSeconds);
      }
      return;
    }
    const next = nextEntry(task, status, state, clock.now());
    if (next === task) return;
    if (isTerminal(next.state)) {
      this.#kills.ended(task.taskId);
      const level = next.voided ? 'info' : next.state === 'TASK_FINISHED' ? 'debug' : 'warn';
      logger[level]({ job: record.name, taskId: task.taskId, index: task.index, attempt: task.attempt, state: next.state, voided: next.voided, message: status.message }, 'task ended');
    }
    change(next);
  }
}

/** Does this change of a task change what planJob decides (it reads only these fields)? */
export function mattersToPlan(before: JobTaskEntry | undefined, next: JobTaskEntry): boolean {
  if (before === undefined || isTerminal(before.state) || isTerminal(next.state)) return true;
  return before.index !== next.index || before.attempt !== next.attempt || before.launchedAtMs !== next.launchedAtMs || before.killRequested !== next.killRequested || before.voided !== next.voided || before.finishedAtMs !== next.finishedAtMs;
}

/**
 * A task whose end was the master's inference (LOST while its agent was away), and the agent's own
 * end now: the entry as that end makes it (sdk/task-ends.ts). Undefined otherwise — a terminal
 * state is final.
 */
export function overridden(task: JobTaskEntry, status: TaskStatus__Output, now: number): JobTaskEntry | undefined {
  if (!isTerminal(task.state) || task.inferred !== true || !isAuthoritativeEnd(status)) return undefined;
  const { inferred: _inferred, voided: _voided, finishedAtMs: _finished, ...was } = task;
  return nextEntry({ ...was, state: 'TASK_RUNNING' }, status, status.state as TaskState, now);
}

/** The task after an update; the same object when nothing worth persisting changed. */
export function nextEntry(task: JobTaskEntry, status: TaskStatus__Output, state: TaskState, now: number): JobTaskEntry {
  const message = status.message || task.message || '';
  const exit = status.exitCode === undefined || status.exitCode === null ? {} : { exitCode: status.exitCode };
  const inferred = isInferredEnd(status) ? { inferred: true } : {};
  if (neverRan({ state, reason: status.reason, ran: task.runningAtMs !== undefined })) {
    // Never reached RUNNING: it did not run, so it is no failure; its index is launched again
    // (sdk/task-outcome.ts; UNKNOWN is stored as LOST).
    return { ...task, state: state === 'TASK_UNKNOWN' ? 'TASK_LOST' : state, voided: true, finishedAtMs: now, message: message || 'never ran', ...inferred };
  }
  const to: TaskState = state === 'TASK_UNKNOWN' ? 'TASK_LOST' : state;
  const runningAtMs = task.runningAtMs ?? (to === 'TASK_RUNNING' ? now : undefined);
  if (to === task.state && runningAtMs === task.runningAtMs) return task;
  // Unreachable since the first such report; any other state means its agent answers again.
  const { unreachableSinceMs: _since, ...rest } = task;
  return {
    ...rest,
    ...(to === 'TASK_UNREACHABLE' ? { unreachableSinceMs: task.unreachableSinceMs ?? now } : {}),
    state: to,
    ...(runningAtMs === undefined ? {} : { runningAtMs }),
    ...(isTerminal(to) ? { finishedAtMs: now, ...inferred } : {}),
    ...exit,
    message,
  };
}
