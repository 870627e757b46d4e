// Weights and quota in the registry, one node per role: a weights PUT writes only the roles it
// names (each PUT used to rewrite the whole map, and 60,000 roles were accepted), the number of
// roles with a weight or a quota is capped, and a master that finds the single weights and quota
// nodes older masters wrote moves them into per-role nodes without losing or changing a value —
// also when an earlier master stopped halfway. Real ZooKeeper for the migration, as in production.
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../core/store/index.js';
import { MAX_QUOTA_ROLES, MAX_WEIGHTED_ROLES } from '../../master/http/operator-input.js';
import { Master } from '../../master/master.js';
import { roleNode } from '../../master/registry.js';
import { MasterHarness, stopHarnesses, TEST_MASTER_OPTIONS } from '../support/master-harness.js';
import { secureFetch, securedZkUrl, testMasterSecurity, testPki } from '../support/security.js';
import { testServices } from '../support/services.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  await stopHarnesses();
});

async function http(address: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await secureFetch(`https://${address}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  const text = await res.text();
  return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

const REGISTRY = '/default/registry';

async function version(store: Store, path: string): Promise<number | undefined> {
  return (await store.exists(path))?.version;
}

describe('weights and quota, one node per role', () => {
  it('a weights PUT writes only the roles it names; a DELETE forgets one', async () => {
    const h = await MasterHarness.start();
    const address = h.master.httpAddress;
    expect((await http(address, 'PUT', '/api/v1/weights', [{ role: 'a', weight: 2 }, { role: 'eng/web', weight: 3 }])).status).toBe(200);
    const a = `${REGISTRY}/role-weights/a`;
    const web = `${REGISTRY}/role-weights/${roleNode('eng/web')}`;
    expect(roleNode('eng/web')).toBe('eng%2Fweb');
    expect([await version(h.store, a), await version(h.store, web)]).toEqual([0, 0]);
    expect((await h.store.getJson<number>(web)).value).toBe(3);

    expect((await http(address, 'PUT', '/api/v1/weights', [{ role: 'eng/web', weight: 4 }])).status).toBe(200);
    expect([await version(h.store, a), await version(h.store, web)]).toEqual([0, 1]);
    // The same weight again writes nothing.
    expect((await http(address, 'PUT', '/api/v1/weights', [{ role: 'a', weight: 2 }])).status).toBe(200);
    expect(await version(h.store, a)).toBe(0);
    expect(await h.store.exists(`${REGISTRY}/weights`)).toBeUndefined();

    expect(await http(address, 'DELETE', '/api/v1/weights/a')).toEqual({ status: 200, json: { role: 'a', removed: true } });
    expect(await h.store.exists(a)).toBeUndefined();
    expect(h.state.weights).toEqual({ 'eng/web': 4 });
    expect((await http(address, 'DELETE', '/api/v1/weights/a')).json).toMatchObject({ code: 'AGORA_NOT_FOUND' });
    expect((await http(address, 'GET', '/api/v1/weights')).json).toEqual({ weights: { 'eng/web': 4 } });

    // A restarted master reads them back.
    await h.restart();
    expect(h.state.weights).toEqual({ 'eng/web': 4 });
  });

  it(`caps roles with a weight at ${MAX_WEIGHTED_ROLES} and with a quota at ${MAX_QUOTA_ROLES}, changing nothing when over`, async () => {
    const h = await MasterHarness.start();
    const address = h.master.httpAddress;
    const many = Array.from({ length: MAX_WEIGHTED_ROLES }, (_, i) => ({ role: `r${i}`, weight: 2 }));
    expect((await http(address, 'PUT', '/api/v1/weights', many)).status).toBe(200);
    const over = await http(address, 'PUT', '/api/v1/weights', [{ role: 'r0', weight: 5 }, { role: 'one-more', weight: 2 }]);
    expect(over).toMatchObject({ status: 400, json: { code: 'AGORA_INVALID_ARGUMENT', field: 'body' } });
    expect(String(over.json['message'])).toContain(`at most ${MAX_WEIGHTED_ROLES}`);
    expect(h.state.weights['r0']).toBe(2);
    expect(h.state.weights['one-more']).toBeUndefined();
    expect((await h.store.getChildren(`${REGISTRY}/role-weights`)).length).toBe(MAX_WEIGHTED_ROLES);
    // Thousands of roles in one call (60,000 were accepted) are refused before anything is looked at.
    const flood = await http(address, 'PUT', '/api/v1/weights', { weights: Array.from({ length: 5000 }, (_, i) => ({ role: `f${i}`, weight: 1 })) });
    expect(flood).toMatchObject({ status: 400, json: { field: 'weights' } });
    // Changing existing roles is fine at the cap; forgetting one makes room.
    expect((await http(address, 'PUT', '/api/v1/weights', [{ role: 'r0', weight: 5 }])).status).toBe(200);
    expect((await http(address, 'DELETE', '/api/v1/weights/r1')).status).toBe(200);
    expect((await http(address, 'PUT', '/api/v1/weights', [{ role: 'one-more', weight: 2 }])).status).toBe(200);

    for (let i = 0; i < MAX_QUOTA_ROLES; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => http(address, 'PUT', '/api/v1/quota', { role: `q${i + j}`, guarantee: 'cpus:0.001' })));
    }
    expect(Object.keys(h.state.quota)).toHaveLength(MAX_QUOTA_ROLES);
    const quotaOver = await http(address, 'PUT', '/api/v1/quota', { role: 'q-more', guarantee: 'cpus:1' });
    expect(quotaOver).toMatchObject({ status: 400, json: { code: 'AGORA_INVALID_ARGUMENT', field: 'role' } });
    expect(h.state.quota['q-more']).toBeUndefined();
    expect((await http(address, 'PUT', '/api/v1/quota', { role: 'q0', guarantee: 'cpus:2' })).status).toBe(200);
  }, 60_000);
});

describe('moving the single weights and quota nodes of older masters', () => {
  let clusters = 0;

  async function zkStore(): Promise<Store> {
    const store = await openStore(securedZkUrl(`zk://${testServices().zk}/agora`));
    closers.push(() => store.close());
    return store;
  }

  async function startMaster(cluster: string): Promise<Master> {
    const master = await Master.start(
      { ...TEST_MASTER_OPTIONS, zk: `zk://${testServices().zk}/agora`, zkCredentialsFile: testPki().files.zkCredentials, cluster, zkSessionTimeout: '2s', agentReregisterTimeout: '1s' },
      { security: testMasterSecurity() },
    );
    closers.push(() => master.stop());
    return master;
  }

  const weights = { dev: 3, 'prod/web': 0.5, batch: 2 };
  const quota = { dev: { guarantee: 'cpus:1;mem:128' }, 'prod/web': { guarantee: 'cpus:2', limit: 'cpus:4' } };

  it.each([
    ['a registry an older master wrote', false],
    ['a migration an earlier master stopped halfway', true],
  ])('from %s: every value kept, the single nodes gone, and a restart reads the same', async (_what, halfway) => {
    const cluster = `legacy${process.pid}x${++clusters}`;
    const root = `/${cluster}/registry`;
    const store = await zkStore();
    await store.mkdirp(root);
    await store.createJson(`${root}/weights`, weights);
    await store.createJson(`${root}/quota`, quota);
    if (halfway) {
      // Per-role nodes of a first batch, stale: the single node still holds the truth.
      await store.mkdirp(`${root}/role-weights`);
      await store.createJson(`${root}/role-weights/dev`, 1);
      await store.createJson(`${root}/role-weights/${roleNode('prod/web')}`, 7);
    }

    const master = await startMaster(cluster);
    expect(master.isLeader).toBe(true);
    expect(master.state.weights).toEqual(weights);
    expect(master.state.quota).toEqual(quota);
    expect(await store.exists(`${root}/weights`)).toBeUndefined();
    expect(await store.exists(`${root}/quota`)).toBeUndefined();
    expect((await store.getChildren(`${root}/role-weights`)).sort()).toEqual(['batch', 'dev', 'prod%2Fweb']);
    expect((await store.getJson<number>(`${root}/role-weights/dev`)).value).toBe(3);
    expect((await store.getJson(`${root}/role-quota/${roleNode('prod/web')}`)).value).toEqual(quota['prod/web']);

    // A weights PUT now writes only its role.
    const batchBefore = await version(store, `${root}/role-weights/batch`);
    expect((await http(master.httpAddress, 'PUT', '/api/v1/weights', [{ role: 'dev', weight: 4 }])).status).toBe(200);
    expect(await version(store, `${root}/role-weights/batch`)).toBe(batchBefore);

    await master.stop();
    const next = await startMaster(cluster);
    expect(next.state.weights).toEqual({ ...weights, dev: 4 });
    expect(next.state.quota).toEqual(quota);
  }, 60_000);
});
