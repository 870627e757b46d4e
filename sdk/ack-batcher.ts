// The driver's automatic acknowledgements, batched: every update whose handler is done by the next
// turn of the event loop is acknowledged in one AcknowledgeBatch call. One call for a thousand
// updates instead of a thousand calls: at 10,000 tasks the calls kept the master and the framework
// busy long enough for the agents to resend what was not yet acknowledged.
//
//   due(status) ─► due list ─(next turn)─► send(list) ─► refused: logged (the agents resend)
//                                                     └► failed:  logged (the agents resend)
import type { Logger } from '../core/logger.js';
import type { AckTarget, AcknowledgementRefused } from './calls.js';

export interface AckBatcherOptions {
  /** Acknowledge these together; resolves with those the master refused. */
  send(statuses: AckTarget[]): Promise<readonly AcknowledgementRefused[]>;
  /** May acknowledgements be sent now (subscribed)? Those due while not are dropped: the agents resend them. */
  active(): boolean;
  logger: Logger;
  /** Runs `fn` on the next turn of the event loop (setImmediate; a test may step it by hand). */
  schedule?(fn: () => void): void;
}

export class AckBatcher {
  #due: AckTarget[] = [];
  #scheduled = false;
  readonly #schedule: (fn: () => void) => void;

  constructor(private readonly options: AckBatcherOptions) {
    this.#schedule = options.schedule ?? ((fn) => void setImmediate(fn));
  }

  /** Acknowledge this update with the others due by the next turn. */
  due(status: AckTarget): void {
    this.#due.push({ agentId: status.agentId, taskId: status.taskId, uuid: status.uuid });
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(() => this.#flush());
  }

  /** Acknowledgements waiting for the next turn. */
  get pending(): number {
    return this.#due.length;
  }

  #flush(): void {
    this.#scheduled = false;
    const due = this.#due;
    this.#due = [];
    if (due.length === 0 || !this.options.active()) return;
    this.options.send(due).then(
      (refused) => {
        if (refused.length > 0) this.options.logger.debug({ refused: refused.length, of: due.length, first: refused[0] }, 'acknowledgements refused');
      },
      (err: unknown) => this.options.logger.warn({ err, updates: due.length }, 'acknowledgements failed; the agents will resend'),
    );
  }
}
