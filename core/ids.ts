// Ids. Framework, agent and offer ids are opaque strings; a master mints them from its own id and a
// counter (as Mesos does: `<master>-S<n>` for agents), so they are unique across failovers without
// coordination, and readable in logs.
//
// Ids that users choose (task, framework, executor) become directory names on the agent:
//   <work-dir>/frameworks/<framework id>/tasks/<task id>/        the sandbox
//   <work-dir>/meta/frameworks/<framework id>/tasks/<task id>/   its journal
// each one as `idPathComponent` encodes it. So an id is valid only if its encoded form fits one
// path component (NAME_MAX, 255 bytes, as Mesos's validateID); with both ids at most that, a
// sandbox path is at most ~560 bytes plus the work dir, well inside PATH_MAX (4096).
import { randomUUID } from 'node:crypto';
import { InvalidArgumentError } from './errors.js';

export function newUuid(): string {
  return randomUUID();
}

/** A short random token (base36) for ids that people read. */
export function shortId(length = 8): string {
  return randomUUID().replace(/-/g, '').slice(0, length);
}

/** Mints ids as `<prefix>-<epoch>-<kind><n>`; one per master term. */
export class IdMinter {
  private counter = 0;
  readonly epoch: string;
  constructor(epoch: string = shortId(8)) {
    this.epoch = epoch;
  }
  next(kind: string): string {
    this.counter += 1;
    return `${this.epoch}-${kind}${this.counter}`;
  }
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
/** The longest file name Linux takes (NAME_MAX), in bytes. */
export const NAME_MAX_BYTES = 255;
export const MAX_ID_LENGTH = 200;

/**
 * An id as one path component: kept when it is letters, digits, '.', '_' and '-' (starting with a
 * letter or digit); otherwise '%' and then each byte, those other than letters, digits, '_' and
 * '-' as `%xx` — injective, no '/', never '.' or '..'. The agent names sandboxes this way
 * (agent/checkpoint.ts `safeName`, which a test holds to this one).
 */
export function idPathComponent(id: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) return id;
  let out = '%';
  for (const b of Buffer.from(id, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `%${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/**
 * Task, framework and executor ids chosen by users: letters, digits, '.', '_', ':' and '-', up to
 * 200 characters, and at most 255 bytes once encoded as a path component (each '.' or ':' of an id
 * that holds a ':' takes 3).
 */
export function validateId(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidArgumentError(field, 'must be a non-empty string');
  if (!ID_PATTERN.test(value)) {
    const shown = value.length > 64 ? `${value.slice(0, 64)}…' (${value.length} characters)` : `${value}'`;
    throw new InvalidArgumentError(field, `'${shown} is not a valid id: use letters, digits, '.', '_', ':' or '-', up to ${MAX_ID_LENGTH} characters, starting with a letter or digit`);
  }
  const encoded = Buffer.byteLength(idPathComponent(value));
  if (encoded > NAME_MAX_BYTES) {
    throw new InvalidArgumentError(
      field,
      `'${value.slice(0, 64)}…' is too long as a directory name on the agent: ${encoded} bytes once encoded ('.' and ':' take 3 bytes each in an id with a ':'), at most ${NAME_MAX_BYTES}`,
    );
  }
  return value;
}

/** Roles are at most this many characters (a path of role segments, as `eng/web`). */
export const MAX_ROLE_LENGTH = 255;
/** …and of at most this many segments. */
export const MAX_ROLE_DEPTH = 16;
// Mesos's rules: '*', or '/'-separated segments of [A-Za-z0-9_.-], none '.' or '..' or starting with '-'.
const ROLE_PATTERN = /^(\*|[a-zA-Z0-9_][a-zA-Z0-9_.-]*(\/[a-zA-Z0-9_][a-zA-Z0-9_.-]*)*)$/;

/** Why `role` is not a valid role name, or undefined when it is. */
export function roleProblem(role: unknown): string | undefined {
  if (typeof role !== 'string' || role === '') return 'must be a non-empty role name';
  if (role.length > MAX_ROLE_LENGTH) return `is ${role.length} characters long; a role is at most ${MAX_ROLE_LENGTH}`;
  if (!ROLE_PATTERN.test(role)) return `'${role}' is not a valid role name: '*', or segments of letters, digits, '_', '.' and '-' separated by '/'`;
  if (role.split('/').length > MAX_ROLE_DEPTH) return `'${role}' has more than ${MAX_ROLE_DEPTH} levels`;
  return undefined;
}

/** A role name (`*`, `web`, `eng/batch`); throws naming `field` when it is not one. */
export function validateRole(role: unknown, field: string): string {
  const problem = roleProblem(role);
  if (problem !== undefined) throw new InvalidArgumentError(field, problem);
  return role as string;
}

const NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Names of services, cron jobs and jobs: DNS labels, as Kubernetes asks. */
export function validateName(value: unknown, field = 'name'): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidArgumentError(field, 'is required');
  if (!NAME_PATTERN.test(value)) {
    throw new InvalidArgumentError(field, `'${value}' is not a valid name: lower-case letters, digits and '-', 1–63 characters, starting and ending with a letter or digit`);
  }
  return value;
}
