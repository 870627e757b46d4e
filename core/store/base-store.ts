// What both backends share, so they behave the same by construction: path validation and the
// chroot, the client-side watch table (ZooKeeper's WatcherManager rules), session-state
// bookkeeping, and every helper built from the primitives (JSON, mkdirp, createParents, recursive
// delete, re-arming watches). A backend implements only the raw primitives on absolute paths.

import { StoreError, isStoreCode, sessionExpired } from './store-errors.js';
import { ancestors, joinPath, normaliseChroot, parentOf, validatePath } from './paths.js';
import { followChildren, followData } from './follow.js';
import type {
  CreateMode,
  CreateOptions,
  JsonNode,
  MkdirpOptions,
  NodeAcl,
  NodeData,
  Op,
  OpResult,
  ReadOptions,
  SessionEvent,
  SessionListener,
  SessionState,
  Stat,
  Store,
  SubscribeOptions,
  Unsubscribe,
  WatchEvent,
  WatchEventType,
  Watcher,
} from './store.js';

/** The three kinds of one-shot watch a session can hold on a path. */
export type WatchKind = 'data' | 'exist' | 'child';

/**
 * Called by a backend synchronously when a read with a watch succeeds (before any event for it can
 * be delivered), with the kind of watch the server now holds.
 */
export type WatchHook = (kind: WatchKind) => void;

export type ServerEventType = Exclude<WatchEventType, 'sessionExpired'>;

const MAX_ATTEMPTS = 20;

export abstract class BaseStore implements Store {
  abstract readonly kind: 'zookeeper' | 'embedded';
  readonly chroot: string;
  private currentState: SessionState = 'connecting';
  private readonly sessionListeners = new Set<SessionListener>();
  private readonly watches: Record<WatchKind, Map<string, Set<Watcher>>> = {
    data: new Map(),
    exist: new Map(),
    child: new Map(),
  };

  protected constructor(chroot: string | undefined) {
    this.chroot = normaliseChroot(chroot);
  }

  abstract readonly sessionId: string;
  abstract readonly sessionTimeoutMs: number;

  protected abstract rawCreate(path: string, data: Buffer, mode: CreateMode, acl: NodeAcl): Promise<string>;
  protected abstract rawGet(path: string, hook: WatchHook | undefined): Promise<NodeData>;
  protected abstract rawExists(path: string, hook: WatchHook | undefined): Promise<Stat | undefined>;
  protected abstract rawGetChildren(path: string, hook: WatchHook | undefined): Promise<string[]>;
  protected abstract rawSet(path: string, data: Buffer, version: number): Promise<Stat>;
  protected abstract rawDelete(path: string, version: number): Promise<void>;
  /** Paths in `ops` are absolute; create results must be absolute too. */
  protected abstract rawMulti(ops: readonly Op[]): Promise<OpResult[]>;
  protected abstract rawClose(): Promise<void>;

  get state(): SessionState {
    return this.currentState;
  }

  contactAgeMs(): number {
    if (this.currentState === 'connected') return this.lastContactAge();
    if (this.currentState === 'suspended') return this.suspendedContactAge();
    return Infinity;
  }

  /** How long since the server was last heard from (backends that talk to a server override it). */
  protected lastContactAge(): number {
    return 0;
  }

  /** The same while suspended: unknown (Infinity) unless the backend keeps the time of last contact. */
  protected suspendedContactAge(): number {
    return Infinity;
  }

  onSession(listener: SessionListener): Unsubscribe {
    this.sessionListeners.add(listener);
    return () => this.sessionListeners.delete(listener);
  }

  /** Record a session transition and tell the listeners (synchronously, so `lost` is immediate). */
  protected sessionEvent(event: SessionEvent): void {
    if (this.currentState === 'closed' && event !== 'closed') return;
    if (event === 'expired') this.expireWatches();
    this.currentState =
      event === 'suspended' ? 'suspended' : event === 'expired' ? 'connecting' : event === 'closed' ? 'closed' : 'connected';
    for (const listener of [...this.sessionListeners]) listener(event);
  }

  protected assertOpen(): void {
    if (this.currentState === 'closed') throw sessionExpired('closed');
  }

  // ---- paths ----

  protected abs(path: string): string {
    validatePath(path);
    if (this.chroot === '') return path;
    return path === '/' ? this.chroot : this.chroot + path;
  }

  protected rel(absPath: string): string {
    if (this.chroot === '') return absPath;
    if (absPath === this.chroot) return '/';
    return absPath.startsWith(`${this.chroot}/`) ? absPath.slice(this.chroot.length) : absPath;
  }

  /** Rethrow with paths relative to the chroot. */
  private readonly fail = (err: unknown): never => {
    throw err instanceof StoreError && this.chroot !== '' ? err.withPath((p) => this.rel(p)) : err;
  };

  // ---- watches ----

  private hookFor(absPath: string, watcher: Watcher | undefined): WatchHook | undefined {
    if (!watcher) return undefined;
    return (kind) => {
      const table = this.watches[kind];
      let set = table.get(absPath);
      if (!set) table.set(absPath, (set = new Set()));
      set.add(watcher);
    };
  }

  /** A server event for `absPath`: fire and forget the watchers it consumes (ZooKeeper's rules). */
  protected deliver(type: ServerEventType, absPath: string): void {
    const kinds: WatchKind[] =
      type === 'childrenChanged' ? ['child'] : type === 'deleted' ? ['data', 'child'] : ['data', 'exist'];
    const fire = new Set<Watcher>();
    for (const kind of kinds) {
      const set = this.watches[kind].get(absPath);
      if (!set) continue;
      this.watches[kind].delete(absPath);
      for (const w of set) fire.add(w);
    }
    const event: WatchEvent = { type, path: this.rel(absPath) };
    for (const w of fire) w(event);
  }

  private expireWatches(): void {
    const fired: Array<[Watcher, string]> = [];
    for (const table of Object.values(this.watches)) {
      for (const [path, set] of table) for (const w of set) fired.push([w, path]);
      table.clear();
    }
    const seen = new Set<Watcher>();
    for (const [w, path] of fired) {
      if (seen.has(w)) continue;
      seen.add(w);
      w({ type: 'sessionExpired', path: this.rel(path) });
    }
  }

  /** Forget every watch without firing it (the store is closing). */
  protected dropWatches(): void {
    for (const table of Object.values(this.watches)) table.clear();
  }

  // ---- primitives ----

  async create(path: string, data: Uint8Array = new Uint8Array(0), options: CreateOptions = {}): Promise<string> {
    this.assertOpen();
    const abs = this.abs(path);
    const mode = options.mode ?? 'persistent';
    const acl = options.acl ?? 'private';
    const bytes = toBuffer(data);
    for (let attempt = 1; ; attempt++) {
      try {
        return this.rel(await this.rawCreate(abs, bytes, mode, acl));
      } catch (err) {
        if (!options.createParents || !isStoreCode(err, 'AGORA_NO_NODE') || attempt >= MAX_ATTEMPTS) this.fail(err);
        await this.mkdirpAbs(parentOf(abs)).catch(this.fail);
      }
    }
  }

  async get(path: string, options: ReadOptions = {}): Promise<NodeData> {
    this.assertOpen();
    const abs = this.abs(path);
    return this.rawGet(abs, this.hookFor(abs, options.watch)).catch(this.fail);
  }

  async exists(path: string, options: ReadOptions = {}): Promise<Stat | undefined> {
    this.assertOpen();
    const abs = this.abs(path);
    return this.rawExists(abs, this.hookFor(abs, options.watch)).catch(this.fail);
  }

  async getChildren(path: string, options: ReadOptions = {}): Promise<string[]> {
    this.assertOpen();
    const abs = this.abs(path);
    const children = await this.rawGetChildren(abs, this.hookFor(abs, options.watch)).catch(this.fail);
    return children.sort();
  }

  async set(path: string, data: Uint8Array, version = -1): Promise<Stat> {
    this.assertOpen();
    return this.rawSet(this.abs(path), toBuffer(data), version).catch(this.fail);
  }

  async delete(path: string, version = -1): Promise<void> {
    this.assertOpen();
    return this.rawDelete(this.abs(path), version).catch(this.fail);
  }

  async multi(ops: readonly Op[]): Promise<OpResult[]> {
    this.assertOpen();
    if (ops.length === 0) return [];
    const absOps = ops.map((op, i): Op => {
      const path = (() => {
        try {
          return this.abs(op.path);
        } catch (err) {
          throw new StoreError('AGORA_INVALID_ARGUMENT', `ops[${i}].path is invalid`, op.path, { index: i }, err);
        }
      })();
      switch (op.op) {
        case 'create':
          return { op: 'create', path, data: toBuffer(op.data ?? new Uint8Array(0)), mode: op.mode ?? 'persistent', acl: op.acl ?? 'private' };
        case 'set':
          return { op: 'set', path, data: toBuffer(op.data), version: op.version ?? -1 };
        case 'delete':
          return { op: 'delete', path, version: op.version ?? -1 };
        case 'check':
          return { op: 'check', path, version: op.version };
      }
    });
    const results = await this.rawMulti(absOps).catch(this.fail);
    return results.map((r) => (r.op === 'create' ? { op: 'create', path: this.rel(r.path) } : r));
  }

  // ---- helpers ----

  createJson(path: string, value: unknown, options?: CreateOptions): Promise<string> {
    return this.create(path, encodeJson(value), options);
  }

  async getJson<T>(path: string, options?: ReadOptions): Promise<JsonNode<T>> {
    const node = await this.get(path, options);
    return { value: decodeJson<T>(node.data, path), stat: node.stat };
  }

  setJson(path: string, value: unknown, version?: number): Promise<Stat> {
    return this.set(path, encodeJson(value), version);
  }

  async mkdirp(path: string, options: MkdirpOptions = {}): Promise<void> {
    this.assertOpen();
    await this.mkdirpAbs(this.abs(path), options.acl).catch(this.fail);
  }

  /** Ancestors are private: only `absPath` itself gets `acl` (least privilege for the structure). */
  protected async mkdirpAbs(absPath: string, acl: NodeAcl = 'private'): Promise<void> {
    if (absPath === '/' || (await this.rawExists(absPath, undefined))) return;
    for (const p of ancestors(absPath)) await this.createIfMissing(p, 'private');
    await this.createIfMissing(absPath, acl);
  }

  private async createIfMissing(absPath: string, acl: NodeAcl): Promise<void> {
    try {
      await this.rawCreate(absPath, Buffer.alloc(0), 'persistent', acl);
    } catch (err) {
      if (!isStoreCode(err, 'AGORA_NODE_EXISTS')) throw err;
    }
  }

  async deleteRecursive(path: string): Promise<void> {
    this.assertOpen();
    await this.deleteTree(this.abs(path)).catch(this.fail);
  }

  private async deleteTree(absPath: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      let children: string[];
      try {
        children = await this.rawGetChildren(absPath, undefined);
      } catch (err) {
        if (isStoreCode(err, 'AGORA_NO_NODE')) return;
        throw err;
      }
      for (const child of children) await this.deleteTree(joinPath(absPath, child));
      if (absPath === '/' || absPath === this.chroot) return; // the root (or chroot) itself stays
      try {
        await this.rawDelete(absPath, -1);
        return;
      } catch (err) {
        if (isStoreCode(err, 'AGORA_NO_NODE')) return;
        // Someone added a child meanwhile: go round again.
        if (!isStoreCode(err, 'AGORA_NOT_EMPTY') || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  watchData(path: string, listener: (node: NodeData | undefined) => void, options: SubscribeOptions = {}): Unsubscribe {
    this.abs(path);
    return followData(this, path, listener, options);
  }

  watchChildren(path: string, listener: (children: string[] | undefined) => void, options: SubscribeOptions = {}): Unsubscribe {
    this.abs(path);
    return followChildren(this, path, listener, options);
  }

  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    this.currentState = 'closed';
    this.dropWatches();
    try {
      await this.rawClose();
    } finally {
      this.sessionEvent('closed');
      this.sessionListeners.clear();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

export function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

export function decodeJson<T>(data: Buffer, path: string): T {
  try {
    return JSON.parse(data.toString('utf8')) as T;
  } catch (err) {
    throw new StoreError('AGORA_INTERNAL', 'node data is not JSON', path, {}, err);
  }
}
