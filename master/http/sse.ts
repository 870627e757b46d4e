// GET /api/v1/events: the master's events as Server-Sent Events. First `event: subscribed` with the
// master's info, then one `event: <type in lower case>` per MasterEvent with the event as JSON, and a
// comment line every heartbeat so proxies keep the connection open and clients notice a dead one.
// A client too slow to read is disconnected rather than buffered without bound (core/sse.ts).
import { InvalidArgumentError } from '../../core/errors.js';
import { queryInt, type HttpServer } from '../../core/http.js';
import { openSse } from '../../core/sse.js';
import { principalOf } from '../../core/security/edge.js';
import { requirePermission } from '../../core/security/principal.js';
import type { OperatorContext } from './context.js';
import { masterJson } from './views.js';

export interface EventStreamOptions {
  /** Default heartbeat period (ms); a client may ask for another with `?heartbeatMs=`. */
  heartbeatMs?: number;
}


export function registerEventStream(app: HttpServer, ctx: OperatorContext, options: EventStreamOptions = {}): void {
  const { state } = ctx;
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
  });

  app.get('/api/v1/events', async (req, reply) => {
    requirePermission(principalOf(req), 'cluster.view');
    const heartbeatMs = queryInt(req.query as Record<string, unknown>, 'heartbeatMs', options.heartbeatMs ?? 15_000, 3_600_000);
    if (heartbeatMs < 10) throw new InvalidArgumentError('heartbeatMs', `must be at least 10, got ${heartbeatMs}`);
    const stream = openSse(reply, { heartbeatMs, clock: state.clock });
    const unsubscribe = state.events.subscribe((event) => stream.send(event.type.toLowerCase(), event));
    open.add(stream.close);
    stream.onClose(() => {
      unsubscribe();
      open.delete(stream.close);
    });
    stream.send('subscribed', { master: masterJson(ctx), heartbeatMs });
  });
}
