// The launch protocol every built-in framework follows, once:
//
//   placed tasks ──► persisted first (by the framework: its book) ──► send(launch)
//                                                                      ├─ accepted ──► launched
//                                                                      ├─ refused (sdk wasRefused: the master said no, or the
//                                                                      │  call never left) ──► 'refused': the framework forgets
//                                                                      │  the tasks (no failure: the offer went, not the task)
//                                                                      └─ outcome unknown (timeout, lost connection) ──► every
//                                                                         task tracked: reconciliation says whether it runs
//   offers nothing was placed on ──► declineAll (short filter while tasks wait, long when none do:
//                                    sdk/decline.ts; a long one is remembered by OfferInterest)
//
// and the one summary of why tasks wait ("why is this pending?"): the distinct reasons sdk
// matchOffers gave for the first unplaced task, at most three.
import type { Logger } from '../../core/logger.js';
import type { TaskInfo } from '../../proto/index.js';
import { declinePolicy, type DeclineFilter } from '../../sdk/decline.js';
import type { SchedulerDriver } from '../../sdk/driver-api.js';
import { wasRefused } from '../../sdk/errors.js';
import { NO_CONTAINERS } from '../../sdk/offers.js';

export interface LaunchTarget {
  readonly agentId: string;
  readonly hostname: string;
  readonly offerIds: readonly string[];
}

export type LaunchOutcome = { readonly result: 'launched' } | { readonly result: 'refused'; readonly error: unknown } | { readonly result: 'unknown' };

export interface LaunchProtocolDeps {
  readonly logger: Logger;
  /** Offers went back with the long (idle) filter: OfferInterest must revive before tasks can wait for offers. */
  readonly declinedIdle: () => void;
}

export class LaunchProtocol {
  readonly #decline = declinePolicy();

  constructor(private readonly deps: LaunchProtocolDeps) {}

  /** The filter for offers (or what is left of them) going back: short while tasks wait, long when none do. */
  filter(waiting: boolean): DeclineFilter {
    return this.#decline.filter(waiting);
  }

  /** Decline offers; never throws (a failed decline leaves them to the offer timeout). */
  async declineAll(driver: SchedulerDriver, offerIds: readonly string[], waiting: boolean): Promise<void> {
    if (offerIds.length === 0) return;
    if (!waiting) this.deps.declinedIdle();
    await driver.decline(offerIds, this.filter(waiting)).catch((err: unknown) => this.deps.logger.warn({ err }, 'decline failed'));
  }

  /**
   * Launch tasks the framework has already persisted. Refused: say so (the caller forgets them).
   * Unknown: every task is tracked, so reconciliation settles it. Never throws.
   */
  async send(driver: SchedulerDriver, target: LaunchTarget, infos: readonly TaskInfo[], waiting: boolean): Promise<LaunchOutcome> {
    const { logger } = this.deps;
    try {
      // What the launch leaves of its offers goes back with the same filter as a decline.
      if (!waiting) this.deps.declinedIdle();
      await driver.accept(target.offerIds, [{ launch: { taskInfos: [...infos] } }], this.filter(waiting));
      logger.info({ agentId: target.agentId, hostname: target.hostname, tasks: infos.map((t) => t.taskId) }, 'launched');
      return { result: 'launched' };
    } catch (err) {
      if (wasRefused(err)) {
        logger.warn({ err, agentId: target.agentId }, 'launch refused; the tasks wait for another offer');
        return { result: 'refused', error: err };
      }
      // The master may have launched them (and gone): ask, do not guess.
      logger.warn({ err, agentId: target.agentId }, 'launch outcome unknown; reconciling its tasks');
      for (const info of infos) driver.trackTask(info.taskId!, target.agentId);
      return { result: 'unknown' };
    }
  }
}

/** How many distinct reasons a pending summary shows. */
export const MAX_PENDING_REASONS = 3;

/** The pending reason of an image task that every agent offered turned down for want of Docker. */
export const NO_AGENT_RUNS_CONTAINERS = 'no agent runs containers (image tasks need Docker)';

/**
 * "no offer fits: <reason>; <reason>; <reason>; and N more" from matchOffers' reasons for one
 * unplaced task — or, when every agent runs no containers, NO_AGENT_RUNS_CONTAINERS.
 */
export function noOfferFits(reasons: readonly { readonly reason: string }[]): string {
  if (reasons.length > 0 && reasons.every((r) => r.reason === NO_CONTAINERS)) return NO_AGENT_RUNS_CONTAINERS;
  const distinct = [...new Set(reasons.map((r) => r.reason))];
  const more = distinct.length > MAX_PENDING_REASONS ? `; and ${distinct.length - MAX_PENDING_REASONS} more` : '';
  return `no offer fits: ${distinct.slice(0, MAX_PENDING_REASONS).join('; ')}${more}`;
}
