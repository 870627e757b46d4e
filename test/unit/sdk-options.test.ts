// The driver's options: with no logger given, errors still reach stderr — a handler that throws,
// or the master refusing the framework, must never pass unseen. Credentials are required: a
// driver talks TLS to a master it can verify, as a principal the master can name, unless it is
// told in so many words that the master is --insecure.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { compileDriverOptions } from '../../sdk/options.js';
import { thrown } from '../support/thrown.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const base = { master: '127.0.0.1:5051', framework: { name: 'f' } };
const credentials = { ca: CA, token: 'agora_0123456789abcdef_' + '0'.repeat(64) };

describe('driver options', () => {
  it('logs errors by default, and nothing below them', () => {
    const options = compileDriverOptions({ ...base, credentials });
    expect(options.logger.level).toBe('error');
    expect(options.logger.isLevelEnabled('error')).toBe(true);
    expect(options.logger.isLevelEnabled('warn')).toBe(false);
  });

  it('uses the logger it is given', () => {
    const logger = silentLogger();
    expect(compileDriverOptions({ ...base, credentials, logger }).logger).toBe(logger);
  });

  it('needs the cluster CA and a token or certificate, unless told the master is insecure', () => {
    expect(thrown(() => compileDriverOptions(base)).field).toBe('credentials.ca');
    expect(thrown(() => compileDriverOptions({ ...base, credentials: { ca: CA } })).field).toBe('credentials.token');
    expect(thrown(() => compileDriverOptions({ ...base, credentials: { ca: CA, cert: CA } })).field).toBe('credentials.key');
    expect(thrown(() => compileDriverOptions({ ...base, credentials, insecure: true })).field).toBe('insecure');
    expect(compileDriverOptions({ ...base, insecure: true }).insecure).toBe(true);
    expect(compileDriverOptions({ ...base, credentials }).insecure).toBe(false);
  });
});

describe('reconnect attempts', () => {
  it('default to 8 before the first subscription and no limit after it', () => {
    const options = compileDriverOptions({ ...base, credentials });
    expect(options.reconnectInitialAttempts).toBe(8);
    expect(options.reconnectMaxAttempts).toBe(Infinity);
  });

  it('refuse anything but a whole number ≥ 1 or Infinity, naming the field', () => {
    expect(thrown(() => compileDriverOptions({ ...base, credentials, reconnect: { initialAttempts: 0 } }))).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'reconnect.initialAttempts' });
    expect(thrown(() => compileDriverOptions({ ...base, credentials, reconnect: { maxAttempts: 2.5 } }))).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'reconnect.maxAttempts' });
    expect(compileDriverOptions({ ...base, credentials, reconnect: { initialAttempts: Infinity } }).reconnectInitialAttempts).toBe(Infinity);
  });
});
