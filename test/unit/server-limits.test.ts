import { describe, expect, it } from 'vitest';
import { compileOptions, parseBytes } from '../../core/options.js';
import {
  DEFAULT_GRPC_LIMITS,
  DEFAULT_HTTP_LIMITS,
  GRPC_LIMIT_OPTIONS,
  grpcLimitsFrom,
  HTTP_LIMIT_OPTIONS,
  httpLimitsFrom,
  SERVER_LIMIT_OPTIONS,
} from '../../core/server-limits.js';
import { compileAgentOptions } from '../../agent/options.js';
import { compileMasterOptions } from '../../master/options.js';
import { compileFrameworksOptions } from '../../frameworks/host-options.js';

const SPEC = { ...SERVER_LIMIT_OPTIONS, ...HTTP_LIMIT_OPTIONS, ...GRPC_LIMIT_OPTIONS };

describe('server limits', () => {
  it('defaults to the documented limits', () => {
    const flags = compileOptions(SPEC, {});
    expect(httpLimitsFrom(flags)).toEqual(DEFAULT_HTTP_LIMITS);
    expect(grpcLimitsFrom(flags)).toEqual(DEFAULT_GRPC_LIMITS);
    expect(DEFAULT_HTTP_LIMITS).toMatchObject({ headersTimeoutMs: 20_000, bodyLimitBytes: 4 * 1024 * 1024, sseMaxClients: 256 });
  });

  it.each([
    ['65536', 65536],
    ['64KiB', 65536],
    ['4MiB', 4 * 1024 * 1024],
    ['1.5MiB', 1.5 * 1024 * 1024],
    ['1GiB', 1024 ** 3],
    ['10B', 10],
  ])('reads the size %s', (text, bytes) => {
    expect(parseBytes(text)).toBe(bytes);
  });

  it.each([
    [{ httpMaxBody: '4MB' }, "--http-max-body: expected a size such as 65536, 64KiB or 4MiB, got '4MB'"],
    [{ httpMaxBody: '0' }, "--http-max-body: must be at least 1 bytes, got '0'"],
    [{ sseMaxBuffered: '1KiB' }, "--sse-max-buffered: must be at least 65536 bytes, got '1KiB'"],
    [{ httpHeadersTimeout: '5' }, "--http-headers-timeout: expected a duration such as 500ms, 1s, 2m, 1h or 7d, got '5'"],
    [{ httpIdleTimeout: '30d' }, "--http-idle-timeout: must be at most 2147483647ms, got '30d'"],
    [{ sseMaxClients: '0' }, '--sse-max-clients: must be at least 1, got 0'],
    [{ maxConnectionsPerClient: '-1' }, '--max-connections-per-client: must be at least 0, got -1'],
    [{ grpcMaxConcurrentStreams: '0' }, '--grpc-max-concurrent-streams: must be at least 1, got 0'],
  ])('names the flag of a bad value: %j', (raw, message) => {
    expect(() => compileOptions(SPEC, raw)).toThrow(message);
  });

  it('refuses a headers timeout longer than the request timeout in every process', () => {
    const raw = { httpHeadersTimeout: '2m', httpRequestTimeout: '1m' };
    const message = '--http-headers-timeout: must not be longer than --http-request-timeout (60000 ms), got 120000 ms';
    expect(() => compileMasterOptions(raw)).toThrow(message);
    expect(() => compileAgentOptions({ ...raw, master: '127.0.0.1:5051' })).toThrow(message);
    expect(() => compileFrameworksOptions({ ...raw, master: '127.0.0.1:5051' })).toThrow(message);
  });

  it('gives the master, the agent and the frameworks the same flags', () => {
    const master = compileMasterOptions({ httpMaxConnections: '10', tlsHandshakeTimeout: '2s', grpcIdleTimeout: '1m', sseReplayEvents: '50' });
    expect(httpLimitsFrom(master)).toMatchObject({ maxConnections: 10, tlsHandshakeTimeoutMs: 2000 });
    expect(grpcLimitsFrom(master)).toMatchObject({ idleTimeoutMs: 60_000, tlsHandshakeTimeoutMs: 2000 });
    expect(master.sseReplayEvents).toBe(50);
    expect(httpLimitsFrom(compileAgentOptions({ master: '127.0.0.1:5051', sseMaxClients: '3' })).sseMaxClients).toBe(3);
    expect(grpcLimitsFrom(compileFrameworksOptions({ master: '127.0.0.1:5051', grpcMaxReceiveMessage: '8MiB' })).maxReceiveMessageBytes).toBe(8 * 1024 * 1024);
  });
});
