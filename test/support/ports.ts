// Free loopback ports for test servers.
//
// A port is found by binding port 0 and releasing it, so another process may take it before our
// server binds: callers that start servers retry with fresh ports when the bind fails
// (see isAddressInUse). All ports of one call are held open together, so they are distinct, and a
// port is never handed out twice by one process.
import net from 'node:net';

export const LOOPBACK = '127.0.0.1';

const handedOut = new Set<number>();

/** `count` distinct free TCP ports on 127.0.0.1. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      const server = await listenOnAnyPort();
      servers.push(server);
      const port = (server.address() as net.AddressInfo).port;
      if (handedOut.has(port)) continue;
      handedOut.add(port);
      ports.push(port);
    }
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
  return ports;
}

/** One free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/** True when a server's log or error says its port was taken. */
export function isAddressInUse(text: string): boolean {
  return /EADDRINUSE|Address already in use|BindException/.test(text);
}

function listenOnAnyPort(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port: 0, exclusive: true }, () => resolve(server));
  });
}
