// A session on an EmbeddedStoreServer. Behaves as a ZooKeeper client does: operations queue while
// the session is suspended, fail with AGORA_SESSION_EXPIRED when it turns out to have expired, and
// after expiry the store opens a new session at once. Test hooks (`expireSession`, `disconnect`,
// `reconnect`) drive the session events that a real network would. Credentials and node ACLs are
// accepted and ignored: the store lives in this process, so there is no one on a wire to keep out.

import { DEFAULT_SESSION_TIMEOUT_MS, type CreateMode, type NodeData, type Op, type OpResult, type Stat, type StoreOptions } from './store.js';
import { BaseStore, type WatchHook } from './base-store.js';
import { EmbeddedStoreServer } from './embedded-server.js';
import { sessionExpired } from './store-errors.js';

export interface EmbeddedStoreOptions extends StoreOptions {
  /** Called once when the store closes (e.g. to release a shared file server). */
  readonly release?: () => Promise<void>;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class EmbeddedStore extends BaseStore {
  readonly kind = 'embedded' as const;
  readonly sessionTimeoutMs: number;
  private session = '';
  private waiters: Waiter[] = [];
  private readonly release: (() => Promise<void>) | undefined;

  private constructor(
    readonly server: EmbeddedStoreServer,
    options: EmbeddedStoreOptions,
  ) {
    super(options.chroot);
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    this.release = options.release;
  }

  static async open(server: EmbeddedStoreServer, options: EmbeddedStoreOptions = {}): Promise<EmbeddedStore> {
    const store = new EmbeddedStore(server, options);
    try {
      store.startSession();
      if (store.chroot !== '' && options.createChroot !== false) await store.mkdirpAbs(store.chroot);
      return store;
    } catch (err) {
      await store.close().catch(() => undefined);
      throw err;
    }
  }

  get sessionId(): string {
    return this.session;
  }

  private startSession(): void {
    this.openServerSession();
    this.sessionEvent('connected');
  }

  private openServerSession(): void {
    this.session = this.server.openSession(this.sessionTimeoutMs, {
      deliver: (type, p) => this.deliver(type, p),
      expired: () => this.onExpired(),
    });
  }

  /** The session is gone: fail what waited on it, open a new one, then tell listeners. */
  private onExpired(): void {
    if (this.state === 'closed') return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(sessionExpired('expired'));
    this.openServerSession();
    this.sessionEvent('expired');
    this.sessionEvent('connected');
  }

  // ---- test hooks ----

  /** Expire this store's session now, as the server would after a timeout. */
  async expireSession(): Promise<void> {
    this.assertOpen();
    await this.server.expireSession(this.session);
  }

  /** Simulate losing contact: `suspended` now; the server expires the session after its timeout. */
  disconnect(): void {
    if (this.state !== 'connected') return;
    this.server.disconnect(this.session);
    this.sessionEvent('suspended');
  }

  /** Simulate contact coming back: `reconnected`, or `expired` then `connected` if it timed out. */
  reconnect(): void {
    if (this.state !== 'suspended') return;
    if (this.server.reconnect(this.session) === 'expired') {
      this.onExpired();
      return;
    }
    const waiters = this.waiters;
    this.waiters = [];
    this.sessionEvent('reconnected');
    for (const w of waiters) w.resolve();
  }

  // ---- primitives ----

  /** The session to act for, once in contact. */
  private async ready(): Promise<string> {
    this.assertOpen();
    if (this.state === 'suspended') await new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    return this.session;
  }

  /** The ACL argument is ignored (see the top of this file). */
  protected async rawCreate(path: string, data: Buffer, mode: CreateMode): Promise<string> {
    const [result] = await this.server.write(await this.ready(), [{ op: 'create', path, data, mode }]);
    return result?.op === 'create' ? result.path : path;
  }

  protected async rawGet(path: string, hook: WatchHook | undefined): Promise<NodeData> {
    const node = this.server.get(await this.ready(), path, hook !== undefined);
    hook?.('data');
    return node;
  }

  protected async rawExists(path: string, hook: WatchHook | undefined): Promise<Stat | undefined> {
    const stat = this.server.exists(await this.ready(), path, hook !== undefined);
    hook?.(stat ? 'data' : 'exist');
    return stat;
  }

  protected async rawGetChildren(path: string, hook: WatchHook | undefined): Promise<string[]> {
    const children = this.server.getChildren(await this.ready(), path, hook !== undefined);
    hook?.('child');
    return children;
  }

  protected async rawSet(path: string, data: Buffer, version: number): Promise<Stat> {
    const [result] = await this.server.write(await this.ready(), [{ op: 'set', path, data, version }]);
    if (result?.op !== 'set') throw new Error('unreachable: set returned no stat');
    return result.stat;
  }

  protected async rawDelete(path: string, version: number): Promise<void> {
    await this.server.write(await this.ready(), [{ op: 'delete', path, version }]);
  }

  protected async rawMulti(ops: readonly Op[]): Promise<OpResult[]> {
    return this.server.write(await this.ready(), ops);
  }

  protected async rawClose(): Promise<void> {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(sessionExpired('closed'));
    try {
      await this.server.closeSession(this.session);
    } finally {
      await this.release?.();
    }
  }
}
