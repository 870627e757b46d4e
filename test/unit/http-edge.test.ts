import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer, listenHttp, queryInt, type HttpServer } from '../../core/http.js';
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
