// A warm copy of part of a store: some nodes, and every child of some directories, kept current
// with one-shot watches (each read leaves a watch; when it fires, the node is read again). A
// standby master keeps one of the registry, so that taking over starts from memory instead of
// thousands of reads.
//
//   start() ─► read every node and directory (with watches) ─► primed
//   watch fires ─► read that node again (one read per node at a time; events meanwhile: once more)
//   session suspended / reconnected / expired, or a read fails ─► cold: everything is read afresh
//
// When is the copy up to date? The store delivers a watch event before its answer to any read sent
// later on the same session (ZooKeeper's ordering guarantee; the embedded store delivers events
// synchronously). So once a barrier read sent now has returned, every change made before it has
// fired its watch, and once the re-reads those watches started have returned too, the copy holds
// the store's state as of the barrier or later. `settle()` waits for exactly that.
import type { Store, Unsubscribe, Watcher } from './store.js';
import { isStoreCode } from './store-errors.js';
import { basename, joinPath, parentOf } from './paths.js';

export interface MirrorSpec {
  /** Directories whose children are all mirrored (not their grandchildren). */
  readonly dirs: readonly string[];
  /** Single nodes (which may not exist). */
  readonly nodes: readonly string[];
}

const RESTART_AFTER_ERROR_MS = 1_000;

export class StoreMirror {
  /** Data of every mirrored node that exists, by path. */
  readonly #values = new Map<string, Buffer>();
  readonly #children = new Map<string, Set<string>>();
  /** Bumped on every (re)start: callbacks of an older generation are ignored. */
  #generation = 0;
  #running = false;
  #primed = false;
  #inFlight = 0;
  /** Paths being read, and those to read once more when that read returns. */
  readonly #reading = new Set<string>();
  readonly #again = new Set<string>();
  /** One watcher per path (the same function on a path is one watch), for this generation. */
  readonly #watchers = new Map<string, Watcher>();
  readonly #idle = new Set<() => void>();
  #unsubscribe: Unsubscribe | undefined;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly spec: MirrorSpec,
  ) {}

  /** Primed and read without a break since: `settle()` can answer from memory. */
  get warm(): boolean {
    return this.#running && this.#primed;
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#unsubscribe = this.store.onSession((event) => {
      // Anything but a fresh `connected` may have broken the chain of watches: read afresh.
      if (event === 'suspended' || event === 'reconnected' || event === 'expired') this.#restart();
      else if (event === 'closed') this.stop();
    });
    this.#restart();
  }

  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    clearTimeout(this.#retryTimer);
    this.#reset();
  }

  /**
   * The store's current state of the mirrored nodes (path → data), once every change made before
   * this call has been read; undefined when the copy is cold, breaks meanwhile, or does not settle
   * within `timeoutMs` (read the store directly then).
   */
  async settle(timeoutMs: number): Promise<Map<string, Buffer> | undefined> {
    if (!this.warm) return undefined;
    const generation = this.#generation;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    try {
      // The barrier: any read will do; its answer comes after every earlier watch event.
      const barrier = this.store.exists(this.spec.dirs[0] ?? this.spec.nodes[0] ?? '/').then(() => 'read' as const);
      if ((await Promise.race([barrier, timedOut])) === 'timeout') return undefined;
      if (generation !== this.#generation || !this.warm) return undefined;
      if (this.#inFlight > 0) {
        const drained = new Promise<'drained'>((resolve) => this.#idle.add(() => resolve('drained')));
        if ((await Promise.race([drained, timedOut])) === 'timeout') return undefined;
      }
      if (generation !== this.#generation || !this.warm) return undefined;
      return new Map(this.#values);
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  #reset(): void {
    this.#generation += 1;
    this.#primed = false;
    this.#inFlight = 0;
    this.#values.clear();
    this.#children.clear();
    this.#reading.clear();
    this.#again.clear();
    this.#watchers.clear();
  }

  #restart(): void {
    if (!this.#running) return;
    clearTimeout(this.#retryTimer);
    this.#reset();
    for (const dir of this.spec.dirs) {
      this.#children.set(dir, new Set());
      this.#read(dir, 'dir');
    }
    for (const node of this.spec.nodes) this.#read(node, 'node');
  }

  /** A read failed for another reason than a missing node: start over (after a pause). */
  #failed(): void {
    this.#reset();
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#restart(), RESTART_AFTER_ERROR_MS);
    this.#retryTimer.unref();
  }

  /** Read `path` (with a watch) unless a read of it is under way; then read it once more after. */
  #read(path: string, kind: 'dir' | 'node' | 'child'): void {
    if (this.#reading.has(path)) {
      this.#again.add(path);
      return;
    }
    this.#reading.add(path);
    this.#inFlight += 1;
    const generation = this.#generation;
    let watch = this.#watchers.get(path);
    if (!watch) {
      watch = () => {
        if (generation === this.#generation) this.#read(path, kind);
      };
      this.#watchers.set(path, watch);
    }
    const work = kind === 'dir' ? this.#readDir(path, watch) : this.#readNode(path, watch, kind === 'node');
    work.then(
      () => this.#done(generation, path, kind),
      (err: unknown) => {
        if (generation !== this.#generation || !this.#running) return;
        if (isStoreCode(err, 'AGORA_SESSION_EXPIRED')) return; // the session event restarts us
        this.#failed();
      },
    );
  }

  #done(generation: number, path: string, kind: 'dir' | 'node' | 'child'): void {
    if (generation !== this.#generation) return;
    this.#reading.delete(path);
    this.#inFlight -= 1;
    if (this.#again.delete(path)) this.#read(path, kind);
    if (this.#inFlight > 0) return;
    this.#primed = true;
    for (const resolve of [...this.#idle]) resolve();
    this.#idle.clear();
  }

  async #readDir(dir: string, watch: Watcher): Promise<void> {
    const generation = this.#generation;
    let names: string[];
    try {
      names = await this.store.getChildren(dir, { watch });
    } catch (err) {
      if (!isStoreCode(err, 'AGORA_NO_NODE')) throw err;
      // Not there (yet): wait for it; if it was just created, read it again.
      if (await this.store.exists(dir, { watch })) {
        if (generation === this.#generation) this.#again.add(dir);
        return;
      }
      names = [];
    }
    if (generation !== this.#generation) return;
    const known = this.#children.get(dir) ?? new Set<string>();
    this.#children.set(dir, known);
    const now = new Set(names);
    for (const name of known) {
      if (now.has(name)) continue;
      known.delete(name);
      this.#values.delete(joinPath(dir, name));
    }
    for (const name of names) {
      if (known.has(name)) continue;
      known.add(name);
      this.#read(joinPath(dir, name), 'child');
    }
  }

  /**
   * A child that is gone is dropped (its directory's watch brings it back if it is created again);
   * a single node that is gone is watched for creation.
   */
  async #readNode(path: string, watch: Watcher, watchCreation: boolean): Promise<void> {
    const generation = this.#generation;
    try {
      const node = await this.store.get(path, { watch });
      if (generation === this.#generation) this.#values.set(path, node.data);
      return;
    } catch (err) {
      if (!isStoreCode(err, 'AGORA_NO_NODE')) throw err;
    }
    if (generation !== this.#generation) return;
    this.#values.delete(path);
    this.#children.get(parentOf(path))?.delete(basename(path));
    if (watchCreation && (await this.store.exists(path, { watch })) && generation === this.#generation) this.#again.add(path);
  }
}
