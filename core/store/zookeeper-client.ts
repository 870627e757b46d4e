// node-zookeeper-client (1.1.3) has no type definitions: this file types the part we use and
// converts its values (8-byte longs as Buffers, numeric error codes) into the Store's.
//
// It also mends one thing on load: the library throws `Error('Unknown code: …')` for any error
// code it was not written with (ZooKeeper 3.5+ added a dozen, e.g. -124 when the server enforces
// authentication) — from inside its socket's data handler, where nothing can catch it, so the
// process died (issue 17). Such codes now arrive as ordinary library exceptions, which
// fromZkCode turns into StoreErrors like any other. Codes no ZooKeeper sends — a reply read at
// the wrong offset — are the framing's business: zookeeper-framing.ts mends how replies are
// framed and drops the connection on any reply it cannot decode.

import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { StoreError, badVersion, connectionLoss, noChildrenForEphemerals, noNode, nodeExists, notEmpty, sessionExpired } from './store-errors.js';
import type { Stat } from './store.js';
import { mendFraming } from './zookeeper-framing.js';

export interface ZkStat {
  ctime: Buffer;
  mtime: Buffer;
  version: number;
  cversion: number;
  ephemeralOwner: Buffer;
  dataLength: number;
  numChildren: number;
}

export interface ZkException extends Error {
  getCode(): number;
}

export interface ZkEvent {
  getType(): number;
  getPath(): string;
}

export type ZkWatcher = (event: ZkEvent) => void;
type Cb<T extends unknown[]> = (err: ZkException | null | undefined, ...rest: T) => void;

export interface ZkState {
  getCode(): number;
  getName(): string;
}

/** One op as node-zookeeper-client's Transaction keeps it in `ops` (we fill versions ourselves). */
export interface ZkTxnOp {
  type: number;
  path: string;
  data?: Buffer;
  version?: number;
  mode?: number;
}

export interface ZkTransaction {
  ops: ZkTxnOp[];
  create(path: string, data: Buffer, acls: unknown[], mode: number): ZkTransaction;
  check(path: string, version: number): ZkTransaction;
  setData(path: string, data: Buffer, version: number): ZkTransaction;
  remove(path: string, version: number): ZkTransaction;
  commit(cb: Cb<[Array<{ type: number; path?: string; stat?: ZkStat; err?: number }> | undefined]>): void;
}

/** A packet as the library queues it (we look only at the request type). */
export interface ZkPacket {
  request: { header: { type: number } | null };
}

export interface ZkAclRecord {
  permission: number;
  id: { scheme: string; id: string };
}

export interface ZkClient extends EventEmitter {
  connect(): void;
  addAuthInfo(scheme: string, auth: Buffer): void;
  getACL(path: string, cb: Cb<[ZkAclRecord[], ZkStat]>): void;
  close(): void;
  getSessionId(): Buffer;
  getSessionPassword(): Buffer;
  getSessionTimeout(): number;
  getState(): ZkState;
  create(path: string, data: Buffer, acls: unknown[], mode: number, cb: Cb<[string]>): void;
  getData(path: string, watcher: ZkWatcher | undefined, cb: Cb<[Buffer | undefined, ZkStat]>): void;
  exists(path: string, watcher: ZkWatcher | undefined, cb: Cb<[ZkStat | null]>): void;
  getChildren(path: string, watcher: ZkWatcher | undefined, cb: Cb<[string[], ZkStat]>): void;
  setData(path: string, data: Buffer, version: number, cb: Cb<[ZkStat]>): void;
  remove(path: string, version: number, cb: Cb<[]>): void;
  transaction(): ZkTransaction;
  /**
   * Internals we rely on: the socket, to detect a silent server (the library only notices closed
   * sockets); the hook run when a socket connects and the queue it fills, to send credentials
   * before the operations that waited for the connection (zookeeper-auth.ts).
   */
  connectionManager: {
    socket?: Socket;
    connect(): void;
    onSocketConnected(): void;
    queue(request: unknown, callback?: unknown): void;
    packetQueue: { queue: ZkPacket[] };
    /** zookeeper-framing.ts: the latest moment the server is known to have held the session. */
    agoraVouchedAt?: number;
    /** zookeeper-framing.ts: pings sent and not yet answered. */
    agoraPings?: number[];
  };
}

interface ZkModule {
  createClient(connectionString: string, options: Record<string, unknown>): ZkClient;
  ACL: { OPEN_ACL_UNSAFE: unknown[]; CREATOR_ALL_ACL: unknown[]; READ_ACL_UNSAFE: unknown[] };
  CreateMode: { PERSISTENT: number; EPHEMERAL: number; PERSISTENT_SEQUENTIAL: number; EPHEMERAL_SEQUENTIAL: number };
  State: Record<'DISCONNECTED' | 'SYNC_CONNECTED' | 'AUTH_FAILED' | 'CONNECTED_READ_ONLY' | 'EXPIRED', ZkState>;
  Event: Record<'NODE_CREATED' | 'NODE_DELETED' | 'NODE_DATA_CHANGED' | 'NODE_CHILDREN_CHANGED', number>;
  Exception: Record<string, number>;
}

const require = createRequire(import.meta.url);
export const zk = require('node-zookeeper-client') as ZkModule;

/**
 * Error codes of ZooKeeper 3.8 that the library does not know (KeeperException.Code), by name.
 * -124: the server enforces authentication and this connection has none.
 */
const NEWER_CODES: Readonly<Record<number, string>> = {
  [-12]: 'UNKNOWN_SESSION',
  [-13]: 'NEW_CONFIG_NO_QUORUM',
  [-14]: 'RECONFIG_IN_PROGRESS',
  [-118]: 'SESSION_MOVED',
  [-119]: 'NOT_READ_ONLY',
  [-120]: 'EPHEMERAL_ON_LOCAL_SESSION',
  [-121]: 'NO_WATCHER',
  [-122]: 'REQUEST_TIMEOUT',
  [-123]: 'RECONFIG_DISABLED',
  [-124]: 'SESSION_CLOSED_REQUIRE_AUTH',
  [-125]: 'QUOTA_EXCEEDED',
  [-127]: 'THROTTLED_OP',
};
export const SESSION_CLOSED_REQUIRE_AUTH = -124;

/** Make the library's exception factory accept every code (see the top of this file). Idempotent. */
function acceptEveryCode(): void {
  const factory = zk.Exception as unknown as { create: ((code: number, path?: string) => ZkException) & { agoraPatched?: true } };
  const known = factory.create;
  if (known.agoraPatched) return;
  const prototype = Object.getPrototypeOf(known(zk.Exception.SYSTEM_ERROR as number)) as object;
  const create = (code: number, path?: string): ZkException => {
    try {
      return known(code, path);
    } catch {
      const name = NEWER_CODES[code] ?? 'UNKNOWN';
      const err = Object.create(prototype) as ZkException;
      Error.captureStackTrace(err, create);
      return Object.assign(err, { code, name, path, message: `Exception: ${name}[${code}]${path ? `@${path}` : ''}` });
    }
  };
  factory.create = Object.assign(create, { agoraPatched: true as const });
}
acceptEveryCode();
mendFraming();

/** Operation codes of multi results (node-zookeeper-client's jute.OP_CODES). */
export const OP = { CREATE: 1, DELETE: 2, SET_DATA: 5, CHECK: 13, ERROR: -1 } as const;
export const RUNTIME_INCONSISTENCY = -2;

export function longToNumber(buf: Buffer): number {
  return Number(buf.readBigInt64BE(0));
}

export function sessionIdHex(buf: Buffer): string {
  return buf.toString('hex');
}

export function toStat(s: ZkStat): Stat {
  const owner = s.ephemeralOwner.toString('hex');
  return {
    version: s.version,
    cversion: s.cversion,
    ctime: longToNumber(s.ctime),
    mtime: longToNumber(s.mtime),
    ephemeralOwner: /^0+$/.test(owner) ? undefined : owner,
    dataLength: s.dataLength,
    numChildren: s.numChildren,
  };
}

export function isConnectionLoss(err: unknown): boolean {
  const code = zkCode(err);
  return code === zk.Exception.CONNECTION_LOSS || code === zk.Exception.OPERATION_TIMEOUT;
}

export function zkCode(err: unknown): number | undefined {
  return err && typeof (err as ZkException).getCode === 'function' ? (err as ZkException).getCode() : undefined;
}

/** A ZooKeeper error code as the Store's typed error. */
export function fromZkCode(code: number, path: string | undefined, cause?: unknown, expectedVersion = -1): StoreError {
  const E = zk.Exception;
  const p = path ?? '';
  switch (code) {
    case E.NO_NODE:
      return noNode(p);
    case E.NODE_EXISTS:
      return nodeExists(p);
    case E.NOT_EMPTY:
      return notEmpty(p);
    case E.BAD_VERSION:
      return badVersion(p, expectedVersion);
    case E.NO_CHILDREN_FOR_EPHEMERALS:
      return noChildrenForEphemerals(p);
    case E.SESSION_EXPIRED:
      return sessionExpired('expired');
    case E.CONNECTION_LOSS:
    case E.OPERATION_TIMEOUT:
      return connectionLoss(path, cause);
    case E.BAD_ARGUMENTS:
      return new StoreError('AGORA_INVALID_ARGUMENT', 'ZooKeeper rejected the arguments', path, { zkCode: code }, cause);
    case E.NO_AUTH:
      return permissionDenied("not allowed by the node's ACL (the store's credentials are missing or others')", path, code, cause);
    case E.INVALID_ACL:
      return permissionDenied('ZooKeeper refused the ACL', path, code, cause);
    case E.AUTH_FAILED:
      return permissionDenied('ZooKeeper refused the credentials', path, code, cause);
    case SESSION_CLOSED_REQUIRE_AUTH:
      return permissionDenied('ZooKeeper requires credentials and the store has none', path, code, cause);
    default:
      return fromOtherCode(code, path, cause);
  }
}

function permissionDenied(reason: string, path: string | undefined, zkCode: number, cause: unknown): StoreError {
  return new StoreError('AGORA_PERMISSION_DENIED', reason, path, { zkCode }, cause);
}

/** Codes that need no special handling: named in the message, typed by what a caller can do. */
function fromOtherCode(code: number, path: string | undefined, cause: unknown): StoreError {
  const name = NEWER_CODES[code] ?? Object.entries(zk.Exception).find(([, c]) => c === code)?.[0] ?? 'UNKNOWN';
  const details = { zkCode: code, zkError: name };
  switch (name) {
    case 'QUOTA_EXCEEDED':
      return new StoreError('AGORA_RESOURCE_EXHAUSTED', 'ZooKeeper quota exceeded', path, details, cause);
    case 'SESSION_MOVED':
    case 'NOT_READ_ONLY':
    case 'REQUEST_TIMEOUT':
    case 'THROTTLED_OP':
      return new StoreError('AGORA_UNAVAILABLE', `ZooKeeper could not serve the request now (${name})`, path, details, cause);
    default:
      return new StoreError('AGORA_INTERNAL', `ZooKeeper error ${name} (${code})`, path, details, cause);
  }
}

export function fromZkError(err: unknown, path: string | undefined, expectedVersion = -1): StoreError {
  const code = zkCode(err);
  if (code === undefined) return new StoreError('AGORA_INTERNAL', err instanceof Error ? err.message : String(err), path, {}, err);
  return fromZkCode(code, path, err, expectedVersion);
}

/** Close a client (ending its session) and wait for the connection to drop, at most `timeoutMs`. */
export function closeClient(client: ZkClient, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const connected = client.getState().getCode() === zk.State.SYNC_CONNECTED.getCode();
    const timer = setTimeout(() => {
      client.connectionManager.socket?.destroy();
      resolve();
    }, connected ? timeoutMs : 0);
    timer.unref();
    client.once('disconnected', () => {
      clearTimeout(timer);
      resolve();
    });
    client.close();
  });
}
