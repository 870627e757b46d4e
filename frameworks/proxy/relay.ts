// One proxied connection: connect to an instance (the balancer's pick), trying the next one when a
// connect fails or takes longer than the connect timeout, then copy bytes both ways until both
// sides have finished. `pipe` gives backpressure (a slow reader pauses the other side's reads);
// both sockets allow half-open, so a side that ends its writes (FIN) is passed on as a FIN and the
// other direction keeps flowing until it ends too. An error or the idle timeout on either side
// destroys both.
import net from 'node:net';
import type { Balancer, Target } from './balancer.js';

export interface RelayOptions {
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

export interface RelayEvents {
  /** A connect to `target` failed (refused, unreachable, timed out). */
  connectFailed(target: Target, err: Error): void;
  /** No instance took the connection: the client was closed. */
  exhausted(tried: number): void;
  /** The connection is over (both sockets closed). */
  closed(): void;
}

/** Relay `client` to an instance of `balancer`; never throws, always ends in `events.closed()`. */
export function relay(client: net.Socket, balancer: Balancer, options: RelayOptions, events: RelayEvents): void {
  const tried = new Set<string>();
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    events.closed();
  };
  // Until an instance answers, a client error or hang-up just ends the attempt.
  const onEarlyClose = (): void => finish();
  client.on('error', () => undefined);
  client.once('close', onEarlyClose);
  const attempt = (): void => {
    if (client.destroyed) return;
    const target = balancer.pick(tried);
    if (target === undefined) {
      events.exhausted(tried.size);
      client.destroy();
      return;
    }
    tried.add(target.key);
    connect(target, options.connectTimeoutMs, (err, upstream) => {
      if (err || !upstream) {
        events.connectFailed(target, err ?? new Error('no socket'));
        attempt();
        return;
      }
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      client.off('close', onEarlyClose);
      join(client, upstream, target, balancer, options.idleTimeoutMs, finish);
    });
  };
  attempt();
}

function connect(target: Target, timeoutMs: number, done: (err: Error | undefined, socket?: net.Socket) => void): void {
  const socket = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
  const timer = setTimeout(() => fail(new Error(`connect to ${target.host}:${target.port} timed out after ${timeoutMs} ms`)), timeoutMs);
  function fail(err: Error): void {
    clearTimeout(timer);
    socket.removeAllListeners('connect');
    socket.on('error', () => undefined);
    socket.destroy();
    done(err);
  }
  socket.once('error', fail);
  socket.once('connect', () => {
    clearTimeout(timer);
    socket.off('error', fail);
    done(undefined, socket);
  });
}

function join(client: net.Socket, upstream: net.Socket, target: Target, balancer: Balancer, idleTimeoutMs: number, finish: () => void): void {
  balancer.acquire(target.key);
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  let open = 2;
  const closed = (): void => {
    open -= 1;
    if (open > 0) return;
    balancer.release(target.key);
    finish();
  };
  const destroyBoth = (): void => {
    client.destroy();
    upstream.destroy();
  };
  for (const socket of [client, upstream]) {
    socket.setTimeout(idleTimeoutMs, destroyBoth);
    socket.on('error', destroyBoth);
    socket.once('close', closed);
  }
  // pipe() ends the destination when the source ends: a FIN crosses over, the other way stays open.
  client.pipe(upstream);
  upstream.pipe(client);
}
