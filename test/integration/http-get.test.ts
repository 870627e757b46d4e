// The tests' HTTP probe settles however the server goes: a body cut off by a dying server (as a
// task killed mid-answer), a server that never answers, and a plain answer.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpGet } from '../support/http-get.js';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function serve(handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('httpGet (test support)', () => {
  it('answers status and body', async () => {
    const port = await serve((_req, res) => res.end('ok\n'));
    await expect(httpGet({ port })).resolves.toEqual({ status: 200, body: 'ok\n' });
  });

  it('rejects when the server dies in the middle of the body', async () => {
    const port = await serve((req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('part of it');
      setImmediate(() => req.socket.destroy());
    });
    await expect(httpGet({ port, timeoutMs: 5_000 })).rejects.toThrow(/cut off|aborted|socket hang up/);
  });

  it('rejects when nothing answers in time', async () => {
    const port = await serve(() => undefined);
    await expect(httpGet({ port, timeoutMs: 200 })).rejects.toThrow(/200 ms/);
  });
});
