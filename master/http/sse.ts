// GET /api/v1/events: the master's events as Server-Sent Events. First `event: subscribed` with the
// master's info, then one `event: <type in lower case>` per MasterEvent with the event as JSON, and a
// comment line every heartbeat so proxies keep the connection open and clients notice a dead one.
// A client too slow to read (more than MAX_BUFFERED bytes queued) is disconnected rather than
// buffered without bound.
import { InvalidArgumentError } from '../../core/errors.js';
import { queryInt, type HttpServer } from '../../core/http.js';
import type { OperatorContext } from './context.js';
import { masterJson } from './views.js';

export interface EventStreamOptions {
  /** Default heartbeat period (ms); a client may ask for another with `?heartbeatMs=`. */
  heartbeatMs?: number;
}

const MAX_BUFFERED = 4 * 1024 * 1024;

export function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function registerEventStream(app: HttpServer, ctx: OperatorContext, options: EventStreamOptions = {}): void {
  const { state } = ctx;
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
  });

  app.get('/api/v1/events', async (req, reply) => {
    const heartbeatMs = queryInt(req.query as Record<string, unknown>, 'heartbeatMs', options.heartbeatMs ?? 15_000, 3_600_000);
    if (heartbeatMs < 10) throw new InvalidArgumentError('heartbeatMs', `must be at least 10, got ${heartbeatMs}`);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let closed = false;
    const write = (chunk: string): void => {
      if (closed) return;
      res.write(chunk);
      if (res.writableLength > MAX_BUFFERED) {
        state.logger.warn({ buffered: res.writableLength }, 'event stream client too slow; disconnecting');
        close();
      }
    };
    const unsubscribe = state.events.subscribe((event) => write(sseFrame(event.type.toLowerCase(), event)));
    const heartbeat = state.clock.setInterval(() => write(`: heartbeat ${state.now()}\n\n`), heartbeatMs);
    const close = (): void => {
      if (closed) return;
      closed = true;
      unsubscribe();
      state.clock.clearInterval(heartbeat);
      open.delete(close);
      if (!res.writableEnded) res.end();
    };
    open.add(close);
    res.on('close', close);
    res.on('error', close);
    write(sseFrame('subscribed', { master: masterJson(ctx), heartbeatMs }));
  });
}
