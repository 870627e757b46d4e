// The Store's typed errors. Both backends raise exactly these, so callers branch on `code` only.

import { AgoraError, type ErrorCode } from '../errors.js';

export class StoreError extends AgoraError {
  /** The node at fault, relative to the store's chroot. */
  readonly path: string | undefined;
  /** The message without the path. */
  readonly reason: string;
  constructor(code: ErrorCode, reason: string, path?: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super(code, path === undefined ? reason : `${reason}: ${path}`, {
      details: { ...details, ...(path === undefined ? {} : { path }) },
      ...(cause === undefined ? {} : { cause }),
    });
    this.path = path;
    this.reason = reason;
  }

  /** The same error with its path mapped (e.g. from absolute to chroot-relative). */
  withPath(map: (path: string) => string): StoreError {
    if (this.path === undefined) return this;
    return new StoreError(this.code, this.reason, map(this.path), this.details, this.cause);
  }
}

export const noNode = (path: string): StoreError => new StoreError('AGORA_NO_NODE', 'no such node', path);
export const nodeExists = (path: string): StoreError => new StoreError('AGORA_NODE_EXISTS', 'node already exists', path);
export const notEmpty = (path: string): StoreError => new StoreError('AGORA_NOT_EMPTY', 'node has children', path);
export const badVersion = (path: string, expected: number): StoreError =>
  new StoreError('AGORA_BAD_VERSION', `version mismatch (expected ${expected})`, path, { expected });
export const noChildrenForEphemerals = (path: string): StoreError =>
  new StoreError('AGORA_FAILED_PRECONDITION', 'ephemeral nodes cannot have children', path);
export const sessionExpired = (reason: 'expired' | 'closed'): StoreError =>
  new StoreError('AGORA_SESSION_EXPIRED', reason === 'closed' ? 'store session is closed' : 'store session expired', undefined, {
    reason,
  });
export const connectionLoss = (path: string | undefined, cause?: unknown): StoreError =>
  new StoreError('AGORA_UNAVAILABLE', 'lost contact with the store; the outcome of the write is unknown', path, { outcome: 'unknown' }, cause);

export function isStoreCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof AgoraError && err.code === code;
}

/** Give a multi() failure the index of the operation at fault. */
export function atIndex(err: StoreError, index: number): StoreError {
  return new StoreError(err.code, `operation ${index} failed: ${err.reason}`, err.path, { ...err.details, index }, err);
}
