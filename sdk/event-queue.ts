// The driver's handler queue: steps run one at a time, in the order queued, and none before the
// queue is opened (when FrameworkDriver.start() has resolved). Items queued back to back may join
// one batch (status updates, for a framework's `updates` handler), up to `maxBatch`.
export class EventQueue<T> {
  #open!: () => void;
  /** Resolves once open() is called: what runs after it runs after start() resolved. */
  readonly opened = new Promise<void>((resolve) => (this.#open = resolve));
  #tail: Promise<void> = this.opened;
  /** The batch queued last and not yet handed over: a batched item joins it. */
  #openBatch: T[] | undefined;

  constructor(
    private readonly maxBatch: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  open(): void {
    this.#open();
  }

  /** Run `step` after everything queued before it; it closes the open batch. */
  push(step: () => Promise<void>): void {
    this.#openBatch = undefined;
    this.#chain(step);
  }

  /** Join the batch queued last when it is still waiting and not full; else queue a new one for `run`. */
  pushBatched(item: T, run: (batch: T[]) => Promise<void>): void {
    if (this.#openBatch !== undefined && this.#openBatch.length < this.maxBatch) {
      this.#openBatch.push(item);
      return;
    }
    const batch = [item];
    this.#openBatch = batch;
    this.#chain(() => {
      if (this.#openBatch === batch) this.#openBatch = undefined;
      return run(batch);
    });
  }

  /** Resolves when everything queued so far has run. */
  drained(): Promise<void> {
    return this.#tail.catch(() => undefined);
  }

  #chain(step: () => Promise<void>): void {
    this.#tail = this.#tail.then(step).catch(this.onError);
  }
}
