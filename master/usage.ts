// Measured usage of the agents' tasks, as each agent reports it on its pongs (AgentUsage: the sums
// of its latest samples, agent/usage.ts): kept on the agent's record, shown as `used` on
// /api/v1/agents and summed on the leader's /metrics per agent and per role.
//
// What an agent sends is checked before it is kept — finite, not negative, at most MAX_ROLES roles
// with valid names — and a report that fails is dropped whole (the previous one stays): an agent
// cannot grow the master's label sets without bound. Only connected agents count: the last report
// of one that went away is no longer what runs there.
import type { Registry } from 'prom-client';
import { registerScraped, type Put } from '../core/scraped-metrics.js';
import { isValidRole } from '../core/resources-values.js';
import type { AgentUsage__Output } from '../proto/index.js';
import type { AgentRecord, UsageReport } from './model.js';
import type { MasterState } from './state.js';

/** More roles than any agent runs tasks for; beyond it a report is refused. */
export const MAX_ROLES = 256;

const fine = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;

/** The report to keep, or a reason to drop it. */
export function acceptUsage(wire: AgentUsage__Output, receivedAtMs: number): UsageReport | string {
  if (!fine(wire.cpus) || !fine(wire.memBytes)) return 'usage.cpus and usage.memBytes must be finite and not negative';
  if (wire.roles.length > MAX_ROLES) return `usage.roles: at most ${MAX_ROLES} roles, got ${wire.roles.length}`;
  const roles = new Map<string, { cpus: number; memBytes: number }>();
  for (const r of wire.roles) {
    if (!isValidRole(r.role) || roles.has(r.role)) return `usage.roles: invalid or repeated role '${r.role.slice(0, 64)}'`;
    if (!fine(r.cpus) || !fine(r.memBytes)) return `usage.roles[${r.role}]: cpus and memBytes must be finite and not negative`;
    roles.set(r.role, { cpus: r.cpus, memBytes: r.memBytes });
  }
  return { cpus: wire.cpus, memBytes: wire.memBytes, roles, sampledAtMs: Number(wire.sampledAtMs), receivedAtMs };
}

/** `used` on /api/v1/agents: null before the agent's first report, or when it is not connected. */
export function usedJson(agent: AgentRecord): Record<string, unknown> | null {
  const u = agent.state === 'connected' ? agent.usage : undefined;
  if (!u) return null;
  return { cpus: u.cpus, memBytes: u.memBytes, roles: Object.fromEntries([...u.roles].map(([role, r]) => [role, { cpus: r.cpus, memBytes: r.memBytes }])), sampledAtMs: u.sampledAtMs, receivedAtMs: u.receivedAtMs };
}

function reports(state: MasterState): [AgentRecord, UsageReport][] {
  const out: [AgentRecord, UsageReport][] = [];
  for (const a of state.allAgents()) if (a.state === 'connected' && a.usage) out.push([a, a.usage]);
  return out;
}

function byRole(state: MasterState): Map<string, { cpus: number; memBytes: number }> {
  const sums = new Map<string, { cpus: number; memBytes: number }>();
  for (const [, u] of reports(state)) {
    for (const [role, r] of u.roles) {
      const s = sums.get(role) ?? { cpus: 0, memBytes: 0 };
      s.cpus += r.cpus;
      s.memBytes += r.memBytes;
      sums.set(role, s);
    }
  }
  return sums;
}

/** agora_agent_used{,_bytes}{agent_id,resource} and agora_role_used{,_bytes}{role,resource}. */
export function registerUsageGauges(state: MasterState, registers: Registry[]): void {
  const gauge = (name: string, help: string, labelNames: string[], fill: (put: Put) => void): void => registerScraped(registers, { name, help, labelNames, fill });
  gauge('agora_agent_used', "Cores the agent's tasks use (measured: the sum of their CPU utilisation)", ['agent_id', 'resource'], (set) => {
    for (const [a, u] of reports(state)) set({ agent_id: a.id, resource: 'cpus' }, u.cpus);
  });
  gauge('agora_agent_used_bytes', "Memory the agent's tasks use (measured: the sum of their working sets), in bytes", ['agent_id', 'resource'], (set) => {
    for (const [a, u] of reports(state)) set({ agent_id: a.id, resource: 'mem' }, u.memBytes);
  });
  gauge('agora_role_used', "Cores each role's tasks use (measured), over the connected agents", ['role', 'resource'], (set) => {
    for (const [role, s] of byRole(state)) set({ role, resource: 'cpus' }, s.cpus);
  });
  gauge('agora_role_used_bytes', "Memory each role's tasks use (measured working sets), over the connected agents, in bytes", ['role', 'resource'], (set) => {
    for (const [role, s] of byRole(state)) set({ role, resource: 'mem' }, s.memBytes);
  });
}
