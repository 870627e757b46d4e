// The framing of ZooKeeper replies in node-zookeeper-client (1.1.3), mended where it failed.
//
//   socket bytes ─► [length][frame][length][frame]…  ─► decode (pure: no state changes) ─► dispatch
//                        │ bad length                        │ cannot decode
//                        └───────────────► misframed: drop the socket ◄┘
//                                          (the library reconnects to the same session)
//
// The library kept the bytes of an unfinished frame (`pendingBuffer`) when its socket closed and
// read the next socket's first reply after them, so every reply that followed was read at the
// wrong offset. A reply's error code read from the middle of some other field ("Unknown code:
// 1455292426", upstream issues #23 and #70) was thrown from inside the socket's data handler,
// where nothing can catch it, and the process died. The same happened to any frame it could not
// decode: a truncated one, a length that is negative or absurd (it then recursed or allocated
// gigabytes), an event type or multi result it does not know.
//
// This module replaces ConnectionManager.prototype.onSocketData and connect, and wraps
// onSocketClosed:
//  - the bytes of an unfinished frame die with their socket;
//  - a socket's events count only while it is the manager's current socket (the library bound
//    every socket's handlers to the manager alike, so a late byte or `close` of an old socket
//    would have been read as the new one's);
//  - each frame is decoded whole, within its own bytes, before anything acts on it; a frame that
//    does not decode — or a reply whose xid is not the next one expected, or whose error code is no
//    ZooKeeper code — drops the socket. The library then fails the requests in flight with
//    CONNECTION_LOSS and reconnects, offering the same session: the session survives if it can,
//    and watches are set again (SET_WATCHES), so no event is lost;
//  - what a frame means is then done exactly as the library did it (session, xid, watchers,
//    callbacks), outside the decoding: an error thrown by a callback is not mistaken for bad bytes.
//
// It also keeps `vouchedAt`: the latest moment the server is known to have held the session — the
// time a request was sent (the connect request, a ping, an operation), credited when its reply
// arrives. Not the time the reply was read: bytes that sat in the socket while the process was
// frozen (SIGSTOP, a long pause) vouch only for the moment their request left, so a process
// resumed past its session timeout cannot take a stale ping reply for a live session.
//
// Applied once on load (installed by zookeeper-client.ts, before any client is created).
import { createRequire } from 'node:module';
import net from 'node:net';
import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

/** Longest reply accepted, as the Java client's default `jute.maxbuffer` on the client side. */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;

/** Library states we need (ConnectionManager.STATES). */
const DISCONNECTED = 0;
const CONNECTING = 1;
const CONNECTED = 2;
const SESSION_EXPIRED = -3;
const AUTHENTICATION_FAILED = -4;
const AUTH_FAILED_CODE = -115;
const CONNECTION_LOSS_CODE = -4;
const PASSWORD_BYTES = 16;

/** Known watch event types (Event.NODE_CREATED … NODE_CHILDREN_CHANGED). */
const EVENT_TYPES = new Set([1, 2, 3, 4]);

interface Record_ {
  deserialize(buffer: Buffer, offset: number): number;
  setChrootPath?(path: string): void;
}
interface ReplyHeader extends Record_ {
  xid: number;
  zxid: Buffer;
  err: number;
}
interface ConnectResponse extends Record_ {
  timeOut: number;
  sessionId: Buffer;
  passwd: Buffer | undefined;
}
interface WatcherEvent extends Record_ {
  type: number;
  path: string;
}
type RecordClass<T> = new () => T;

interface Jute {
  OP_CODES: Record<string, number>;
  XID_NOTIFICATION: number;
  XID_PING: number;
  XID_AUTHENTICATION: number;
  Response: new (header: ReplyHeader, payload: Record_ | null) => unknown;
  TransactionResponse: RecordClass<Record_>;
  protocol: Record<string, RecordClass<Record_>> & {
    ReplyHeader: RecordClass<ReplyHeader>;
    ConnectResponse: RecordClass<ConnectResponse>;
    WatcherEvent: RecordClass<WatcherEvent>;
  };
}

interface Request_ {
  header: { xid: number; type: number } | null;
  /** When the request was queued (set here): its reply vouches for the session as of then. */
  agoraQueuedAt?: number;
}

interface Packet {
  request: Request_;
  callback?: (err: unknown, response?: unknown) => void;
}

/** The ConnectionManager fields and methods the decoder and dispatcher use. */
export interface FramingManager extends EventEmitter {
  state: number;
  socket?: Socket;
  pendingBuffer: Buffer | null;
  pendingQueue: Packet[];
  chrootPath?: string;
  zxid: Buffer;
  sessionId: Buffer;
  sessionPassword: Buffer;
  serverAttempts: number;
  pingTimeout: number;
  watcherManager: { emit(event: WatcherEvent): void };
  setState(state: number): void;
  updateTimeout(timeoutMs: number): void;
  onPacketQueueReadable(): void;
  onSocketTimeout(): void;
  onSocketClosed(hadError?: boolean): void;
  onSocketData(chunk: Buffer): void;
  connect(): void;
  onSocketConnected(): void;
  onSocketError(err: Error): void;
  onSocketDrain(): void;
  onSocketConnectTimeout(): void;
  cleanupPendingQueue(code: number): void;
  findNextServer(callback: (server: net.NetConnectOpts) => void): void;
  connectTimeout: number;
  connectTimeoutHandler: NodeJS.Timeout | null;
  queue(request: Request_, callback?: unknown): void;
  /** Epoch ms: the latest send time of a request whose reply arrived (0: none yet). */
  agoraVouchedAt?: number;
  /** When the current socket's connect request was sent. */
  agoraConnectAt?: number;
  /** Send times of the pings awaiting a reply, oldest first. */
  agoraPings?: number[];
}

type Decoded =
  | { readonly kind: 'connect'; readonly response: ConnectResponse }
  | { readonly kind: 'ping' }
  | { readonly kind: 'auth'; readonly err: number }
  | { readonly kind: 'notification'; readonly event: WatcherEvent }
  | { readonly kind: 'reply'; readonly header: ReplyHeader; readonly payload: Record_ | null };

/** A frame that does not decode; its message says why (the socket is dropped for it). */
export class MisframedReply extends Error {
  override readonly name = 'MisframedReply';
}

const require = createRequire(import.meta.url);

/** Install the mended framing on the library's ConnectionManager. Idempotent. */
export function mendFraming(): void {
  const Manager = require('node-zookeeper-client/lib/ConnectionManager.js') as { prototype: FramingManager & { agoraFraming?: true } };
  const jute = require('node-zookeeper-client/lib/jute/index.js') as Jute;
  const Exception = require('node-zookeeper-client/lib/Exception.js') as { create(code: number): unknown };
  const proto = Manager.prototype;
  if (proto.agoraFraming) return;
  const closed = proto.onSocketClosed;
  proto.onSocketClosed = function (this: FramingManager, hadError?: boolean) {
    this.pendingBuffer = null; // the rest of a frame will never come: it died with its socket
    this.agoraPings = []; // and so will their replies
    closed.call(this, hadError);
  };
  const connected = proto.onSocketConnected;
  proto.onSocketConnected = function (this: FramingManager) {
    this.agoraConnectAt = Date.now();
    connected.call(this);
  };
  const queue = proto.queue;
  proto.queue = function (this: FramingManager, request: Request_, callback?: unknown) {
    request.agoraQueuedAt = Date.now();
    if (request.header?.type === jute.OP_CODES['PING']) (this.agoraPings ??= []).push(request.agoraQueuedAt);
    queue.call(this, request, callback);
  };
  proto.onSocketData = function (this: FramingManager, chunk: Buffer) {
    onSocketData(this, chunk, jute, Exception);
  };
  proto.connect = function (this: FramingManager) {
    connect(this);
  };
  proto.agoraFraming = true;
}

/** The library's connect, with each socket's handlers acting only while it is the current one. */
function connect(manager: FramingManager): void {
  const previous = manager.socket;
  if (previous && !previous.destroyed) {
    // Never two live connections: end this one as its close would have (its `close` event is
    // ignored below): what it owed will not come on the next one.
    manager.socket = undefined;
    previous.destroy();
    manager.cleanupPendingQueue(CONNECTION_LOSS_CODE);
    manager.setState(DISCONNECTED);
  }
  manager.setState(CONNECTING);
  manager.findNextServer((server) => {
    const socket = net.connect(server);
    manager.socket = socket;
    manager.pendingBuffer = null;
    const current = (): boolean => manager.socket === socket;
    if (manager.connectTimeoutHandler) clearTimeout(manager.connectTimeoutHandler);
    manager.connectTimeoutHandler = setTimeout(() => (current() ? manager.onSocketConnectTimeout() : socket.destroy()), manager.connectTimeout);
    socket.setNoDelay();
    // Looked up when called: zookeeper-auth.ts puts its own onSocketConnected on the instance.
    socket.on('connect', () => current() && manager.onSocketConnected());
    socket.on('data', (chunk: Buffer) => current() && manager.onSocketData(chunk));
    socket.on('drain', () => current() && manager.onSocketDrain());
    socket.on('close', (hadError: boolean) => current() && manager.onSocketClosed(hadError));
    socket.on('error', (err: Error) => current() && manager.onSocketError(err));
  });
}

function onSocketData(manager: FramingManager, chunk: Buffer, jute: Jute, exception: { create(code: number): unknown }): void {
  const socket = manager.socket;
  let buffer = manager.pendingBuffer ? Buffer.concat([manager.pendingBuffer, chunk]) : chunk;
  manager.pendingBuffer = null;
  while (buffer.length >= 4) {
    const size = buffer.readInt32BE(0);
    if (size < 0 || size > MAX_FRAME_BYTES) return misframed(manager, `a frame length of ${size} bytes`);
    if (buffer.length < size + 4) break;
    const frame = buffer.subarray(4, size + 4);
    buffer = buffer.subarray(size + 4);
    let decoded: Decoded;
    try {
      decoded = decodeFrame(manager, frame, jute);
    } catch (err) {
      return misframed(manager, err instanceof Error ? err.message : String(err));
    }
    dispatch(manager, decoded, jute, exception);
    // Acting on a frame may end this connection (a closed session, a failed authentication):
    // what followed on it is not for the next one.
    if (manager.socket !== socket || socket?.destroyed) return;
  }
  manager.pendingBuffer = buffer.length > 0 ? Buffer.from(buffer) : null;
}

/** Drop the connection: the library fails what is in flight and reconnects to the same session. */
function misframed(manager: FramingManager, reason: string): void {
  manager.pendingBuffer = null;
  manager.emit('misframed', reason);
  manager.socket?.destroy();
}

/**
 * What one frame (without its length) says, given what the connection expects. Pure: changes
 * nothing on `manager`. Throws MisframedReply (or the library's own decoding error) when the frame
 * cannot be what it claims to be.
 */
export function decodeFrame(manager: Pick<FramingManager, 'state' | 'pendingQueue' | 'chrootPath'>, frame: Buffer, jute: Jute): Decoded {
  if (manager.state === CONNECTING) {
    const response = read(new jute.protocol.ConnectResponse(), frame, 0, manager.chrootPath);
    // A server may append one byte (read-only mode) after the password.
    if (response.end < frame.length - 1) throw new MisframedReply(`a connect response with ${frame.length - response.end} bytes too many`);
    if (response.record.timeOut > 0 && response.record.passwd?.length !== PASSWORD_BYTES) throw new MisframedReply('a connect response without a 16-byte password');
    return { kind: 'connect', response: response.record };
  }
  const { record: header, end } = read(new jute.protocol.ReplyHeader(), frame, 0, manager.chrootPath);
  if (!isZooKeeperCode(header.err)) throw new MisframedReply(`a reply with error code ${header.err}, which no ZooKeeper sends`);
  switch (header.xid) {
    case jute.XID_PING:
      return { kind: 'ping' };
    case jute.XID_AUTHENTICATION:
      return { kind: 'auth', err: header.err };
    case jute.XID_NOTIFICATION: {
      const event = read(new jute.protocol.WatcherEvent(), frame, end, manager.chrootPath).record;
      if (!EVENT_TYPES.has(event.type)) throw new MisframedReply(`a watch event of unknown type ${event.type}`);
      return { kind: 'notification', event };
    }
    default:
      break;
  }
  const pending = manager.pendingQueue[0];
  if (!pending?.request.header) throw new MisframedReply(`a reply (xid ${header.xid}) to no request`);
  if (pending.request.header.xid !== header.xid) throw new MisframedReply(`a reply with xid ${header.xid} where ${pending.request.header.xid} was expected`);
  if (header.err !== 0) return { kind: 'reply', header, payload: null };
  const payload = payloadFor(pending.request.header.type, jute);
  if (payload === undefined) throw new MisframedReply(`a reply to a request of unknown type ${pending.request.header.type}`);
  if (payload !== null) read(payload, frame, end, manager.chrootPath);
  return { kind: 'reply', header, payload };
}

/** ZooKeeper's error codes: 0, system errors -1…-99, API errors -100…-199 (KeeperException.Code). */
function isZooKeeperCode(code: number): boolean {
  return code <= 0 && code > -200;
}

/** An empty response record for a request type; null where the reply is the header alone. */
function payloadFor(type: number, jute: Jute): Record_ | null | undefined {
  const op = jute.OP_CODES as Record<string, number>;
  const p = jute.protocol;
  const records: Record<number, () => Record_ | null> = {
    [op['CREATE'] as number]: () => new (p['CreateResponse'] as RecordClass<Record_>)(),
    [op['DELETE'] as number]: () => null,
    [op['GET_CHILDREN2'] as number]: () => new (p['GetChildren2Response'] as RecordClass<Record_>)(),
    [op['EXISTS'] as number]: () => new (p['ExistsResponse'] as RecordClass<Record_>)(),
    [op['SET_DATA'] as number]: () => new (p['SetDataResponse'] as RecordClass<Record_>)(),
    [op['GET_DATA'] as number]: () => new (p['GetDataResponse'] as RecordClass<Record_>)(),
    [op['SET_ACL'] as number]: () => new (p['SetACLResponse'] as RecordClass<Record_>)(),
    [op['GET_ACL'] as number]: () => new (p['GetACLResponse'] as RecordClass<Record_>)(),
    [op['SET_WATCHES'] as number]: () => null,
    [op['CLOSE_SESSION'] as number]: () => null,
    [op['MULTI'] as number]: () => new jute.TransactionResponse(),
  };
  return records[type]?.();
}

/**
 * Decode `record` from `frame` at `offset`, never past the frame's end. The library sizes a
 * buffer from the length it reads before checking it against the bytes there (a garbage length
 * would allocate up to 2 GiB); while one frame decodes, no allocation larger than the frame is
 * allowed. Synchronous: nothing else runs while Buffer.alloc is guarded.
 */
function read<T extends Record_>(record: T, frame: Buffer, offset: number, chroot: string | undefined): { record: T; end: number } {
  if (offset >= frame.length) throw new MisframedReply(`a frame of ${frame.length} bytes, cut short`);
  if (chroot) record.setChrootPath?.(chroot);
  const alloc = Buffer.alloc;
  Buffer.alloc = function (size: number, ...rest: unknown[]): Buffer {
    if (size > frame.length) throw new MisframedReply(`a field of ${size} bytes in a frame of ${frame.length}`);
    return (alloc as (...args: unknown[]) => Buffer).call(Buffer, size, ...rest);
  } as typeof Buffer.alloc;
  let end: number;
  try {
    end = offset + record.deserialize(frame, offset);
  } finally {
    Buffer.alloc = alloc;
  }
  if (end > frame.length) throw new MisframedReply(`a frame of ${frame.length} bytes, read to byte ${end}`);
  return { record, end };
}

/** Act on a decoded frame exactly as the library did. */
function dispatch(manager: FramingManager, decoded: Decoded, jute: Jute, exception: { create(code: number): unknown }): void {
  switch (decoded.kind) {
    case 'connect': {
      const response = decoded.response;
      if (response.timeOut <= 0) {
        manager.setState(SESSION_EXPIRED);
        return;
      }
      vouch(manager, manager.agoraConnectAt);
      manager.serverAttempts = 0;
      manager.sessionId = response.sessionId;
      manager.sessionPassword = response.passwd as Buffer;
      manager.updateTimeout(response.timeOut);
      manager.setState(CONNECTED);
      manager.onPacketQueueReadable();
      manager.socket?.setTimeout(manager.pingTimeout, manager.onSocketTimeout.bind(manager));
      return;
    }
    case 'ping':
      vouch(manager, manager.agoraPings?.shift());
      return;
    case 'auth':
      if (decoded.err === AUTH_FAILED_CODE) manager.setState(AUTHENTICATION_FAILED);
      return;
    case 'notification':
      manager.watcherManager.emit(decoded.event);
      return;
    case 'reply': {
      const pending = manager.pendingQueue.shift() as Packet;
      const { header, payload } = decoded;
      vouch(manager, pending.request.agoraQueuedAt);
      if (header.zxid) manager.zxid = header.zxid;
      if (header.err === 0) pending.callback?.(null, new jute.Response(header, payload));
      else pending.callback?.(exception.create(header.err), new jute.Response(header, null));
      return;
    }
  }
}

function vouch(manager: FramingManager, sentAt: number | undefined): void {
  if (sentAt !== undefined && sentAt > (manager.agoraVouchedAt ?? 0)) manager.agoraVouchedAt = sentAt;
}

/** Ask the server to vouch for the session now (a ping; its reply moves `agoraVouchedAt`). */
export function sendPing(manager: Pick<FramingManager, 'queue'>): void {
  const jute = require('node-zookeeper-client/lib/jute/index.js') as Jute & {
    Request: new (header: unknown, payload: null) => Request_;
    protocol: { RequestHeader: new (xid: number, type: number) => unknown };
  };
  manager.queue(new jute.Request(new jute.protocol.RequestHeader(jute.XID_PING, jute.OP_CODES['PING'] as number), null));
}
