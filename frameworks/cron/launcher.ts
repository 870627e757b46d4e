// Offers → launches for the cron framework. The runs waiting for a task are matched against the
// offers with sdk matchOffers; each placed attempt's task id is minted and written to the book
// *before* it is launched, so a new leader reconciles it rather than launching it again; when the
// master refuses the launch, or the call never left (sdk wasRefused), the attempt waits for
// another offer (same run, same attempt, a new task id); when the outcome is unknown (timeout,
// connection lost) the task is reconciled instead.
// Offers nothing was placed on are declined (sdk/decline.ts: short while runs wait, long when not).
import type { Clock } from '../../core/clock.js';
import { shortId } from '../../core/ids.js';
import type { Logger } from '../../core/logger.js';
import type { Offer__Output, TaskInfo } from '../../proto/index.js';
import type { FrameworkDriver } from '../../sdk/driver.js';
import { matchOffers, type Launch, type MatchResult } from '../../sdk/offers.js';
import { LaunchProtocol, noOfferFits } from '../common/launch-protocol.js';
import type { ValueResolver } from '../common/value-refs.js';
import type { CronBook } from './book.js';
import type { AttemptTask } from './model.js';
import { withTask } from './runs.js';
import { attemptTaskId, taskInfo, type PendingRun } from './tasks.js';

export interface CronLauncherDeps {
  readonly book: CronBook;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly role: string;
  readonly values?: ValueResolver;
  /** The runs waiting for a task now. */
  readonly pending: () => readonly PendingRun[];
  /** Offers were declined for long: offers must be revived before runs can wait for them. */
  readonly declinedIdle: () => void;
  /** Plan again (after launching, or after a launch failed). */
  readonly replan: () => Promise<void>;
}

export class CronLauncher {
  readonly #protocol: LaunchProtocol;
  /** Why the first waiting run of each job fitted no offer. */
  readonly unplaced = new Map<string, string>();

  constructor(private readonly deps: CronLauncherDeps) {
    this.#protocol = new LaunchProtocol({ logger: deps.logger, declinedIdle: deps.declinedIdle });
  }

  async offers(driver: FrameworkDriver, offers: readonly Offer__Output[]): Promise<void> {
    const pending = this.deps.pending();
    if (pending.length === 0) {
      await this.#protocol.declineAll(driver, offers.map((o) => o.id), false);
      return;
    }
    let result: MatchResult<PendingRun>;
    try {
      result = matchOffers(offers, pending, { strategy: 'first-fit', placed: () => [], role: this.deps.role });
    } catch (err) {
      this.deps.logger.error({ err }, 'offer matching refused the waiting runs');
      await this.#protocol.declineAll(driver, offers.map((o) => o.id), true);
      return;
    }
    this.unplaced.clear();
    for (const u of result.unplaced) {
      if (this.unplaced.has(u.task.job)) continue;
      this.unplaced.set(u.task.job, noOfferFits(u.reasons));
    }
    const waiting = result.unplaced.length > 0;
    for (const launch of result.launches) await this.#launch(driver, launch, waiting);
    await this.#protocol.declineAll(driver, result.declined, waiting);
    await this.deps.replan();
  }

  async #launch(driver: FrameworkDriver, launch: Launch<PendingRun>, waiting: boolean): Promise<void> {
    const { book, clock, logger } = this.deps;
    const now = clock.now();
    const infos: TaskInfo[] = [];
    const byJob = new Map<string, { runId: string; task: AttemptTask }[]>();
    for (const placement of launch.tasks) {
      const { job, runId, attempt } = placement.task;
      const taskId = attemptTaskId(runId, attempt, shortId(6));
      const task: AttemptTask = { attempt, taskId, agentId: launch.agentId, launchedAt: now };
      byJob.set(job, [...(byJob.get(job) ?? []), { runId, task }]);
      infos.push(taskInfo(taskId, launch.agentId, placement, this.deps.values));
    }
    const persisted: TaskInfo[] = [];
    for (const [job, tasks] of byJob) {
      const record = book.records.get(job);
      if (record === undefined) continue;
      const runs = record.runs.map((run) => {
        const mine = tasks.filter((t) => t.runId === run.id);
        return mine.reduce((r, t) => ({ ...withTask(r, t.task), message: `launched task ${t.task.taskId} on ${launch.hostname}` }), run);
      });
      try {
        await book.put({ ...record, runs });
        persisted.push(...infos.filter((i) => tasks.some((t) => t.task.taskId === i.taskId)));
      } catch (err) {
        logger.error({ err, cronjob: job }, 'could not record the launch; not launching');
      }
    }
    if (persisted.length === 0) {
      await this.#protocol.declineAll(driver, launch.offerIds, waiting);
      return;
    }
    // A timeout or a lost connection leaves the tasks to reconciliation: forgetting them could run
    // the attempt twice (never ran → the same attempt is launched again, see runs.ts taskUpdate).
    const sent = await this.#protocol.send(driver, launch, persisted, waiting);
    if (sent.result === 'refused') await this.#forget(persisted.map((t) => t.taskId!));
  }

  /** Launches that never happened: the attempts wait for another offer. */
  async #forget(taskIds: readonly string[]): Promise<void> {
    const { book } = this.deps;
    for (const job of new Set(taskIds.map((id) => book.owner.get(id)).filter((j): j is string => j !== undefined))) {
      const record = book.records.get(job)!;
      const runs = record.runs.map((run) => {
        const tasks = run.tasks.filter((t) => !taskIds.includes(t.taskId));
        return tasks.length === run.tasks.length ? run : { ...run, tasks, message: 'the launch failed: waiting for another offer' };
      });
      await book.put({ ...record, runs }).catch((err: unknown) => this.deps.logger.error({ err, cronjob: job }, 'could not record the failed launch'));
    }
  }
}
