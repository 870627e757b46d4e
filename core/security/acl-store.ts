// Tokens and policies, persisted in the Store and held in memory so that authenticating a call is
// a map lookup. Every master keeps a copy (standbys too: they authenticate before they redirect),
// followed with watches, so a token created or revoked on one master counts on all of them at once.
//
//   /<cluster>/acl/tokens/<accessor>   TokenRecord (JSON; the secret's hash, never the secret)
//   /<cluster>/acl/policies/<name>     Policy (JSON)
//
// Tokens never change once written (revoking deletes them), so a token is read once; policies can
// be replaced, so each is followed.
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import { isStoreCode } from '../store/store-errors.js';
import type { Store, Unsubscribe } from '../store/store.js';
import { BUILT_IN_POLICIES, parsePolicy, type Policy } from './policy.js';
import { hashSecret, newToken, parseToken, validatePrincipalName, type TokenRecord } from './tokens.js';

export interface NewTokenRequest {
  readonly principal: string;
  readonly policies: readonly string[];
  readonly description?: string;
  /** Lifetime; undefined = no expiry. */
  readonly ttlMs?: number;
  readonly createdBy: string;
  readonly now: number;
}

export class AclStore {
  readonly #tokens = new Map<string, TokenRecord>();
  readonly #policies = new Map<string, Policy>();
  readonly #policyWatches = new Map<string, Unsubscribe>();
  readonly #unwatch: Unsubscribe[] = [];
  #version = 0;
  #closed = false;

  private constructor(
    private readonly store: Store,
    readonly root: string,
    private readonly logger: Logger | undefined,
  ) {}

  /** Read every token and policy, then follow them. */
  static async open(store: Store, cluster: string, logger?: Logger): Promise<AclStore> {
    const acl = new AclStore(store, `/${cluster}/acl`, logger);
    await store.mkdirp(`${acl.root}/tokens`);
    await store.mkdirp(`${acl.root}/policies`);
    const [tokens, policies] = await Promise.all([store.getChildren(`${acl.root}/tokens`), store.getChildren(`${acl.root}/policies`)]);
    await Promise.all([...tokens.map((a) => acl.#readToken(a)), ...policies.map((p) => acl.#readPolicy(p))]);
    acl.#follow();
    return acl;
  }

  /** Bumped on every change: a cache of resolved principals is good while this stays the same. */
  get version(): number {
    return this.#version;
  }

  token(accessor: string): TokenRecord | undefined {
    return this.#tokens.get(accessor);
  }

  tokens(): TokenRecord[] {
    return [...this.#tokens.values()].sort((a, b) => a.createdAtMs - b.createdAtMs || a.accessor.localeCompare(b.accessor));
  }

  /** A built-in or stored policy. */
  policy(name: string): Policy | undefined {
    return BUILT_IN_POLICIES.get(name) ?? this.#policies.get(name);
  }

  policies(): { policy: Policy; builtIn: boolean }[] {
    return [...[...BUILT_IN_POLICIES.values()].map((policy) => ({ policy, builtIn: true })), ...[...this.#policies.values()].sort((a, b) => a.name.localeCompare(b.name)).map((policy) => ({ policy, builtIn: false }))];
  }

  async createToken(request: NewTokenRequest): Promise<{ token: string; record: TokenRecord }> {
    const principal = validatePrincipalName(request.principal);
    this.#checkPolicies(request.policies);
    if (request.ttlMs !== undefined && (!Number.isFinite(request.ttlMs) || request.ttlMs <= 0)) throw new InvalidArgumentError('ttlSeconds', 'must be a positive number of seconds');
    const { token, accessor, secretHash } = newToken();
    const record: TokenRecord = {
      accessor,
      secretHash,
      principal,
      policies: [...new Set(request.policies)],
      description: request.description ?? '',
      createdAtMs: request.now,
      ...(request.ttlMs === undefined ? {} : { expiresAtMs: request.now + request.ttlMs }),
      createdBy: request.createdBy,
    };
    await this.store.createJson(`${this.root}/tokens/${accessor}`, record);
    this.#setToken(record);
    return { token, record };
  }

  /**
   * Make sure `token` (made elsewhere: `agora up`'s first start, a bootstrap file) is registered.
   * Idempotent: an existing record for its accessor is kept as it is.
   */
  async importToken(token: string, request: Omit<NewTokenRequest, 'ttlMs'>): Promise<TokenRecord> {
    const parsed = parseToken(token);
    if (!parsed) throw new InvalidArgumentError('token', 'not an Agora token (agora_<16 hex>_<64 hex>)');
    const known = this.#tokens.get(parsed.accessor);
    if (known) return known;
    const record: TokenRecord = {
      accessor: parsed.accessor,
      secretHash: hashSecret(parsed.secret),
      principal: validatePrincipalName(request.principal),
      policies: [...new Set(request.policies)],
      description: request.description ?? '',
      createdAtMs: request.now,
      createdBy: request.createdBy,
    };
    try {
      await this.store.createJson(`${this.root}/tokens/${parsed.accessor}`, record);
    } catch (err) {
      if (!isStoreCode(err, 'AGORA_NODE_EXISTS')) throw err;
      await this.#readToken(parsed.accessor);
      return this.#tokens.get(parsed.accessor) ?? record;
    }
    this.#setToken(record);
    return record;
  }

  async revokeToken(accessor: string): Promise<TokenRecord> {
    const record = this.#tokens.get(accessor);
    if (!record) throw new NotFoundError('token', accessor);
    try {
      await this.store.delete(`${this.root}/tokens/${accessor}`);
    } catch (err) {
      if (!isStoreCode(err, 'AGORA_NO_NODE')) throw err;
    }
    this.#deleteToken(accessor);
    return record;
  }

  /** Create or replace a policy (not a built-in one). Returns whether it was new. */
  async putPolicy(raw: unknown): Promise<{ policy: Policy; created: boolean }> {
    const policy = parsePolicy(raw);
    if (BUILT_IN_POLICIES.has(policy.name)) throw new FailedPreconditionError(`policy '${policy.name}' is built in and cannot be replaced`, { field: 'name' });
    const path = `${this.root}/policies/${policy.name}`;
    const created = !this.#policies.has(policy.name);
    try {
      if (created) await this.store.createJson(path, policy);
      else await this.store.setJson(path, policy);
    } catch (err) {
      if (isStoreCode(err, 'AGORA_NODE_EXISTS')) await this.store.setJson(path, policy);
      else if (isStoreCode(err, 'AGORA_NO_NODE')) await this.store.createJson(path, policy);
      else throw err;
    }
    this.#setPolicy(policy);
    return { policy, created };
  }

  async deletePolicy(name: string): Promise<void> {
    if (BUILT_IN_POLICIES.has(name)) throw new FailedPreconditionError(`policy '${name}' is built in and cannot be deleted`, { field: 'name' });
    if (!this.#policies.has(name)) throw new NotFoundError('policy', name);
    try {
      await this.store.delete(`${this.root}/policies/${name}`);
    } catch (err) {
      if (!isStoreCode(err, 'AGORA_NO_NODE')) throw err;
    }
    this.#deletePolicy(name);
  }

  close(): void {
    this.#closed = true;
    for (const u of this.#unwatch.splice(0)) u();
    for (const u of this.#policyWatches.values()) u();
    this.#policyWatches.clear();
  }

  #checkPolicies(names: readonly string[]): void {
    if (names.length === 0) throw new InvalidArgumentError('policies', 'name at least one policy (see GET /api/v1/acl/policies)');
    for (const [i, name] of names.entries()) if (!this.policy(name)) throw new InvalidArgumentError(`policies[${i}]`, `no policy named '${name}'`);
  }

  #follow(): void {
    const onError = (err: unknown): void => this.logger?.warn({ err }, 'reading the ACL failed; retrying on the next change');
    this.#unwatch.push(
      this.store.watchChildren(`${this.root}/tokens`, (children) => {
        const present = new Set(children ?? []);
        for (const accessor of [...this.#tokens.keys()]) if (!present.has(accessor)) this.#deleteToken(accessor);
        for (const accessor of present) if (!this.#tokens.has(accessor)) void this.#readToken(accessor).catch(onError);
      }, { onError }),
      this.store.watchChildren(`${this.root}/policies`, (children) => {
        const present = new Set(children ?? []);
        for (const name of [...this.#policies.keys()]) if (!present.has(name)) this.#deletePolicy(name);
        for (const name of present) if (!this.#policyWatches.has(name)) this.#watchPolicy(name, onError);
      }, { onError }),
    );
  }

  #watchPolicy(name: string, onError: (err: unknown) => void): void {
    this.#policyWatches.set(
      name,
      this.store.watchData(`${this.root}/policies/${name}`, (node) => {
        if (node === undefined) return;
        try {
          this.#setPolicy(parsePolicy(JSON.parse(node.data.toString('utf8'))));
        } catch (err) {
          onError(err);
        }
      }, { onError }),
    );
  }

  async #readToken(accessor: string): Promise<void> {
    try {
      const { value } = await this.store.getJson<TokenRecord>(`${this.root}/tokens/${accessor}`);
      if (!this.#closed && value && typeof value.secretHash === 'string') this.#setToken(value);
    } catch (err) {
      if (!isStoreCode(err, 'AGORA_NO_NODE')) throw err;
    }
  }

  async #readPolicy(name: string): Promise<void> {
    try {
      const { value } = await this.store.getJson<unknown>(`${this.root}/policies/${name}`);
      this.#setPolicy(parsePolicy(value));
    } catch (err) {
      if (isStoreCode(err, 'AGORA_NO_NODE')) return;
      this.logger?.warn({ err, policy: name }, 'a stored policy is not valid; ignored');
    }
  }

  #setToken(record: TokenRecord): void {
    this.#tokens.set(record.accessor, record);
    this.#version += 1;
  }

  #deleteToken(accessor: string): void {
    if (this.#tokens.delete(accessor)) this.#version += 1;
  }

  #setPolicy(policy: Policy): void {
    this.#policies.set(policy.name, policy);
    this.#version += 1;
  }

  #deletePolicy(name: string): void {
    this.#policyWatches.get(name)?.();
    this.#policyWatches.delete(name);
    if (this.#policies.delete(name)) this.#version += 1;
  }
}
