// A bounded log of encoded event-stream frames, for clients that resume with Last-Event-ID.
// Each event is encoded once, whatever the number of clients, and the last `capacity` are kept.
// Ids are `<epoch>-<seq>`: the epoch is new for every log (every master start), so an id from
// another log — another master, or before a restart — is told apart from one that is too old.
// Pure: no I/O, no timers; a writer per client (master/http/sse.ts) pulls frames from its cursor.
import { InvalidArgumentError } from './errors.js';
import { sseFrame } from './sse.js';

/** Where a client starts: `from` is the seq of the first event to send it. */
export type ResumePoint =
  | { readonly kind: 'live'; readonly from: number }
  | { readonly kind: 'resume'; readonly from: number }
  /** The id is from another log, or its events are no longer kept: the client must re-read state. */
  | { readonly kind: 'resync'; readonly from: number; readonly reason: 'other-epoch' | 'too-old' | 'unknown' };

const ID = /^([0-9a-z]{1,32})-(\d{1,15})$/;

export class ReplayLog {
  readonly epoch: string;
  readonly capacity: number;
  readonly #frames: Buffer[];
  /** Seq of the next event appended; the oldest kept is max(0, next - capacity). */
  #next = 0;
  #bytes = 0;

  constructor(epoch: string, capacity: number) {
    if (!/^[0-9a-z]{1,32}$/.test(epoch)) throw new Error(`a replay log epoch is 1-32 of [0-9a-z], got '${epoch}'`);
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new Error(`a replay log keeps at least one event, got ${capacity}`);
    this.epoch = epoch;
    this.capacity = capacity;
    this.#frames = new Array<Buffer>(capacity);
  }

  /** Seq of the next event to be appended (one past the newest). */
  get next(): number {
    return this.#next;
  }

  /** Seq of the oldest event kept. */
  get oldest(): number {
    return Math.max(0, this.#next - this.capacity);
  }

  /** Bytes held by the frames kept. */
  get bytes(): number {
    return this.#bytes;
  }

  idOf(seq: number): string {
    return `${this.epoch}-${seq}`;
  }

  /** Encodes and keeps one event; returns its seq. */
  append(event: string, data: unknown): number {
    const seq = this.#next;
    const frame = Buffer.from(sseFrame(event, data, this.idOf(seq)));
    const slot = seq % this.capacity;
    this.#bytes += frame.length - (this.#frames[slot]?.length ?? 0);
    this.#frames[slot] = frame;
    this.#next = seq + 1;
    return seq;
  }

  /** The frame of `seq`, or undefined when it is not kept (too old, or not yet appended). */
  frame(seq: number): Buffer | undefined {
    if (seq < this.oldest || seq >= this.#next) return undefined;
    return this.#frames[seq % this.capacity];
  }

  /**
   * The last `limit` events kept, oldest first: each one's id and its data, decoded back from the
   * frame (the log keeps each event once, encoded; a reader of recent events costs a parse).
   */
  recent(limit: number): { id: string; data: unknown }[] {
    const out: { id: string; data: unknown }[] = [];
    for (let seq = Math.max(this.oldest, this.#next - Math.max(0, limit)); seq < this.#next; seq++) {
      const text = (this.#frames[seq % this.capacity] as Buffer).toString('utf8');
      // A frame is `id: …\nevent: …\ndata: <one line of JSON>\n\n` (sseFrame).
      const start = text.indexOf('\ndata: ') + '\ndata: '.length;
      out.push({ id: this.idOf(seq), data: JSON.parse(text.slice(start, text.indexOf('\n', start))) as unknown });
    }
    return out;
  }

  /**
   * Frames from `from` on, concatenated up to `maxBytes` (at least one frame when there is one):
   * the bytes and the seq after the last frame taken.
   */
  take(from: number, maxBytes: number): { bytes: Buffer; next: number } {
    const parts: Buffer[] = [];
    let size = 0;
    let seq = Math.max(from, this.oldest);
    while (seq < this.#next) {
      const frame = this.#frames[seq % this.capacity] as Buffer;
      if (parts.length > 0 && size + frame.length > maxBytes) break;
      parts.push(frame);
      size += frame.length;
      seq += 1;
    }
    return { bytes: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size), next: seq };
  }

  /**
   * Where a client that last saw `lastEventId` starts (undefined: a new client, live from now).
   * A malformed id is INVALID_ARGUMENT naming `field`.
   */
  resumeFrom(lastEventId: string | undefined, field = 'Last-Event-ID'): ResumePoint {
    if (lastEventId === undefined || lastEventId === '') return { kind: 'live', from: this.#next };
    const match = ID.exec(lastEventId.trim());
    if (!match) throw new InvalidArgumentError(field, `expected an event id as sent in the stream (<epoch>-<seq>), got '${lastEventId.slice(0, 64)}'`);
    if (match[1] !== this.epoch) return { kind: 'resync', from: this.#next, reason: 'other-epoch' };
    const after = Number(match[2]) + 1;
    if (after > this.#next) return { kind: 'resync', from: this.#next, reason: 'unknown' };
    if (after < this.oldest) return { kind: 'resync', from: this.#next, reason: 'too-old' };
    return { kind: 'resume', from: after };
  }
}
