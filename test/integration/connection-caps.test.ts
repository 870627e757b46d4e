// core/connection-limits.ts on real loopback sockets: the per-client cap counts the sockets a client
// holds, and a socket the server has destroyed frees its place at once — before Node emits its
// 'close', which comes in a later phase of the event loop, after the client may already have seen
// the connection end and connected again (the race behind a refused reconnect in http-limits).
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { capConnections } from '../../core/connection-limits.js';

const servers: net.Server[] = [];
const clients: net.Socket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function serve(perClient: number): Promise<{ server: net.Server; port: number; accepted: net.Socket[]; stats: ReturnType<typeof capConnections> }> {
  const server = net.createServer();
  servers.push(server);
  const stats = capConnections(server, { max: 0, perClient });
  const accepted: net.Socket[] = [];
  server.on('connection', (socket: net.Socket) => {
    socket.on('error', () => undefined);
    accepted.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port, accepted, stats };
}

function connect(port: number, from: string): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
  clients.push(socket);
  socket.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Is `socket` closed by the server within `ms`? */
function closedWithin(socket: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe('connection caps', () => {
  it('closes the connection over a client address cap at once, and counts only that address', async () => {
    const { port, stats, accepted } = await serve(2);
    await connect(port, '127.0.0.2');
    await connect(port, '127.0.0.2');
    const third = await connect(port, '127.0.0.2');
    expect(await closedWithin(third, 1000)).toBe(true);
    const other = await connect(port, '127.0.0.3');
    expect(await closedWithin(other, 200)).toBe(false);
    expect(stats.from('127.0.0.2')).toBe(2);
    expect(stats.from('127.0.0.3')).toBe(1);
    expect(stats.refused).toBe(1);
    expect(accepted.filter((s) => !s.destroyed)).toHaveLength(3);
  });

  it('frees a place the moment the server destroys a socket, before its close event', async () => {
    const { port, stats, accepted } = await serve(1);
    await connect(port, '127.0.0.2');
    await expect.poll(() => accepted.length).toBe(1);
    const [held] = accepted;
    let closeEmitted = false;
    held!.once('close', () => (closeEmitted = true));
    held!.destroy();
    // Same tick: Node has not emitted 'close' yet, but the place is free.
    expect(closeEmitted).toBe(false);
    expect(stats.from('127.0.0.2')).toBe(0);
    const again = await connect(port, '127.0.0.2');
    expect(await closedWithin(again, 200)).toBe(false);
    expect(stats.from('127.0.0.2')).toBe(1);
    expect(stats.open).toBe(1);
  });
});
