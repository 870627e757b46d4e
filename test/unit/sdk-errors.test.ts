// wasRefused: which failed calls certainly did nothing (forget the launch) and which leave the
// outcome unknown (reconcile the task).
import { describe, expect, it } from 'vitest';
import { InternalError } from '../../core/errors.js';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, NotLeaderError, NotSubscribedError, TimeoutError, UnavailableError, wasRefused } from '../../sdk/index.js';

describe('wasRefused', () => {
  it('is true when the master refused the call or it was never sent', () => {
    expect(wasRefused(new InvalidArgumentError('tasks[0].resources', 'is required'))).toBe(true);
    expect(wasRefused(new NotFoundError('offer', 'O1'))).toBe(true);
    expect(wasRefused(new FailedPreconditionError('offer O1 was rescinded'))).toBe(true);
    expect(wasRefused(new NotSubscribedError('DISCONNECTED'))).toBe(true);
  });

  it('is false when the outcome is unknown', () => {
    expect(wasRefused(new UnavailableError('connection dropped'))).toBe(false);
    expect(wasRefused(new NotLeaderError(undefined))).toBe(false);
    expect(wasRefused(new TimeoutError('accept took too long'))).toBe(false);
    expect(wasRefused(new InternalError('boom'))).toBe(false);
    expect(wasRefused(new Error('not an AgoraError'))).toBe(false);
  });
});
