// The Store contract against every backend: embedded in memory, embedded on disk, a standalone
// ZooKeeper (with and without credentials) and a 3-server ensemble (both from the global setup).
// Then what only the embedded backend on disk must do: survive a restart (persistent nodes stay,
// ephemerals do not), a crash (SIGKILL) and a torn journal write.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedStore, EmbeddedStoreServer, ZooKeeperStore, openStore, storeCredentials } from '../../core/store/index.js';
import { expectCode, storeContract } from '../support/store-contract.js';
import { testServices } from '../support/services.js';
import { pace } from '../support/waits.js';

const zkStandalone = (): string => process.env.AGORA_TEST_ZK ?? testServices().zk;
const zkEnsemble = (): string => process.env.AGORA_TEST_ZK_ENSEMBLE ?? testServices().zkEnsemble;
const repoRoot = path.resolve(import.meta.dirname, '../..');

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agora-store-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const memoryServer = EmbeddedStoreServer.memory();
storeContract('embedded (memory)', (opts) => EmbeddedStore.open(memoryServer, opts));

const dataDir = tempDir();
storeContract('embedded (file)', async (opts) => (await openStore(dataDir, opts)) as EmbeddedStore);

storeContract('ZooKeeper (standalone)', (opts) => ZooKeeperStore.open(zkStandalone(), opts));

storeContract('ZooKeeper (ensemble)', (opts) => ZooKeeperStore.open(zkEnsemble(), opts));

// Every node private to these credentials (election-style ones world-readable): the semantics hold.
const credentials = storeCredentials('contract', 'pass:word');
storeContract('ZooKeeper (standalone, with credentials)', (opts) => ZooKeeperStore.open(zkStandalone(), { ...opts, credentials }));

describe('ZooKeeper store', () => {
  it('opens from a zk:// URL, whose chroot prefixes the chroot option', async () => {
    const root = `/url-${randomBytes(4).toString('hex')}`;
    const s = await openStore(`zk://${zkStandalone()}${root}`, { chroot: '/inner', sessionTimeoutMs: 2_000 });
    const raw = await openStore(`zk://${zkStandalone()}`, { sessionTimeoutMs: 2_000 });
    expect(s.kind).toBe('zookeeper');
    expect(s.chroot).toBe(`${root}/inner`);
    await s.create('/a', Buffer.from('via url'));
    expect((await raw.get(`${root}/inner/a`)).data.toString()).toBe('via url');
    await raw.deleteRecursive(root);
    await Promise.all([s.close(), raw.close()]);
  });

  it('fails with AGORA_UNAVAILABLE when no server answers in time', async () => {
    const t0 = Date.now();
    await expectCode(ZooKeeperStore.open('127.0.0.1:1', { connectTimeoutMs: 500 }), 'AGORA_UNAVAILABLE');
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});

describe('embedded store on disk', () => {
  it('keeps persistent nodes across a close and reopen, but not ephemerals', async () => {
    const dir = tempDir();
    const a = await openStore(`file://${dir}`, { chroot: '/agora' });
    const other = await openStore(dir); // same process, same directory: the same tree
    await a.create('/keep', Buffer.from('k'));
    await a.create('/keep/seq-', Buffer.from('1'), { mode: 'sequential' });
    await a.create('/keep/eph-', undefined, { mode: 'ephemeral-sequential' });
    await a.set('/keep', Buffer.from('k2'), 0);
    expect(await other.getChildren('/agora/keep')).toEqual(['eph-0000000001', 'seq-0000000000']);
    await a.close();
    await other.close();

    const b = await openStore(`file://${dir}`, { chroot: '/agora' });
    const keep = await b.get('/keep');
    expect(keep.data.toString()).toBe('k2');
    expect(keep.stat.version).toBe(1);
    expect(await b.getChildren('/keep')).toEqual(['seq-0000000000']);
    // the counter never goes back, so a sequence number is never reused
    expect(await b.create('/keep/seq-', undefined, { mode: 'sequential' })).toBe('/keep/seq-0000000002');
    // the lost ephemeral counts as deleted, as its session's expiry would have in ZooKeeper
    expect((await b.exists('/keep'))?.cversion).toBe(4);
    await b.close();
  });

  it('survives SIGKILL: acknowledged writes are there, ephemerals and the stale lock are not', async () => {
    const dir = tempDir();
    const script = `
      import { openStore } from ${JSON.stringify(path.join(repoRoot, 'core/store/index.ts'))};
      const s = await openStore(${JSON.stringify(dir)});
      await s.create('/eph', undefined, { mode: 'ephemeral' });
      for (let i = 0; i < 50; i++) await s.create('/n' + i, Buffer.from(String(i)));
      process.stdout.write('ready\\n');
      for (let i = 0; ; i++) await s.set('/n0', Buffer.from('x' + i)); // busy when killed
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    await pace(100, 'the child is busy writing when it dies');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(fs.existsSync(path.join(dir, 'LOCK'))).toBe(true);

    const s = await openStore(dir);
    expect(await s.exists('/eph')).toBeUndefined();
    expect((await s.getChildren('/')).filter((n) => n.startsWith('n'))).toHaveLength(50);
    expect((await s.get('/n49')).data.toString()).toBe('49');
    expect((await s.get('/n0')).data.toString()).toMatch(/^x\d+$/);
    await s.close();
  });

  it('refuses a directory another live process holds', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'LOCK'), String(process.ppid));
    await expectCode(openStore(dir), 'AGORA_UNAVAILABLE');
  });

  it('a torn or corrupt journal tail is cut off, and the rest survives', async () => {
    const dir = tempDir();
    const s = await openStore(dir);
    await s.create('/a', Buffer.from('1'));
    await s.create('/b', Buffer.from('2'));
    await s.close();
    const journal = path.join(dir, 'journal.log');
    const good = fs.readFileSync(journal);
    // a crash in the middle of appending a line: half a line, no newline
    fs.appendFileSync(journal, good.subarray(0, Math.floor(good.length / 3)));
    let r = await openStore(dir);
    expect((await r.get('/b')).data.toString()).toBe('2');
    await r.create('/c', Buffer.from('3'));
    await r.close();
    // a corrupt line (checksum mismatch) and everything after it is dropped
    const lines = fs.readFileSync(journal, 'utf8').split('\n');
    lines[2] = lines[2]!.replace('"seq"', '"seQ"');
    fs.writeFileSync(journal, lines.join('\n'));
    r = await openStore(dir);
    expect(await r.exists('/a')).toBeDefined();
    expect(await r.exists('/b')).toBeDefined();
    expect(await r.exists('/c')).toBeUndefined();
    await r.close();
  });

  it('compacts the journal into a snapshot and recovers from both', async () => {
    const dir = tempDir();
    const server = await EmbeddedStoreServer.open({ dataDir: dir, compactBytes: 2_000 });
    const s = await EmbeddedStore.open(server);
    for (let i = 0; i < 40; i++) await s.create(`/k${i}`, Buffer.from(randomBytes(20).toString('hex')));
    await s.delete('/k0');
    await s.set('/k1', Buffer.from('last'));
    await s.close();
    await server.close();
    expect(fs.existsSync(path.join(dir, 'snapshot.json'))).toBe(true);
    expect(fs.statSync(path.join(dir, 'journal.log')).size).toBeLessThan(2_000);
    const again = await openStore(dir);
    expect((await again.getChildren('/')).length).toBe(39);
    expect((await again.get('/k1')).data.toString()).toBe('last');
    await again.close();
  });
});
