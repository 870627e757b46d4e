// Measured usage of the agents' tasks, as each agent reports it on its pongs (AgentUsage: the sums
// of its latest samples — cores, memory working sets, sandbox disk — agent/usage.ts; an agent older
// than the disk figure sends none, read as 0): kept on the agent's record, shown as `used` on
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

type Sums = { cpus: number; memBytes: number; diskBytes: number };

const fine = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;

/** The first of cpus, memBytes, diskBytes that is not a finite figure ≥ 0, named; undefined when all are. */
function badFigure(sums: Sums, where: string): string | undefined {
  const field = (['cpus', 'memBytes', 'diskBytes'] as const).find((k) => !fine(sums[k]));
  return field && `${where}.${field} must be finite and not negative, got ${String(sums[field])}`;
}

/** The report to keep, or a reason to drop it. */
export function acceptUsage(wire: AgentUsage__Output, receivedAtMs: number): UsageReport | string {
  const bad = badFigure(wire, 'usage');
  if (bad) return bad;
  if (wire.roles.length > MAX_ROLES) return `usage.roles: at most ${MAX_ROLES} roles, got ${wire.roles.length}`;
  const roles = new Map<string, Sums>();
  for (const r of wire.roles) {
    if (!isValidRole(r.role) || roles.has(r.role)) return `usage.roles: invalid or repeated role '${r.role.slice(0, 64)}'`;
    const badRole = badFigure(r, `usage.roles[${r.role}]`);
    if (badRole) return badRole;
    roles.set(r.role, { cpus: r.cpus, memBytes: r.memBytes, diskBytes: r.diskBytes });
  }
  return { cpus: wire.cpus, memBytes: wire.memBytes, diskBytes: wire.diskBytes, roles, sampledAtMs: Number(wire.sampledAtMs), receivedAtMs };
}

/** `used` on /api/v1/agents: null before the agent's first report, or when it is not connected. */
export function usedJson(agent: AgentRecord): Record<string, unknown> | null {
  const u = agent.state === 'connected' ? agent.usage : undefined;
  if (!u) return null;
  const roles = Object.fromEntries([...u.roles].map(([role, r]) => [role, { cpus: r.cpus, memBytes: r.memBytes, diskBytes: r.diskBytes }]));
  return { cpus: u.cpus, memBytes: u.memBytes, diskBytes: u.diskBytes, roles, sampledAtMs: u.sampledAtMs, receivedAtMs: u.receivedAtMs };
}

function reports(state: MasterState): [AgentRecord, UsageReport][] {
  const out: [AgentRecord, UsageReport][] = [];
  for (const a of state.allAgents()) if (a.state === 'connected' && a.usage) out.push([a, a.usage]);
  return out;
}

function byRole(state: MasterState): Map<string, Sums> {
  const sums = new Map<string, Sums>();
  for (const [, u] of reports(state)) {
    for (const [role, r] of u.roles) {
      const s = sums.get(role) ?? { cpus: 0, memBytes: 0, diskBytes: 0 };
      s.cpus += r.cpus;
      s.memBytes += r.memBytes;
      s.diskBytes += r.diskBytes;
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
  gauge('agora_agent_used_bytes', "Memory and disk the agent's tasks use (measured: their working sets; their sandboxes' size), in bytes", ['agent_id', 'resource'], (set) => {
    for (const [a, u] of reports(state)) {
      set({ agent_id: a.id, resource: 'mem' }, u.memBytes);
      set({ agent_id: a.id, resource: 'disk' }, u.diskBytes);
    }
  });
  gauge('agora_role_used', "Cores each role's tasks use (measured), over the connected agents", ['role', 'resource'], (set) => {
    for (const [role, s] of byRole(state)) set({ role, resource: 'cpus' }, s.cpus);
  });
  gauge('agora_role_used_bytes', "Memory and disk each role's tasks use (measured working sets; sandbox sizes), over the connected agents, in bytes", ['role', 'resource'], (set) => {
    for (const [role, s] of byRole(state)) {
      set({ role, resource: 'mem' }, s.memBytes);
      set({ role, resource: 'disk' }, s.diskBytes);
    }
  });
}
