// Bearer tokens: `agora_<accessor>_<secret>`. The accessor (16 hex digits) is public — it names
// the token in listings and revocations, as Nomad's AccessorID; the secret (64 hex digits, 256
// random bits) is shown once, at creation, and stored only as its SHA-256. With that much entropy
// a fast hash is the right one: nothing can be guessed, and checking costs a microsecond per call.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';

const TOKEN = /^agora_([0-9a-f]{16})_([0-9a-f]{64})$/;
const ACCESSOR = /^[0-9a-f]{16}$/;
const PRINCIPAL = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$/;

/** What the store keeps of a token (never the secret). */
export interface TokenRecord {
  readonly accessor: string;
  /** `sha256:<hex>` of the secret. */
  readonly secretHash: string;
  readonly principal: string;
  readonly policies: readonly string[];
  readonly description: string;
  readonly createdAtMs: number;
  /** Undefined: never expires. */
  readonly expiresAtMs?: number;
  /** The principal that created it ('bootstrap' for the first admin token). */
  readonly createdBy: string;
}

export interface ParsedToken {
  readonly accessor: string;
  readonly secret: string;
}

export function newToken(): { token: string; accessor: string; secretHash: string } {
  const accessor = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('hex');
  return { token: `agora_${accessor}_${secret}`, accessor, secretHash: hashSecret(secret) };
}

/** The parts of a token, or undefined when it is not one (no detail: it may be a secret gone wrong). */
export function parseToken(token: string): ParsedToken | undefined {
  const m = TOKEN.exec(token.trim());
  return m ? { accessor: m[1] as string, secret: m[2] as string } : undefined;
}

export function hashSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret).digest('hex')}`;
}

/** Does `secret` hash to `secretHash`? In constant time. */
export function secretMatches(secret: string, secretHash: string): boolean {
  const a = Buffer.from(hashSecret(secret));
  const b = Buffer.from(secretHash);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function validatePrincipalName(value: unknown, field = 'principal'): string {
  if (typeof value !== 'string' || !PRINCIPAL.test(value)) {
    throw new InvalidArgumentError(field, `${JSON.stringify(value)} is not a valid principal name: letters, digits, '.', '_', '@', ':' or '-', up to 128 characters`);
  }
  return value;
}

export function validateAccessor(value: unknown, field = 'accessor'): string {
  if (typeof value !== 'string' || !ACCESSOR.test(value)) throw new InvalidArgumentError(field, `${JSON.stringify(value)} is not a token accessor (16 hex digits)`);
  return value;
}

/** A token record as listed: everything but the hash. */
export function tokenView(record: TokenRecord): Omit<TokenRecord, 'secretHash'> {
  const { secretHash: _hidden, ...rest } = record;
  return rest;
}
