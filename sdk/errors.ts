// The SDK's errors: calls reject with AgoraError subclasses from core (rebuilt from gRPC status by
// core/grpc fromGrpcError), plus these for the driver's own conditions. The driver's fatal errors
// (FrameworkRemovedError, AuthenticationRefusedError, MasterUnreachableError) reject `driver.closed`
// and say what to do next.
import { AgoraError, FailedPreconditionError, TimeoutError, UnavailableError } from '../core/errors.js';

export { AgoraError, InvalidArgumentError, NotFoundError, FailedPreconditionError, NotLeaderError, UnavailableError, TimeoutError } from '../core/errors.js';

/** A call was made while the driver has no subscription (connecting or disconnected); it will have one again. */
export class NotSubscribedError extends UnavailableError {
  constructor(state: string) {
    super(`the framework is not subscribed (driver state ${state}); retry once it is`);
  }
}

/** A call (or waitSubscribed) on a driver that was stopped or has failed: it never subscribes again. */
export class DriverStoppedError extends FailedPreconditionError {
  constructor(framework: string, state: string) {
    super(`the driver of framework '${framework}' is ${state === 'FAILED' ? 'failed' : 'stopped'} and will not subscribe again; start a new one with FrameworkDriver.start()`, {
      details: { framework, state },
    });
  }
}

/** The master refused the framework for good (removed, torn down, invalid info). */
export class FrameworkRemovedError extends FailedPreconditionError {
  constructor(message: string) {
    super(`${message} (the master will not take this framework back: fix its info, or start without framework.id to register anew)`);
  }
}

/** The master does not accept the framework's credentials, or its principal may not register as asked. */
export class AuthenticationRefusedError extends AgoraError {
  constructor(cause: AgoraError) {
    const what =
      cause.code === 'AGORA_PERMISSION_DENIED'
        ? 'check that the principal may register in these roles (agora acl …)'
        : 'check credentials.token (or the client certificate) and credentials.ca against the cluster';
    super(cause.code === 'AGORA_PERMISSION_DENIED' ? 'AGORA_PERMISSION_DENIED' : 'AGORA_UNAUTHENTICATED', `the master refused the framework's credentials: ${cause.message}; ${what}`, { cause, details: cause.details });
  }
}

/** No master could be reached (or none leads) within the allowed connection attempts. */
export class MasterUnreachableError extends UnavailableError {
  constructor(master: string, attempts: number, lastReason: string) {
    super(
      `could not subscribe to a master at ${master} after ${attempts} attempts (last: ${lastReason}); check the master address and that a master runs there, or allow more attempts with reconnect.initialAttempts / reconnect.maxAttempts`,
      { details: { master, attempts } },
    );
  }
}

/** driver.recover() ran out of its timeoutMs before the master had answered for every task (recovery.ts). */
export class RecoveryTimeoutError extends TimeoutError {
  /** The known tasks the master had not answered for (none: only the implicit reconciliation was unanswered). */
  readonly unanswered: readonly string[];
  constructor(timeoutMs: number, unanswered: readonly string[], implicitAnswered: boolean) {
    const shown = unanswered.slice(0, 10).map((t) => `'${t}'`).join(', ') + (unanswered.length > 10 ? ` and ${unanswered.length - 10} more` : '');
    const what = unanswered.length > 0 ? `no answer for task${unanswered.length === 1 ? '' : 's'} ${shown}` : 'no complete answer for the implicit reconciliation';
    super(
      `recovery did not finish within ${timeoutMs} ms: ${what}${implicitAnswered ? '' : ' (the master may still be waiting for agents to re-register)'}; the driver keeps reconciling them, call recover() again or wait for their updates`,
      { details: { unanswered: [...unanswered], implicitAnswered } },
    );
    this.unanswered = [...unanswered];
  }
}

export function isAgoraError(err: unknown): err is AgoraError {
  return err instanceof AgoraError;
}

/** Codes by which the master refuses a call outright, having done nothing. */
const REFUSALS: ReadonlySet<string> = new Set(['AGORA_INVALID_ARGUMENT', 'AGORA_NOT_FOUND', 'AGORA_FAILED_PRECONDITION']);

/**
 * Did this call certainly do nothing? True when the master refused it (the offer was gone or
 * used, the request invalid) or it was never sent (not subscribed, or the driver stopped). Any
 * other failure — UNAVAILABLE, a deadline, a lost connection — leaves the outcome unknown: a launch
 * may have happened, so the task is to be reconciled, not forgotten.
 */
export function wasRefused(err: unknown): boolean {
  return err instanceof NotSubscribedError || (err instanceof AgoraError && REFUSALS.has(err.code));
}
