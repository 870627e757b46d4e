// The ZooKeeper backend, on node-zookeeper-client. The chroot is applied by BaseStore (not by the
// library), so both backends share one path mapping. What the library does not do, this does:
//  - detect a silent server (SIGSTOPped, partitioned): no bytes for 2/3 of the session timeout
//    (the Java client's read timeout) drops the socket, which makes the library report the
//    disconnection and reconnect;
//  - know for how long the session is vouched for: contactAgeMs() counts from the send time of
//    the latest request the server answered (zookeeper-framing.ts), and a ping goes out when that
//    is a third of the session timeout old, so a busy or idle connection stays vouched for and a
//    process resumed from a freeze is not;
//  - fail operations queued on a session that expired (the library leaves them hanging);
//  - retry reads across a connection loss (writes report AGORA_UNAVAILABLE: outcome unknown);
//  - open a new session after expiry, as the Store contract says;
//  - with credentials, authenticate first on every connection and create nodes under ACLs
//    (zookeeper-auth.ts); a server refusing the credentials fails every call, typed.

import type { Socket } from 'node:net';
import { UnavailableError } from '../errors.js';
import { DEFAULT_SESSION_TIMEOUT_MS, type CreateMode, type NodeAcl, type NodeData, type Op, type OpResult, type Stat, type StoreOptions } from './store.js';
import { BaseStore, type ServerEventType, type WatchHook } from './base-store.js';
import { atIndex, sessionExpired, StoreError } from './store-errors.js';
import { aclFor, authenticate } from './zookeeper-auth.js';
import { sendPing } from './zookeeper-framing.js';
import type { StoreCredentials } from './credentials.js';
import {
  OP,
  RUNTIME_INCONSISTENCY,
  closeClient,
  fromZkCode,
  fromZkError,
  isConnectionLoss,
  sessionIdHex,
  toStat,
  zk,
  type ZkClient,
  type ZkState,
  type ZkWatcher,
} from './zookeeper-client.js';

export interface ZooKeeperStoreOptions extends StoreOptions {
  /** How long `open` waits for the first session before failing with AGORA_UNAVAILABLE. Default 15 s. */
  readonly connectTimeoutMs?: number;
}

interface InFlight {
  readonly client: ZkClient;
  readonly reject: (err: unknown) => void;
}

const CREATE_MODES: Record<CreateMode, number> = {
  persistent: zk.CreateMode.PERSISTENT,
  ephemeral: zk.CreateMode.EPHEMERAL,
  sequential: zk.CreateMode.PERSISTENT_SEQUENTIAL,
  'ephemeral-sequential': zk.CreateMode.EPHEMERAL_SEQUENTIAL,
};

const EVENT_TYPES: Record<number, ServerEventType> = {
  [zk.Event.NODE_CREATED]: 'created',
  [zk.Event.NODE_DELETED]: 'deleted',
  [zk.Event.NODE_DATA_CHANGED]: 'dataChanged',
  [zk.Event.NODE_CHILDREN_CHANGED]: 'childrenChanged',
};

export class ZooKeeperStore extends BaseStore {
  readonly kind = 'zookeeper' as const;
  private client!: ZkClient;
  private watcher!: ZkWatcher;
  private readonly inFlight = new Set<InFlight>();
  private readonly requestedTimeoutMs: number;
  private lastHeard = Date.now();
  private readonly heardSockets = new WeakSet<Socket>();
  private readonly liveness: NodeJS.Timeout;
  readonly #credentials: StoreCredentials | undefined;
  /** Set once the server refused the credentials: every call fails with it from then on. */
  #refused: StoreError | undefined;

  private constructor(
    /** 'host:port,host:port' */
    readonly servers: string,
    options: ZooKeeperStoreOptions,
  ) {
    super(options.chroot);
    this.#credentials = options.credentials;
    this.requestedTimeoutMs = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    this.liveness = setInterval(() => this.checkLiveness(), Math.max(50, Math.floor(this.requestedTimeoutMs / 10)));
    this.liveness.unref();
  }

  static async open(servers: string, options: ZooKeeperStoreOptions = {}): Promise<ZooKeeperStore> {
    const store = new ZooKeeperStore(servers, options);
    const timeoutMs = options.connectTimeoutMs ?? 15_000;
    const connected = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new UnavailableError(`could not reach ZooKeeper at ${servers} within ${timeoutMs} ms`, { details: { servers } })),
        timeoutMs,
      );
      const off = store.onSession((e) => {
        if (e !== 'connected') return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
    store.startClient();
    try {
      await connected;
      // A first round trip also shows the server took the credentials (else: PERMISSION_DENIED).
      if (store.chroot !== '' && options.createChroot !== false) await store.mkdirpAbs(store.chroot);
      else if (store.#credentials) await store.rawExists(store.chroot || '/', undefined);
      return store;
    } catch (err) {
      await store.close().catch(() => undefined);
      throw err;
    }
  }

  get sessionId(): string {
    return sessionIdHex(this.client.getSessionId());
  }

  /** The timeout the server granted (the requested one until connected). */
  get sessionTimeoutMs(): number {
    return this.state === 'connected' || this.state === 'suspended' ? this.client.getSessionTimeout() : this.requestedTimeoutMs;
  }

  private startClient(): void {
    const client = zk.createClient(this.servers, { sessionTimeout: this.requestedTimeoutMs, spinDelay: 100, retries: 0 });
    if (this.#credentials) authenticate(client, this.#credentials);
    this.client = client;
    this.watcher = (event) => {
      const type = EVENT_TYPES[event.getType()];
      if (client === this.client && type) this.deliver(type, event.getPath());
    };
    client.on('state', (state: ZkState) => {
      if (client === this.client && this.state !== 'closed') this.onClientState(state);
    });
    client.connect();
  }

  private onClientState(state: ZkState): void {
    switch (state.getCode()) {
      case zk.State.SYNC_CONNECTED.getCode():
        this.heard();
        this.sessionEvent(this.state === 'suspended' ? 'reconnected' : 'connected');
        return;
      case zk.State.DISCONNECTED.getCode():
        if (this.state === 'connected') this.sessionEvent('suspended');
        return;
      case zk.State.EXPIRED.getCode():
        this.renewSession();
        return;
      case zk.State.AUTH_FAILED.getCode():
        // The server closes the connection and the library gives up on it: fail now, not hang.
        this.#refused = new StoreError('AGORA_PERMISSION_DENIED', 'ZooKeeper refused the store\'s credentials', undefined, { zkCode: zk.Exception.AUTH_FAILED });
        this.failInFlight(this.client, this.#refused);
        return;
      default:
        return;
    }
  }

  /** The session is gone: fail what was in flight on it, start a new one, then tell listeners. */
  private renewSession(): void {
    const old = this.client;
    this.failInFlight(old, sessionExpired('expired'));
    this.startClient();
    this.sessionEvent('expired');
  }

  private failInFlight(client: ZkClient, err: StoreError): void {
    for (const entry of [...this.inFlight]) {
      if (entry.client !== client) continue;
      this.inFlight.delete(entry);
      entry.reject(err);
    }
  }

  private heard(): void {
    this.lastHeard = Date.now();
    const socket = this.client.connectionManager.socket;
    if (socket && !this.heardSockets.has(socket)) {
      this.heardSockets.add(socket);
      socket.on('data', () => {
        if (socket === this.client.connectionManager.socket) this.lastHeard = Date.now();
      });
    }
  }

  /** Since the send time of the latest request the server answered: the session was alive then. */
  protected override lastContactAge(): number {
    return Date.now() - (this.client.connectionManager.agoraVouchedAt ?? 0);
  }

  protected override suspendedContactAge(): number {
    return this.lastContactAge();
  }

  /**
   * No bytes for 2/3 of the session timeout while "connected": the server is gone silent. No
   * answer vouching for the session for 1/3 of it (say, only watch events arrive, which vouch for
   * nothing, and keep the library from pinging): ask for one.
   */
  private checkLiveness(): void {
    if (this.state !== 'connected') return;
    const timeout = this.client.getSessionTimeout();
    const manager = this.client.connectionManager;
    if (Date.now() - this.lastHeard > (timeout * 2) / 3) {
      manager.socket?.destroy();
      return;
    }
    if (this.lastContactAge() > timeout / 3 && (manager.agoraPings?.length ?? 0) === 0) sendPing(manager);
  }

  // ---- test hooks ----

  /**
   * Expire this store's session for real: a second client joins the same session (the server drops
   * our connection) and closes it (the server ends the session, deleting its ephemerals). Our
   * client's reconnection is held back meanwhile — else it could win the session back before the
   * close — and then learns from the server that its session has expired, as a client coming back
   * from a partition does. Resolves once this store has seen `expired`.
   */
  async expireSession(): Promise<void> {
    this.assertOpen();
    const manager = this.client.connectionManager;
    const connect = manager.connect;
    let reconnect = false;
    manager.connect = () => {
      reconnect = true;
    };
    const seen = new Promise<void>((resolve) => {
      const off = this.onSession((e) => {
        if (e === 'expired' || e === 'closed') {
          off();
          resolve();
        }
      });
    });
    try {
      await this.closeDuplicateSession();
    } finally {
      manager.connect = connect;
      if (reconnect) connect.call(manager);
    }
    await seen;
  }

  /** Drop the TCP connection: the client reconnects to the same session (`suspended`, `reconnected`). */
  dropConnection(): void {
    this.assertOpen();
    this.client.connectionManager.socket?.destroy();
  }

  private async closeDuplicateSession(): Promise<void> {
    const dup = zk.createClient(this.servers, {
      sessionTimeout: this.requestedTimeoutMs,
      sessionId: this.client.getSessionId(),
      sessionPassword: this.client.getSessionPassword(),
      spinDelay: 100,
    });
    if (this.#credentials) authenticate(dup, this.#credentials);
    await new Promise<void>((resolve) => {
      dup.once('connected', () => resolve());
      dup.connect();
    });
    await closeClient(dup, 5_000);
  }

  // ---- primitives ----

  /** Run one library call on the current client, failing it if that session expires first. */
  private call<T>(run: (client: ZkClient, done: (err: unknown, value?: T) => void) => void): Promise<T> {
    this.assertOpen();
    if (this.#refused) return Promise.reject(this.#refused);
    const client = this.client;
    return new Promise<T>((resolve, reject) => {
      const entry: InFlight = { client, reject };
      this.inFlight.add(entry);
      run(client, (err, value) => {
        if (!this.inFlight.delete(entry)) return;
        if (err) reject(err);
        else resolve(value as T);
      });
    });
  }

  /** Reads are idempotent: retry them across connection losses until the session ends. */
  private async read<T>(path: string, run: (client: ZkClient, done: (err: unknown, value?: T) => void) => void): Promise<T> {
    for (;;) {
      try {
        return await this.call(run);
      } catch (err) {
        if (isConnectionLoss(err) && this.state !== 'closed') continue;
        throw this.state === 'closed' ? sessionExpired('closed') : toStoreError(err, path);
      }
    }
  }

  private async write<T>(path: string, version: number, run: (client: ZkClient, done: (err: unknown, value?: T) => void) => void): Promise<T> {
    try {
      return await this.call(run);
    } catch (err) {
      throw this.state === 'closed' && isConnectionLoss(err) ? sessionExpired('closed') : toStoreError(err, path, version);
    }
  }

  protected rawCreate(path: string, data: Buffer, mode: CreateMode, acl: NodeAcl): Promise<string> {
    return this.write<string>(path, -1, (c, done) => c.create(path, data, this.acl(acl), CREATE_MODES[mode], done));
  }

  private acl(acl: NodeAcl | undefined): unknown[] {
    return aclFor(acl ?? 'private', this.#credentials !== undefined);
  }

  protected rawGet(path: string, hook: WatchHook | undefined): Promise<NodeData> {
    return this.read<NodeData>(path, (c, done) =>
      c.getData(path, hook ? this.watcher : undefined, (err, data, stat) => {
        if (err) return done(err);
        hook?.('data');
        done(null, { data: data ?? Buffer.alloc(0), stat: toStat(stat) });
      }),
    );
  }

  protected rawExists(path: string, hook: WatchHook | undefined): Promise<Stat | undefined> {
    return this.read<Stat | undefined>(path, (c, done) =>
      c.exists(path, hook ? this.watcher : undefined, (err, stat) => {
        if (err) return done(err);
        hook?.(stat ? 'data' : 'exist');
        done(null, stat ? toStat(stat) : undefined);
      }),
    );
  }

  protected rawGetChildren(path: string, hook: WatchHook | undefined): Promise<string[]> {
    return this.read<string[]>(path, (c, done) =>
      c.getChildren(path, hook ? this.watcher : undefined, (err, children) => {
        if (err) return done(err);
        hook?.('child');
        done(null, children);
      }),
    );
  }

  protected rawSet(path: string, data: Buffer, version: number): Promise<Stat> {
    return this.write<Stat>(path, version, (c, done) => c.setData(path, data, version, (err, stat) => done(err, err ? undefined : toStat(stat))));
  }

  protected rawDelete(path: string, version: number): Promise<void> {
    return this.write<void>(path, version, (c, done) => c.remove(path, version, (err) => done(err)));
  }

  protected async rawMulti(ops: readonly Op[]): Promise<OpResult[]> {
    type Raw = Array<{ type: number; path?: string; stat?: Parameters<typeof toStat>[0]; err?: number }>;
    let raw: Raw;
    try {
      raw = await this.call<Raw>((c, done) => {
        const txn = c.transaction();
        for (const op of ops) {
          // Set versions after the fact: the library turns an explicit version 0 into -1.
          if (op.op === 'create') txn.create(op.path, Buffer.from(op.data ?? []), this.acl(op.acl), CREATE_MODES[op.mode ?? 'persistent']);
          else if (op.op === 'check') txn.check(op.path, op.version);
          else if (op.op === 'set') txn.setData(op.path, Buffer.from(op.data), op.version ?? -1);
          else txn.remove(op.path, op.version ?? -1);
          const last = txn.ops[txn.ops.length - 1];
          if (last && op.op !== 'create') last.version = op.version ?? -1;
        }
        txn.commit((err, results) => {
          if (!results) return done(err ?? new Error('multi returned no results'));
          const index = results.findIndex((r) => r.type === OP.ERROR && r.err !== 0 && r.err !== RUNTIME_INCONSISTENCY);
          if (index === -1) return done(null, results);
          const failed = ops[index];
          const version = failed && failed.op !== 'create' ? (failed.version ?? -1) : -1;
          done(atIndex(fromZkCode(results[index]?.err ?? 0, failed?.path, undefined, version), index));
        });
      });
    } catch (err) {
      if (this.state === 'closed' && isConnectionLoss(err)) throw sessionExpired('closed');
      throw toStoreError(err, undefined);
    }
    return raw.map((r): OpResult => {
      switch (r.type) {
        case OP.CREATE:
          return { op: 'create', path: r.path ?? '' };
        case OP.SET_DATA:
          if (!r.stat) throw new Error('multi set result without a stat');
          return { op: 'set', stat: toStat(r.stat) };
        case OP.DELETE:
          return { op: 'delete' };
        default:
          return { op: 'check' };
      }
    });
  }

  protected async rawClose(): Promise<void> {
    clearInterval(this.liveness);
    this.failInFlight(this.client, sessionExpired('closed'));
    await closeClient(this.client, Math.min(5_000, this.requestedTimeoutMs));
  }
}

function toStoreError(err: unknown, path: string | undefined, version = -1): unknown {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') return err;
  return fromZkError(err, path, version);
}
