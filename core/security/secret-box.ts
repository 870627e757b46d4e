// Secrets at rest: each value sealed with AES-256-GCM under the cluster's secrets key, with a fresh
// random 96-bit nonce per value and the object's name and key as associated data, so a sealed
// value moved to another secret or key (by someone who can write the store) fails to open rather
// than decrypting under the wrong name. The sealed form is text, so it rides in JSON:
//
//   v1.<nonce, base64url>.<ciphertext, base64url>.<tag, base64url>
//
// The key is 32 random bytes kept in a file (base64, mode 0600) that `agora up` makes on its first
// start, as it does its token and certificates; `--secrets-key-file` names it elsewhere.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { FailedPreconditionError, InvalidArgumentError } from '../errors.js';

const VERSION = 'v1';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** A value that does not open: tampered with, moved, or sealed under another key. */
export class SecretOpenError extends FailedPreconditionError {
  constructor(what: string) {
    super(`${what} cannot be decrypted: the secrets key is not the one it was sealed with, or the stored value was altered`);
  }
}

export class SecretKey {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /** 32 bytes, given raw (tests) or as the key file's base64 text. */
  static from(bytes: Uint8Array): SecretKey {
    if (bytes.length !== KEY_BYTES) throw new InvalidArgumentError('secretsKey', `must be ${KEY_BYTES} bytes, got ${bytes.length}`);
    return new SecretKey(Buffer.from(bytes));
  }

  static generate(): SecretKey {
    return new SecretKey(randomBytes(KEY_BYTES));
  }

  /** Read a key file (base64 of 32 bytes; surrounding whitespace ignored), naming `flag` on error. */
  static async readFile(file: string, flag = '--secrets-key-file'): Promise<SecretKey> {
    let text: string;
    try {
      text = (await fs.readFile(file, 'utf8')).trim();
    } catch (err) {
      throw new InvalidArgumentError(flag, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
    if (bytes.length !== KEY_BYTES) throw new InvalidArgumentError(flag, `${file} must hold ${KEY_BYTES} bytes in base64 (make one with: head -c 32 /dev/urandom | base64)`);
    return new SecretKey(bytes);
  }

  /** Write a new key file, mode 0600, refusing to replace one (`wx`). */
  static async createFile(file: string): Promise<SecretKey> {
    const key = SecretKey.generate();
    await fs.writeFile(file, `${key.#key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    await fs.chmod(file, 0o600);
    return key;
  }

  /** Seal `value` for `context` (who it belongs to: `secret/<name>/<key>`). */
  seal(value: string, context: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return [VERSION, nonce, body, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
  }

  /** Open what `seal` made for the same `context`; SecretOpenError if anything differs. */
  open(sealed: string, context: string): string {
    const parts = typeof sealed === 'string' ? sealed.split('.') : [];
    if (parts.length !== 4 || parts[0] !== VERSION) throw new SecretOpenError(context);
    const [nonce, body, tag] = parts.slice(1).map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer];
    if (nonce.length !== NONCE_BYTES || tag.length !== TAG_BYTES) throw new SecretOpenError(context);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretOpenError(context);
    }
  }

  /** Never print the key. */
  toJSON(): string {
    return '<secrets key>';
  }
}
