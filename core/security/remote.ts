// Authentication for processes that do not hold the tokens (agents' HTTP endpoints, a separate
// `agora frameworks`): ask a master's Access service who the credentials belong to, and keep the
// answer for as long as the master says (a few seconds: a revoked token stops working here within
// that time). Failures are cached briefly too, so a bad token cannot make us hammer the master.
// Any master can answer, standbys included: they all follow the same tokens and policies.
import { createHash } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { UnauthenticatedError, UnavailableError } from '../errors.js';
import { unaryCall } from '../grpc.js';
import { AccessClient, type AuthenticateResponse__Output } from '../../proto/index.js';
import { isAction } from './actions.js';
import { NO_CREDENTIALS_MESSAGE, type Authenticator, type Credentials } from './authenticate.js';
import type { Grant, Principal } from './principal.js';

export interface RemoteAuthenticatorOptions {
  /** host:port of a master's gRPC endpoint, now (undefined: none known yet). */
  readonly master: () => string | undefined;
  /** Channel credentials the caller itself authenticates with (it needs acl.review). */
  readonly credentials: grpc.ChannelCredentials;
  /** Upper bound on how long an answer is reused (ms). */
  readonly maxCacheMs?: number;
  readonly now?: () => number;
  readonly callTimeoutMs?: number;
}

const FAILURE_CACHE_MS = 1_000;
const CACHE_LIMIT = 10_000;

type Entry = { readonly until: number; readonly answer: Promise<Principal> };

export class RemoteAuthenticator implements Authenticator {
  readonly insecure = false;
  readonly #cache = new Map<string, Entry>();
  readonly #clients = new Map<string, InstanceType<typeof AccessClient>>();

  constructor(private readonly options: RemoteAuthenticatorOptions) {}

  authenticate(credentials: Credentials): Promise<Principal> {
    const now = (this.options.now ?? Date.now)();
    const key = cacheKey(credentials);
    if (key === undefined) return Promise.reject(new UnauthenticatedError(NO_CREDENTIALS_MESSAGE));
    const hit = this.#cache.get(key);
    if (hit && hit.until > now) return hit.answer;
    const answer = this.#ask(credentials);
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    // While in flight, everyone with the same credentials waits for the same answer.
    this.#cache.set(key, { until: Number.POSITIVE_INFINITY, answer });
    answer.then(
      (principal) => this.#cache.set(key, { until: now + this.#keepMs(principal), answer }),
      (err: unknown) => {
        if (err instanceof UnauthenticatedError) this.#cache.set(key, { until: now + FAILURE_CACHE_MS, answer });
        else this.#cache.delete(key);
      },
    );
    return answer;
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
    this.#cache.clear();
  }

  #keepMs(principal: Principal & { cacheMs?: number }): number {
    return Math.min(principal.cacheMs ?? 0, this.options.maxCacheMs ?? 5_000);
  }

  async #ask(credentials: Credentials): Promise<Principal> {
    const address = this.options.master();
    if (address === undefined) throw new UnavailableError('cannot check credentials: no master is known yet');
    let client = this.#clients.get(address);
    if (!client) {
      client = new AccessClient(address, this.options.credentials);
      this.#clients.set(address, client);
    }
    const request = credentials.token !== undefined ? { token: credentials.token } : { certificate: credentials.certificate };
    const deadline = new Date(Date.now() + (this.options.callTimeoutMs ?? 5_000));
    const c = client;
    let res: AuthenticateResponse__Output;
    try {
      res = await unaryCall<AuthenticateResponse__Output>((cb) => c.Authenticate(request, { deadline }, cb));
    } catch (err) {
      throw new UnavailableError(`cannot check credentials with the master at ${address}: ${(err as Error).message}`, { cause: err });
    }
    if (!res.authenticated) throw new UnauthenticatedError(res.reason || 'the credentials are not valid');
    const grants: Grant[] = res.grants.filter((g) => isAction(g.action)).map((g) => (g.objects.length === 0 ? { action: g.action as Grant['action'] } : { action: g.action as Grant['action'], objects: [...g.objects] }));
    const principal = { name: res.principal, via: res.via === 'certificate' ? 'certificate' : 'token', grants, cacheMs: Math.max(0, res.cacheSeconds * 1000) } as const;
    return Object.freeze(principal);
  }
}

function cacheKey(credentials: Credentials): string | undefined {
  if (credentials.token !== undefined) return `t:${createHash('sha256').update(credentials.token).digest('hex')}`;
  if (credentials.certificate !== undefined) return `c:${createHash('sha256').update(credentials.certificate).digest('hex')}`;
  return undefined;
}
