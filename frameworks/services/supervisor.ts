// The effectful half of the services framework: it runs the planner over every service, carries
// out the plans through the FrameworkDriver (kills, and launches via offers — see launcher.ts),
// turns status updates into task state, and keeps offers flowing only while something waits.
// Every method runs inside the framework's serial section, so the book is never changed twice at once.
//
//   updates ──► runtime / record ──► debt.owe ──(soon, once per burst: plan-debt.ts)──┐
//   apply, scale, … (framework) ─────────────────────────────────────────────────────┼──► replan
//   timers (tick, backoff end) ──────────────────────────────────────────────────────┘     │
//   replan ──► plan per service ──► kills ──► driver.kill
//                      │ launches ──► pending ──► offers ──► launcher
//                      └ deployment phase, revert ──► book.save ──► watch
import { isTerminal, type TaskState } from '../../core/task-state.js';
import type { TaskStatus__Output } from '../../proto/index.js';
import { KillTracker } from '../common/kill-tracker.js';
import { OfferInterest } from '../offer-interest.js';
import { settle } from './deployments.js';
import { UNCONFIRMED, type ServiceBook } from './book.js';
import { specOf, type ServiceRecord, type TaskRuntime, type TaskView } from './model.js';
import { isAvailable, plan, taskEnded } from './planner.js';
import { pendingLaunch, type PendingLaunch } from './tasks.js';
import type { Notes } from './views.js';
import type { PlanDebt } from './plan-debt.js';
import type { SupervisorBaseDeps } from '../common/supervisor-deps.js';

export interface ServiceSupervisorDeps extends SupervisorBaseDeps {
  readonly book: ServiceBook;
  /** The role of services whose spec names none. */
  readonly role: string;
  readonly backoffResetMs: number;
  /** A kill not answered within the grace period and this much more is sent again. */
  readonly killRetryMs: number;
  /** The views of these services may have changed. */
  readonly publish: () => void;
  /** Status updates owe a plan; every plan pays it (plan-debt.ts). */
  readonly debt: PlanDebt;
}

// Offers are suppressed only once no instance has waited for this long (the tick replans).
const KEEP_OFFERS_MS = 5_000;

export class ServiceSupervisor {
  /** Instances the last plans want started, in priority order. */
  pending: readonly PendingLaunch[] = [];
  readonly notes = new Map<string, Notes>();
  /** Failed tasks per service since this framework started (agora_service_restarts_total); the service's delete drops its count. */
  readonly restarts = new Map<string, number>();
  /** Every kill sent and not yet answered (tasks of services, and orphans: tasks no service owns). */
  readonly kills: KillTracker;
  readonly #offers: OfferInterest;
  #wantedAtMs = -Infinity;

  constructor(private readonly deps: ServiceSupervisorDeps) {
    this.#offers = new OfferInterest(deps.driver, deps.logger);
    this.kills = new KillTracker({ clock: deps.clock, logger: deps.logger, driver: deps.driver, retryMs: deps.killRetryMs });
  }

  /** After every (re)subscription offers flow again (the driver subscribes unsuppressed); unanswered kills go again. */
  subscribed(): void {
    this.#offers.subscribed();
    this.kills.subscribed();
  }

  declinedIdle(): void {
    this.#offers.declinedIdle();
  }

  /** Plan every service and carry the plans out. */
  async replan(): Promise<void> {
    await this.deps.debt.planning(() => this.#replan());
  }

  async #replan(): Promise<void> {
    const { book, clock } = this.deps;
    const now = clock.now();
    const pending: PendingLaunch[] = [];
    let wakeAt: number | undefined;
    for (const name of [...book.records.keys()].sort()) {
      const launches = await this.#planService(name, now, (at) => (wakeAt = Math.min(wakeAt ?? at, at)));
      pending.push(...launches);
    }
    this.pending = pending;
    // Suppress only once nothing has waited for a while: failures come one update at a time, and
    // suppressing between them would rescind the offers already on their way for the next ones.
    if (pending.length > 0) this.#wantedAtMs = now;
    if (pending.length > 0 || now - this.#wantedAtMs >= KEEP_OFFERS_MS) await this.#offers.want(pending.length > 0);
    if (wakeAt !== undefined) this.deps.wake(wakeAt);
    this.deps.publish();
  }

  async #planService(name: string, now: number, wakeAt: (at: number) => void): Promise<PendingLaunch[]> {
    const { book, logger } = this.deps;
    let record = book.records.get(name)!;
    for (let round = 0; round < 2; round++) {
      const tasks = book.tasksOf(record);
      const p = plan(record, tasks, now);
      const forgotten = new Set(p.expunge);
      for (const id of forgotten) logger.info({ service: name, taskId: id }, 'forgetting a task unreachable past expungeAfterSeconds');
      const kept = forgotten.size === 0 ? record.tasks : Object.fromEntries(Object.entries(record.tasks).filter(([id]) => !forgotten.has(id)));
      const next = settle({ ...record, tasks: kept, relaunches: p.relaunches }, p.deployment, p.revert, now);
      await this.#save(next);
      if (p.revert !== undefined) {
        logger.warn({ service: name, deployment: p.deployment?.id, version: p.revert.version }, 'deployment failed; returning to the previous version');
        record = book.records.get(name) ?? next;
        continue;
      }
      // Out of the endpoints (DNS, the proxy) before any of them is sent its kill.
      const killing = p.kill.filter((k) => this.#markKilling(next, k.taskId));
      if (killing.length > 0) this.deps.publish();
      for (const k of killing) this.#sendKill(next, k.taskId, k.reason);
      if (p.wakeAtMs !== undefined) wakeAt(p.wakeAtMs);
      const unplaced = p.launches.length === 0 ? '' : this.notes.get(name)?.unplaced || 'waiting for offers';
      this.notes.set(name, { waiting: p.waiting, unplaced });
      return p.launches.flatMap((l) => {
        const spec = specOf(next, l.version)!;
        const carried = l.relaunches ?? [];
        return Array.from({ length: l.count }, (_, i) => pendingLaunch(spec, l.version, l.canary, this.deps.role, carried[i]));
      });
    }
    return [];
  }

  async #save(record: ServiceRecord): Promise<void> {
    try {
      await this.deps.book.save(record);
    } catch (err) {
      this.deps.logger.error({ err, service: record.name }, 'could not save the service');
    }
  }

  /**
   * Ask the master to kill a task with its version's grace period (the kill tracker sends it again
   * until it ends). The endpoints lose it first, so no new connection is sent to a task that is
   * being stopped.
   */
  killTask(record: ServiceRecord, taskId: string, reason: string): void {
    if (!this.#markKilling(record, taskId)) return;
    this.deps.publish();
    this.#sendKill(record, taskId, reason);
  }

  /** Marked before it is sent: its end is then no failure (backoff.ts isFailure), and it is no endpoint. */
  #markKilling(record: ServiceRecord, taskId: string): boolean {
    const { book, clock } = this.deps;
    if (record.tasks[taskId] === undefined) return false;
    book.runtime.set(taskId, { ...(book.runtime.get(taskId) ?? UNCONFIRMED), killRequestedAtMs: clock.now() });
    return true;
  }

  #sendKill(record: ServiceRecord, taskId: string, reason: string): void {
    const task = record.tasks[taskId]!;
    const grace = (specOf(record, task.version) ?? specOf(record, record.version))!.killGracePeriodSeconds;
    this.kills.kill(taskId, task.agentId, grace, `service ${record.name}: ${reason}`);
  }

  /** Kill a task no service owns (its service was deleted, or the book never knew it). */
  killOrphan(taskId: string, agentId: string, graceSeconds: number): void {
    this.kills.kill(taskId, agentId, graceSeconds, 'no service owns it');
  }

  /** Periodic: send again kills that got no answer, then plan (backoff ends, lost events). */
  async tick(): Promise<void> {
    this.kills.retry();
    await this.replan();
  }

  /** A status update: the task's new state, its end accounted for, and a plan owed. */
  async update(status: TaskStatus__Output): Promise<void> {
    await this.updates([status]);
  }

  /**
   * Status updates that arrived together, in order. An ended task is saved here, before the
   * updates are acknowledged; the plan they call for is owed, and made once for the whole burst.
   */
  async updates(statuses: readonly TaskStatus__Output[]): Promise<void> {
    // Owed before the first is applied: a read while an ended task is being saved waits for the plan too.
    this.deps.debt.owe();
    for (const status of statuses) await this.#apply(status);
  }

  /** The plan status updates asked for, unless another plan has made it since. */
  async payDebt(): Promise<void> {
    if (this.deps.debt.owed) await this.replan();
  }

  async #apply(status: TaskStatus__Output): Promise<void> {
    const { book, clock, logger } = this.deps;
    const state = status.state as TaskState;
    // An unreachable task is not gone: it keeps its place for inactiveAfterSeconds (partition.ts).
    const gone = isTerminal(state) || state === 'TASK_UNKNOWN';
    const name = book.owner.get(status.taskId);
    const record = name === undefined ? undefined : book.records.get(name);
    if (gone) this.kills.ended(status.taskId);
    if (record === undefined || record.tasks[status.taskId] === undefined) {
      if (state === 'TASK_UNREACHABLE') this.kills.ended(status.taskId);
      else if (!gone && !this.kills.has(status.taskId)) {
        logger.warn({ taskId: status.taskId, state }, 'killing a task no service owns');
        this.killOrphan(status.taskId, status.agentId, 0);
      }
      return;
    }
    const view = book.taskView(record, status.taskId)!;
    const runtime = nextRuntime(view, status, state, specOf(record, view.version), clock.now());
    book.runtime.set(status.taskId, runtime);
    if (gone) await this.#ended(record, { ...view, ...runtime }, state, status.reason, status.message);
  }

  /** Forget a task that ended (or that the master does not know); count the failure if it was one. */
  async #ended(record: ServiceRecord, task: TaskView, state: TaskState, reason: string, message: string): Promise<void> {
    const now = this.deps.clock.now();
    const out = taskEnded(record, task, { state, reason, message }, now, this.deps.backoffResetMs);
    const { [task.taskId]: _ended, ...tasks } = record.tasks;
    const lastFailure = out.failure ? { lastFailure: { taskId: task.taskId, atMs: now, state, reason, message, agentId: task.agentId, hostname: task.hostname } } : {};
    const next = settle({ ...record, tasks, relaunches: out.relaunches, ...lastFailure }, out.deployment, undefined, now);
    const level = out.failure ? 'warn' : 'info';
    if (out.failure) this.restarts.set(record.name, (this.restarts.get(record.name) ?? 0) + 1);
    const backoff = out.relaunch === undefined ? {} : { failures: out.relaunch.failures, relaunchInMs: out.relaunch.untilMs - now };
    this.deps.logger[level]({ service: record.name, taskId: task.taskId, state, reason, message, ...backoff }, 'task ended');
    await this.#save(next);
  }

  /** The master says it does not know a task the book has: it is gone. */
  async unknownTask(taskId: string): Promise<void> {
    const name = this.deps.book.owner.get(taskId);
    const record = name === undefined ? undefined : this.deps.book.records.get(name);
    const view = record === undefined ? undefined : this.deps.book.taskView(record, taskId);
    if (record === undefined || view === undefined) return;
    this.kills.ended(taskId);
    await this.#ended(record, view, 'TASK_UNKNOWN', 'REASON_TASK_UNKNOWN', 'the master does not know the task');
    await this.replan();
  }
}

function nextRuntime(prev: TaskView, status: TaskStatus__Output, state: TaskState, spec: Parameters<typeof isAvailable>[1], now: number): TaskRuntime {
  const running = state === 'TASK_RUNNING';
  // Health rides on RUNNING updates; one without it keeps what the last one said.
  const healthy = status.healthy ?? (running && prev.confirmed ? prev.healthy : undefined);
  const ready = status.ready ?? (running && prev.confirmed ? prev.ready : undefined);
  const base: TaskRuntime = {
    state,
    confirmed: true,
    startedAtMs: prev.startedAtMs || (running ? now : 0),
    message: status.message,
    ...(healthy === undefined ? {} : { healthy }),
    ...(ready === undefined ? {} : { ready }),
    ...(status.exitCode === undefined ? {} : { exitCode: status.exitCode }),
    ...(prev.killRequestedAtMs === undefined ? {} : { killRequestedAtMs: prev.killRequestedAtMs }),
    ...(state === 'TASK_UNREACHABLE' ? { unreachableSinceMs: (prev.confirmed ? prev.unreachableSinceMs : undefined) ?? now } : {}),
  };
  const was = prev.confirmed && isAvailable(prev, spec);
  const is = isAvailable({ ...prev, ...base }, spec);
  if (!is) return base;
  return { ...base, healthySinceMs: was && prev.healthySinceMs !== undefined ? prev.healthySinceMs : now };
}
