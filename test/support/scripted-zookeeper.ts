// A ZooKeeper server that says exactly the bytes a test gives it, on a real loopback socket: for
// feeding node-zookeeper-client truncated, split, mis-framed and garbage replies. It speaks just
// enough of the protocol to let a client in (the connect handshake) and hands the test each
// request the client sends.
//
//   const zk = await ScriptedZooKeeper.start();
//   const conn = await zk.nextConnection();   // a client connected; conn.sessionId is what it offered
//   conn.accept(0x1234n);                      // grant a session
//   const req = await conn.nextRequest();      // { xid, type, body }
//   conn.write(replyFrame(req.xid, 0, statBytes()));
import net from 'node:net';
import { LOOPBACK } from './ports.js';

export interface ScriptedRequest {
  readonly xid: number;
  readonly type: number;
  readonly body: Buffer;
}

/** Request types of ZooKeeper's protocol used here (OpCode). */
export const OP_EXISTS = 3;
export const OP_PING = 11;

export class ScriptedConnection {
  /** The session the client offered in its connect request (0n: a new one). */
  sessionId = 0n;
  readonly closed: Promise<void>;
  #buffer = Buffer.alloc(0);
  #handshake: ((sessionId: bigint) => void) | undefined;
  readonly handshake: Promise<bigint>;
  #requests: ScriptedRequest[] = [];
  #waiters: Array<(r: ScriptedRequest) => void> = [];

  constructor(readonly socket: net.Socket) {
    this.handshake = new Promise((resolve) => (this.#handshake = resolve));
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => undefined);
  }

  /** Answer the connect request: a session with this id (a zero timeout says it expired). */
  accept(sessionId: bigint, timeoutMs = 30_000): void {
    const body = Buffer.alloc(4 + 4 + 8 + 4 + 16 + 1);
    body.writeInt32BE(0, 0); // protocol version
    body.writeInt32BE(timeoutMs, 4);
    body.writeBigInt64BE(sessionId, 8);
    body.writeInt32BE(16, 16);
    body.fill(7, 20, 36); // password
    body.writeUInt8(0, 36); // not read-only
    this.write(frame(body));
  }

  /** The next request that is not a ping (pings are answered). */
  nextRequest(): Promise<ScriptedRequest> {
    const queued = this.#requests.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    while (this.#buffer.length >= 4) {
      const size = this.#buffer.readInt32BE(0);
      if (this.#buffer.length < size + 4) return;
      const body = this.#buffer.subarray(4, size + 4);
      this.#buffer = this.#buffer.subarray(size + 4);
      if (this.#handshake) {
        this.sessionId = body.readBigInt64BE(16); // version int, last zxid long, timeout int, session long
        this.#handshake(this.sessionId);
        this.#handshake = undefined;
        continue;
      }
      const request = { xid: body.readInt32BE(0), type: body.readInt32BE(4), body: body.subarray(8) };
      if (request.type === OP_PING) {
        this.write(replyFrame(request.xid, 0));
        continue;
      }
      const waiter = this.#waiters.shift();
      if (waiter) waiter(request);
      else this.#requests.push(request);
    }
  }
}

export class ScriptedZooKeeper {
  readonly connections: ScriptedConnection[] = [];
  #waiters: Array<(c: ScriptedConnection) => void> = [];
  #seen = 0;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {
    server.on('connection', (socket) => {
      const conn = new ScriptedConnection(socket);
      this.connections.push(conn);
      this.#waiters.shift()?.(conn);
    });
  }

  static async start(): Promise<ScriptedZooKeeper> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
    return new ScriptedZooKeeper(server, (server.address() as net.AddressInfo).port);
  }

  get connectString(): string {
    return `${LOOPBACK}:${this.port}`;
  }

  /** The next connection a client opens (after its connect request has arrived). */
  async nextConnection(): Promise<ScriptedConnection> {
    const index = this.#seen++;
    const conn = this.connections[index] ?? (await new Promise<ScriptedConnection>((resolve) => this.#waiters.push(resolve)));
    await conn.handshake;
    return conn;
  }

  async stop(): Promise<void> {
    for (const c of this.connections) c.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** `body` with its 4-byte length in front. */
export function frame(body: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(body.length, 0);
  return Buffer.concat([length, body]);
}

/** A whole reply: header (xid, zxid, err) and payload. */
export function replyFrame(xid: number, err: number, payload: Buffer = Buffer.alloc(0), zxid = 1n): Buffer {
  const header = Buffer.alloc(16);
  header.writeInt32BE(xid, 0);
  header.writeBigInt64BE(zxid, 4);
  header.writeInt32BE(err, 12);
  return frame(Buffer.concat([header, payload]));
}

/** A Stat (68 bytes) with this data version. */
export function statBytes(version = 3): Buffer {
  const stat = Buffer.alloc(68);
  stat.writeInt32BE(version, 32); // after czxid, mzxid, ctime, mtime
  return stat;
}

/** A watch notification: xid -1, then type, state, path. */
export function notificationFrame(type: number, path: string): Buffer {
  const p = Buffer.from(path, 'utf8');
  const event = Buffer.alloc(12 + p.length);
  event.writeInt32BE(type, 0);
  event.writeInt32BE(3, 4); // SyncConnected
  event.writeInt32BE(p.length, 8);
  p.copy(event, 12);
  const header = Buffer.alloc(16);
  header.writeInt32BE(-1, 0);
  header.writeBigInt64BE(-1n, 4);
  return frame(Buffer.concat([header, event]));
}
