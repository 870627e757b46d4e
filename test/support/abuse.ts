// Hostile clients for the servers' limits (core/server-limits.ts), on real sockets:
//
//   const loris = await slowLoris('127.0.0.1:5050', { everyMs: 200 });   // TLS, then a header line now and then
//   await loris.closed                                                   // ms until the server cut it
//   const idle = await openTcp('127.0.0.1:5051', { from: '127.0.0.2' });  // TCP only: never handshakes
//   await tlsRefused('127.0.0.1:5050')                                    // true when closed before TLS
//
// `from` binds the client to another loopback address (Linux routes all of 127/8 to lo), so a test
// can be one abusive client address and another well-behaved one.
import net from 'node:net';
import tls from 'node:tls';
import { testPki } from './security.js';

const opened = new Set<net.Socket>();

export interface Abuser {
  readonly socket: net.Socket;
  /** Resolves with the ms from connecting until the server closed the connection. */
  readonly closed: Promise<number>;
  stop(): void;
}

function split(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

function track(socket: net.Socket, start: number, timer?: NodeJS.Timeout): Abuser {
  opened.add(socket);
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      clearInterval(timer);
      opened.delete(socket);
      resolve(Date.now() - start);
    }),
  );
  return { socket, closed, stop: () => socket.destroy() };
}

/** A TCP connection that sends nothing (for a TLS port: it never handshakes). */
export async function openTcp(address: string, options: { from?: string } = {}): Promise<Abuser> {
  const { host, port } = split(address);
  const start = Date.now();
  const socket = net.connect({ host, port, ...(options.from ? { localAddress: options.from } : {}) });
  const abuser = track(socket, start);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return abuser;
}

/** TLS to `address` (trusting the test CA), then a request whose headers never end: one header line every `everyMs`. */
export async function slowLoris(address: string, options: { everyMs: number; from?: string }): Promise<Abuser> {
  const { host, port } = split(address);
  const start = Date.now();
  const socket = tls.connect({ host, port, ca: testPki().clientTls.ca, servername: 'localhost', ...(options.from ? { localAddress: options.from } : {}) });
  let n = 0;
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write(`x-slow-${(n += 1)}: ${'a'.repeat(16)}\r\n`);
  }, options.everyMs);
  const abuser = track(socket, start, timer);
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`${address} closed the connection before the TLS handshake`)));
  });
  socket.write(`GET /health HTTP/1.1\r\nhost: ${host}\r\n`);
  return abuser;
}

/** Does `address` close a new TLS connection before the handshake (a connection cap reached)? */
export function tlsRefused(address: string, options: { from?: string; timeoutMs?: number } = {}): Promise<boolean> {
  const { host, port } = split(address);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, ca: testPki().clientTls.ca, servername: 'localhost', ...(options.from ? { localAddress: options.from } : {}) });
    opened.add(socket);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${address}: neither handshake nor close within ${options.timeoutMs ?? 5000} ms`));
    }, options.timeoutMs ?? 5000);
    const done = (refused: boolean): void => {
      clearTimeout(timer);
      opened.delete(socket);
      socket.destroy();
      resolve(refused);
    };
    socket.once('secureConnect', () => done(false));
    socket.once('error', () => done(true));
    socket.once('close', () => done(true));
  });
}

/** Destroy every socket these helpers opened (afterEach). */
export function closeAbusers(): void {
  for (const socket of opened) socket.destroy();
  opened.clear();
}
