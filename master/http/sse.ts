// GET /api/v1/events: the master's events as Server-Sent Events. First `event: subscribed` with the
// master's info, then one `event: <type in lower case>` per MasterEvent with the event as JSON and
// an `id:`, and a comment line every heartbeat so proxies keep the connection open and clients
// notice a dead one.
//
// Every event is encoded once into a replay log of the last `--sse-replay-events` (core/sse-replay.ts);
// each client has a cursor in it and is written to only as fast as it reads. A client that falls
// out of the log (it stopped reading while the log moved on) is dropped, and what was queued for it
// freed. A client that reconnects with `Last-Event-ID` (the header EventSource sends, or
// `?lastEventId=`) gets what it missed; when those events are gone, or the id is another master's,
// it gets `event: resync` first (re-read /api/v1/state, as a Kubernetes watch that gets 410 Gone
// lists again) and the stream goes on from now.
//
// GET /api/v1/events/recent?limit=N (default 50, at most 200) answers the last events of that same
// log, oldest first, each with its `id` — a page lists them, then follows the stream.
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../../core/errors.js';
import { queryInt, type HttpServer } from '../../core/http.js';
import { ReplayLog, type ResumePoint } from '../../core/sse-replay.js';
import { openSse, type SseStream } from '../../core/sse.js';
import { principalOf } from '../../core/security/edge.js';
import { requirePermission } from '../../core/security/principal.js';
import type { OperatorContext } from './context.js';
import { masterJson } from './views.js';

export interface EventStreamOptions {
  /** Default heartbeat period (ms); a client may ask for another with `?heartbeatMs=`. */
  heartbeatMs?: number;
  /** Events kept for clients that resume (default: the master's --sse-replay-events). */
  replayEvents?: number;
}

/** GET /api/v1/events/recent: how many events by default, and at most. */
const DEFAULT_RECENT = 50;
const MAX_RECENT = 200;

/** Largest write to one client at a time: a few TLS records, one syscall. */
const MAX_BATCH_BYTES = 64 * 1024;

export function registerEventStream(app: HttpServer, ctx: OperatorContext, options: EventStreamOptions = {}): void {
  const { state } = ctx;
  const log = new ReplayLog(randomBytes(4).toString('hex'), options.replayEvents ?? state.options.sseReplayEvents);
  const clients = new Set<() => void>();
  const open = new Set<() => void>();
  // Events that come in one turn of the event loop (a burst of updates) go out in one write per
  // client — but at least every half log, so that a burst longer than the log does not leave
  // behind a client that keeps up.
  let scheduled = false;
  let flushedAt = 0;
  const flush = (): void => {
    scheduled = false;
    flushedAt = log.next;
    for (const pump of [...clients]) pump();
  };
  const unsubscribe = state.events.subscribe((event) => {
    log.append(event.type.toLowerCase(), event);
    if (log.next - flushedAt >= Math.max(1, log.capacity / 2)) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(() => {
        if (scheduled) flush();
      });
    }
  });
  app.addHook('onClose', async () => unsubscribe());
  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
  });

  // The last events, for a page that shows "recent events" before its stream brings new ones.
  app.get('/api/v1/events/recent', async (req) => {
    requirePermission(principalOf(req), 'cluster.view');
    const limit = queryInt(req.query as Record<string, unknown>, 'limit', Math.min(DEFAULT_RECENT, log.capacity), Math.min(MAX_RECENT, log.capacity));
    return { events: log.recent(limit).map(({ id, data }) => ({ ...(data as object), id })) };
  });

  app.get('/api/v1/events', async (req, reply) => {
    requirePermission(principalOf(req), 'cluster.view');
    const query = req.query as Record<string, unknown>;
    const heartbeatMs = queryInt(query, 'heartbeatMs', options.heartbeatMs ?? 15_000, 3_600_000);
    if (heartbeatMs < 10) throw new InvalidArgumentError('heartbeatMs', `must be at least 10, got ${heartbeatMs}`);
    const start = log.resumeFrom(lastEventId(req.headers['last-event-id'], query['lastEventId']), req.headers['last-event-id'] === undefined ? 'lastEventId' : 'Last-Event-ID');
    const stream = openSse(reply, { heartbeatMs, clock: state.clock });
    stream.send('subscribed', { master: masterJson(ctx), heartbeatMs, resumed: start.kind === 'resume', lastEventId: log.next > 0 ? log.idOf(log.next - 1) : null });
    if (start.kind === 'resync') stream.send('resync', resyncJson(log, start));
    const pump = cursorPump(log, stream, start.from);
    clients.add(pump);
    open.add(stream.close);
    stream.onClose(() => {
      clients.delete(pump);
      open.delete(stream.close);
    });
    pump();
  });
}

/** Writes the log to one client from `from` on, as fast as it reads; drops it once it falls out of the log. */
function cursorPump(log: ReplayLog, stream: SseStream, from: number): () => void {
  let cursor = from;
  let waiting = false;
  const pump = (): void => {
    while (cursor < log.next) {
      if (cursor < log.oldest) {
        stream.drop();
        return;
      }
      if (waiting) return;
      if (!stream.writable) {
        waiting = true;
        stream.onDrain(() => {
          waiting = false;
          pump();
        });
        return;
      }
      const batch = log.take(cursor, Math.min(MAX_BATCH_BYTES, Math.max(1, stream.room - stream.buffered)));
      cursor = batch.next;
      if (!stream.write(batch.bytes)) return;
    }
  };
  return pump;
}

function lastEventId(header: string | string[] | undefined, query: unknown): string | undefined {
  if (Array.isArray(header)) throw new InvalidArgumentError('Last-Event-ID', 'give it once');
  if (header !== undefined) return header;
  if (query === undefined) return undefined;
  if (typeof query !== 'string') throw new InvalidArgumentError('lastEventId', 'give it once');
  return query;
}

function resyncJson(log: ReplayLog, start: Extract<ResumePoint, { kind: 'resync' }>): Record<string, unknown> {
  const why = {
    'other-epoch': 'the event id is from another master, or from before this master started',
    'too-old': 'the events after that id are no longer kept (--sse-replay-events)',
    unknown: 'this master has sent no event with that id',
  }[start.reason];
  return { reason: start.reason, message: `${why}: re-read /api/v1/state; events continue from here`, oldestId: log.next > log.oldest ? log.idOf(log.oldest) : null };
}
