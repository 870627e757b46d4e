// Server-Sent Events on a hijacked fastify reply: `id:` (when the event has one), `event: <name>`
// and JSON data per frame, and a comment line every heartbeat while the client keeps up (proxies
// keep the connection; clients notice a dead one).
//
// Each HTTP server has an SseGate (made by core/http.ts): at most `maxClients` streams at once (one
// more is AGORA_RESOURCE_EXHAUSTED, 429, before anything is sent), and a stream whose client
// leaves more than `maxBufferedBytes` unread when the next frame comes is dropped — destroyed, so
// what was queued for it is freed at once — rather than buffered without bound. A stream fed from a replay log
// (core/sse-replay.ts) writes only while the client keeps up (`writable` / `onDrain`) and never
// reaches that bound; its clients resume with Last-Event-ID.
import type { FastifyReply } from 'fastify';
import { systemClock, type Clock } from './clock.js';
import { AgoraError } from './errors.js';

export interface SseLimits {
  readonly maxClients: number;
  readonly maxBufferedBytes: number;
}

export const DEFAULT_SSE_LIMITS: SseLimits = Object.freeze({ maxClients: 256, maxBufferedBytes: 1024 * 1024 });

/** Why a stream ended: the client went, the server closed it, or the client was too slow. */
export type SseCloseReason = 'client' | 'server' | 'slow';

/** The event streams of one HTTP server: how many are open, and how many were dropped as slow. */
export class SseGate {
  readonly limits: SseLimits;
  #open = 0;
  #dropped = 0;
  #refused = 0;
  readonly #streams = new Set<{ buffered: number }>();

  constructor(limits: SseLimits = DEFAULT_SSE_LIMITS) {
    this.limits = limits;
  }

  get open(): number {
    return this.#open;
  }

  /** Streams dropped because their client left too much unread, since the start. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Streams refused because `maxClients` were open. */
  get refused(): number {
    return this.#refused;
  }

  /** Bytes queued in this process for the open streams' clients, all together and the most for one. */
  buffered(): { total: number; max: number } {
    let total = 0;
    let max = 0;
    for (const s of this.#streams) {
      total += s.buffered;
      max = Math.max(max, s.buffered);
    }
    return { total, max };
  }

  /** @internal */ admit(stream: { buffered: number }): () => void {
    if (this.#open >= this.limits.maxClients) {
      this.#refused += 1;
      throw new AgoraError('AGORA_RESOURCE_EXHAUSTED', `${this.limits.maxClients} event streams are open on this server (--sse-max-clients); retry later`, {
        details: { maxClients: this.limits.maxClients },
      });
    }
    this.#open += 1;
    this.#streams.add(stream);
    return () => {
      this.#open -= 1;
      this.#streams.delete(stream);
    };
  }

  /** @internal */ countDrop(): void {
    this.#dropped += 1;
  }
}

const gates = new WeakMap<object, SseGate>();

/** Sets the gate of a node HTTP server (core/http.ts does, for each server it makes). */
export function setSseGate(server: object, gate: SseGate): void {
  gates.set(server, gate);
}

/** The gate of the server `reply` belongs to (a default one for servers not made by core/http.ts). */
function gateOf(reply: FastifyReply): SseGate {
  const server = reply.server.server as object;
  let gate = gates.get(server);
  if (!gate) {
    gate = new SseGate();
    gates.set(server, gate);
  }
  return gate;
}

export interface SseStream {
  /** Sends one event (with an id, for Last-Event-ID); false when the stream is over. */
  send(event: string, data: unknown, id?: string): boolean;
  /** Writes frames already encoded (sseFrame); false when the stream is over. */
  write(frames: string | Buffer): boolean;
  /** Bytes written and not yet taken by the kernel. */
  readonly buffered: number;
  /** The most a writer may queue before waiting for onDrain (half the drop bound). */
  readonly room: number;
  /** False once the client has not taken what was written: wait for onDrain before writing more. */
  readonly writable: boolean;
  /** Called once when the client has taken what was queued (after `writable` turned false). */
  onDrain(listener: () => void): void;
  close(): void;
  /** Ends the stream at once, discarding what is queued (a client too far behind). */
  drop(): void;
  /** Called once when the stream ends, whoever ended it. */
  onClose(listener: (reason: SseCloseReason) => void): void;
}

export interface SseOptions {
  readonly heartbeatMs: number;
  readonly clock?: Clock;
}

/** One frame: `id:` when given, `event: <name>` and the data as JSON. */
export function sseFrame(event: string, data: unknown, id?: string): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Answers 200 with an event stream. Throws AGORA_RESOURCE_EXHAUSTED (before anything is sent)
 * when the server has as many streams as it allows.
 */
export function openSse(reply: FastifyReply, options: SseOptions): SseStream {
  const gate = gateOf(reply);
  const clock = options.clock ?? systemClock;
  const { maxBufferedBytes } = gate.limits;
  const res = reply.raw;
  const state = {
    get buffered(): number {
      return res.writableLength;
    },
  };
  const release = gate.admit(state);
  reply.hijack();
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const listeners: ((reason: SseCloseReason) => void)[] = [];
  let closed = false;
  let writable = true;
  const finish = (reason: SseCloseReason): void => {
    if (closed) return;
    closed = true;
    clock.clearInterval(heartbeat);
    release();
    if (reason === 'slow') {
      gate.countDrop();
      res.destroy();
    } else if (!res.writableEnded) {
      res.end();
    }
    for (const l of listeners.splice(0)) l(reason);
  };
  // Checked before each write, so one frame larger than the bound still goes to a client that
  // keeps up: at most maxBufferedBytes plus one frame is ever queued for a client.
  const write = (chunk: string | Buffer): boolean => {
    if (closed) return false;
    if (res.writableLength > maxBufferedBytes) {
      finish('slow');
      return false;
    }
    writable = res.write(chunk) && writable;
    return true;
  };
  // A heartbeat only when nothing is queued: a client that is not reading gets no more bytes.
  const heartbeat = clock.setInterval(() => {
    if (res.writableLength === 0) write(`: heartbeat ${clock.now()}\n\n`);
  }, options.heartbeatMs);
  const drains: (() => void)[] = [];
  res.on('drain', () => {
    writable = true;
    for (const l of drains.splice(0)) l();
  });
  res.on('close', () => finish('client'));
  res.on('error', () => finish('client'));
  return {
    send: (event, data, id) => write(sseFrame(event, data, id)),
    write,
    get buffered() {
      return res.writableLength;
    },
    room: Math.floor(maxBufferedBytes / 2),
    get writable() {
      return !closed && writable;
    },
    onDrain: (listener) => {
      if (closed) return;
      if (writable) listener();
      else drains.push(listener);
    },
    close: () => finish('server'),
    drop: () => finish('slow'),
    onClose: (listener) => {
      if (closed) listener('server');
      else listeners.push(listener);
    },
  };
}
