import { describe, expect, it } from 'vitest';
import { plainReason } from '../../sdk/log-reason.js';

describe('plainReason', () => {
  it('keeps the cause of a gRPC connection error', () => {
    expect(plainReason('No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:5051. Resolution note: ')).toBe('connect ECONNREFUSED 127.0.0.1:5051');
    expect(plainReason('14 UNAVAILABLE: No connection established. Last error: read ECONNRESET')).toBe('read ECONNRESET');
    expect(plainReason('14 UNAVAILABLE: Connection dropped')).toBe('Connection dropped');
  });

  it('leaves its own reasons as they are', () => {
    expect(plainReason('the master closed the stream')).toBe('the master closed the stream');
    expect(plainReason('')).toBe('');
  });
});
