// Ids. Framework, agent and offer ids are opaque strings; a master mints them from its own id and a
// counter (as Mesos does: `<master>-S<n>` for agents), so they are unique across failovers without
// coordination, and readable in logs.
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

/** Task ids and names chosen by users: no slashes, spaces or control characters; ≤ 200 chars. */
export function validateId(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidArgumentError(field, 'must be a non-empty string');
  if (!ID_PATTERN.test(value)) {
    throw new InvalidArgumentError(field, `'${value}' is not a valid id: use letters, digits, '.', '_', ':' or '-', up to 200 characters, starting with a letter or digit`);
  }
  return value;
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
