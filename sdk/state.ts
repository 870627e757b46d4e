// Framework state: a framework's own namespace in the cluster's Store
// (/<cluster>/frameworks/<name>/state/...), so its specs survive restarts and failover.
// Values are JSON; every write is versioned, and compare-and-set guards against a stale leader.
import { AgoraError, InvalidArgumentError } from '../core/errors.js';
import { openStore, type Op, type Store, type Unsubscribe } from '../core/store/index.js';

export interface Versioned<T> {
  readonly value: T;
  /** Pass back to compareAndSet / delete; -1 matches any version. */
  readonly version: number;
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

function checkKey(key: string): string {
  const parts = key.split('/');
  if (key === '' || parts.some((p) => !SEGMENT.test(p))) {
    throw new InvalidArgumentError('key', `'${key}' is not a valid state key: use '/'-separated names of letters, digits, '.', '_', ':' or '-'`);
  }
  return key;
}

function isCode(err: unknown, code: string): boolean {
  return err instanceof AgoraError && err.code === code;
}

export class FrameworkState {
  readonly root: string;

  constructor(
    readonly store: Store,
    cluster: string,
    framework: string,
  ) {
    checkKey(cluster);
    checkKey(framework);
    this.root = `/${cluster}/frameworks/${framework}/state`;
  }

  /** Open the store at `url` (zk://…/agora, a directory, or memory:) for this framework's state. */
  static async open(url: string, cluster: string, framework: string): Promise<FrameworkState> {
    const store = await openStore(url, url.startsWith('zk://') ? {} : { chroot: '/agora' });
    const state = new FrameworkState(store, cluster, framework);
    await store.mkdirp(state.root);
    return state;
  }

  #path(key: string): string {
    return `${this.root}/${checkKey(key)}`;
  }

  async get<T>(key: string): Promise<Versioned<T> | undefined> {
    try {
      const node = await this.store.getJson<T>(this.#path(key));
      return { value: node.value, version: node.stat.version };
    } catch (err) {
      if (isCode(err, 'AGORA_NO_NODE')) return undefined;
      throw err;
    }
  }

  /** Write unconditionally (creating the key and its parents); returns the new version. */
  async set(key: string, value: unknown): Promise<number> {
    const path = this.#path(key);
    try {
      return (await this.store.setJson(path, value)).version;
    } catch (err) {
      if (!isCode(err, 'AGORA_NO_NODE')) throw err;
      await this.store.createJson(path, value, { createParents: true });
      return 0;
    }
  }

  /** Create only if absent (AGORA_NODE_EXISTS otherwise). */
  async create(key: string, value: unknown): Promise<number> {
    await this.store.createJson(this.#path(key), value, { createParents: true });
    return 0;
  }

  /** Write only if the version is still `expectedVersion` (AGORA_BAD_VERSION otherwise). */
  async compareAndSet(key: string, value: unknown, expectedVersion: number): Promise<number> {
    return (await this.store.setJson(this.#path(key), value, expectedVersion)).version;
  }

  /**
   * Delete the key and everything under it; `version` guards the key itself (AGORA_BAD_VERSION when
   * it was written since). The key goes last, in one guarded delete: a write that lands between
   * the look and the delete fails the delete instead of being lost.
   */
  async delete(key: string, version = -1): Promise<void> {
    const path = this.#path(key);
    if (version === -1) {
      await this.store.deleteRecursive(path);
      return;
    }
    const stat = await this.store.exists(path);
    if (!stat) return;
    if (stat.version !== version) await this.store.delete(path, version); // refused: AGORA_BAD_VERSION
    if (stat.numChildren > 0) for (const child of await this.store.getChildren(path)) await this.store.deleteRecursive(`${path}/${child}`);
    await this.store.delete(path, version);
  }

  /** Names directly under `prefix` (or the root), sorted. */
  async list(prefix = ''): Promise<string[]> {
    const path = prefix === '' ? this.root : this.#path(prefix);
    try {
      return await this.store.getChildren(path);
    } catch (err) {
      if (isCode(err, 'AGORA_NO_NODE')) return [];
      throw err;
    }
  }

  /** Several writes, all or none. Keys are relative; JSON values. */
  async transaction(ops: ReadonlyArray<{ op: 'create' | 'set' | 'delete' | 'check'; key: string; value?: unknown; version?: number }>): Promise<void> {
    const encoded: Op[] = ops.map((o) => {
      const path = this.#path(o.key);
      const data = Buffer.from(JSON.stringify(o.value ?? null));
      switch (o.op) {
        case 'create':
          return { op: 'create', path, data };
        case 'set':
          return { op: 'set', path, data, version: o.version ?? -1 };
        case 'delete':
          return { op: 'delete', path, version: o.version ?? -1 };
        case 'check':
          return { op: 'check', path, version: o.version ?? -1 };
      }
    });
    await this.store.multi(encoded);
  }

  /** Follow a key: the listener gets the current value (undefined while absent) and every change. */
  watch<T>(key: string, listener: (value: Versioned<T> | undefined) => void): Unsubscribe {
    return this.store.watchData(this.#path(key), (node) => {
      if (!node) return listener(undefined);
      try {
        listener({ value: JSON.parse(node.data.toString('utf8')) as T, version: node.stat.version });
      } catch {
        listener(undefined);
      }
    });
  }

  /** Follow the names under a prefix. */
  watchList(prefix: string, listener: (names: string[]) => void): Unsubscribe {
    const path = prefix === '' ? this.root : this.#path(prefix);
    return this.store.watchChildren(path, (children) => listener(children ?? []));
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
