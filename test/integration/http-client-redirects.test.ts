// frameworks/api/http-client.ts on real sockets: a standby that redirects to its leader (another
// origin) must not cost the caller its token — fetch alone would drop it — yet the token must
// never follow a redirect to plain http.
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpAuth, requestJson } from '../../frameworks/api/http-client.js';
import { testPki } from '../support/security.js';

const servers: Server[] = [];
let leader: string;
let standby: string;
let plain: string;

/** Answers with the authorization header it got, the method and the body. */
function echo(req: IncomingMessage, res: ServerResponse): void {
  let body = '';
  req.on('data', (d: Buffer) => (body += d.toString()));
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ authorization: req.headers.authorization ?? null, method: req.method, body }));
  });
}

async function listen(server: Server, scheme: 'http' | 'https'): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  const tls = testPki().serverTls;
  leader = await listen(createHttps({ key: tls.key, cert: tls.cert }, echo), 'https');
  plain = await listen(createHttp(echo), 'http');
  standby = await listen(
    createHttps({ key: tls.key, cert: tls.cert }, (req, res) => {
      const to = req.url?.startsWith('/to-plain') ? plain : leader;
      res.writeHead(307, { location: `${to}${req.url ?? ''}` }).end();
    }),
    'https',
  );
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('request() and redirects', () => {
  it('follows a 307 to another https origin with the same token, method and body', async () => {
    const auth = httpAuth('agora_0123456789abcdef_' + 'a'.repeat(64), testPki().clientTls);
    const got = await requestJson<{ authorization: string | null; method: string; body: string }>(`${standby}/api/v1/acl/tokens`, { method: 'POST', body: { principal: 'p' }, auth });
    expect(got).toEqual({ authorization: `Bearer agora_0123456789abcdef_${'a'.repeat(64)}`, method: 'POST', body: '{"principal":"p"}' });
  });

  it('never sends the token to a plain-http location, nor to an http URL at all', async () => {
    const auth = httpAuth('agora_0123456789abcdef_' + 'b'.repeat(64), testPki().clientTls);
    expect((await requestJson<{ authorization: string | null }>(`${standby}/to-plain`, { auth })).authorization).toBeNull();
    expect((await requestJson<{ authorization: string | null }>(`${plain}/direct`, { auth })).authorization).toBeNull();
  });
});
