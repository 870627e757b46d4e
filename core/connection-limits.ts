// Connection caps on a listening server: at most `max` open connections in all and `perClient` from
// one client address. A connection over a cap is closed the moment it is accepted — before TLS or
// HTTP cost anything — so a flood of idle or slow connections cannot take every file descriptor of
// the process, and the server keeps accepting once the timeouts have cut the abusers.
import type { Server, Socket } from 'node:net';

export interface ConnectionCaps {
  /** Open connections in all; 0 = no cap. */
  readonly max: number;
  /** Open connections from one client address; 0 = no cap. */
  readonly perClient: number;
}

export interface ConnectionStats {
  /** Connections open now. */
  readonly open: number;
  /** Connections closed on arrival because a cap was reached, since the start. */
  readonly refused: number;
  /** Connections open now from `address`. */
  from(address: string): number;
}

/**
 * Caps `server`'s connections. The total uses Node's own `maxConnections` (refused before any
 * listener runs); the per-address count is kept here, on the raw TCP socket, ahead of the TLS or
 * HTTP listener.
 */
export function capConnections(server: Server, caps: ConnectionCaps): ConnectionStats {
  // The sockets themselves, not a count: a socket destroyed by a timeout emits 'close' only in a
  // later phase of the event loop, and a new connection from the same client may be accepted
  // before it. A destroyed socket has given up its place at once.
  const byAddress = new Map<string, Set<Socket>>();
  let open = 0;
  let refused = 0;
  if (caps.max > 0) server.maxConnections = caps.max;
  server.on('drop', () => {
    refused += 1;
  });
  const live = (address: string): Set<Socket> | undefined => {
    const sockets = byAddress.get(address);
    if (sockets === undefined) return undefined;
    for (const socket of sockets) if (socket.destroyed) sockets.delete(socket);
    return sockets;
  };
  server.prependListener('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    let sockets = live(address);
    if (caps.perClient > 0 && sockets !== undefined && sockets.size >= caps.perClient) {
      refused += 1;
      socket.destroy();
      return;
    }
    if (sockets === undefined) byAddress.set(address, (sockets = new Set()));
    sockets.add(socket);
    open += 1;
    socket.once('close', () => {
      open -= 1;
      const held = byAddress.get(address);
      held?.delete(socket);
      if (held?.size === 0) byAddress.delete(address);
    });
  });
  return {
    get open() {
      return open;
    },
    get refused() {
      return refused;
    },
    from: (address) => live(address)?.size ?? 0,
  };
}
