// The embedded backend's server: one tree shared by every session opened on it (so several
// candidates in one process can hold separate sessions and elect), server-side watch tables as
// ZooKeeper keeps them (data watches incl. existence, child watches; one notification per session
// per event), session lifetimes (close, expiry, simulated loss of contact), and optional persistence
// through the Journal. Writes apply to memory at once (so later operations see them) but are
// acknowledged, and their watch events delivered, only once durable.

import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { StoreError, noNode } from './store-errors.js';
import { Tree, statOf, type NodeRecord } from './embedded-tree.js';
import { Journal } from './embedded-journal.js';
import type { ServerEventType } from './base-store.js';
import type { NodeData, Op, OpResult, Stat } from './store.js';

export interface SessionSink {
  /** A watch event for this session. */
  deliver(type: ServerEventType, path: string): void;
  /** The server expired the session while the client was in contact (test hook). */
  expired(): void;
}

interface ServerSession {
  readonly id: string;
  readonly timeoutMs: number;
  readonly sink: SessionSink;
  connected: boolean;
  queued: Array<{ type: ServerEventType; path: string }>;
  expiryTimer: TimerHandle | undefined;
}

export interface EmbeddedServerOptions {
  /** Persist to this directory; omit for memory only. */
  readonly dataDir?: string;
  readonly clock?: Clock;
  /** Compact the journal into a snapshot once it grows past this many bytes. */
  readonly compactBytes?: number;
}

export class EmbeddedStoreServer {
  private readonly sessions = new Map<string, ServerSession>();
  private readonly dataWatches = new Map<string, Set<string>>();
  private readonly childWatches = new Map<string, Set<string>>();
  private journal: Journal | undefined;
  private closed = false;

  private constructor(
    private readonly tree: Tree,
    private readonly clock: Clock,
    readonly dataDir: string | undefined,
  ) {}

  /** A server that keeps nothing on disk. */
  static memory(clock: Clock = systemClock): EmbeddedStoreServer {
    return new EmbeddedStoreServer(new Tree(clock.now()), clock, undefined);
  }

  /** A server persisted under `options.dataDir` (recovering what is there), or in memory. */
  static async open(options: EmbeddedServerOptions = {}): Promise<EmbeddedStoreServer> {
    const clock = options.clock ?? systemClock;
    if (options.dataDir === undefined) return EmbeddedStoreServer.memory(clock);
    const dir = path.resolve(options.dataDir);
    const tree = new Tree(clock.now());
    const server = new EmbeddedStoreServer(tree, clock, dir);
    const { journal, recovered } = await Journal.open(dir, () => tree.records(), options.compactBytes);
    for (const record of recovered.snapshot) tree.load(record.path, record);
    for (const entry of recovered.entries) {
      const puts = [...entry.put].sort((a, b) => depth(a.path) - depth(b.path));
      const dels = [...entry.del].sort((a, b) => depth(b) - depth(a));
      for (const record of puts) tree.load(record.path, record);
      for (const p of dels) tree.load(p, null);
    }
    tree.settleAfterRecovery();
    server.journal = journal;
    return server;
  }

  // ---- sessions ----

  openSession(timeoutMs: number, sink: SessionSink): string {
    this.assertOpen();
    const id = randomBytes(8).toString('hex');
    this.sessions.set(id, { id, timeoutMs, sink, connected: true, queued: [], expiryTimer: undefined });
    return id;
  }

  isLive(id: string): boolean {
    return this.sessions.has(id);
  }

  /** End a session at the client's request: its ephemerals go. */
  async closeSession(id: string): Promise<void> {
    await this.endSession(id);
  }

  /** Test hook: expire a session now and tell its client at once. */
  async expireSession(id: string): Promise<void> {
    const session = this.sessions.get(id);
    await this.endSession(id);
    session?.sink.expired();
  }

  /** Test hook: the client loses contact; the session expires after its timeout unless it comes back. */
  disconnect(id: string): void {
    const session = this.sessions.get(id);
    if (!session || !session.connected) return;
    session.connected = false;
    // A failed write here means the journal has failed, and it refuses every later write: clients
    // hear of it there. Caught so that it is not an unhandled rejection, which ends the process.
    session.expiryTimer = this.clock.setTimeout(() => void this.endSession(id).catch(() => undefined), session.timeoutMs);
  }

  /** Test hook: the client is back. Missed watch events are delivered (after the caller's event). */
  reconnect(id: string): 'reconnected' | 'expired' {
    const session = this.sessions.get(id);
    if (!session) return 'expired';
    this.clock.clearTimeout(session.expiryTimer);
    session.connected = true;
    const queued = session.queued;
    session.queued = [];
    queueMicrotask(() => {
      for (const e of queued) session.sink.deliver(e.type, e.path);
    });
    return 'reconnected';
  }

  private async endSession(id: string): Promise<void> {
    const session = this.sessions.get(id);
    if (!session) return;
    this.clock.clearTimeout(session.expiryTimer);
    this.sessions.delete(id);
    for (const table of [this.dataWatches, this.childWatches]) for (const set of table.values()) set.delete(id);
    const ephemerals = this.tree.ephemeralsOf(id);
    if (ephemerals.length > 0 && !this.closed) {
      await this.write(id, ephemerals.map((p): Op => ({ op: 'delete', path: p })), true);
    }
  }

  // ---- reads (synchronous; the watch is registered on success) ----

  get(session: string, p: string, watch: boolean): NodeData {
    this.assertSession(session);
    const n = this.tree.node(p);
    if (!n) throw noNode(p);
    if (watch) addWatch(this.dataWatches, p, session);
    return { data: Buffer.from(n.data), stat: statOf(n) };
  }

  exists(session: string, p: string, watch: boolean): Stat | undefined {
    this.assertSession(session);
    if (watch) addWatch(this.dataWatches, p, session);
    return this.tree.stat(p);
  }

  getChildren(session: string, p: string, watch: boolean): string[] {
    this.assertSession(session);
    const n = this.tree.node(p);
    if (!n) throw noNode(p);
    if (watch) addWatch(this.childWatches, p, session);
    return [...n.children];
  }

  // ---- writes ----

  /** Apply `ops` atomically now; resolve (and notify watchers) once durable. */
  async write(session: string, ops: readonly Op[], ending = false): Promise<OpResult[]> {
    if (!ending) this.assertSession(session);
    const outcome = this.tree.apply(ops, session, this.clock.now());
    if (this.journal && outcome.changes.size > 0) {
      const put: NodeRecord[] = [];
      const del: string[] = [];
      for (const [p, record] of outcome.changes) {
        if (record) put.push(record);
        else del.push(p);
      }
      await this.journal.append(put, del);
    } else {
      await Promise.resolve();
    }
    for (const e of outcome.events) this.trigger(e.type, e.path);
    return outcome.results;
  }

  private trigger(type: ServerEventType, p: string): void {
    const targets = new Set<string>();
    const take = (table: Map<string, Set<string>>): void => {
      const set = table.get(p);
      if (!set) return;
      table.delete(p);
      for (const s of set) targets.add(s);
    };
    if (type === 'childrenChanged') take(this.childWatches);
    else take(this.dataWatches);
    if (type === 'deleted') take(this.childWatches);
    for (const id of targets) {
      const session = this.sessions.get(id);
      if (!session) continue;
      if (session.connected) session.sink.deliver(type, p);
      else session.queued.push({ type, path: p });
    }
  }

  /** Stop: wait for pending writes to be durable and release the data directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sessions.values()) this.clock.clearTimeout(s.expiryTimer);
    this.sessions.clear();
    await this.journal?.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('AGORA_UNAVAILABLE', 'embedded store server is closed');
  }

  private assertSession(id: string): void {
    this.assertOpen();
    if (!this.sessions.has(id)) throw new StoreError('AGORA_SESSION_EXPIRED', 'store session expired', undefined, { reason: 'expired' });
  }
}

function addWatch(table: Map<string, Set<string>>, p: string, session: string): void {
  let set = table.get(p);
  if (!set) table.set(p, (set = new Set()));
  set.add(session);
}

function depth(p: string): number {
  return p === '/' ? 0 : p.split('/').length - 1;
}

// ---- servers shared within the process ----

const fileServers = new Map<string, { server: Promise<EmbeddedStoreServer>; refs: number }>();
const memoryServers = new Map<string, EmbeddedStoreServer>();

/**
 * The process-wide server for a data directory (opened on first use, closed when the last user
 * releases it), so every Store opened on one directory in one process shares one tree.
 */
export async function acquireFileServer(
  dataDir: string,
  options: Omit<EmbeddedServerOptions, 'dataDir'> = {},
): Promise<{ server: EmbeddedStoreServer; release: () => Promise<void> }> {
  const dir = path.resolve(dataDir);
  let entry = fileServers.get(dir);
  if (!entry) {
    entry = { server: EmbeddedStoreServer.open({ ...options, dataDir: dir }), refs: 0 };
    fileServers.set(dir, entry);
    entry.server.catch(() => fileServers.delete(dir));
  }
  entry.refs += 1;
  const held = entry;
  let server: EmbeddedStoreServer;
  try {
    server = await held.server;
  } catch (err) {
    held.refs -= 1;
    throw err;
  }
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    held.refs -= 1;
    if (held.refs === 0 && fileServers.get(dir) === held) {
      fileServers.delete(dir);
      await server.close();
    }
  };
  return { server, release };
}

/** A named in-memory server shared within the process (`memory://name`); lives as long as it. */
export function namedMemoryServer(name: string, clock?: Clock): EmbeddedStoreServer {
  let server = memoryServers.get(name);
  if (!server) memoryServers.set(name, (server = EmbeddedStoreServer.memory(clock)));
  return server;
}
