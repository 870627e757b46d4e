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
