import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer, httpEdgeStats, listenHttp, queryInt, type HttpServer } from '../../core/http.js';
import { InvalidArgumentError, NotLeaderError } from '../../core/errors.js';

let app: HttpServer | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('HTTP edge', () => {
  it('maps AgoraErrors to their status with a JSON body naming the field', async () => {
    app = createHttpServer();
    app.get('/bad', async () => {
      throw new InvalidArgumentError('limit', 'must be positive');
    });
    app.get('/standby', async () => {
      throw new NotLeaderError('127.0.0.1:5050');
    });
    app.get('/boom', async () => {
      throw new TypeError('oops');
    });
    app.get('/q', async (req) => ({ n: queryInt(req.query as Record<string, unknown>, 'limit', 10, 100) }));
    const bad = await app.inject('/bad');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ code: 'AGORA_INVALID_ARGUMENT', message: 'limit: must be positive', field: 'limit' });
    const standby = await app.inject('/standby');
    expect(standby.statusCode).toBe(503);
    expect(standby.headers['x-agora-leader']).toBe('127.0.0.1:5050');
    expect((await app.inject('/boom')).statusCode).toBe(500);
    expect((await app.inject('/q?limit=5')).json()).toEqual({ n: 5 });
    const q = await app.inject('/q?limit=-1');
    expect(q.statusCode).toBe(400);
    expect(q.json().field).toBe('limit');
    expect((await app.inject('/q?limit=101')).json().message).toBe('limit: must be at most 100, got 101');
  });

  it('answers a request Node cannot parse with an Agora error body, then closes', async () => {
    app = createHttpServer();
    app.get('/ok', async () => ({ ok: true }));
    const port = await listenHttp(app, '127.0.0.1', 0);
    const raw = (bytes: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.end(bytes));
        let answer = '';
        socket.setEncoding('utf8');
        socket.on('data', (d: string) => (answer += d));
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
      });
    const big = await raw(`GET /ok HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(big.slice(big.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'AGORA_PAYLOAD_TOO_LARGE', field: 'headers' });
    const garbage = await raw('\x00\x01 not http at all\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'request' });
    expect(await raw('GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toContain('{"ok":true}');
  });

  it('answers unknown routes and malformed JSON with JSON errors', async () => {
    app = createHttpServer();
    app.post('/echo', async (req) => req.body);
    const missing = await app.inject('/nope?x=1');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ code: 'AGORA_NOT_FOUND', message: 'no route for GET /nope' });
    const malformed = await app.inject({ method: 'POST', url: '/echo', payload: '{"a":', headers: { 'content-type': 'application/json' } });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('AGORA_INVALID_ARGUMENT');
  });

  it('listens on a real loopback socket and reports the port chosen for port 0', async () => {
    app = createHttpServer();
    app.get('/health', async () => ({ ok: true }));
    const port = await listenHttp(app, '127.0.0.1', 0);
    expect(port).toBeGreaterThan(0);
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    expect(await res.json()).toEqual({ ok: true });
  });
});

describe('HTTP edge: limits', () => {
  it('answers a body over the limit with 413 AGORA_PAYLOAD_TOO_LARGE naming the flag', async () => {
    app = createHttpServer({ limits: { bodyLimitBytes: 1024 } });
    app.post('/echo', async (req) => req.body);
    expect((await app.inject({ method: 'POST', url: '/echo', payload: { a: 'x'.repeat(100) } })).statusCode).toBe(200);
    const big = await app.inject({ method: 'POST', url: '/echo', payload: { a: 'x'.repeat(2000) } });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toEqual({ code: 'AGORA_PAYLOAD_TOO_LARGE', message: 'request body is larger than 1024 bytes (--http-max-body)', field: 'body', details: { limitBytes: 1024 } });
  });

  it('makes its node server with the timeouts and caps asked for', async () => {
    app = createHttpServer({ limits: { headersTimeoutMs: 1000, requestTimeoutMs: 2000, keepAliveTimeoutMs: 3000, idleTimeoutMs: 4000, maxConnections: 7 } });
    await app.ready();
    expect(app.server.headersTimeout).toBe(1000);
    expect(app.server.requestTimeout).toBe(2000);
    expect(app.server.keepAliveTimeout).toBe(3000);
    expect(app.server.timeout).toBe(4000);
    expect(app.server.maxConnections).toBe(7);
    expect(httpEdgeStats(app).sse.limits.maxClients).toBe(256);
  });
});
