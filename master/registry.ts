// The registry: what the master must not forget across restarts and failovers. Admitted,
// unreachable and drained agents; frameworks with their failover timeouts; removed frameworks (so
// a torn-down id cannot come back); weights and quota. Lives in the Store under
// /<cluster>/registry (the store's chroot is /agora). Tasks are not here: agents report them.
//
//   agents/<id>  frameworks/<id>  removed-frameworks/<id>      one node each
//   role-weights/<role>   role-quota/<role>                    one node per role (the role
//                                                              URI-encoded: 'eng/web' → eng%2Fweb)
//   weights   quota                                            what masters before per-role nodes
//                                                              wrote: one node holding every role
//
// A weights PUT writes only the roles it changes (in one fenced transaction), not the whole map.
// An elected master that finds the old single nodes moves them into per-role nodes (crash-safe:
// while the old node exists its values win over per-role ones; it is deleted last).
import type { Store } from '../core/store/store.js';
import { decodeJson } from '../core/store/base-store.js';
import { StoreMirror } from '../core/store/mirror.js';
import { AgoraError } from '../core/errors.js';

export interface AgentEntry {
  readonly id: string;
  readonly hostname: string;
  /** The AgentInfo as last registered (wire JSON form). */
  readonly info: unknown;
  readonly state: 'admitted' | 'unreachable';
  readonly drain?: { readonly state: 'draining' | 'drained'; readonly gracePeriodMs: number; readonly startedAtMs: number };
  /** Cordoned by an operator: kept across failovers like a drain. */
  readonly cordon?: { readonly cordonedAtMs: number; readonly principal: string };
  readonly registeredAtMs: number;
  readonly unreachableSinceMs?: number;
  /** Whose credential registered it (absent in registries written before authentication). */
  readonly principal?: string;
}

export interface FrameworkEntry {
  readonly id: string;
  readonly info: unknown;
  readonly failoverTimeoutMs: number;
  readonly registeredAtMs: number;
  readonly disconnectedAtMs?: number;
  /** The principal that registered it (absent in registries written before authentication). */
  readonly principal?: string;
}

export interface RemovedFrameworkEntry {
  readonly id: string;
  readonly name: string;
  readonly removedAtMs: number;
  readonly reason: string;
}

export interface QuotaEntry {
  readonly guarantee: string;
  readonly limit?: string;
}

export interface RegistrySnapshot {
  readonly agents: Map<string, AgentEntry>;
  readonly frameworks: Map<string, FrameworkEntry>;
  readonly removedFrameworks: Map<string, RemovedFrameworkEntry>;
  readonly weights: Record<string, number>;
  readonly quota: Record<string, QuotaEntry>;
  /** Where it came from: the standby's warm copy, or reads of the store. */
  readonly source: 'warm' | 'store';
}

/** How many removed framework ids are remembered. */
const MAX_REMOVED = 1000;

const DIRS = ['agents', 'frameworks', 'removed-frameworks', 'role-weights', 'role-quota'] as const;
/** The single nodes older masters kept all weights and all quota in. */
const LEGACY = ['weights', 'quota'] as const;
/** Operations per transaction when moving the single nodes to per-role nodes. */
const MIGRATION_BATCH = 100;

/** A role as a node name: URI-encoded, so 'eng/web' is one node (eng%2Fweb). */
export function roleNode(role: string): string {
  return encodeURIComponent(role);
}

function roleOfNode(name: string): string | undefined {
  try {
    return decodeURIComponent(name);
  } catch {
    return undefined;
  }
}

export class Registry {
  readonly #store: Store;
  readonly #root: string;
  // Writes to one path happen in order; different paths proceed in parallel.
  readonly #queues = new Map<string, Promise<void>>();
  /** What this master read or wrote last at each path (JSON): writing the same again is skipped. */
  readonly #stored = new Map<string, string>();
  #fence: string | undefined;
  /** Told of every write (metrics): its duration, and whether it failed (see #timed). */
  observeWrite: ((seconds: number, failed: boolean) => void) | undefined;
  /** A standby's warm copy of the registry (see follow()). */
  readonly #mirror: StoreMirror;

  private constructor(store: Store, root: string) {
    this.#store = store;
    this.#root = root;
    this.#mirror = new StoreMirror(store, { dirs: DIRS.map((d) => `${root}/${d}`), nodes: LEGACY.map((n) => `${root}/${n}`) });
  }

  static async open(store: Store, cluster: string): Promise<{ registry: Registry; snapshot: RegistrySnapshot }> {
    const registry = await Registry.create(store, cluster);
    return { registry, snapshot: await registry.load() };
  }

  static async create(store: Store, cluster: string): Promise<Registry> {
    const registry = new Registry(store, `/${cluster}/registry`);
    for (const dir of DIRS) await store.mkdirp(`${registry.#root}/${dir}`);
    return registry;
  }

  /**
   * Fence every later write on this store node (the leader's election node): a write is applied
   * only while the node exists, so a master whose session has expired — and whose node is gone —
   * cannot overwrite what the new leader wrote.
   */
  fence(path: string | undefined): void {
    this.#fence = path;
  }

  putAgent(entry: AgentEntry): Promise<void> {
    return this.#write(`${this.#root}/agents/${entry.id}`, entry);
  }

  removeAgent(id: string): Promise<void> {
    return this.#remove(`${this.#root}/agents/${id}`);
  }

  putFramework(entry: FrameworkEntry): Promise<void> {
    return this.#write(`${this.#root}/frameworks/${entry.id}`, entry);
  }

  async removeFramework(entry: RemovedFrameworkEntry): Promise<void> {
    await this.#write(`${this.#root}/removed-frameworks/${entry.id}`, entry);
    await this.#remove(`${this.#root}/frameworks/${entry.id}`);
    const removed = await this.#store.getChildren(`${this.#root}/removed-frameworks`);
    if (removed.length > MAX_REMOVED) {
      const all = await Promise.all(removed.map((id) => this.#store.getJson<RemovedFrameworkEntry>(`${this.#root}/removed-frameworks/${id}`)));
      const oldest = all.map((n) => n.value).sort((a, b) => a.removedAtMs - b.removedAtMs).slice(0, removed.length - MAX_REMOVED);
      for (const old of oldest) await this.#remove(`${this.#root}/removed-frameworks/${old.id}`);
    }
  }

  /** Set these roles' weights, all or none, writing only the roles whose weight changed. */
  putWeights(weights: ReadonlyArray<readonly [string, number]>): Promise<void> {
    const dir = `${this.#root}/role-weights`;
    return this.#enqueue(dir, async () => {
      const changed = weights.map(([role, w]) => [`${dir}/${roleNode(role)}`, JSON.stringify(w)] as const).filter(([path, json]) => this.#stored.get(path) !== json);
      if (changed.length === 0) return false;
      const ops = await Promise.all(changed.map(([path, json]) => this.#putOp(path, json)));
      for (const [path] of changed) this.#stored.delete(path);
      await this.#store.multi([...this.#fenceOps(), ...ops]);
      for (const [path, json] of changed) this.#stored.set(path, json);
    });
  }

  /** Forget a role's weight (it is 1 again); in the same queue as putWeights. */
  removeWeight(role: string): Promise<void> {
    const dir = `${this.#root}/role-weights`;
    const path = `${dir}/${roleNode(role)}`;
    return this.#enqueue(dir, async () => {
      this.#stored.delete(path);
      if ((await this.#store.exists(path)) === undefined) return false;
      await this.#store.multi([...this.#fenceOps(), { op: 'delete', path, version: -1 }]);
    });
  }

  putQuota(role: string, entry: QuotaEntry): Promise<void> {
    return this.#write(`${this.#root}/role-quota/${roleNode(role)}`, entry);
  }

  removeQuota(role: string): Promise<void> {
    return this.#remove(`${this.#root}/role-quota/${roleNode(role)}`);
  }

  /**
   * Keep a warm copy of the registry while another master leads (a standby), so that load() — on
   * taking over — need not read thousands of nodes with the whole cluster waiting.
   */
  follow(): void {
    this.#mirror.start();
  }

  /** Stop keeping the warm copy (on taking over, or stopping). */
  unfollow(): void {
    this.#mirror.stop();
  }

  /** Is the warm copy primed (for tests and metrics)? */
  get warm(): boolean {
    return this.#mirror.warm;
  }

  /**
   * Everything the registry holds, as of now: from the warm copy when there is one (once it has
   * caught up with every change made before this call), else read from the store.
   */
  async load(): Promise<RegistrySnapshot> {
    // What another leader wrote since is unknown: forget what was cached, read afresh.
    this.#stored.clear();
    const nodes = await this.#mirror.settle(Math.max(500, this.#store.sessionTimeoutMs / 2));
    const snapshot = nodes ? this.#fromNodes(nodes) : await this.#readAll();
    if (this.#fence !== undefined && (snapshot.legacy.weights !== undefined || snapshot.legacy.quota !== undefined)) await this.#migrate(snapshot);
    const { legacy: _legacy, ...rest } = snapshot;
    return rest;
  }

  async #readAll(): Promise<LoadedSnapshot> {
    // All at once: a failover waits on this read.
    const [agents, frameworks, removedFrameworks, roleWeights, roleQuota, weights, quota] = await Promise.all([
      this.#loadDir<AgentEntry>('agents'),
      this.#loadDir<FrameworkEntry>('frameworks'),
      this.#loadDir<RemovedFrameworkEntry>('removed-frameworks'),
      this.#loadDir<number>('role-weights'),
      this.#loadDir<QuotaEntry>('role-quota'),
      this.#read<Record<string, number>>(`${this.#root}/weights`),
      this.#read<Record<string, QuotaEntry>>(`${this.#root}/quota`),
    ]);
    return {
      agents,
      frameworks,
      removedFrameworks,
      ...mergeRoles(roleWeights, roleQuota, { weights, quota }),
      legacy: { weights, quota },
      source: 'store',
    };
  }

  /**
   * Move what the single weights and quota nodes hold into per-role nodes, then delete them: in
   * fenced batches, so a master that loses its leadership midway writes nothing more, and the next
   * one (still finding the single nodes, whose values win) finishes the job.
   */
  async #migrate(snapshot: LoadedSnapshot): Promise<void> {
    for (const kind of LEGACY) {
      const legacy = snapshot.legacy[kind];
      if (legacy === undefined) continue;
      const dir = `${this.#root}/role-${kind}`;
      const entries = Object.entries(legacy).map(([role, value]) => [`${dir}/${roleNode(role)}`, JSON.stringify(value)] as const);
      for (let i = 0; i < entries.length; i += MIGRATION_BATCH) {
        const batch = entries.slice(i, i + MIGRATION_BATCH);
        await this.#timed(async () => {
          const ops = await Promise.all(batch.map(([path, json]) => this.#putOp(path, json)));
          await this.#store.multi([...this.#fenceOps(), ...ops]);
        });
        for (const [path, json] of batch) this.#stored.set(path, json);
      }
      await this.#remove(`${this.#root}/${kind}`);
    }
  }

  /** A create or set of `path` (as it exists now) with `json`. */
  async #putOp(path: string, json: string): Promise<{ op: 'create'; path: string; data: Buffer } | { op: 'set'; path: string; data: Buffer; version: number }> {
    const data = Buffer.from(json);
    const exists = (await this.#store.exists(path)) !== undefined;
    return exists ? { op: 'set', path, data, version: -1 } : { op: 'create', path, data };
  }

  /** A snapshot from the warm copy's nodes (path → JSON data); remembers them as stored. */
  #fromNodes(nodes: ReadonlyMap<string, Buffer>): LoadedSnapshot {
    const parse = <T>(path: string, data: Buffer): T => {
      const value = decodeJson<T>(data, path);
      if (!this.#queues.has(path)) this.#stored.set(path, JSON.stringify(value));
      return value;
    };
    const dirs = new Map<string, Map<string, unknown>>(DIRS.map((d) => [`${this.#root}/${d}/`, new Map()]));
    let weights: Record<string, number> | undefined;
    let quota: Record<string, QuotaEntry> | undefined;
    for (const [path, data] of nodes) {
      if (path === `${this.#root}/weights`) weights = parse(path, data);
      else if (path === `${this.#root}/quota`) quota = parse(path, data);
      else {
        const slash = path.lastIndexOf('/') + 1;
        dirs.get(path.slice(0, slash))?.set(path.slice(slash), parse(path, data));
      }
    }
    const dir = <T>(name: (typeof DIRS)[number]): Map<string, T> => (dirs.get(`${this.#root}/${name}/`) ?? new Map()) as Map<string, T>;
    return {
      agents: dir('agents'),
      frameworks: dir('frameworks'),
      removedFrameworks: dir('removed-frameworks'),
      ...mergeRoles(dir<number>('role-weights'), dir<QuotaEntry>('role-quota'), { weights, quota }),
      legacy: { weights, quota },
      source: 'warm',
    };
  }

  /** Read every entry of a directory, many requests in flight at once (a failover reads thousands). */
  async #loadDir<T>(dir: string): Promise<Map<string, T>> {
    const ids = await this.#store.getChildren(`${this.#root}/${dir}`);
    const values: Array<T | undefined> = new Array(ids.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < ids.length; i = next++) values[i] = await this.#read<T>(`${this.#root}/${dir}/${ids[i]}`);
    };
    await Promise.all(Array.from({ length: Math.min(256, ids.length) }, worker));
    const out = new Map<string, T>();
    ids.forEach((id, i) => {
      const value = values[i];
      if (value !== undefined) out.set(id, value);
    });
    return out;
  }

  async #read<T>(path: string): Promise<T | undefined> {
    this.#stored.delete(path);
    try {
      const { value } = await this.#store.getJson<T>(path);
      if (!this.#queues.has(path)) this.#stored.set(path, JSON.stringify(value));
      return value;
    } catch (err) {
      if (err instanceof AgoraError && err.code === 'AGORA_NO_NODE') return undefined;
      throw err;
    }
  }

  #write(path: string, value: unknown): Promise<void> {
    const json = JSON.stringify(value);
    // A framework re-subscribing after a failover with the same info need not wait on the store.
    if (this.#stored.get(path) === json && !this.#queues.has(path)) return Promise.resolve();
    return this.#enqueue(path, async () => {
      this.#stored.delete(path);
      const data = Buffer.from(json);
      const exists = (await this.#store.exists(path)) !== undefined;
      const op = exists ? ({ op: 'set', path, data, version: -1 } as const) : ({ op: 'create', path, data } as const);
      await this.#store.multi([...this.#fenceOps(), op]);
      this.#stored.set(path, json);
    });
  }

  #remove(path: string): Promise<void> {
    this.#stored.delete(path);
    return this.#enqueue(path, async () => {
      this.#stored.delete(path);
      if ((await this.#store.exists(path)) === undefined) return false;
      try {
        await this.#store.multi([...this.#fenceOps(), { op: 'delete', path, version: -1 }]);
      } catch (err) {
        // Gone meanwhile is fine; a missing fence (index 0 when fenced) is not.
        const gone = err instanceof AgoraError && err.code === 'AGORA_NO_NODE' && err.details['index'] === this.#fenceOps().length;
        if (!gone) throw err;
      }
    });
  }

  /** One write (existence check and transaction) for observeWrite; `work` gives false when it wrote nothing. */
  async #timed(work: () => Promise<boolean | void>): Promise<void> {
    const start = performance.now();
    const observe = (failed: boolean): void => this.observeWrite?.((performance.now() - start) / 1000, failed);
    const wrote = await work().catch((err: unknown) => {
      observe(true);
      throw err;
    });
    if (wrote !== false) observe(false);
  }

  #fenceOps(): Array<{ op: 'check'; path: string; version: number }> {
    return this.#fence === undefined ? [] : [{ op: 'check', path: this.#fence, version: -1 }];
  }

  /** Run `op` (a write: see #timed) after the writes queued on `path`. */
  #enqueue(path: string, op: () => Promise<boolean | void>): Promise<void> {
    const previous = this.#queues.get(path) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.#timed(op));
    const tail = next.catch(() => undefined);
    this.#queues.set(path, tail);
    void tail.then(() => {
      if (this.#queues.get(path) === tail) this.#queues.delete(path);
    });
    return next;
  }
}

/** A snapshot as read, with what the single weights and quota nodes held (undefined: none). */
type LoadedSnapshot = RegistrySnapshot & {
  readonly legacy: { readonly weights: Record<string, number> | undefined; readonly quota: Record<string, QuotaEntry> | undefined };
};

/** Per-role nodes by role, with the single nodes' values over them (they win until migrated). */
function mergeRoles(
  weightNodes: ReadonlyMap<string, number>,
  quotaNodes: ReadonlyMap<string, QuotaEntry>,
  legacy: { weights: Record<string, number> | undefined; quota: Record<string, QuotaEntry> | undefined },
): { weights: Record<string, number>; quota: Record<string, QuotaEntry> } {
  const byRole = <T>(nodes: ReadonlyMap<string, T>, over: Record<string, T> | undefined): Record<string, T> => {
    const out: Record<string, T> = {};
    for (const [name, value] of nodes) {
      const role = roleOfNode(name);
      if (role !== undefined) out[role] = value;
    }
    return Object.assign(out, over ?? {});
  };
  return { weights: byRole(weightNodes, legacy.weights), quota: byRole(quotaNodes, legacy.quota) };
}
