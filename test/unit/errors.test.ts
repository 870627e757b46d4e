import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AgoraError,
  ERROR_CODES,
  GrpcStatus,
  InvalidArgumentError,
  NotLeaderError,
  codeForGrpcStatus,
  toAgoraError,
} from '../../core/errors.js';

describe('error catalogue', () => {
  it('documents every code in core/README.md', () => {
    const readme = readFileSync(new URL('../../core/README.md', import.meta.url), 'utf8');
    for (const code of Object.keys(ERROR_CODES)) expect(readme, code).toContain(`\`${code}\``);
  });

  it('maps codes to gRPC and HTTP statuses', () => {
    const e = new InvalidArgumentError('tasks[0].resources.cpus', 'must be positive');
    expect(e.message).toBe('tasks[0].resources.cpus: must be positive');
    expect(e.grpcStatus).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(e.httpStatus).toBe(400);
    expect(e.toJSON()).toEqual({ code: 'AGORA_INVALID_ARGUMENT', message: e.message, field: 'tasks[0].resources.cpus' });
    const nl = new NotLeaderError('10.0.0.2:5051');
    expect(nl.grpcStatus).toBe(GrpcStatus.UNAVAILABLE);
    expect(nl.toJSON().details).toEqual({ leader: '10.0.0.2:5051' });
  });

  it('turns foreign errors into AGORA_INTERNAL and keeps Agora errors as they are', () => {
    const same = new InvalidArgumentError('x', 'bad');
    expect(toAgoraError(same)).toBe(same);
    const wrapped = toAgoraError(new TypeError('boom'));
    expect(wrapped).toBeInstanceOf(AgoraError);
    expect(wrapped.code).toBe('AGORA_INTERNAL');
    expect(wrapped.message).toBe('boom');
    expect(codeForGrpcStatus(GrpcStatus.NOT_FOUND)).toBe('AGORA_NOT_FOUND');
    expect(codeForGrpcStatus(99)).toBe('AGORA_INTERNAL');
  });
});
