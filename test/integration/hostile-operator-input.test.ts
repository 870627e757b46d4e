// Malformed bodies on the operator's write endpoints of a real master (HTTPS, authenticated as the
// test admin): each one is a 400 naming the field — `PUT /api/v1/quota {"guarantee":[null]}` was a
// 500 — and changes nothing: weights, quota, drains and tokens read the same before and after.
import { afterEach, describe, expect, it } from 'vitest';
import { MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { secureFetch } from '../support/security.js';

afterEach(stopHarnesses);

type Json = Record<string, unknown>;

async function http(h: MasterHarness, method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const res = await secureFetch(`https://${h.master.httpAddress}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  const text = await res.text();
  return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Json) };
}

/** What the write endpoints could change, as the read endpoints show it. */
async function visible(h: MasterHarness): Promise<unknown> {
  const read = async (path: string): Promise<Json> => (await http(h, 'GET', path)).json;
  const tokens = ((await read('/api/v1/acl/tokens'))['tokens'] as Json[]).map((t) => t['accessor']);
  return { weights: await read('/api/v1/weights'), quota: await read('/api/v1/quota'), agents: await read('/api/v1/agents'), tokens };
}

const long = 'r'.repeat(100_000);

describe('malformed operator input', () => {
  it('is a 400 naming the field, never a 500, and changes nothing', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent();
    expect((await http(h, 'PUT', '/api/v1/weights', [{ role: 'keep', weight: 2 }])).status).toBe(200);
    expect((await http(h, 'PUT', '/api/v1/quota', { role: 'keep', guarantee: 'cpus:1' })).status).toBe(200);
    const before = await visible(h);
    const drain = `/api/v1/agents/${agent.agentId}/drain`;

    const cases: Array<[string, string, unknown, string]> = [
      ['PUT', '/api/v1/quota', { role: 'r', guarantee: [null] }, 'guarantee[0]'],
      ['PUT', '/api/v1/quota', { role: 'r', limit: [null] }, 'limit[0]'],
      ['PUT', '/api/v1/quota', { role: 'r', guarantee: [1] }, 'guarantee[0]'],
      ['PUT', '/api/v1/quota', { role: 'r', guarantee: [{ name: 5, scalar: 1 }] }, 'guarantee[0].name'],
      ['PUT', '/api/v1/quota', { role: 'r', guarantee: [{ name: 'cpus', scalar: '1' }] }, 'guarantee[0].scalar'],
      ['PUT', '/api/v1/quota', { role: 'r', guarantee: [{ name: 'cpus', scalar: 1, role: 7 }] }, 'guarantee[0].role'],
      ['PUT', '/api/v1/quota', { role: 'r', guarantee: [{ type: 'RANGES', name: 'ports', ranges: 5 }] }, 'guarantee[0].ranges'],
      ['PUT', '/api/v1/quota', { role: 'r', guarantee: [{ type: 'RANGES', name: 'ports', ranges: [null] }] }, 'guarantee[0].ranges[0]'],
      ['PUT', '/api/v1/quota', { role: 'r', guarantee: [{ type: 'RANGES', name: 'ports', ranges: [{ begin: 'x', end: 2 }] }] }, 'guarantee[0].ranges[0]'],
      ['PUT', '/api/v1/quota', { role: 'r', guarantee: [{ type: 'SET', name: 's', set: 5 }] }, 'guarantee[0].set'],
      ['PUT', '/api/v1/quota', { role: 'r', guarantee: [{ type: 'SET', name: 's', set: [{}] }] }, 'guarantee[0].set[0]'],
      ['PUT', '/api/v1/quota', { role: 'r', guarantee: { cpus: 1e308 } }, 'guarantee.cpus'],
      ['PUT', '/api/v1/quota', { role: 'r', guarantee: { cpus: -1 } }, 'guarantee.cpus'],
      ['PUT', '/api/v1/quota', { role: 'r', guarantee: [{ name: 'cpus', scalar: 1e308 }] }, 'guarantee[0].scalar'],
      ['PUT', '/api/v1/quota', { role: 'r', guarantee: 'cpus:NaN' }, 'guarantee'],
      ['PUT', '/api/v1/quota', { role: long, guarantee: 'cpus:1' }, 'role'],
      ['PUT', '/api/v1/quota', { role: '💥', guarantee: 'cpus:1' }, 'role'],
      ['PUT', '/api/v1/weights', [{ role: 'r', weight: 1e308 }], 'body[0].weight'],
      ['PUT', '/api/v1/weights', [{ role: 'r', weight: 0.0001 }], 'body[0].weight'],
      ['PUT', '/api/v1/weights', [{ role: 'r', weight: '2' }], 'body[0].weight'],
      ['PUT', '/api/v1/weights', [{ role: 'r', weight: null }], 'body[0].weight'],
      ['PUT', '/api/v1/weights', [{ role: long, weight: 2 }], 'body[0].role'],
      ['PUT', '/api/v1/weights', { weights: [{ role: 'ok', weight: 2 }, null] }, 'weights[1]'],
      ['DELETE', '/api/v1/weights/%F0%9F%92%A5', undefined, 'role'],
      ['DELETE', '/api/v1/quota/a%20b', undefined, 'role'],
      ['POST', drain, { gracePeriodSeconds: 1e308 }, 'gracePeriodSeconds'],
      ['POST', drain, { gracePeriodSeconds: 2_592_000 }, 'gracePeriodSeconds'],
      ['POST', drain, { gracePeriodSeconds: -1 }, 'gracePeriodSeconds'],
      ['POST', drain, { gracePeriodSeconds: 'soon' }, 'gracePeriodSeconds'],
      ['POST', '/api/v1/acl/tokens', { principal: 'p', policies: ['viewer'], ttlSeconds: 1e308 }, 'ttlSeconds'],
      ['POST', '/api/v1/acl/tokens', { principal: 'p', policies: ['viewer'], ttlSeconds: 0 }, 'ttlSeconds'],
      ['POST', '/api/v1/acl/tokens', { principal: 'p', policies: ['viewer'], ttlSeconds: 400 * 24 * 3600 }, 'ttlSeconds'],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await http(h, method, path, body);
      const what = `${method} ${path.slice(0, 60)} ${JSON.stringify(body)?.slice(0, 100)}`;
      expect({ what, status: r.status, code: r.json['code'], field: r.json['field'] }).toEqual({ what, status: 400, code: 'AGORA_INVALID_ARGUMENT', field });
      expect(String(r.json['message']).length, what).toBeLessThan(1000);
    }
    expect(await visible(h)).toEqual(before);
    h.invariant();
  });

  it('takes the same inputs at their bounds', async () => {
    const h = await MasterHarness.start();
    const agent = await h.agent();
    expect((await http(h, 'PUT', '/api/v1/weights', [{ role: 'r'.repeat(255), weight: 1_000_000 }, { role: 'tiny', weight: 0.001 }])).status).toBe(200);
    expect((await http(h, 'PUT', '/api/v1/quota', { role: 'q', guarantee: [{ name: 'cpus', scalar: 1 }], limit: { cpus: 2 } })).status).toBe(200);
    expect((await http(h, 'POST', '/api/v1/acl/tokens', { principal: 'p', policies: ['viewer'], ttlSeconds: 365 * 24 * 3600 })).status).toBe(201);
    const drained = await http(h, 'POST', `/api/v1/agents/${agent.agentId}/drain`, { gracePeriodSeconds: 86_400 });
    expect(drained.status).toBe(200);
    expect(drained.json).toMatchObject({ agent: { drain: { gracePeriodSeconds: 86_400 } } });
  });
});
