// StoreMirror on a real ZooKeeper: a second session's warm copy of some nodes and directories
// equals what the store holds once settled — after creates, sets, deletes, a delete and re-create,
// bursts of changes, and the mirror's own session expiring.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreMirror } from '../../core/store/mirror.js';
import { ZooKeeperStore, type Store } from '../../core/store/index.js';
import { eventually } from '../support/master-harness.js';
import { testServices } from '../support/services.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
});

async function open(): Promise<ZooKeeperStore> {
  const store = await ZooKeeperStore.open(testServices().zkEnsemble, { chroot: '/agora-mirror-test', sessionTimeoutMs: 4000 });
  closers.push(() => store.close());
  return store;
}

/** What the store holds under the spec, read directly (path → text). */
async function readAll(store: Store, dirs: readonly string[], nodes: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const dir of dirs) {
    for (const name of await store.getChildren(dir)) out.set(`${dir}/${name}`, (await store.get(`${dir}/${name}`)).data.toString());
  }
  for (const node of nodes) {
    const stat = await store.exists(node);
    if (stat) out.set(node, (await store.get(node)).data.toString());
  }
  return out;
}

function text(nodes: Map<string, Buffer> | undefined): Map<string, string> | undefined {
  return nodes && new Map([...nodes].map(([p, d]) => [p, d.toString()]));
}

describe('StoreMirror (ZooKeeper)', () => {
  it('follows creates, sets, deletes and re-creates; settle() returns exactly what the store holds', async () => {
    const root = `/m${randomBytes(4).toString('hex')}`;
    const writer = await open();
    const reader = await open();
    const dirs = [`${root}/a`, `${root}/b`];
    const nodes = [`${root}/single`, `${root}/missing`];
    for (const d of dirs) await writer.mkdirp(d);
    for (let i = 0; i < 20; i++) await writer.create(`${dirs[0]}/n${i}`, Buffer.from(`v${i}`));
    await writer.create(nodes[0]!, Buffer.from('one'));

    const mirror = new StoreMirror(reader, { dirs, nodes });
    closers.push(async () => mirror.stop());
    expect(await mirror.settle(1000)).toBeUndefined(); // cold: not started
    mirror.start();
    await eventually(() => expect(mirror.warm).toBe(true));
    expect(text(await mirror.settle(2000))).toEqual(await readAll(writer, dirs, nodes));

    // A burst of changes, none awaited in between by the mirror.
    const changes: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i += 2) changes.push(writer.set(`${dirs[0]}/n${i}`, Buffer.from(`w${i}`)));
    for (let i = 1; i < 20; i += 4) changes.push(writer.delete(`${dirs[0]}/n${i}`));
    for (let i = 0; i < 10; i++) changes.push(writer.create(`${dirs[1]}/x${i}`, Buffer.from(`x${i}`)));
    changes.push(writer.create(nodes[1]!, Buffer.from('now here')), writer.delete(nodes[0]!));
    await Promise.all(changes);
    // Deleted and created again at once, with new data.
    await writer.delete(`${dirs[1]}/x3`);
    await writer.create(`${dirs[1]}/x3`, Buffer.from('again'));
    await writer.multi([
      { op: 'set', path: `${dirs[1]}/x4`, data: Buffer.from('in a multi') },
      { op: 'delete', path: `${dirs[1]}/x5` },
    ]);
    // No waiting: settle() itself must catch up with every change made before it was called.
    const settled = text(await mirror.settle(2000));
    expect(settled).toEqual(await readAll(writer, dirs, nodes));
    expect(settled?.get(`${dirs[1]}/x3`)).toBe('again');
    expect(settled?.has(nodes[0]!)).toBe(false);
    expect(settled?.get(nodes[1]!)).toBe('now here');
  }, 60_000);

  it('goes cold when its session expires and warms up again from a fresh read', async () => {
    const root = `/m${randomBytes(4).toString('hex')}`;
    const writer = await open();
    const reader = await open();
    const dirs = [`${root}/d`];
    await writer.mkdirp(dirs[0]!);
    await writer.create(`${dirs[0]}/before`, Buffer.from('1'));
    const mirror = new StoreMirror(reader, { dirs, nodes: [] });
    closers.push(async () => mirror.stop());
    mirror.start();
    await eventually(() => expect(mirror.warm).toBe(true));

    const expired = reader.expireSession();
    // Changes while the mirror's session is gone (its watches with it).
    await writer.create(`${dirs[0]}/during`, Buffer.from('2'));
    await writer.set(`${dirs[0]}/before`, Buffer.from('1b'));
    await expired;
    await eventually(() => expect(mirror.warm).toBe(true), { timeoutMs: 10_000 });
    expect(text(await mirror.settle(2000))).toEqual(await readAll(writer, dirs, []));
  }, 60_000);
});
