// The SDK's errors: calls reject with AgoraError subclasses from core (rebuilt from gRPC status by
// core/grpc fromGrpcError), plus these for the driver's own conditions.
import { AgoraError, FailedPreconditionError, UnavailableError } from '../core/errors.js';

export { AgoraError, InvalidArgumentError, NotFoundError, FailedPreconditionError, NotLeaderError, UnavailableError, TimeoutError } from '../core/errors.js';

/** A call was made while the driver has no subscription (connecting, disconnected, or stopped). */
export class NotSubscribedError extends UnavailableError {
  constructor(state: string) {
    super(`the framework is not subscribed (driver state ${state}); retry once it is`);
  }
}

/** The master refused the framework for good (removed, torn down, invalid info). */
export class FrameworkRemovedError extends FailedPreconditionError {
  constructor(message: string) {
    super(message);
  }
}

export function isAgoraError(err: unknown): err is AgoraError {
  return err instanceof AgoraError;
}

/** Codes by which the master refuses a call outright, having done nothing. */
const REFUSALS: ReadonlySet<string> = new Set(['AGORA_INVALID_ARGUMENT', 'AGORA_NOT_FOUND', 'AGORA_FAILED_PRECONDITION']);

/**
 * Did this call certainly do nothing? True when the master refused it (the offer was gone or
 * used, the request invalid) or it was never sent (not subscribed). Any other failure — UNAVAILABLE,
 * a deadline, a lost connection — leaves the outcome unknown: a launch may have happened, so the
 * task is to be reconciled, not forgotten.
 */
export function wasRefused(err: unknown): boolean {
  return err instanceof NotSubscribedError || (err instanceof AgoraError && REFUSALS.has(err.code));
}
