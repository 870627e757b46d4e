// Whether a framework wants offers, kept in step with the master: revive when something waits for
// an offer, suppress when nothing does, and only when that changes. "Declined idle" is the state
// after offers were declined with the long (idle) refuse filter: a revive must clear that filter
// before anything can wait for offers, even though offers are not suppressed. The master keeps a
// framework's refuse filters across its resubscriptions (and a failover to another instance of it),
// so every subscription starts in that state.
// Shared by the services, cron and batch schedulers.
import type { Logger } from '../core/logger.js';
import type { FrameworkDriver } from '../sdk/driver.js';

export class OfferInterest {
  #suppressed = false;
  #declinedIdle = false;

  constructor(
    private readonly driver: () => FrameworkDriver | undefined,
    private readonly logger: Logger,
  ) {}

  /**
   * After every (re)subscription offers flow again (the driver subscribes unsuppressed), but the
   * refuse filters declined with before (by this instance or a previous one, up to 120 s when
   * idle) are still on the master: the first want revives, which clears them.
   */
  subscribed(): void {
    this.#suppressed = false;
    this.#declinedIdle = true;
  }

  /** Offers were declined with the long filter. */
  declinedIdle(): void {
    this.#declinedIdle = true;
  }

  /** Revive or suppress when `want` differs from what the master was told; a failure is retried on the next call. */
  async want(want: boolean): Promise<void> {
    const driver = this.driver();
    if (driver === undefined || driver.state !== 'SUBSCRIBED') return;
    if (want ? !this.#suppressed && !this.#declinedIdle : this.#suppressed) return;
    try {
      if (want) await driver.revive();
      else await driver.suppress();
      this.#suppressed = !want;
      if (want) this.#declinedIdle = false;
    } catch (err) {
      this.logger.warn({ err, want }, 'could not change offer suppression; will retry');
    }
  }
}
