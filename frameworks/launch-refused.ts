// Whether a launch that did not succeed certainly did not happen — so the framework may forget its
// tasks and place them again — or may have (a timeout, a lost connection), so the framework must
// reconcile them before launching the same work again. Shared by the cron and batch launchers.
import { AgoraError } from '../core/errors.js';
import { NotSubscribedError } from '../sdk/errors.js';

/** The codes with which the master answers "no" to an accept: nothing of it was launched. */
const REFUSALS: ReadonlySet<string> = new Set(['AGORA_INVALID_ARGUMENT', 'AGORA_FAILED_PRECONDITION', 'AGORA_NOT_FOUND', 'AGORA_ALREADY_EXISTS']);

/** The master answered and said no (the offer was gone or used, the request was invalid), or the call never left (not subscribed). */
export function launchRefused(err: unknown): boolean {
  if (err instanceof NotSubscribedError) return true;
  return err instanceof AgoraError && REFUSALS.has(err.code);
}
