// node-zookeeper-client's reply framing, as mended by core/store/zookeeper-framing.ts: fed the exact
// bytes — a truncated frame, a frame split across chunks, an unknown error code, garbage, the
// half frame a restarting server leaves behind — it never throws; what it cannot decode ends in a
// reconnect that offers the same session, and the next connection's replies read correctly.
import { afterEach, describe, expect, it } from 'vitest';
import { zk, type ZkClient, type ZkException, type ZkStat } from '../../core/store/zookeeper-client.js';
import { MAX_FRAME_BYTES } from '../../core/store/zookeeper-framing.js';
import { ScriptedZooKeeper, frame, notificationFrame, replyFrame, statBytes, OP_EXISTS, type ScriptedConnection } from '../support/scripted-zookeeper.js';
import { pace } from '../support/waits.js';

const SESSION = 0x5eed_0000_0000_0001n;
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

interface Setup {
  server: ScriptedZooKeeper;
  client: ZkClient;
  conn: ScriptedConnection;
  states: string[];
  misframed: string[];
}

/** A real client connected (session SESSION) to a scripted server. */
async function connected(): Promise<Setup> {
  const server = await ScriptedZooKeeper.start();
  const client = zk.createClient(server.connectString, { sessionTimeout: 30_000, spinDelay: 10, retries: 0 });
  closers.push(() => server.stop());
  closers.push(() => client.close());
  const states: string[] = [];
  const misframed: string[] = [];
  client.on('state', (s: { getName(): string }) => states.push(s.getName()));
  (client.connectionManager as unknown as NodeJS.EventEmitter).on('misframed', (reason: string) => misframed.push(reason));
  const up = new Promise<void>((resolve) => client.once('connected', () => resolve()));
  client.connect();
  const conn = await server.nextConnection();
  expect(conn.sessionId).toBe(0n);
  conn.accept(SESSION);
  await up;
  return { server, client, conn, states, misframed };
}

function exists(client: ZkClient, path: string): Promise<{ err: ZkException | null | undefined; stat: ZkStat | null | undefined }> {
  return new Promise((resolve) => client.exists(path, undefined, (err, stat) => resolve({ err, stat })));
}

/**
 * After bad bytes on the first connection: the request in flight fails with CONNECTION_LOSS, the
 * client comes back offering the same session, and an exists on the new connection reads right.
 */
async function expectReconnect(s: Setup, inFlight: Promise<{ err: ZkException | null | undefined }>): Promise<void> {
  expect((await inFlight).err?.getCode()).toBe(zk.Exception.CONNECTION_LOSS);
  await s.conn.closed;
  const again = await s.server.nextConnection();
  expect(again.sessionId).toBe(SESSION);
  const back = new Promise<void>((resolve) => s.client.once('connected', () => resolve()));
  again.accept(SESSION);
  await back;
  await expectReadsRight(s.client, again);
  expect(s.states).toEqual(['SYNC_CONNECTED', 'DISCONNECTED', 'SYNC_CONNECTED']);
}

async function expectReadsRight(client: ZkClient, conn: ScriptedConnection): Promise<void> {
  const answer = exists(client, '/after');
  const req = await conn.nextRequest();
  expect(req.type).toBe(OP_EXISTS);
  conn.write(replyFrame(req.xid, 0, statBytes(42)));
  const { err, stat } = await answer;
  expect(err).toBeFalsy();
  expect(stat?.version).toBe(42);
}

describe('node-zookeeper-client framing (mended)', { timeout: 15_000 }, () => {
  it('reads a reply split across chunks, one byte at a time, without reconnecting', async () => {
    const s = await connected();
    const answer = exists(s.client, '/x');
    const req = await s.conn.nextRequest();
    const bytes = replyFrame(req.xid, 0, statBytes(5));
    for (const byte of bytes) {
      s.conn.write(Buffer.from([byte]));
      await pace(1, 'each byte its own chunk');
    }
    expect((await answer).stat?.version).toBe(5);
    // Two replies and a notification in one chunk are three frames.
    const watched = new Promise<number>((resolve) => s.client.exists('/w', (e) => resolve(e.getType()), () => undefined));
    const first = await s.conn.nextRequest();
    const second = exists(s.client, '/y');
    const req2 = await s.conn.nextRequest();
    s.conn.write(Buffer.concat([replyFrame(first.xid, 0, statBytes(1)), replyFrame(req2.xid, 0, statBytes(2)), notificationFrame(zk.Event.NODE_DELETED, '/w')]));
    expect((await second).stat?.version).toBe(2);
    expect(await watched).toBe(zk.Event.NODE_DELETED);
    expect(s.misframed).toEqual([]);
    expect(s.states).toEqual(['SYNC_CONNECTED']);
  });

  it('a truncated frame (a header cut short) ends in a reconnect to the same session', async () => {
    const s = await connected();
    const answer = exists(s.client, '/x');
    const req = await s.conn.nextRequest();
    const whole = replyFrame(req.xid, 0, statBytes());
    s.conn.write(frame(whole.subarray(4, 4 + 10))); // a well-delimited frame of 10 bytes: no room for the header
    await expectReconnect(s, answer);
    expect(s.misframed.length).toBe(1);
  });

  it('a reply whose payload is cut short ends in a reconnect', async () => {
    const s = await connected();
    const answer = exists(s.client, '/x');
    const req = await s.conn.nextRequest();
    s.conn.write(replyFrame(req.xid, 0, statBytes().subarray(0, 30)));
    await expectReconnect(s, answer);
  });

  it('an error code no ZooKeeper sends (Unknown code: 1455292426) ends in a reconnect, not a throw', async () => {
    const s = await connected();
    const answer = exists(s.client, '/x');
    const req = await s.conn.nextRequest();
    s.conn.write(replyFrame(req.xid, 1455292426));
    await expectReconnect(s, answer);
    expect(s.misframed[0]).toMatch(/1455292426/);
  });

  it('a ZooKeeper code the library does not know reaches the caller typed, on the same connection', async () => {
    const s = await connected();
    const answer = exists(s.client, '/x');
    const req = await s.conn.nextRequest();
    s.conn.write(replyFrame(req.xid, -124));
    expect((await answer).err?.getCode()).toBe(-124);
    await expectReadsRight(s.client, s.conn);
    expect(s.misframed).toEqual([]);
  });

  it('garbage: a negative length, an absurd length, a reply to nothing, an unknown event, ASCII', async () => {
    const garbage: Array<(xid: number) => Buffer> = [
      () => Buffer.from([0xff, 0xff, 0xff, 0xfb, 1, 2, 3, 4, 5, 6, 7, 8]), // length -5
      () => Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 0]), // 2 GiB announced
      () => { const b = Buffer.alloc(4); b.writeInt32BE(MAX_FRAME_BYTES + 1, 0); return b; },
      (xid) => replyFrame(xid + 7, 0, statBytes()), // the wrong xid
      () => notificationFrame(99, '/w'),
      () => Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n', 'ascii'),
    ];
    for (const bytes of garbage) {
      const s = await connected();
      const answer = exists(s.client, '/x');
      const req = await s.conn.nextRequest();
      s.conn.write(bytes(req.xid));
      await expectReconnect(s, answer);
      for (const close of closers.splice(0).reverse()) await close();
    }
  });

  it('a data field whose length says 2 GiB inside a small frame ends in a reconnect, allocating nothing', async () => {
    const s = await connected();
    const answer = new Promise<{ err: ZkException | null | undefined }>((resolve) => s.client.getData('/x', undefined, (err) => resolve({ err })));
    const req = await s.conn.nextRequest();
    s.conn.write(replyFrame(req.xid, 0, Buffer.concat([Buffer.from([0x7f, 0xff, 0xff, 0xf0]), statBytes()])));
    await expectReconnect(s, answer);
    expect(s.misframed[0]).toMatch(/2147483632 bytes/);
  });

  it('a second connection replaces the first: the old socket is closed and nothing it owed is awaited', async () => {
    const s = await connected();
    const answer = exists(s.client, '/x');
    await s.conn.nextRequest();
    s.client.connectionManager.connect(); // as if the library reconnected with the old socket alive
    expect((await answer).err?.getCode()).toBe(zk.Exception.CONNECTION_LOSS);
    await s.conn.closed;
    const again = await s.server.nextConnection();
    expect(again.sessionId).toBe(SESSION);
    const back = new Promise<void>((resolve) => s.client.once('connected', () => resolve()));
    again.accept(SESSION);
    await back;
    await expectReadsRight(s.client, again);
  });

  it('the half frame of a server that died mid-reply does not spoil the next connection', async () => {
    const s = await connected();
    const answer = exists(s.client, '/x');
    const req = await s.conn.nextRequest();
    // The server restarts in the middle of a reply: 20 of its 88 bytes arrive, then the socket dies.
    s.conn.write(replyFrame(req.xid, 0, statBytes()).subarray(0, 20));
    await pace(20, 'the half frame is read before the socket dies');
    s.conn.close();
    expect((await answer).err?.getCode()).toBe(zk.Exception.CONNECTION_LOSS);
    const again = await s.server.nextConnection();
    expect(again.sessionId).toBe(SESSION);
    const back = new Promise<void>((resolve) => s.client.once('connected', () => resolve()));
    again.accept(SESSION);
    await back;
    await expectReadsRight(s.client, again);
    expect(s.misframed).toEqual([]);
  });
});
