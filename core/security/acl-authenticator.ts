// The master's authenticator: tokens against its AclStore, client certificates against the
// cluster CA; a principal's grants are the union of its policies' rules. Synchronous, so a call
// pays a map lookup and a hash — resolved principals are cached until the ACL changes.
import { UnauthenticatedError } from '../errors.js';
import type { AclStore } from './acl-store.js';
import { NO_CREDENTIALS_MESSAGE, type Authenticator, type Credentials } from './authenticate.js';
import type { CertificateVerifier } from './certificates.js';
import { grantsOf } from './policy.js';
import { mergeGrants, type Grant, type Principal } from './principal.js';
import { parseToken, secretMatches } from './tokens.js';

export const INVALID_TOKEN_MESSAGE = 'the bearer token is not valid (unknown, revoked or mistyped)';

export class AclAuthenticator implements Authenticator {
  readonly insecure = false;
  readonly #principals = new Map<string, { version: number; principal: Principal }>();

  constructor(
    readonly acl: AclStore,
    private readonly certificates: CertificateVerifier | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  authenticate(credentials: Credentials): Principal {
    if (credentials.token !== undefined) return this.#byToken(credentials.token);
    if (credentials.certificate !== undefined) return this.#byCertificate(credentials.certificate);
    throw new UnauthenticatedError(NO_CREDENTIALS_MESSAGE);
  }

  /** Everything these policies allow (unknown names add nothing). */
  grantsOf(policies: readonly string[]): Grant[] {
    return mergeGrants(policies.flatMap((name) => {
      const policy = this.acl.policy(name);
      return policy ? grantsOf(policy) : [];
    }));
  }

  #byToken(token: string): Principal {
    const parsed = parseToken(token);
    if (!parsed) throw new UnauthenticatedError('the bearer token is not an Agora token (agora_…)');
    const record = this.acl.token(parsed.accessor);
    if (!record || !secretMatches(parsed.secret, record.secretHash)) throw new UnauthenticatedError(INVALID_TOKEN_MESSAGE);
    if (record.expiresAtMs !== undefined && this.now() >= record.expiresAtMs) {
      throw new UnauthenticatedError(`the bearer token expired at ${new Date(record.expiresAtMs).toISOString()}`);
    }
    const cached = this.#principals.get(record.accessor);
    if (cached && cached.version === this.acl.version) return cached.principal;
    const principal: Principal = Object.freeze({ name: record.principal, via: 'token', accessor: record.accessor, grants: Object.freeze(this.grantsOf(record.policies)) });
    if (this.#principals.size > 10_000) this.#principals.clear();
    this.#principals.set(record.accessor, { version: this.acl.version, principal });
    return principal;
  }

  #byCertificate(der: Buffer): Principal {
    if (!this.certificates) throw new UnauthenticatedError('client certificates are not accepted here (no cluster CA configured); send a bearer token');
    const verdict = this.certificates.verify(der, this.now());
    if (!verdict.ok) throw new UnauthenticatedError(verdict.reason);
    const { name, policies } = verdict.identity;
    return Object.freeze({ name, via: 'certificate', grants: Object.freeze(this.grantsOf(policies)) });
  }
}
