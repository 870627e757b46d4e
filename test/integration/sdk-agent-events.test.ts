// Agents coming and going, told to a framework that asks (framework.agentEvents): the registered
// agents right after each subscription, then each agent added, drained / undrained through the
// operator endpoint, and removed — and nothing of it to a framework that did not ask.
import { afterEach, describe, expect, it } from 'vitest';
import { FrameworkDriver, silentLogger, type Agent, type AgentDrainChange, type AgentRemoval, type FrameworkHandlers } from '../../sdk/index.js';
import { MasterHarness, eventually, stopHarnesses } from '../support/master-harness.js';
import { freePort } from '../support/ports.js';
import { driverAccess, httpsUrl, secureFetch } from '../support/security.js';
import { holdsFor } from '../support/waits.js';

const drivers: FrameworkDriver[] = [];
afterEach(async () => {
  await Promise.allSettled(drivers.splice(0).map((d) => d.stop()));
  await stopHarnesses();
});

type Seen = { added: Agent } | { removed: AgentRemoval } | { draining: AgentDrainChange } | { subscribed: boolean };

async function watcher(h: MasterHarness, agentEvents: boolean, extra: { mayConnect?: () => boolean } = {}): Promise<{ driver: FrameworkDriver; seen: Seen[] }> {
  const seen: Seen[] = [];
  const handlers: FrameworkHandlers = {
    subscribed: (_d, s) => void seen.push({ subscribed: s.resubscribed }),
    agentAdded: (_d, agent) => void seen.push({ added: agent }),
    agentRemoved: (_d, event) => void seen.push({ removed: event }),
    agentDraining: (_d, event) => void seen.push({ draining: event }),
  };
  const driver = await FrameworkDriver.start(
    { master: h.address, framework: { name: agentEvents ? 'watcher' : 'plain', failoverTimeoutSeconds: 60, agentEvents }, reconnect: { initialMs: 20, maxMs: 100 }, logger: silentLogger(), ...driverAccess(), ...extra },
    handlers,
  );
  drivers.push(driver);
  return { driver, seen };
}

function added(seen: Seen[]): Agent[] {
  return seen.flatMap((s) => ('added' in s ? [s.added] : []));
}

async function operator(h: MasterHarness, path: string, body?: unknown): Promise<void> {
  const res = await secureFetch(httpsUrl(h.master.httpAddress, path), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
  expect(res.status, await res.text()).toBeLessThan(300);
}

describe('agent events', () => {
  it('tells a framework that asks of agents registered, added, drained, undrained and removed; nothing to one that does not', async () => {
    const h = await MasterHarness.start();
    const a = await h.agent({ hostname: 'a.test', ip: '10.231.0.7', resources: 'cpus:2;mem:1024', attributes: 'rack:r1;zone:z1' });
    const w = await watcher(h, true);
    const plain = await watcher(h, false);

    // The agent registered before the subscription: right after SUBSCRIBED.
    await eventually(() => expect(added(w.seen).map((x) => x.agentId)).toEqual([a.agentId]));
    expect(w.seen[0]).toEqual({ subscribed: false });
    const first = added(w.seen)[0]!;
    expect(first).toMatchObject({ hostname: 'a.test', ip: '10.231.0.7', attributes: { rack: 'r1', zone: 'z1' }, draining: false });
    expect(first.resources.scalar('cpus')).toBe(2);
    expect(first.resources.scalar('mem')).toBe(1024);

    // An agent that registers later.
    const b = await h.agent({ hostname: 'b.test' });
    await eventually(() => expect(added(w.seen).map((x) => x.agentId)).toEqual([a.agentId, b.agentId]));

    // Drained and undrained by an operator.
    await operator(h, `/api/v1/agents/${a.agentId}/drain`, { gracePeriodSeconds: 1 });
    await eventually(() => expect(w.seen).toContainEqual({ draining: { agentId: a.agentId, draining: true } }));
    await operator(h, `/api/v1/agents/${a.agentId}/undrain`);
    await eventually(() => expect(w.seen).toContainEqual({ draining: { agentId: a.agentId, draining: false } }));

    // Removed: b stops answering pings and the master gives up on it.
    b.setAnswerPings(false);
    const removal = await eventually(() => {
      const r = w.seen.find((s): s is { removed: AgentRemoval } => 'removed' in s);
      return r ?? Promise.reject(new Error('no removal yet'));
    });
    expect(removal.removed.agentId).toBe(b.agentId);
    expect(removal.removed.reason).toContain('unreachable');

    // The framework that did not ask heard of none of it.
    await holdsFor(200, () => expect(plain.seen).toEqual([{ subscribed: false }]), 'an agent event to a framework that did not ask');
  });

  it('sends the current list again after a resubscription (a master restart), with what the agent is now', async () => {
    const port = await freePort();
    const h = await MasterHarness.start({ store: 'file', master: { grpcPort: port, agentReregisterTimeout: '20s' } });
    const a = await h.agent({ hostname: 'a.test' });
    const gate = { open: true };
    const w = await watcher(h, true, { mayConnect: () => gate.open });
    await eventually(() => expect(added(w.seen).map((x) => x.agentId)).toEqual([a.agentId]));
    await operator(h, `/api/v1/agents/${a.agentId}/drain`);
    await eventually(() => expect(w.seen).toContainEqual({ draining: { agentId: a.agentId, draining: true } }));

    // The master restarts; the framework stays away until the agent is back, so the list is what brings it.
    gate.open = false;
    const agentId = a.agentId;
    await a.close();
    await h.restart();
    await eventually(() => h.agent({ agentId, hostname: 'a.test' }), { timeoutMs: 8000, what: 'agent re-registered' });
    await eventually(() => expect(h.master.lifecycle).toBe('LEADING'));
    const before = w.seen.length;
    gate.open = true;
    await eventually(() => expect(w.seen.slice(before)).toEqual([{ subscribed: true }, { added: expect.objectContaining({ agentId, hostname: 'a.test', draining: true }) as Agent }]), { timeoutMs: 8000 });
  });
});
