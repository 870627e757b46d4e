// Recovery in one call (driver.recover): after a restart, a framework hands over the tasks its own
// state remembers and learns which still run, which ended while it was away, and which of its
// tasks it has forgotten — Mesos's explicit plus implicit reconciliation, on the Reconciler's
// retries and backoff. Optionally offers are held meanwhile, as Marathon does, so nothing is
// launched on a picture of the cluster that is not yet complete.
//
//   recover(known) ─► track + ask each known task (Reconciler: retried with backoff until answered)
//                 └─► probe ─► implicit Reconcile ─► probe ─► every known task answered ─► report
//
// A probe is an explicit ask for a made-up task id (RECOVERY_PROBE_PREFIX…): the master answers it
// only once no agent is still expected back after a failover (so the implicit answer that follows
// is complete), and its answer comes after everything sent before it on the event stream (so once
// the second probe is answered, every implicit answer has arrived). Probe answers never reach the
// handlers. A resubscription meanwhile starts the implicit part over (its answers may have died
// with the old stream); the Reconciler asks the explicit ones again by itself.
//
// Statuses are watched as they arrive, not as the handlers take them, so recover() can be awaited
// in a handler too (the handlers then wait until it settles); each one still goes to the `update`
// handler as usual.
import type { Clock, TimerHandle } from '../core/clock.js';
import { FailedPreconditionError, InvalidArgumentError, type AgoraError } from '../core/errors.js';
import { newUuid } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import { isTerminal } from '../core/task-state.js';
import type { Offer__Output, TaskStatus__Output } from '../proto/index.js';
import { RecoveryTimeoutError } from './errors.js';
import type { Reconciler } from './reconciler.js';
import { sdkStatus, type TaskStatus } from './types.js';

/** Task ids starting with this are the driver's own probes: do not use it for a task of yours. */
export const RECOVERY_PROBE_PREFIX = 'agora-recovery-probe.';

export interface RecoveryReport {
  /** Known tasks the master reports alive (its latest status each; TASK_UNREACHABLE counts: the task may come back). */
  readonly running: TaskStatus[];
  /** Known tasks that ended, or that the master does not know (a terminal or TASK_UNKNOWN status, as the update handler sees it). */
  readonly ended: TaskStatus[];
  /** Tasks of this framework the master reported that `known` did not list: the framework's state lost them. */
  readonly forgotten: TaskStatus[];
}

export interface RecoverOptions {
  /** Hold offers until recover() settles, then hand them to `offers` (default true). */
  readonly holdOffers?: boolean;
  /** Reject with RecoveryTimeoutError if the master has not answered within this long (default: wait). */
  readonly timeoutMs?: number;
}

export interface RecoveryDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly reconciler: Reconciler;
  /** An implicit Reconcile call. */
  readonly implicit: () => Promise<void>;
  /** Resolves once the driver is subscribed (rejects if it stops). */
  readonly waitSubscribed: () => Promise<void>;
  /** Settles when the driver is done for good; a recovery under way rejects with `ended()`. */
  readonly closed: Promise<void>;
  readonly ended: () => AgoraError;
  /** Queue held offers for the `offers` handler (dropped there if their subscription has ended). */
  readonly deliver: (offers: Offer__Output[], subscription: unknown) => void;
}

/** One recover() call's bookkeeping. */
class Round {
  readonly answers = new Map<string, TaskStatus>();
  readonly others = new Map<string, TaskStatus>();
  /** Bumped by each resubscription: the implicit part starts over. */
  generation = 0;
  implicitDone = false;
  #probe: { id: string; answered: () => void } | undefined;
  #allAnswered: (() => void) | undefined;

  constructor(readonly known: ReadonlyMap<string, string>) {}

  saw(status: TaskStatus): void {
    if (this.known.has(status.taskId)) {
      this.answers.set(status.taskId, status);
      if (this.answers.size === this.known.size) this.#allAnswered?.();
    } else this.others.set(status.taskId, status);
  }

  /** Ask a probe through the reconciler; resolves when it is answered. */
  probe(reconciler: Reconciler): Promise<void> {
    const id = `${RECOVERY_PROBE_PREFIX}${newUuid()}`;
    return new Promise<void>((resolve) => {
      this.#probe = { id, answered: resolve };
      reconciler.ask({ taskId: id, agentId: '' });
    });
  }

  probeAnswered(taskId: string): void {
    if (this.#probe?.id !== taskId) return;
    const { answered } = this.#probe;
    this.#probe = undefined;
    answered();
  }

  /** The probe still asked, if any (to stop asking when the round ends). */
  get pendingProbe(): string | undefined {
    return this.#probe?.id;
  }

  allAnswered(): Promise<void> {
    if (this.answers.size === this.known.size) return Promise.resolve();
    return new Promise<void>((resolve) => (this.#allAnswered = resolve));
  }

  report(): RecoveryReport {
    const running: TaskStatus[] = [];
    const ended: TaskStatus[] = [];
    for (const taskId of this.known.keys()) {
      const status = this.answers.get(taskId);
      if (!status) continue;
      if (isTerminal(status.state) || status.state === 'TASK_UNKNOWN') ended.push(status);
      else running.push(status);
    }
    return { running, ended, forgotten: [...this.others.values()] };
  }
}

/** The known tasks, checked before anything changes: each needs a task id; an agent id, when given, is a string. */
export function checkKnown(known: Iterable<{ taskId: string; agentId?: string }>): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  for (const task of known) {
    const t = task as { taskId?: unknown; agentId?: unknown } | null;
    if (typeof t?.taskId !== 'string' || t.taskId === '') throw new InvalidArgumentError(`known[${i}].taskId`, 'is required (a non-empty string)');
    if (t.taskId.startsWith(RECOVERY_PROBE_PREFIX)) throw new InvalidArgumentError(`known[${i}].taskId`, `'${RECOVERY_PROBE_PREFIX}' starts the driver's own probes`);
    if (t.agentId !== undefined && typeof t.agentId !== 'string') throw new InvalidArgumentError(`known[${i}].agentId`, 'must be a string when given');
    out.set(t.taskId, t.agentId ?? out.get(t.taskId) ?? '');
    i += 1;
  }
  return out;
}

export function checkTimeout(timeoutMs: unknown): number | undefined {
  if (timeoutMs === undefined) return undefined;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new InvalidArgumentError('options.timeoutMs', `must be a positive number of milliseconds, not ${String(timeoutMs)}`);
  return timeoutMs;
}

export class Recovery {
  #round: Round | undefined;
  #holding = false;
  #held: { offers: Offer__Output[]; subscription: unknown }[] = [];

  constructor(private readonly deps: RecoveryDeps) {}

  /** A status arrived. True when it is the answer to a probe: it is the driver's own, not the handlers'. */
  observe(wire: TaskStatus__Output): boolean {
    if (wire.taskId.startsWith(RECOVERY_PROBE_PREFIX)) {
      this.#round?.probeAnswered(wire.taskId);
      this.deps.reconciler.confirmed(wire.taskId);
      this.deps.reconciler.untrack(wire.taskId);
      return true;
    }
    const status = sdkStatus(wire);
    if (status) this.#round?.saw(status);
    return false;
  }

  /** The driver subscribed again: a recovery under way asks its implicit part again. */
  resubscribed(): void {
    if (this.#round) this.#round.generation += 1;
  }

  /** Offers for the `offers` handler: held (true) while a recovery holding offers runs. */
  hold(offers: Offer__Output[], subscription: unknown): boolean {
    if (!this.#holding) return false;
    this.#held.push({ offers, subscription });
    return true;
  }

  /** A rescinded offer: if it is held, dropped (the framework never saw it), and true. */
  dropHeld(offerId: string): boolean {
    let found = false;
    for (const batch of this.#held) {
      const before = batch.offers.length;
      batch.offers = batch.offers.filter((o) => o.id !== offerId);
      found ||= batch.offers.length !== before;
    }
    return found;
  }

  async recover(known: Iterable<{ taskId: string; agentId?: string }>, options: RecoverOptions = {}): Promise<RecoveryReport> {
    const tasks = checkKnown(known);
    const timeoutMs = checkTimeout(options.timeoutMs);
    if (this.#round) throw new FailedPreconditionError('a recovery is already running on this driver; await it before calling recover() again');
    const round = new Round(tasks);
    this.#round = round;
    if (options.holdOffers ?? true) this.#holding = true;
    let timer: TimerHandle | undefined;
    try {
      return await new Promise<RecoveryReport>((resolve, reject) => {
        if (timeoutMs !== undefined) {
          timer = this.deps.clock.setTimeout(() => {
            const unanswered = [...tasks.keys()].filter((t) => !round.answers.has(t));
            reject(new RecoveryTimeoutError(timeoutMs, unanswered, round.implicitDone));
          }, timeoutMs);
        }
        this.deps.closed.then(() => reject(this.deps.ended()), reject);
        this.#run(round).then(() => resolve(round.report()), reject);
      });
    } finally {
      this.deps.clock.clearTimeout(timer);
      this.#end(round);
    }
  }

  async #run(round: Round): Promise<void> {
    await this.deps.waitSubscribed();
    for (const [taskId, agentId] of round.known) this.deps.reconciler.ask({ taskId, agentId });
    for (;;) {
      if (this.#round !== round) return;
      const generation = round.generation;
      await round.probe(this.deps.reconciler);
      try {
        await this.deps.implicit();
      } catch (err) {
        this.deps.logger.debug({ err }, 'recovery: implicit reconcile failed; asking again once subscribed');
        await this.deps.waitSubscribed();
        continue;
      }
      if (this.#round !== round) return;
      await round.probe(this.deps.reconciler);
      if (generation === round.generation) break;
    }
    round.implicitDone = true;
    await round.allAnswered();
  }

  /**
   * The round is over: stop asking its probe, and hand the held offers over in the order they came —
   * from the next turn of the event loop, so the code awaiting recover() has its report first
   * (offers arriving meanwhile are held too, behind them).
   */
  #end(round: Round): void {
    if (this.#round !== round) return;
    this.#round = undefined;
    const probe = round.pendingProbe;
    if (probe) this.deps.reconciler.untrack(probe);
    if (!this.#holding) return;
    setImmediate(() => {
      if (this.#round) return; // another recover() began meanwhile: it holds them on
      this.#holding = false;
      const held = this.#held;
      this.#held = [];
      for (const batch of held) if (batch.offers.length > 0) this.deps.deliver(batch.offers, batch.subscription);
    });
  }
}
