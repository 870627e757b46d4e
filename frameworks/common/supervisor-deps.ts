// What every built-in framework's supervisor takes from its framework, whatever its book.
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { FrameworkDriver } from '../../sdk/driver.js';

export interface SupervisorBaseDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** The driver once subscribed (kills and offer interest go through it). */
  readonly driver: () => FrameworkDriver | undefined;
  /** Plan again at this time (one timer: frameworks/shell.ts wakeAt). */
  readonly wake: (atMs: number) => void;
}
