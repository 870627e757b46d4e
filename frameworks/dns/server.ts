// The DNS server's sockets: UDP and TCP on one port (RFC 1035 §4.2; TCP messages carry a two-byte
// length). Bounded: each client address gets at most `ratePerSecond` queries a second (rate.ts; more
// are dropped); at most `maxTcpConnections` TCP connections (more are closed at once), each closed
// after `tcpIdleMs` without a complete query. A UDP answer is never larger than the client's limit
// (message.ts), and ANY draws one small record.
import dgram from 'node:dgram';
import net from 'node:net';
import { isIPv6 } from 'node:net';
import type { Logger } from '../../core/logger.js';
import { respond, type Responder } from './message.js';
import { ClientRate } from './rate.js';

/** Answers a TCP client may leave unread before it is cut: a few large answers. */
const MAX_UNREAD_BYTES = 256 * 1024;

export interface DnsServerOptions {
  readonly bind: string;
  /** 0 picks a free port (the same number for UDP and TCP). */
  readonly port: number;
  readonly maxTcpConnections: number;
  readonly tcpIdleMs: number;
  /** Queries a second per client address (0 = no limit). */
  readonly ratePerSecond: number;
}

export interface DnsServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startDnsServer(options: DnsServerOptions, responder: Responder, logger: Logger): Promise<DnsServer> {
  // With port 0 the UDP socket picks, and TCP takes the same number; taken already: pick again.
  const rate = new ClientRate(options.ratePerSecond);
  for (let attempt = 0; ; attempt++) {
    const udp = await bindUdp(options, responder, rate, logger);
    const port = udp.address().port;
    try {
      const tcp = await listenTcp({ ...options, port }, responder, rate, logger);
      return { port, close: () => closeBoth(udp, tcp) };
    } catch (err) {
      udp.close();
      if (options.port !== 0 || attempt >= 5) throw err;
    }
  }
}

function bindUdp(options: DnsServerOptions, responder: Responder, rate: ClientRate, logger: Logger): Promise<dgram.Socket> {
  const socket = dgram.createSocket(isIPv6(options.bind) ? 'udp6' : 'udp4');
  socket.on('message', (query, from) => {
    if (!rate.allow(from.address)) return;
    const reply = safeRespond(query, 'udp', responder, logger);
    if (reply) socket.send(reply, from.port, from.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.port, options.bind, () => {
      socket.off('error', reject);
      socket.on('error', (err) => logger.warn({ err }, 'DNS UDP socket error'));
      resolve(socket);
    });
  });
}

interface TcpServer {
  readonly server: net.Server;
  readonly sockets: Set<net.Socket>;
}

function listenTcp(options: DnsServerOptions, responder: Responder, rate: ClientRate, logger: Logger): Promise<TcpServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveTcp(socket, responder, rate, options, logger);
  });
  server.maxConnections = options.maxTcpConnections;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.bind, () => {
      server.off('error', reject);
      resolve({ server, sockets });
    });
  });
}

/** Queries one after another on one connection, each with its two-byte length. */
function serveTcp(socket: net.Socket, responder: Responder, rate: ClientRate, options: DnsServerOptions, logger: Logger): void {
  let buffered = Buffer.alloc(0);
  // Idle = no complete query, not no byte: a client trickling a byte at a time must not hold one of
  // the few connections for ever (socket.setTimeout would restart on every byte).
  const idle = setTimeout(() => socket.destroy(), options.tcpIdleMs);
  socket.once('close', () => clearTimeout(idle));
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2) {
      const length = buffered.readUInt16BE(0);
      if (buffered.length < 2 + length) return;
      const query = buffered.subarray(2, 2 + length);
      buffered = buffered.subarray(2 + length);
      idle.refresh();
      if (!rate.allow(socket.remoteAddress ?? '')) continue;
      const reply = safeRespond(query, 'tcp', responder, logger);
      if (!reply) {
        socket.destroy();
        return;
      }
      // A client that asks and never reads is cut before its answers pile up here.
      if (socket.writableLength > MAX_UNREAD_BYTES) {
        socket.destroy();
        return;
      }
      const framed = Buffer.alloc(2 + reply.length);
      framed.writeUInt16BE(reply.length, 0);
      reply.copy(framed, 2);
      socket.write(framed);
    }
  });
}

/** A bug in answering one packet must not take the server down: log it and drop the packet. */
function safeRespond(query: Buffer, transport: 'udp' | 'tcp', responder: Responder, logger: Logger): Buffer | undefined {
  try {
    return respond(query, transport, responder);
  } catch (err) {
    logger.warn({ err, transport }, 'cannot answer a DNS query: dropped');
    return undefined;
  }
}

async function closeBoth(udp: dgram.Socket, tcp: TcpServer): Promise<void> {
  const closed = new Promise<void>((resolve) => tcp.server.close(() => resolve()));
  // Connections still open would keep close() waiting for their idle timeout.
  for (const socket of tcp.sockets) socket.destroy();
  await Promise.all([closed, new Promise<void>((resolve) => udp.close(() => resolve()))]);
}
