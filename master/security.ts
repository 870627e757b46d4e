// The master's side of trust, put together at start: its TLS material, its copy of the tokens
// and policies, and the authenticator every edge (gRPC services, operator HTTP, the Access
// service) asks. `--insecure` turns it all off, loudly.
import { promises as fs } from 'node:fs';
import type { Clock } from '../core/clock.js';
import { InvalidArgumentError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { AclAuthenticator } from '../core/security/acl-authenticator.js';
import { AclStore } from '../core/security/acl-store.js';
import { INSECURE, type Authenticator } from '../core/security/authenticate.js';
import { CertificateVerifier } from '../core/security/certificates.js';
import { hasIdentity, loadTlsFiles, type ServerTls } from '../core/security/tls.js';
import { newToken, parseToken } from '../core/security/tokens.js';
import type { Store } from '../core/store/store.js';
import { requiredTlsFiles, type MasterOptions } from './options.js';

/** A token made outside the master (by `agora up`, or a test) to register at start. */
export interface KnownToken {
  readonly token: string;
  readonly principal: string;
  readonly policies: readonly string[];
  readonly description: string;
}

export interface MasterSecurityDeps {
  /** TLS material in memory, instead of --tls-* files. */
  readonly tls?: ServerTls;
  /** Tokens to register (idempotently) at start. */
  readonly tokens?: readonly KnownToken[];
}

export interface MasterSecurity {
  readonly insecure: boolean;
  readonly authenticator: Authenticator;
  /** Tokens and policies (undefined when insecure). */
  readonly acl: AclStore | undefined;
  /** What the master serves gRPC and HTTP with (undefined when insecure: plaintext). */
  readonly tls: ServerTls | undefined;
  close(): void;
}

export const INSECURE_WARNING = 'security is OFF (--insecure): no TLS, and anyone who reaches a port may do anything';

export async function openMasterSecurity(options: MasterOptions, store: Store, logger: Logger, clock: Clock, deps: MasterSecurityDeps = {}): Promise<MasterSecurity> {
  if (options.insecure) {
    logger.warn(INSECURE_WARNING);
    return { insecure: true, authenticator: INSECURE, acl: undefined, tls: undefined, close: () => undefined };
  }
  const tls = deps.tls ?? loadTlsFiles(requiredTlsFiles(options));
  if (!hasIdentity(tls)) throw new InvalidArgumentError('--tls-cert', 'the master needs a certificate and key');
  const acl = await AclStore.open(store, options.cluster, logger);
  try {
    for (const known of deps.tokens ?? []) {
      await acl.importToken(known.token, { principal: known.principal, policies: known.policies, description: known.description, createdBy: 'bootstrap', now: clock.now() });
    }
    if (options.bootstrapTokenFile !== undefined) await bootstrapAdminToken(acl, options.bootstrapTokenFile, clock.now(), logger);
  } catch (err) {
    acl.close();
    throw err;
  }
  const authenticator = new AclAuthenticator(acl, new CertificateVerifier(tls.ca), () => clock.now());
  return { insecure: false, authenticator, acl, tls, close: () => acl.close() };
}

/**
 * `--bootstrap-token-file FILE`: the first operator's admin token. An existing file's token is
 * registered (if it is not already); a missing file gets a new token, written with mode 0600.
 */
export async function bootstrapAdminToken(acl: AclStore, file: string, now: number, logger?: Logger): Promise<void> {
  let token: string;
  try {
    token = (await fs.readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new InvalidArgumentError('--bootstrap-token-file', `cannot read '${file}': ${(err as Error).message}`);
    token = newToken().token;
    try {
      await fs.writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
      logger?.info({ file }, 'wrote a new admin token');
    } catch (writeErr) {
      if ((writeErr as NodeJS.ErrnoException).code !== 'EEXIST') throw new InvalidArgumentError('--bootstrap-token-file', `cannot write '${file}': ${(writeErr as Error).message}`);
      token = (await fs.readFile(file, 'utf8')).trim();
    }
  }
  if (!parseToken(token)) throw new InvalidArgumentError('--bootstrap-token-file', `'${file}' does not hold an Agora token (agora_…)`);
  await acl.importToken(token, { principal: 'admin', policies: ['admin'], description: `bootstrap token from ${file}`, createdBy: 'bootstrap', now });
}
