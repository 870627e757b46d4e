// HTTP/1.1 Upgrade requests routed like any other request, so the hooks every route has
// (authentication, the master's leader guard, the error handler) run for them too — the pattern of
// @fastify/websocket: the node server's 'upgrade' event hands over the socket; we give the request a
// ServerResponse on that socket and dispatch it through fastify. A refusal is then an ordinary
// HTTP answer (401, 403, 404…) on the socket, which is closed after it; a route that accepts takes
// the socket (upgradeOf) and answers 101 itself (acceptUpgrade).
//
// Only the protocols given are routed; any other Upgrade is refused with 400.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidArgumentError } from './errors.js';
import type { HttpServer } from './http.js';

export interface Upgrade {
  readonly socket: Duplex;
  /** Bytes the client sent after the request head. */
  readonly head: Buffer;
}

const upgrades = new WeakMap<http.IncomingMessage, Upgrade>();

export function routeUpgrades(app: HttpServer, protocols: readonly string[]): void {
  app.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const asked = String(req.headers.upgrade ?? '').toLowerCase();
    if (!protocols.includes(asked)) {
      refuseRaw(socket, 400, { code: 'AGORA_INVALID_ARGUMENT', field: 'upgrade', message: `no upgrade to '${asked}' here (known: ${protocols.join(', ')})` });
      return;
    }
    upgrades.set(req, { socket, head });
    const res = new http.ServerResponse(req);
    res.assignSocket(socket as never);
    res.shouldKeepAlive = false;
    // A refusal answered through fastify: the connection ends with it.
    res.once('finish', () => socket.end());
    app.routing(req, res);
  });
}

/** The socket of an upgrade request; INVALID_ARGUMENT when the request did not ask for `protocol`. */
export function upgradeOf(req: FastifyRequest, protocol: string): Upgrade {
  const upgrade = upgrades.get(req.raw);
  if (!upgrade) throw new InvalidArgumentError('upgrade', `this endpoint speaks '${protocol}' only: send Connection: Upgrade and Upgrade: ${protocol}`);
  return upgrade;
}

/** Take the socket from fastify and answer 101. */
export function acceptUpgrade(reply: FastifyReply, upgrade: Upgrade, protocol: string): Duplex {
  void reply.hijack();
  upgrade.socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${protocol}\r\n\r\n`);
  if (upgrade.head.length > 0) upgrade.socket.unshift(upgrade.head);
  return upgrade.socket;
}

function refuseRaw(socket: Duplex, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}
