// Typed errors with stable codes. Every error Agora raises on purpose is an AgoraError; the edges
// (gRPC servers, HTTP handlers, the SDK's client calls) map `code` to a gRPC status or HTTP status
// with the tables below, and back again. Messages name the problem; `field` names the input at fault.

/** gRPC status codes (numeric, as on the wire) that Agora uses. */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/** The catalogue of error codes: each code maps to one gRPC status and one HTTP status. */
export const ERROR_CODES = {
  AGORA_INVALID_ARGUMENT: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, doc: 'The input is malformed; `field` names the part at fault.' },
  AGORA_NOT_FOUND: { grpc: GrpcStatus.NOT_FOUND, http: 404, doc: 'The named object does not exist.' },
  AGORA_ALREADY_EXISTS: { grpc: GrpcStatus.ALREADY_EXISTS, http: 409, doc: 'An object with that name or id already exists.' },
  AGORA_FAILED_PRECONDITION: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 409, doc: 'The call is well formed but the state does not allow it (e.g. an offer already used).' },
  AGORA_CONFLICT: { grpc: GrpcStatus.ABORTED, http: 409, doc: 'A compare-and-set lost a race: the version changed underneath.' },
  AGORA_NOT_LEADER: { grpc: GrpcStatus.UNAVAILABLE, http: 503, doc: 'This process is not the leader; `leader` carries the leader address when known.' },
  AGORA_UNAVAILABLE: { grpc: GrpcStatus.UNAVAILABLE, http: 503, doc: 'A dependency (store, master, agent) cannot be reached right now; retry.' },
  AGORA_TIMEOUT: { grpc: GrpcStatus.DEADLINE_EXCEEDED, http: 504, doc: 'The operation did not finish in time.' },
  AGORA_UNAUTHENTICATED: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401, doc: 'No or bad credentials.' },
  AGORA_PERMISSION_DENIED: { grpc: GrpcStatus.PERMISSION_DENIED, http: 403, doc: 'The principal may not do this.' },
  AGORA_RESOURCE_EXHAUSTED: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 429, doc: 'A limit was reached.' },
  AGORA_PAYLOAD_TOO_LARGE: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 413, doc: 'The request body or message is larger than the server accepts; `field` names the limit.' },
  AGORA_CANCELLED: { grpc: GrpcStatus.CANCELLED, http: 499, doc: 'The caller or a shutdown cancelled the operation.' },
  AGORA_UNIMPLEMENTED: { grpc: GrpcStatus.UNIMPLEMENTED, http: 501, doc: 'Not supported by this process.' },
  AGORA_INTERNAL: { grpc: GrpcStatus.INTERNAL, http: 500, doc: 'A bug: an invariant did not hold.' },
  AGORA_SESSION_EXPIRED: { grpc: GrpcStatus.UNAVAILABLE, http: 503, doc: 'The store session expired; ephemeral nodes are gone.' },
  AGORA_BAD_VERSION: { grpc: GrpcStatus.ABORTED, http: 409, doc: 'Store compare-and-set: the expected version did not match.' },
  AGORA_NODE_EXISTS: { grpc: GrpcStatus.ALREADY_EXISTS, http: 409, doc: 'Store: the node already exists.' },
  AGORA_NO_NODE: { grpc: GrpcStatus.NOT_FOUND, http: 404, doc: 'Store: the node (or its parent) does not exist.' },
  AGORA_NOT_EMPTY: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 409, doc: 'Store: the node has children.' },
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export interface AgoraErrorOptions {
  /** The input field at fault, as a path (`tasks[0].resources.cpus`). */
  field?: string;
  /** Extra facts for logs and clients (leader address, expected version, ...). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class AgoraError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: AgoraErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.field = options.field;
    this.details = options.details ?? {};
  }

  get grpcStatus(): GrpcStatusCode {
    return ERROR_CODES[this.code].grpc;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  /** The JSON body the HTTP edges send. */
  toJSON(): { code: ErrorCode; message: string; field?: string; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      ...(this.field === undefined ? {} : { field: this.field }),
      ...(Object.keys(this.details).length === 0 ? {} : { details: this.details }),
    };
  }
}

export class InvalidArgumentError extends AgoraError {
  constructor(field: string, message: string, details?: Record<string, unknown>) {
    super('AGORA_INVALID_ARGUMENT', `${field}: ${message}`, { field, ...(details ? { details } : {}) });
  }
}

export class NotFoundError extends AgoraError {
  constructor(what: string, id: string) {
    super('AGORA_NOT_FOUND', `${what} '${id}' not found`, { details: { what, id } });
  }
}

export class AlreadyExistsError extends AgoraError {
  constructor(what: string, id: string) {
    super('AGORA_ALREADY_EXISTS', `${what} '${id}' already exists`, { details: { what, id } });
  }
}

export class FailedPreconditionError extends AgoraError {
  constructor(message: string, options: AgoraErrorOptions = {}) {
    super('AGORA_FAILED_PRECONDITION', message, options);
  }
}

export class NotLeaderError extends AgoraError {
  readonly leader: string | undefined;
  constructor(leader: string | undefined) {
    super('AGORA_NOT_LEADER', leader ? `not the leader; the leader is at ${leader}` : 'not the leader; no leader is known', {
      details: leader ? { leader } : {},
    });
    this.leader = leader;
  }
}

export class UnavailableError extends AgoraError {
  constructor(message: string, options: AgoraErrorOptions = {}) {
    super('AGORA_UNAVAILABLE', message, options);
  }
}

export class TimeoutError extends AgoraError {
  constructor(message: string, options: AgoraErrorOptions = {}) {
    super('AGORA_TIMEOUT', message, options);
  }
}

/** No credentials, or credentials that are not valid (unknown, revoked, expired, another CA). */
export class UnauthenticatedError extends AgoraError {
  constructor(message: string, options: AgoraErrorOptions = {}) {
    super('AGORA_UNAUTHENTICATED', message, options);
  }
}

/** The principal is known but lacks `permission` (on `object`, when the permission has objects). */
export class PermissionDeniedError extends AgoraError {
  readonly permission: string;
  constructor(principal: string, permission: string, object?: string, why?: string) {
    const on = object === undefined ? '' : ` on '${object}'`;
    super('AGORA_PERMISSION_DENIED', why ?? `principal '${principal}' lacks permission '${permission}'${on}`, {
      details: { principal, permission, ...(object === undefined ? {} : { object }) },
    });
    this.permission = permission;
  }
}

export class InternalError extends AgoraError {
  constructor(message: string, options: AgoraErrorOptions = {}) {
    super('AGORA_INTERNAL', message, options);
  }
}

/** gRPC metadata key carrying the leader's address on UNAVAILABLE replies from a non-leader. */
export const LEADER_METADATA_KEY = 'agora-leader';
/** gRPC metadata key carrying the stable Agora error code. */
export const CODE_METADATA_KEY = 'agora-error-code';
/** gRPC metadata key carrying the field at fault. */
export const FIELD_METADATA_KEY = 'agora-error-field';

const GRPC_TO_CODE: Partial<Record<number, ErrorCode>> = {
  [GrpcStatus.INVALID_ARGUMENT]: 'AGORA_INVALID_ARGUMENT',
  [GrpcStatus.NOT_FOUND]: 'AGORA_NOT_FOUND',
  [GrpcStatus.ALREADY_EXISTS]: 'AGORA_ALREADY_EXISTS',
  [GrpcStatus.FAILED_PRECONDITION]: 'AGORA_FAILED_PRECONDITION',
  [GrpcStatus.ABORTED]: 'AGORA_CONFLICT',
  [GrpcStatus.UNAVAILABLE]: 'AGORA_UNAVAILABLE',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'AGORA_TIMEOUT',
  [GrpcStatus.UNAUTHENTICATED]: 'AGORA_UNAUTHENTICATED',
  [GrpcStatus.PERMISSION_DENIED]: 'AGORA_PERMISSION_DENIED',
  [GrpcStatus.RESOURCE_EXHAUSTED]: 'AGORA_RESOURCE_EXHAUSTED',
  [GrpcStatus.CANCELLED]: 'AGORA_CANCELLED',
  [GrpcStatus.UNIMPLEMENTED]: 'AGORA_UNIMPLEMENTED',
};

/** The Agora code for a gRPC status when the peer sent no code of its own. */
export function codeForGrpcStatus(status: number): ErrorCode {
  return GRPC_TO_CODE[status] ?? 'AGORA_INTERNAL';
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** Wrap anything thrown into an AgoraError (unknown errors become AGORA_INTERNAL). */
export function toAgoraError(err: unknown): AgoraError {
  if (err instanceof AgoraError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new InternalError(message, { cause: err });
}
