// A unix socket that relays to the tests' Docker engine while open: closing it is, for whoever
// was given its path, the engine going away; opening it again brings the engine back.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { testServices } from './services.js';
import { tempDir } from './tmp.js';

export interface DockerRelay {
  readonly socketPath: string;
  close(): Promise<void>;
  open(): Promise<void>;
}

export async function dockerRelay(): Promise<DockerRelay> {
  const socketPath = path.join(await tempDir('dr'), 'd.sock');
  const target = testServices().dockerSocket;
  let server: net.Server | undefined;
  const sockets = new Set<net.Socket>();
  const open = async (): Promise<void> => {
    server = net.createServer((client) => {
      const upstream = net.connect(target);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => (client.destroy(), upstream.destroy()));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => server!.once('error', reject).listen(socketPath, resolve));
  };
  const close = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    fs.rmSync(socketPath, { force: true });
  };
  await open();
  return { socketPath, close, open };
}
