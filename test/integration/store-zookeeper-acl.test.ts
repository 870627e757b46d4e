// ZooKeeper digest credentials and ACLs against real servers (the shared standalone one, and two
// of this file's own: one that enforces authentication, one that refuses digest credentials).
// What both backends share about the `acl` option is in the Store contract suite.

import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { masterElectionPath, ZooKeeperDiscovery } from '../../core/discovery.js';
import { LeaderElection, readLeader, readSuccessor, watchLeader } from '../../core/election.js';
import { ZooKeeperStore, openStore, storeCredentials, type Store, type StoreCredentials } from '../../core/store/index.js';
import type { ZooKeeperStoreOptions } from '../../core/store/zookeeper.js';
import { zk, type ZkClient } from '../../core/store/zookeeper-client.js';
import { eventually, expectCode, sessionLog } from '../support/store-contract.js';
import { testServices } from '../support/services.js';
import { startZooKeeper, zkCommand, type ZkServer } from '../support/zookeeper.js';

const zkStandalone = (): string => process.env.AGORA_TEST_ZK ?? testServices().zk;
const enc = (s: string): Buffer => Buffer.from(s, 'utf8');

// ':' and '@' in the password: it is split at the first ':' only, and '@' must be encoded in URLs.
const OWNER = storeCredentials('agora', 'p:ss w@rd');
const WRONG = storeCredentials('agora', 'guess');
const OTHER = storeCredentials('mallory', 'p:ss w@rd');

/** ZooKeeper's digest id for credentials: user:base64(sha1(user:password)). */
const digestId = (c: StoreCredentials): string => `${c.user}:${createHash('sha1').update(`${c.user}:${c.password}`).digest('base64')}`;
const CREATOR_ALL = [{ perms: 31, scheme: 'digest', id: digestId(OWNER) }];
const WORLD_READABLE = [...CREATOR_ALL, { perms: 1, scheme: 'world', id: 'anyone' }];
const OPEN = [{ perms: 31, scheme: 'world', id: 'anyone' }];

const opened: Store[] = [];
const raws: ZkClient[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close().catch(() => undefined)));
  for (const c of raws.splice(0)) c.close();
});

const newChroot = (): string => `/acl-${randomBytes(5).toString('hex')}`;

async function open(options: ZooKeeperStoreOptions, servers = zkStandalone()): Promise<ZooKeeperStore> {
  const store = await ZooKeeperStore.open(servers, { sessionTimeoutMs: 2_000, ...options });
  opened.push(store);
  return store;
}

/** A bare library client holding the owner's credentials (getACL needs READ on the node). */
async function rawClient(servers = zkStandalone()): Promise<ZkClient> {
  const client = zk.createClient(servers, { sessionTimeout: 2_000, retries: 0 });
  raws.push(client);
  client.addAuthInfo('digest', enc(`${OWNER.user}:${OWNER.password}`));
  await new Promise<void>((resolve) => {
    client.once('connected', () => resolve());
    client.connect();
  });
  return client;
}

async function aclOf(client: ZkClient, path: string): Promise<Array<{ perms: number; scheme: string; id: string }>> {
  return new Promise((resolve, reject) =>
    client.getACL(path, (err, acls) => (err ? reject(err) : resolve(acls.map((a) => ({ perms: a.permission, scheme: a.id.scheme, id: a.id.id }))))),
  );
}

async function expectDenied(promise: Promise<unknown>, path: string): Promise<void> {
  const err = await expectCode(promise, 'AGORA_PERMISSION_DENIED');
  expect(err.details.path).toBe(path);
  expect(err.message).toContain(path);
}

describe('a ZooKeeper store with credentials', () => {
  it('creates private nodes: stores without them, or with others, are denied get, set, delete, getChildren and create', async () => {
    const chroot = newChroot();
    const owner = await open({ chroot, credentials: OWNER });
    await owner.create('/a', enc('secret'));
    await owner.createJson('/dir/spec', { env: { TOKEN: 'x' } }, { createParents: true });
    await owner.mkdirp('/m/n');
    const seq = await owner.create('/dir/run-', enc('r'), { mode: 'sequential' });
    const eph = await owner.create('/dir/live-', enc('e'), { mode: 'ephemeral-sequential' });

    for (const intruder of [await open({ chroot }), await open({ chroot, credentials: WRONG }), await open({ chroot, credentials: OTHER })]) {
      for (const path of ['/a', '/dir/spec', seq, eph, '/m/n']) {
        await expectDenied(intruder.get(path), path);
        await expectDenied(intruder.set(path, enc('changed')), path);
        await expectDenied(intruder.delete(path), path);
      }
      for (const path of ['/', '/dir', '/m']) await expectDenied(intruder.getChildren(path), path);
      await expectDenied(intruder.create('/b'), '/b');
      // The first node it may not create under: /dir exists, but ZooKeeper checks the parent's ACL first.
      await expectDenied(intruder.mkdirp('/dir/sub'), '/dir');
      // ZooKeeper guards no stat: exists answers anyone, without the data.
      expect((await intruder.exists('/a'))?.dataLength).toBe(6);
    }
    expect((await owner.get('/a')).data.toString()).toBe('secret');
    expect(await owner.getChildren('/dir')).toHaveLength(3);

    // Another master with the same credentials has every right.
    const peer = await open({ chroot, credentials: OWNER });
    expect((await peer.getJson('/dir/spec')).value).toEqual({ env: { TOKEN: 'x' } });
    await peer.set('/a', enc('peer'));
    await peer.deleteRecursive('/dir');
    expect(await owner.exists('/dir')).toBeUndefined();
  });

  it("gives every node it creates creator-all, world-readable ones READ for everyone too, and the chroot's ancestors are private", async () => {
    const outer = newChroot();
    const chroot = `${outer}/inner`;
    const owner = await open({ chroot, credentials: OWNER });
    const raw = await rawClient();
    await owner.create('/p', enc('x'), { createParents: false });
    await owner.create('/w', enc('x'), { acl: 'world-readable' });
    await owner.create('/parents/of/wr', enc('x'), { createParents: true, acl: 'world-readable' });
    await owner.mkdirp('/dirs/leaf', { acl: 'world-readable' });
    await owner.create('/e', undefined, { mode: 'ephemeral', acl: 'world-readable' });
    const results = await owner.multi([
      { op: 'create', path: '/tx-', mode: 'sequential' },
      { op: 'create', path: '/tx-open', acl: 'world-readable' },
    ]);
    const txSeq = results[0]?.op === 'create' ? results[0].path : '';

    const expected: Record<string, unknown> = {
      [outer]: CREATOR_ALL,
      [chroot]: CREATOR_ALL,
      [`${chroot}/p`]: CREATOR_ALL,
      [`${chroot}/w`]: WORLD_READABLE,
      [`${chroot}/parents`]: CREATOR_ALL,
      [`${chroot}/parents/of`]: CREATOR_ALL,
      [`${chroot}/parents/of/wr`]: WORLD_READABLE,
      [`${chroot}/dirs`]: CREATOR_ALL,
      [`${chroot}/dirs/leaf`]: WORLD_READABLE,
      [`${chroot}/e`]: WORLD_READABLE,
      [`${chroot}${txSeq}`]: CREATOR_ALL,
      [`${chroot}/tx-open`]: WORLD_READABLE,
    };
    for (const path of Object.keys(expected)) expect([path, await aclOf(raw, path)]).toEqual([path, expected[path]]);

    const reader = await open({ chroot });
    expect((await reader.get('/w')).data.toString()).toBe('x');
    expect(await reader.getChildren('/dirs/leaf')).toEqual([]);
    await expectDenied(reader.set('/w', enc('y')), '/w');
    await expectDenied(reader.create('/dirs/leaf/kid'), '/dirs/leaf/kid');
    await expectDenied(reader.get(txSeq), txSeq);
  });

  it('takes them from the URL (percent-decoded), and the credentials option overrides the URL', async () => {
    const chroot = newChroot();
    const raw = await rawClient();
    const viaUrl = await openStore(`zk://agora:p%3Ass%20w%40rd@${zkStandalone()}${chroot}`, { sessionTimeoutMs: 2_000 });
    opened.push(viaUrl);
    await viaUrl.create('/url', enc('u'));
    const overridden = await openStore(`zk://agora:guess@${zkStandalone()}${chroot}`, { sessionTimeoutMs: 2_000, credentials: OWNER });
    opened.push(overridden);
    await overridden.create('/option', enc('o'));
    expect(await aclOf(raw, `${chroot}/url`)).toEqual(CREATOR_ALL);
    expect(await aclOf(raw, `${chroot}/option`)).toEqual(CREATOR_ALL);
    expect((await overridden.get('/url')).data.toString()).toBe('u');
  });

  it('without credentials, nodes stay open to everyone whatever ACL is asked for, as before', async () => {
    const chroot = newChroot();
    const plain = await open({ chroot });
    const raw = await rawClient();
    await plain.create('/p', enc('x'));
    await plain.create('/w', enc('x'), { acl: 'world-readable' });
    await plain.mkdirp('/d', { acl: 'private' });
    await plain.multi([{ op: 'create', path: '/t', acl: 'private' }]);
    for (const path of [chroot, `${chroot}/p`, `${chroot}/w`, `${chroot}/d`, `${chroot}/t`]) expect([path, await aclOf(raw, path)]).toEqual([path, OPEN]);
    const other = await open({ chroot, credentials: OTHER });
    await other.set('/p', enc('anyone'));
    await other.delete('/t');
  });

  it('authenticates every new session: nodes old and new stay reachable after expiry', async () => {
    const chroot = newChroot();
    const owner = await open({ chroot, credentials: OWNER });
    const raw = await rawClient();
    await owner.create('/before', enc('b'));
    const log = sessionLog(owner);
    const session = owner.sessionId;
    await owner.expireSession();
    await eventually(() => expect(log).toContain('connected'));
    expect(owner.sessionId).not.toBe(session);
    await owner.create('/after', enc('a'));
    await owner.create('/after-eph', enc('e'), { mode: 'ephemeral' });
    expect((await owner.get('/before')).data.toString()).toBe('b');
    expect((await owner.get('/after')).data.toString()).toBe('a');
    await owner.set('/before', enc('b2'));
    expect(await owner.getChildren('/')).toEqual(['after', 'after-eph', 'before']);
    expect(await aclOf(raw, `${chroot}/after`)).toEqual(CREATOR_ALL);
    expect(await aclOf(raw, `${chroot}/after-eph`)).toEqual(CREATOR_ALL);
  });

  it('authenticates a reconnection before the operations that waited for it', async () => {
    const chroot = newChroot();
    const owner = await open({ chroot, credentials: OWNER });
    const paths = ['/r1', '/r2', '/r3', '/r4'];
    for (const p of paths) await owner.create(p, enc(p));
    const log = sessionLog(owner);
    const session = owner.sessionId;
    for (let round = 0; round < 3; round++) {
      owner.dropConnection();
      // These fail on the dropped connection and are queued again until the next one is up.
      const [data, children] = await Promise.all([Promise.all(paths.map((p) => owner.get(p))), owner.getChildren('/')]);
      expect(data.map((d) => d.data.toString())).toEqual(paths);
      expect(children).toEqual(paths.map((p) => p.slice(1)));
    }
    expect(log.filter((e) => e === 'reconnected')).toHaveLength(3);
    expect(owner.sessionId).toBe(session);
  });
});

describe('the leader election under credentials', () => {
  it('is world-readable: readers without credentials (or with others) find and follow the leader, and cannot join or disturb it', async () => {
    const chroot = newChroot();
    const path = '/c1/master/election';
    const raw = await rawClient();
    const candidates: LeaderElection<{ grpc: string }>[] = [];
    for (const grpc of ['a', 'b']) {
      const election = new LeaderElection({ store: await open({ chroot, credentials: OWNER }), path, data: { grpc } });
      await election.start();
      candidates.push(election);
    }
    const [a, b] = candidates as [LeaderElection<{ grpc: string }>, LeaderElection<{ grpc: string }>];
    expect(a.isLeader).toBe(true);

    const reader = await open({ chroot });
    for (const r of [reader, await open({ chroot, credentials: WRONG })]) {
      expect((await readLeader<{ grpc: string }>(r, path))?.data).toEqual({ grpc: 'a' });
      expect((await readSuccessor<{ grpc: string }>(r, path))?.data).toEqual({ grpc: 'b' });
    }
    const seen: Array<string | undefined> = [];
    const stop = watchLeader<{ grpc: string }>(reader, path, (leader) => seen.push(leader?.data.grpc));
    await eventually(() => expect(seen).toEqual(['a']));

    const member = a.memberPath as string;
    await expectDenied(reader.delete(member), member);
    await expectDenied(reader.set(member, enc('{"grpc":"evil"}')), member);
    await expectDenied(reader.create(`${path}/member-`, enc('{}'), { mode: 'ephemeral-sequential' }), `${path}/member-`);
    await expectDenied(reader.getChildren('/c1/master'), '/c1/master');

    expect(await aclOf(raw, `${chroot}${path}`)).toEqual(WORLD_READABLE);
    expect(await aclOf(raw, `${chroot}${member}`)).toEqual(WORLD_READABLE);
    expect(await aclOf(raw, `${chroot}/c1/master`)).toEqual(CREATOR_ALL);

    await a.resign();
    await eventually(() => expect(seen.at(-1)).toBe('b'));
    expect(b.isLeader).toBe(true);
    stop();
    await b.resign();
  });
});

describe('discovery without credentials', () => {
  it('started before the masters, writes nothing (the chroot is theirs, private) and finds the leader once there is one', async () => {
    const chroot = newChroot();
    const raw = await rawClient();
    const discovery = await ZooKeeperDiscovery.open(`zk://${zkStandalone()}${chroot}`, 'c1', 2_000);
    try {
      expect(discovery.current()).toBeUndefined();
      const master = await open({ chroot, credentials: OWNER });
      expect(await aclOf(raw, chroot)).toEqual(CREATOR_ALL);
      const election = new LeaderElection({ store: master, path: masterElectionPath('c1'), data: { grpcAddress: '10.0.0.1:5051' } });
      await election.start();
      await eventually(() => expect(discovery.current()).toBe('10.0.0.1:5051'));
      await election.resign();
    } finally {
      await discovery.close();
    }
  });
});

describe('servers with other authentication settings', () => {
  // One that enforces authentication, one that refuses digest credentials; both this file's own.
  let enforcing: ZkServer | undefined;
  let refusing: ZkServer | undefined;
  beforeAll(async () => {
    // One after the other: a standalone server numbers its sessions from the boot clock's millisecond,
    // and two started in the same millisecond would hand out the same ids (with the same passwords,
    // which derive from the id), so a session of one would be "known" to the other.
    enforcing = await startZooKeeper({ extraConfig: ['enforce.auth.enabled=true', 'enforce.auth.schemes=digest'] });
    refusing = await startZooKeeper({ extraConfig: ['DigestAuthenticationProvider.enabled=false'] });
  });
  afterAll(async () => Promise.all([enforcing?.stop(), refusing?.stop()]));

  it('enforcing: a store without credentials gets error -124, which the library does not know: a typed error, not a crash (issue 17)', async () => {
    const err = await expectCode(ZooKeeperStore.open(enforcing!.connectString, { chroot: '/x', sessionTimeoutMs: 2_000 }), 'AGORA_PERMISSION_DENIED');
    expect(err.details.zkCode).toBe(-124);
  });

  it('enforcing: a store with credentials is served, across reconnects and a session expiry', async () => {
    const owner = await open({ chroot: newChroot(), credentials: OWNER }, enforcing!.connectString);
    await owner.create('/n', enc('1'));
    owner.dropConnection();
    expect((await owner.get('/n')).data.toString()).toBe('1');
    await owner.expireSession();
    await eventually(() => expect(owner.state).toBe('connected'));
    await owner.create('/m', enc('2'));
    expect(await owner.getChildren('/')).toEqual(['m', 'n']);
  });

  it('refusing: opening fails with AGORA_PERMISSION_DENIED at once, with or without a chroot', async () => {
    const started = Date.now();
    for (const chroot of ['/x', undefined]) {
      const err = await expectCode(ZooKeeperStore.open(refusing!.connectString, { credentials: OWNER, sessionTimeoutMs: 2_000, ...(chroot ? { chroot } : {}) }), 'AGORA_PERMISSION_DENIED');
      expect(err.message).not.toContain(OWNER.password);
    }
    expect(Date.now() - started).toBeLessThan(2_000);
    // The server itself is fine: a store without credentials works.
    const plain = await open({ chroot: '/y' }, refusing!.connectString);
    await plain.create('/ok');
  });

  it('refusing: an open store whose new session lands there fails every call at once, typed, instead of hanging', async () => {
    const proxy = await switchableProxy(enforcing!.connectString);
    try {
      const owner = await open({ chroot: newChroot(), credentials: OWNER }, proxy.address);
      await owner.create('/n');
      // A server refuses clients that have seen a later transaction than its own: let it catch up.
      const plain = await open({ chroot: newChroot() }, refusing!.connectString);
      for (let i = 0; (await lastZxid(refusing!.port)) <= (await lastZxid(enforcing!.port)); i++) await plain.create(`/pad-${i}`);
      // It does not know the session: the store opens a new one, whose credentials it refuses.
      const log = sessionLog(owner);
      proxy.switchTo(refusing!.connectString);
      await eventually(() => expect(log).toContain('expired'), 10_000);
      await eventually(() => expectCode(owner.create('/m'), 'AGORA_PERMISSION_DENIED'), 5_000);
      // The library has given up on that client: no call may wait, or spin on its "connection loss".
      await expectCode(owner.create('/m'), 'AGORA_PERMISSION_DENIED');
      await expectCode(owner.get('/n'), 'AGORA_PERMISSION_DENIED');
      await expectCode(owner.getChildren('/'), 'AGORA_PERMISSION_DENIED');
    } finally {
      await proxy.close();
    }
  });
});

/** The last transaction id a server has processed (from the `srvr` four-letter word). */
async function lastZxid(port: number): Promise<bigint> {
  const match = /^Zxid: (0x[0-9a-f]+)/m.exec(await zkCommand(port, 'srvr'));
  if (!match?.[1]) throw new Error(`no Zxid in srvr of port ${port}`);
  return BigInt(match[1]);
}

/** A TCP proxy whose target can be switched: its connections are cut, new ones go to the new target. */
async function switchableProxy(target: string): Promise<{ address: string; switchTo(target: string): void; close(): Promise<void> }> {
  let [host, port] = target.split(':') as [string, string];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined).on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    switchTo(next) {
      [host, port] = next.split(':') as [string, string];
      for (const s of sockets) s.destroy();
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
