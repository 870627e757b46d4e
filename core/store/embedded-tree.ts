// The embedded backend's data: an in-memory tree of znodes with ZooKeeper's rules for every
// operation (error precedence included), applied as all-or-nothing batches. A batch reports what it
// changed (for the journal) and what watch events it triggers (for the sessions), in order.

import { StoreError, atIndex, badVersion, noChildrenForEphemerals, noNode, nodeExists, notEmpty } from './store-errors.js';
import { basename, formatSequence, parentOf } from './paths.js';
import type { CreateMode, Op, OpResult, Stat } from './store.js';
import type { ServerEventType } from './base-store.js';

export interface TreeNode {
  data: Buffer;
  version: number;
  cversion: number;
  ctime: number;
  mtime: number;
  /** Child creations so far: the next sequential child's number (cversion also counts deletions). */
  seq: number;
  /** Owning session for ephemeral nodes. */
  ephemeralOwner: string | undefined;
  children: Set<string>;
}

/** A persistent node as the journal stores it. */
export interface NodeRecord {
  path: string;
  data: string; // base64
  version: number;
  cversion: number;
  seq: number;
  ctime: number;
  mtime: number;
}

export interface BatchOutcome {
  results: OpResult[];
  /** Paths whose persistent state changed: the record to store, or null when deleted. */
  changes: Map<string, NodeRecord | null>;
  events: Array<{ type: ServerEventType; path: string }>;
}

export class Tree {
  private readonly nodes = new Map<string, TreeNode>();

  constructor(now: number) {
    this.nodes.set('/', emptyNode(now, undefined));
  }

  node(path: string): TreeNode | undefined {
    return this.nodes.get(path);
  }

  stat(path: string): Stat | undefined {
    const n = this.nodes.get(path);
    return n ? statOf(n) : undefined;
  }

  /** Apply `ops` atomically for `session` at time `now`; throws (changing nothing) if one fails. */
  apply(ops: readonly Op[], session: string, now: number): BatchOutcome {
    const undo = new Map<string, TreeNode | undefined>();
    const touch = (path: string): void => {
      if (undo.has(path)) return;
      const n = this.nodes.get(path);
      undo.set(path, n ? { ...n, children: new Set(n.children) } : undefined);
    };
    const outcome: BatchOutcome = { results: [], changes: new Map(), events: [] };
    try {
      ops.forEach((op, index) => {
        try {
          outcome.results.push(this.applyOne(op, session, now, touch, outcome.events));
        } catch (err) {
          throw ops.length > 1 && err instanceof StoreError ? atIndex(err, index) : err;
        }
      });
    } catch (err) {
      for (const [path, before] of undo) {
        if (before) this.nodes.set(path, before);
        else this.nodes.delete(path);
      }
      throw err;
    }
    for (const path of undo.keys()) {
      const n = this.nodes.get(path);
      if (n?.ephemeralOwner !== undefined) continue;
      if (!n && undo.get(path)?.ephemeralOwner !== undefined) continue;
      outcome.changes.set(path, n ? recordOf(path, n) : null);
    }
    return outcome;
  }

  private applyOne(
    op: Op,
    session: string,
    now: number,
    touch: (path: string) => void,
    events: BatchOutcome['events'],
  ): OpResult {
    switch (op.op) {
      case 'create': {
        const path = this.createNode(op.path, Buffer.from(op.data ?? new Uint8Array(0)), op.mode ?? 'persistent', session, now, touch);
        events.push({ type: 'created', path }, { type: 'childrenChanged', path: parentOf(path) });
        return { op: 'create', path };
      }
      case 'set': {
        const n = this.existing(op.path);
        checkVersion(op.path, n, op.version ?? -1);
        touch(op.path);
        n.data = Buffer.from(op.data);
        n.version += 1;
        n.mtime = now;
        events.push({ type: 'dataChanged', path: op.path });
        return { op: 'set', stat: statOf(n) };
      }
      case 'delete': {
        this.deleteNode(op.path, op.version ?? -1, touch);
        events.push({ type: 'deleted', path: op.path }, { type: 'childrenChanged', path: parentOf(op.path) });
        return { op: 'delete' };
      }
      case 'check': {
        checkVersion(op.path, this.existing(op.path), op.version);
        return { op: 'check' };
      }
    }
  }

  private createNode(path: string, data: Buffer, mode: CreateMode, session: string, now: number, touch: (p: string) => void): string {
    if (path === '/') throw nodeExists(path);
    const parentPath = parentOf(path);
    const parent = this.nodes.get(parentPath);
    if (!parent) throw noNode(path);
    const sequential = mode === 'sequential' || mode === 'ephemeral-sequential';
    const finalPath = sequential ? path + formatSequence(parent.seq) : path;
    if (this.nodes.has(finalPath)) throw nodeExists(finalPath);
    if (parent.ephemeralOwner !== undefined) throw noChildrenForEphemerals(finalPath);
    touch(parentPath);
    touch(finalPath);
    const ephemeral = mode === 'ephemeral' || mode === 'ephemeral-sequential';
    const node = emptyNode(now, ephemeral ? session : undefined);
    node.data = data;
    this.nodes.set(finalPath, node);
    parent.children.add(basename(finalPath));
    parent.cversion += 1;
    parent.seq += 1;
    return finalPath;
  }

  private deleteNode(path: string, version: number, touch: (p: string) => void): void {
    if (path === '/') throw new StoreError('AGORA_INVALID_ARGUMENT', 'cannot delete the root', path);
    const n = this.existing(path);
    checkVersion(path, n, version);
    if (n.children.size > 0) throw notEmpty(path);
    const parentPath = parentOf(path);
    const parent = this.nodes.get(parentPath);
    if (!parent) throw new StoreError('AGORA_INTERNAL', 'node without a parent', path);
    touch(path);
    touch(parentPath);
    this.nodes.delete(path);
    parent.children.delete(basename(path));
    parent.cversion += 1;
  }

  private existing(path: string): TreeNode {
    const n = this.nodes.get(path);
    if (!n) throw noNode(path);
    return n;
  }

  /** Paths of the ephemeral nodes `session` owns. */
  ephemeralsOf(session: string): string[] {
    const out: string[] = [];
    for (const [path, n] of this.nodes) if (n.ephemeralOwner === session) out.push(path);
    return out;
  }

  /** Every persistent node, parents before children (for snapshots). */
  records(): NodeRecord[] {
    const out: NodeRecord[] = [];
    for (const [path, n] of this.nodes) if (n.ephemeralOwner === undefined) out.push(recordOf(path, n));
    return out.sort((a, b) => depth(a.path) - depth(b.path) || (a.path < b.path ? -1 : 1));
  }

  /**
   * After recovery: ephemeral children did not survive the restart; count their disappearance as
   * the deletions ZooKeeper would have made when their sessions expired.
   */
  settleAfterRecovery(): void {
    for (const n of this.nodes.values()) {
      const lost = n.seq - (n.cversion - n.seq) - n.children.size;
      if (lost > 0) n.cversion += lost;
    }
  }

  /** Recovery: put a persistent node (parents first) or remove one. */
  load(path: string, record: NodeRecord | null): void {
    if (record === null) {
      if (path === '/') return;
      this.nodes.delete(path);
      this.nodes.get(parentOf(path))?.children.delete(basename(path));
      return;
    }
    const existing = this.nodes.get(path);
    const node: TreeNode = {
      data: Buffer.from(record.data, 'base64'),
      version: record.version,
      cversion: record.cversion,
      seq: record.seq,
      ctime: record.ctime,
      mtime: record.mtime,
      ephemeralOwner: undefined,
      children: existing?.children ?? new Set(),
    };
    this.nodes.set(path, node);
    if (path !== '/') {
      const parent = this.nodes.get(parentOf(path));
      if (!parent) throw new StoreError('AGORA_INTERNAL', 'journal names a node whose parent is missing', path);
      parent.children.add(basename(path));
    }
  }
}

function emptyNode(now: number, owner: string | undefined): TreeNode {
  return { data: Buffer.alloc(0), version: 0, cversion: 0, seq: 0, ctime: now, mtime: now, ephemeralOwner: owner, children: new Set() };
}

function checkVersion(path: string, n: TreeNode, expected: number): void {
  if (expected !== -1 && expected !== n.version) throw badVersion(path, expected);
}

export function statOf(n: TreeNode): Stat {
  return {
    version: n.version,
    cversion: n.cversion,
    ctime: n.ctime,
    mtime: n.mtime,
    ephemeralOwner: n.ephemeralOwner,
    dataLength: n.data.length,
    numChildren: n.children.size,
  };
}

function recordOf(path: string, n: TreeNode): NodeRecord {
  return { path, data: n.data.toString('base64'), version: n.version, cversion: n.cversion, seq: n.seq, ctime: n.ctime, mtime: n.mtime };
}

function depth(path: string): number {
  return path === '/' ? 0 : path.split('/').length - 1;
}
