// The status-update manager: at-least-once delivery of each task's updates, in order.
//
//   update(fw, status) ─► uuid ─► journal (fsync) ─► queue[task] ─► send head ─► retry timer
//                                                         ▲                     (retry, 2×retry, … ≤ max)
//   acknowledge(fw, task, uuid) ── uuid = head? ─► journal ack ─► pop ─► send the next
//   acknowledgeAll([...])       ── the same for each (a framework's batch, relayed by the master)
//
// As in Mesos, each task has one update outstanding at a time: the next is sent only after the
// framework has acknowledged the previous one (through the master), so a framework sees a task's
// states in order. An update is durable before it is first sent, so an agent restart never loses
// one it may have announced; unacknowledged updates are resent (same uuid) after every
// (re)registration. Acknowledgements that do not name the head of the queue are stale or unknown
// and are ignored. Journal writes of one task are serialized, so its records keep their order.
import type { Clock, TimerHandle } from '../core/clock.js';
import { newUuid } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import { isTerminal, type TaskState } from '../core/task-state.js';
import type { TaskStatus } from '../proto/index.js';

export interface UpdateJournal {
  /** Record an update durably; it is sent only after this resolves. */
  recordUpdate(frameworkId: string, taskId: string, status: TaskStatus): Promise<void>;
  recordAck(frameworkId: string, taskId: string, uuid: string): Promise<void>;
}

export interface StatusUpdateManagerOptions {
  clock: Clock;
  journal: UpdateJournal;
  /** First resend after this long, doubling up to `retryMaxMs`. */
  retryMs: number;
  retryMaxMs: number;
  /** Hand an update to the master (only called while connected). */
  send(frameworkId: string, status: TaskStatus): void;
  /** The task's terminal update was acknowledged: its bookkeeping may go. */
  onTerminalAcknowledged?(frameworkId: string, taskId: string): void;
  logger?: Logger;
}

export interface StatusUpdateStats {
  /** Updates generated (journaled) since start. */
  generated: number;
  /** Sends to the master, resends included. */
  sent: number;
  resent: number;
  acknowledged: number;
}

interface TaskStream {
  readonly frameworkId: string;
  readonly taskId: string;
  /** Unacknowledged updates, oldest first; the head is the one outstanding. */
  readonly pending: TaskStatus[];
  /** The head has been sent on the current connection and awaits its ack or retry. */
  inFlight: boolean;
  /** No journal: updates and acks are kept in memory only (update's `journal: false`). */
  memoryOnly: boolean;
  attempt: number;
  timer: TimerHandle | undefined;
  chain: Promise<unknown>;
}

export class StatusUpdateManager {
  readonly stats: StatusUpdateStats = { generated: 0, sent: 0, resent: 0, acknowledged: 0 };
  readonly #streams = new Map<string, TaskStream>();
  #connected = false;

  constructor(private readonly options: StatusUpdateManagerOptions) {}

  /**
   * Journal `status` (given a fresh uuid) and queue it; resolves once it is durable. With
   * `journal: false` — a task whose journal could not be made (its launch failed on the way) — the
   * task's updates and acknowledgements from then on are held in memory only: sent and resent
   * the same, but lost if the agent restarts before the acknowledgement (the master then learns
   * the task's end from the agent's re-registration, which no longer lists it).
   */
  update(frameworkId: string, status: TaskStatus, options: { journal?: boolean } = {}): Promise<TaskStatus> {
    const full: TaskStatus = { ...status, uuid: status.uuid || newUuid() };
    const stream = this.#stream(frameworkId, full.taskId ?? '');
    if (options.journal === false) stream.memoryOnly = true;
    return this.#serialize(stream, async () => {
      if (!stream.memoryOnly) await this.options.journal.recordUpdate(frameworkId, stream.taskId, full);
      this.stats.generated += 1;
      stream.pending.push(full);
      this.#sendHead(stream);
      return full;
    });
  }

  /** Returns true when `uuid` was the outstanding update of the task (and is now acknowledged). */
  acknowledge(frameworkId: string, taskId: string, uuid: string): Promise<boolean> {
    const stream = this.#streams.get(key(frameworkId, taskId));
    if (!stream) {
      this.options.logger?.debug({ frameworkId, taskId, uuid }, 'acknowledgement for an unknown task ignored');
      return Promise.resolve(false);
    }
    return this.#serialize(stream, async () => {
      const head = stream.pending[0];
      if (head?.uuid !== uuid) {
        this.options.logger?.debug({ frameworkId, taskId, uuid, head: head?.uuid }, 'stale or unknown acknowledgement ignored');
        return false;
      }
      stream.pending.shift();
      this.#resetRetry(stream);
      this.stats.acknowledged += 1;
      if (!stream.memoryOnly) await this.options.journal.recordAck(frameworkId, taskId, uuid);
      if (stream.pending.length === 0 && isTerminal(head.state as TaskState)) {
        this.#streams.delete(key(frameworkId, taskId));
        this.options.onTerminalAcknowledged?.(frameworkId, taskId);
      } else {
        this.#sendHead(stream);
      }
      return true;
    });
  }

  /**
   * Many acknowledgements at once (a framework's batch, relayed by the master): each as
   * acknowledge(). Resolves with how many named the outstanding update of their task.
   */
  async acknowledgeAll(acks: readonly { frameworkId: string; taskId: string; uuid: string }[]): Promise<number> {
    const applied = await Promise.all(acks.map((a) => this.acknowledge(a.frameworkId, a.taskId, a.uuid)));
    return applied.filter(Boolean).length;
  }

  /** Updates found in the checkpoint after a restart: queued again, sent once connected. */
  recover(frameworkId: string, taskId: string, unacknowledged: readonly TaskStatus[]): void {
    const stream = this.#stream(frameworkId, taskId);
    stream.pending.push(...unacknowledged);
  }

  /** (Re)registered: resend the head of every task's queue now, with a fresh backoff. */
  connected(): void {
    this.#connected = true;
    for (const stream of this.#streams.values()) {
      this.#resetRetry(stream);
      this.#sendHead(stream);
    }
  }

  /** The stream to the master is gone: nothing is sent until connected() again. */
  disconnected(): void {
    this.#connected = false;
    for (const stream of this.#streams.values()) this.#resetRetry(stream);
  }

  /** Unacknowledged updates of a task, oldest first. */
  unacknowledged(frameworkId: string, taskId: string): TaskStatus[] {
    return [...(this.#streams.get(key(frameworkId, taskId))?.pending ?? [])];
  }

  pendingCount(): number {
    let n = 0;
    for (const stream of this.#streams.values()) n += stream.pending.length;
    return n;
  }

  /** Resolves when every queued journal write has finished. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#streams.values()].map((s) => s.chain));
  }

  close(): void {
    this.disconnected();
  }

  #stream(frameworkId: string, taskId: string): TaskStream {
    const k = key(frameworkId, taskId);
    let stream = this.#streams.get(k);
    if (!stream) {
      stream = { frameworkId, taskId, pending: [], inFlight: false, memoryOnly: false, attempt: 0, timer: undefined, chain: Promise.resolve() };
      this.#streams.set(k, stream);
    }
    return stream;
  }

  #serialize<T>(stream: TaskStream, step: () => Promise<T>): Promise<T> {
    const result = stream.chain.then(step);
    stream.chain = result.catch(() => undefined);
    return result;
  }

  #sendHead(stream: TaskStream): void {
    const head = stream.pending[0];
    if (!this.#connected || stream.inFlight || !head) return;
    stream.inFlight = true;
    this.stats.sent += 1;
    if (stream.attempt > 0) this.stats.resent += 1;
    this.options.send(stream.frameworkId, head);
    const delay = Math.min(this.options.retryMaxMs, this.options.retryMs * 2 ** stream.attempt);
    stream.timer = this.options.clock.setTimeout(() => {
      stream.timer = undefined;
      stream.inFlight = false;
      stream.attempt += 1;
      this.options.logger?.debug({ frameworkId: stream.frameworkId, taskId: stream.taskId, uuid: head.uuid, attempt: stream.attempt }, 'status update not acknowledged: resending');
      this.#sendHead(stream);
    }, delay);
  }

  #resetRetry(stream: TaskStream): void {
    this.options.clock.clearTimeout(stream.timer);
    stream.timer = undefined;
    stream.inFlight = false;
    stream.attempt = 0;
  }
}

function key(frameworkId: string, taskId: string): string {
  return `${frameworkId}\u0000${taskId}`;
}
