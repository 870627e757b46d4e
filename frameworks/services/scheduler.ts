// The effectful half of the services framework: it runs the planner over every service, carries
// out the plans through the FrameworkDriver (kills, and launches via offers — see launcher.ts),
// turns status updates into task state, and keeps offers flowing only while something waits.
// Every method runs inside the framework's serial section, so the book is never changed twice at once.
//
//   update ──► runtime / record ──┐
//   apply, scale, … (framework) ──┼──► replan ──► plan per service ──► kills ──► driver.kill
//   timers (tick, backoff end) ───┘                     │ launches ──► pending ──► offers ──► launcher
//                                                       └ deployment phase, revert ──► book.put ──► watch
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { isTerminal, type TaskState } from '../../core/task-state.js';
import type { FrameworkDriver } from '../../sdk/driver.js';
import type { TaskStatus__Output } from '../../proto/index.js';
import { OfferInterest } from '../offer-interest.js';
import { settle } from './deployments.js';
import { UNCONFIRMED, type ServiceBook } from './book.js';
import { specOf, type ServiceRecord, type TaskRuntime, type TaskView } from './model.js';
import { isAvailable, plan, taskEnded } from './planner.js';
import { pendingLaunch, type PendingLaunch } from './tasks.js';
import type { Notes } from './views.js';

export interface SchedulerDeps {
  readonly book: ServiceBook;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The role of services whose spec names none. */
  readonly role: string;
  readonly backoffResetMs: number;
  readonly driver: () => FrameworkDriver | undefined;
  /** Plan again later (through the serial section). */
  readonly wake: (atMs: number) => void;
  /** The views of these services may have changed. */
  readonly publish: () => void;
}

interface Orphan {
  readonly agentId: string;
  readonly graceSeconds: number;
  killedAtMs: number;
}

// A kill not answered by a terminal update within the grace period and this much more is sent again.
const KILL_RETRY_MS = 10_000;
// Offers are suppressed only once no instance has waited for this long (the tick replans).
const KEEP_OFFERS_MS = 5_000;

export class Scheduler {
  /** Instances the last plans want started, in priority order. */
  pending: readonly PendingLaunch[] = [];
  readonly notes = new Map<string, Notes>();
  /** Tasks of deleted services, or unknown to the book, being killed. */
  readonly orphans = new Map<string, Orphan>();
  readonly #offers: OfferInterest;
  #wantedAtMs = -Infinity;

  constructor(private readonly deps: SchedulerDeps) {
    this.#offers = new OfferInterest(deps.driver, deps.logger);
  }

  /** After every (re)subscription offers flow again (the driver subscribes unsuppressed). */
  subscribed(): void {
    this.#offers.subscribed();
  }

  declinedIdle(): void {
    this.#offers.declinedIdle();
  }

  /** Plan every service and carry the plans out. */
  async replan(): Promise<void> {
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
      for (const k of p.kill) this.killTask(next, k.taskId, k.reason);
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
      await this.deps.book.put(record);
    } catch (err) {
      this.deps.logger.error({ err, service: record.name }, 'could not save the service');
    }
  }

  /** Ask the master to kill a task with its version's grace period (again if it was asked before). */
  killTask(record: ServiceRecord, taskId: string, reason: string): void {
    const { book, clock, logger } = this.deps;
    const task = record.tasks[taskId];
    if (task === undefined) return;
    book.runtime.set(taskId, { ...(book.runtime.get(taskId) ?? UNCONFIRMED), killRequestedAtMs: clock.now() });
    const grace = (specOf(record, task.version) ?? specOf(record, record.version))!.killGracePeriodSeconds;
    logger.info({ service: record.name, taskId, reason }, 'killing task');
    this.#sendKill(taskId, task.agentId, grace);
  }

  /** Kill a task no service owns (its service was deleted, or the book never knew it). */
  killOrphan(taskId: string, agentId: string, graceSeconds: number): void {
    this.orphans.set(taskId, { agentId, graceSeconds, killedAtMs: this.deps.clock.now() });
    this.#sendKill(taskId, agentId, graceSeconds);
  }

  #sendKill(taskId: string, agentId: string, graceSeconds: number): void {
    const driver = this.deps.driver();
    if (driver === undefined || driver.state !== 'SUBSCRIBED') return; // retried by tick()
    driver.kill(taskId, agentId, { gracePeriodSeconds: graceSeconds }).catch((err: unknown) => {
      this.deps.logger.warn({ err, taskId }, 'kill failed; it will be retried');
    });
  }

  /** Periodic: send again kills that got no answer, then plan (backoff ends, lost events). */
  async tick(): Promise<void> {
    const { book, clock } = this.deps;
    const now = clock.now();
    for (const record of book.records.values()) {
      for (const t of book.tasksOf(record)) {
        if (t.killRequestedAtMs === undefined || isTerminal(t.state)) continue;
        const grace = (specOf(record, t.version) ?? specOf(record, record.version))!.killGracePeriodSeconds;
        if (now - t.killRequestedAtMs > grace * 1000 + KILL_RETRY_MS) this.killTask(record, t.taskId, 'no answer to the previous kill');
      }
    }
    for (const [taskId, o] of this.orphans) {
      if (now - o.killedAtMs > o.graceSeconds * 1000 + KILL_RETRY_MS) this.killOrphan(taskId, o.agentId, o.graceSeconds);
    }
    await this.replan();
  }

  /** A status update: the task's new state, its end accounted for, and a new plan. */
  async update(status: TaskStatus__Output): Promise<void> {
    await this.updates([status]);
  }

  /** Status updates that arrived together, in order; then one plan (not one per update). */
  async updates(statuses: readonly TaskStatus__Output[]): Promise<void> {
    for (const status of statuses) await this.#apply(status);
    await this.replan();
  }

  async #apply(status: TaskStatus__Output): Promise<void> {
    const { book, clock, logger } = this.deps;
    const state = status.state as TaskState;
    // An unreachable task is not gone: it keeps its place for inactiveAfterSeconds (partition.ts).
    const gone = isTerminal(state) || state === 'TASK_UNKNOWN';
    const name = book.owner.get(status.taskId);
    const record = name === undefined ? undefined : book.records.get(name);
    if (record === undefined || record.tasks[status.taskId] === undefined) {
      if (gone || state === 'TASK_UNREACHABLE') this.orphans.delete(status.taskId);
      else if (!this.orphans.has(status.taskId)) {
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
    const next = settle({ ...record, tasks, relaunches: out.relaunches }, out.deployment, undefined, now);
    const level = out.failure ? 'warn' : 'info';
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
