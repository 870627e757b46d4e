// The AgoraError a call throws, for tests that look at its code and field; any other error, or no
// throw at all, fails the test.
import { AgoraError } from '../../core/errors.js';

export function thrown(fn: () => unknown): AgoraError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AgoraError) return err;
    throw err;
  }
  throw new Error('expected an AgoraError, but nothing was thrown');
}
