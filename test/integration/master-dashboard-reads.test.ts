// The overview's reads on a real master (gRPC + HTTPS on loopback): the cluster's usage history,
// sampled on the master's (fake) clock, and the recent events with their stream ids.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { issueToken } from '../support/acl.js';
import { MasterHarness, eventually, stopHarnesses } from '../support/master-harness.js';
import { secureFetch } from '../support/security.js';

afterEach(stopHarnesses);

type Json = Record<string, any>;

const MIB = 1024 * 1024;

async function http(h: MasterHarness, path: string, token?: string | null): Promise<{ status: number; json: Json }> {
  const res = await secureFetch(`https://${h.master.httpAddress}${path}`, token === undefined ? {} : { token });
  return { status: res.status, json: (await res.json()) as Json };
}

describe('GET /api/v1/usage/history', () => {
  it('samples total, allocated and measured use every interval of the master’s clock', async () => {
    const clock = new FakeClock(Date.now()); // now: certificates are checked against it
    const h = await MasterHarness.start({ clock, master: { usageHistoryInterval: '10s', usageHistorySize: 2, agentPingInterval: '15s' } });
    const agent = await h.agent({ resources: 'cpus:4;mem:2048;disk:1000' });
    agent.usage = { cpus: 1.5, memBytes: 256 * MIB, diskBytes: 300 * MIB };
    // An agent older than the disk figure sends none: it counts 0.
    const old = await h.agent({ resources: 'cpus:1;mem:1024;disk:500' });
    old.usage = { cpus: 0.5, memBytes: 64 * MIB };
    expect((await http(h, '/api/v1/usage/history')).json).toEqual({ intervalMs: 10_000, samples: [] });
    const t0 = clock.now();
    clock.advance(10_000); // a sample, before any usage report
    clock.advance(5_000); // a ping: the agent's pong reports its usage
    await eventually(() => expect([h.state.agent(agent.agentId)?.usage?.cpus, h.state.agent(old.agentId)?.usage?.cpus]).toEqual([1.5, 0.5]));
    clock.advance(5_000); // a sample with it
    const { json } = await http(h, '/api/v1/usage/history');
    expect(json.samples).toEqual([
      { t: t0 + 10_000, total: { cpus: 5, mem: 3072, disk: 1500 }, allocated: { cpus: 0, mem: 0, disk: 0 }, used: { cpus: 0, mem: 0, disk: 0 } },
      { t: t0 + 20_000, total: { cpus: 5, mem: 3072, disk: 1500 }, allocated: { cpus: 0, mem: 0, disk: 0 }, used: { cpus: 2, mem: 320, disk: 300 } },
    ]);
    const { agents } = (await http(h, '/api/v1/agents')).json;
    const used = (id: string): Json => agents.find((a: Json) => a.id === id).used;
    expect(used(agent.agentId)).toMatchObject({ cpus: 1.5, memBytes: 256 * MIB, diskBytes: 300 * MIB, roles: {} });
    expect(used(old.agentId)).toMatchObject({ cpus: 0.5, memBytes: 64 * MIB, diskBytes: 0 });
    clock.advance(10_000); // the oldest goes: two are kept
    expect((await http(h, '/api/v1/usage/history')).json.samples.map((s: Json) => s.t)).toEqual([t0 + 20_000, t0 + 30_000]);
  });

  it('needs cluster.view', async () => {
    const h = await MasterHarness.start();
    expect((await http(h, '/api/v1/usage/history', null)).status).toBe(401);
    const bob = await issueToken(h.master.httpAddress, 'bob', [{ allow: ['frameworks.register'] }]);
    expect((await http(h, '/api/v1/usage/history', bob)).json).toMatchObject({ code: 'AGORA_PERMISSION_DENIED' });
  });
});

describe('GET /api/v1/events/recent', () => {
  it('answers the last events, oldest first, with their time and stream id; limit is bounded', async () => {
    const h = await MasterHarness.start();
    const a1 = await h.agent({ hostname: 'a1.test' });
    const a2 = await h.agent({ hostname: 'a2.test' });
    const fw = await h.framework({ name: 'fw1' });
    const all = (await http(h, '/api/v1/events/recent')).json.events as Json[];
    expect(all.map((e) => e.type)).toEqual(['AGENT_ADDED', 'AGENT_ADDED', 'FRAMEWORK_ADDED']);
    expect(all[0]).toMatchObject({ agentId: a1.agentId, hostname: 'a1.test' });
    expect(all[2]).toMatchObject({ frameworkId: fw.frameworkId, name: 'fw1' });
    for (const e of all) {
      expect(e.id).toMatch(/^[0-9a-z]+-\d+$/);
      expect(e.timestampMs).toBeGreaterThan(0);
    }
    const last = (await http(h, '/api/v1/events/recent?limit=2')).json.events as Json[];
    expect(last.map((e) => e.agentId ?? e.frameworkId)).toEqual([a2.agentId, fw.frameworkId]);
    expect(last.map((e) => e.id)).toEqual(all.slice(1).map((e) => e.id));
    const tooMany = await http(h, '/api/v1/events/recent?limit=201');
    expect(tooMany).toMatchObject({ status: 400, json: { code: 'AGORA_INVALID_ARGUMENT', field: 'limit' } });
    expect((await http(h, '/api/v1/events/recent', null)).status).toBe(401);
  });
});
