// The Store: a small hierarchical, versioned key-value store with ZooKeeper's semantics — znodes
// addressed by path, compare-and-set on a per-node version, ephemeral and sequential nodes tied to a
// session, one-shot watches. Two backends (ZooKeeper, embedded) pass one contract suite
// (test/support/store-contract.ts); everything above them (registry, election, the SDK's state
// store) is written against this file only. See core/store/README.md for the semantics in full.

import type { StoreCredentials } from './credentials.js';

/**
 * How a node is created. Sequential nodes get a 10-digit, zero-padded counter appended to their
 * name (taken from the parent's `cversion`, as ZooKeeper does); ephemeral nodes vanish when the
 * session that created them closes or expires, and cannot have children.
 */
export type CreateMode = 'persistent' | 'ephemeral' | 'sequential' | 'ephemeral-sequential';

export interface Stat {
  /** Bumped by every `set` of the node's data (starts at 0). The compare-and-set token. */
  readonly version: number;
  /** Bumped by every create or delete of a direct child (starts at 0). */
  readonly cversion: number;
  /** Creation and last-modification time, ms since the epoch (server clock). */
  readonly ctime: number;
  readonly mtime: number;
  /** The owning session's id (16 hex digits) for an ephemeral node; undefined otherwise. */
  readonly ephemeralOwner: string | undefined;
  readonly dataLength: number;
  readonly numChildren: number;
}

export interface NodeData {
  readonly data: Buffer;
  readonly stat: Stat;
}

export interface JsonNode<T> {
  readonly value: T;
  readonly stat: Stat;
}

/**
 * What a one-shot watch reports. `sessionExpired` means the session holding the watch is gone:
 * anything may have changed, read again (on the store's new session).
 */
export type WatchEventType = 'created' | 'deleted' | 'dataChanged' | 'childrenChanged' | 'sessionExpired';

export interface WatchEvent {
  readonly type: WatchEventType;
  /** The watched path, relative to the store's chroot. */
  readonly path: string;
}

/** A one-shot watch callback. The same function registered twice on the same path fires once. */
export type Watcher = (event: WatchEvent) => void;

export interface ReadOptions {
  /**
   * Leave a one-shot watch behind if the read succeeds. `get` sets a data watch (fires on
   * dataChanged, deleted); `exists` sets a data watch when the node exists and an existence watch
   * (fires on created) when it does not; `getChildren` sets a child watch (fires on
   * childrenChanged, deleted).
   */
  readonly watch?: Watcher;
}

/**
 * Who may touch a node the store creates, when the store has credentials (ZooKeeper): `private`
 * (default) is ZooKeeper's CREATOR_ALL_ACL, everything for holders of the store's credentials and
 * nothing for anyone else; `world-readable` adds READ for everyone (`world:anyone`), for what
 * readers without credentials must see (the leader election). Without credentials every node is
 * open to all (OPEN_ACL_UNSAFE), and the embedded backend (in-process) ignores it. A node keeps the
 * ACL it was created with.
 */
export type NodeAcl = 'private' | 'world-readable';

export interface CreateOptions {
  readonly mode?: CreateMode;
  /** Create missing ancestors (as empty persistent, private nodes) first, like `mkdir -p`. */
  readonly createParents?: boolean;
  /** The node's ACL (not its ancestors'). Default 'private'. */
  readonly acl?: NodeAcl;
}

export interface MkdirpOptions {
  /** The ACL of the node at `path` if created; missing ancestors are private. Default 'private'. */
  readonly acl?: NodeAcl;
}

/** One operation of a `multi` transaction. `version: -1` (the default) matches any version. */
export type Op =
  | { readonly op: 'check'; readonly path: string; readonly version: number }
  | { readonly op: 'create'; readonly path: string; readonly data?: Uint8Array; readonly mode?: CreateMode; readonly acl?: NodeAcl }
  | { readonly op: 'set'; readonly path: string; readonly data: Uint8Array; readonly version?: number }
  | { readonly op: 'delete'; readonly path: string; readonly version?: number };

export type OpResult =
  | { readonly op: 'check' }
  | { readonly op: 'create'; readonly path: string }
  | { readonly op: 'set'; readonly stat: Stat }
  | { readonly op: 'delete' };

/**
 * - `connecting`: opening the first session (only before `openStore` resolves) or a new one after
 *   expiry; operations queue.
 * - `connected`: the session is live.
 * - `suspended`: contact with the server is lost; the session (and its ephemerals) may still be
 *   alive and may come back (`reconnected`) or turn out to have expired. Operations queue.
 * - `closed`: `close()` was called; every operation fails with AGORA_SESSION_EXPIRED.
 */
export type SessionState = 'connecting' | 'connected' | 'suspended' | 'closed';

/**
 * Session events:
 * - `connected`: a (new) session is established — at open, and again after `expired`.
 * - `suspended`: lost contact; stop doing anything that needs the session's ephemerals (leadership).
 * - `reconnected`: contact is back with the SAME session; ephemerals and watches survived.
 * - `expired`: the session is gone with its ephemerals; outstanding watches fire `sessionExpired`,
 *   operations in flight fail with AGORA_SESSION_EXPIRED, and the store opens a new session at
 *   once (a `connected` follows). Owners of ephemerals must re-create them.
 * - `closed`: `close()` finished.
 */
export type SessionEvent = 'connected' | 'suspended' | 'reconnected' | 'expired' | 'closed';

export type SessionListener = (event: SessionEvent) => void;
export type Unsubscribe = () => void;

export interface SubscribeOptions {
  /** Called when a re-read fails for a reason other than the store closing. */
  readonly onError?: (err: unknown) => void;
}

export interface Store extends AsyncDisposable {
  readonly kind: 'zookeeper' | 'embedded';
  /** The prefix under which every path of this store lives ('' for none). */
  readonly chroot: string;
  readonly state: SessionState;
  /** The current session's id (16 hex digits); changes after `expired`. */
  readonly sessionId: string;
  /** The negotiated session timeout. */
  readonly sessionTimeoutMs: number;
  /**
   * Milliseconds since the server last gave a sign of life on this session (0 for the embedded
   * store while connected; Infinity when not connected). A leader acts only while this is well
   * under the session timeout: after a long pause (SIGSTOP, a partition) its session may already
   * have expired, and another leader may have been elected, before the client has noticed.
   */
  contactAgeMs(): number;

  onSession(listener: SessionListener): Unsubscribe;

  /** Create a node; resolves with its path (with the sequence suffix for sequential modes). */
  create(path: string, data?: Uint8Array, options?: CreateOptions): Promise<string>;
  get(path: string, options?: ReadOptions): Promise<NodeData>;
  /** The node's stat, or undefined when it does not exist. */
  exists(path: string, options?: ReadOptions): Promise<Stat | undefined>;
  /** Names (not paths) of the children, sorted. */
  getChildren(path: string, options?: ReadOptions): Promise<string[]>;
  /** Compare-and-set: fails with AGORA_BAD_VERSION unless `version` is -1 or the node's version. */
  set(path: string, data: Uint8Array, version?: number): Promise<Stat>;
  /** Fails with AGORA_NOT_EMPTY when the node has children, AGORA_BAD_VERSION on a mismatch. */
  delete(path: string, version?: number): Promise<void>;
  /** All operations or none, atomically. On failure the AgoraError carries `details.index`. */
  multi(ops: readonly Op[]): Promise<OpResult[]>;

  createJson(path: string, value: unknown, options?: CreateOptions): Promise<string>;
  getJson<T>(path: string, options?: ReadOptions): Promise<JsonNode<T>>;
  setJson(path: string, value: unknown, version?: number): Promise<Stat>;
  /** Create the path and any missing ancestors as empty persistent nodes; no error if present. */
  mkdirp(path: string, options?: MkdirpOptions): Promise<void>;
  /** Delete the node and everything under it; no error if it is missing. */
  deleteRecursive(path: string): Promise<void>;

  /**
   * Follow a node: `listener` gets the current data (undefined while the node does not exist) once
   * at start and again after every change. The watch re-arms itself, also across reconnects and
   * session expiry; changes in quick succession may be seen as one (the latest).
   */
  watchData(path: string, listener: (node: NodeData | undefined) => void, options?: SubscribeOptions): Unsubscribe;
  /** Follow a node's children (sorted names; undefined while the node does not exist), as above. */
  watchChildren(path: string, listener: (children: string[] | undefined) => void, options?: SubscribeOptions): Unsubscribe;

  /** End the session: its ephemerals are deleted; further calls fail with AGORA_SESSION_EXPIRED. */
  close(): Promise<void>;
}

/** Options every backend takes. */
export interface StoreOptions {
  /** Requested session timeout; ZooKeeper may negotiate it into [2, 20] × tickTime. Default 10 s. */
  readonly sessionTimeoutMs?: number;
  /** Prefix every path with this (e.g. '/agora'); created (private) on open if missing. */
  readonly chroot?: string;
  /**
   * Create the chroot on open if missing (default true). Readers that only follow the election
   * pass false: they never write, so a reader without credentials, started before the masters,
   * does not leave a chroot open to all behind.
   */
  readonly createChroot?: boolean;
  /**
   * ZooKeeper: digest credentials, sent on every connection before any operation; nodes are then
   * created with ACLs (see NodeAcl). The embedded backend is in-process and ignores them.
   */
  readonly credentials?: StoreCredentials;
}

export const DEFAULT_SESSION_TIMEOUT_MS = 10_000;
