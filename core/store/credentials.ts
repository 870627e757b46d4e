// Digest credentials for the ZooKeeper backend, as Mesos takes them: in the URL's userinfo
// (zk://user:password@h1:2181,h2:2181/agora), in a file (`user:password`), or given in code.
// A password is a secret: the object carrying it prints and serialises redacted, and every store
// URL shown to a person goes through redactStoreUrl first.

import fs from 'node:fs';
import { inspect } from 'node:util';
import { InvalidArgumentError } from '../errors.js';

export interface StoreCredentials {
  readonly user: string;
  readonly password: string;
}

const REDACTED = '***';

/**
 * Check and freeze credentials. ZooKeeper's digest scheme splits `user:password` at the first ':',
 * so a user containing ':' would authenticate as someone else: refused, as are empty parts.
 */
export function storeCredentials(user: string, password: string, field = 'credentials'): StoreCredentials {
  if (typeof user !== 'string' || user === '') throw new InvalidArgumentError(field, 'the user must not be empty');
  if (user.includes(':')) throw new InvalidArgumentError(field, "the user must not contain ':'");
  if (typeof password !== 'string' || password === '') throw new InvalidArgumentError(field, 'the password must not be empty');
  const shown = { user, password: REDACTED };
  // Not enumerable, so `{ ...credentials }` and equality checks see only user and password.
  return Object.freeze(
    Object.defineProperties(
      { user, password },
      {
        toJSON: { value: () => shown },
        [inspect.custom]: { value: () => `StoreCredentials { user: ${JSON.stringify(user)}, password: '${REDACTED}' }` },
      },
    ),
  );
}

/** `user:password` (as in a credentials file; the password may contain ':'). */
export function parseCredentials(text: string, field: string): StoreCredentials {
  const colon = text.indexOf(':');
  if (colon === -1) throw new InvalidArgumentError(field, 'expected user:password');
  return storeCredentials(text.slice(0, colon), text.slice(colon + 1), field);
}

/** A URL's userinfo (`user:password`, each percent-encoded where needed). */
export function parseUserinfo(userinfo: string, field: string): StoreCredentials {
  const colon = userinfo.indexOf(':');
  if (colon === -1) throw new InvalidArgumentError(field, 'the userinfo must be user:password');
  return storeCredentials(percentDecode(userinfo.slice(0, colon), field), percentDecode(userinfo.slice(colon + 1), field), field);
}

function percentDecode(text: string, field: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // Not the text itself: it may hold the password.
    throw new InvalidArgumentError(field, "the userinfo has a malformed percent-encoding (write '%' as %25)");
  }
}

/**
 * Read a credentials file: its content is `user:password`; one trailing newline is dropped (not
 * other whitespace, which may belong to the password). Errors name `flag`, never the content.
 */
export function readCredentialsFile(file: string, flag: string): StoreCredentials {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InvalidArgumentError(flag, code === 'ENOENT' ? `no such file: '${file}'` : `cannot read '${file}' (${code ?? String(err)})`);
  }
  text = text.replace(/\r?\n$/, '');
  if (text === '') throw new InvalidArgumentError(flag, `'${file}' is empty; expected user:password`);
  return parseCredentials(text, flag);
}

/**
 * A store URL fit to print: the password in a `scheme://user:password@…` URL becomes ***, and so
 * does userinfo that is not user:password (it may be a password alone). Other URLs are unchanged.
 * Everything up to the last '@' counts as userinfo, so a password with an unencoded '/' (which
 * the parser refuses) is hidden too.
 */
export function redactStoreUrl(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)(.*)@/is.exec(url);
  if (!match) return url;
  const [whole, scheme, userinfo] = match as unknown as [string, string, string];
  const colon = userinfo.indexOf(':');
  const shown = colon === -1 ? REDACTED : `${userinfo.slice(0, colon)}:${REDACTED}`;
  return `${scheme}${shown}@${url.slice(whole.length)}`;
}

/**
 * Secure means ZooKeeper nodes private to Agora too: a zk:// store needs digest credentials (in
 * its URL or a file), or --insecure.
 */
export function requireZkCredentials(url: string | undefined, fromFile: boolean, flag: string): void {
  if (url === undefined || !url.startsWith('zk://') || fromFile) return;
  if (userinfoOf(url) !== undefined) return;
  throw new InvalidArgumentError(flag, 'give ZooKeeper digest credentials (zk://user:password@…, or --zk-credentials-file FILE holding user:password), or --insecure: without them every node Agora creates is world-writable');
}

/** The userinfo of a zk:// URL (`user:pass` of zk://user:pass@hosts/…), if any. */
function userinfoOf(url: string): string | undefined {
  const authority = url.slice('zk://'.length).split('/')[0] ?? '';
  const at = authority.lastIndexOf('@');
  return at === -1 ? undefined : authority.slice(0, at);
}
