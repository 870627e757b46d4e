// Would any agent of the cluster ever take this spec's tasks? Asked at apply, against every
// agent's total resources and attributes (the master's /api/v1/agents), so that a spec that can
// never run says so at once instead of waiting in silence:
//
//   spec's task template ─┬─ resources: each of cpus, mem, disk, gpus ≤ the largest agent's?
//   agents' totals ───────┼─ ports: as many as the agent with the most?
//   agents' attributes ───┴─ constraints that judge an agent alone (IS, LIKE, UNLIKE, CLUSTER v):
//                            does one agent pass them all?
//
// A spec that fails is accepted all the same, as Kubernetes accepts a pod no node fits and leaves
// it Pending (agents may join later; a spec applied before its agents is normal), with a warning
// in the apply response naming the field as the YAML spells it and the largest agent. Pure.
import { checkConstraint, parseConstraints, PlacementTally, type Constraint } from '../../sdk/constraints.js';
import type { AgentCapacity, WorkloadKind } from '../workload.js';

export type { AgentCapacity };

const SCALARS = ['cpus', 'mem', 'disk', 'gpus'] as const;
type ScalarName = (typeof SCALARS)[number];
const UNITS: Record<ScalarName, string> = { cpus: '', mem: ' MiB', disk: ' MiB', gpus: '' };

/** An agent as the master's operator API shows it (`GET /api/v1/agents`), by its total resources. */
export function agentCapacity(json: { hostname?: unknown; attributes?: unknown; resources?: { total?: Record<string, unknown> } }): AgentCapacity {
  const total = json.resources?.total ?? {};
  const scalars = Object.fromEntries(SCALARS.map((s) => [s, Number(total[s] ?? 0) || 0])) as Record<ScalarName, number>;
  const attributes = typeof json.attributes === 'object' && json.attributes !== null ? (json.attributes as Record<string, string>) : {};
  return { hostname: String(json.hostname ?? ''), scalars, ports: portCount(String(total['ports'] ?? '')), attributes };
}

/** `31000-31010,32000-32001` → 13. */
export function portCount(ranges: string): number {
  let n = 0;
  for (const range of ranges.split(',')) {
    if (range.trim() === '') continue;
    const [a, b] = range.split('-').map((x) => Number(x.trim()));
    if (a !== undefined && Number.isInteger(a)) n += (b !== undefined && Number.isInteger(b) ? b : a) - a + 1;
  }
  return n;
}

/** What no agent could take, one warning per field; [] when some agent could, or none is known. */
export function feasibilityWarnings(kind: WorkloadKind, spec: Readonly<Record<string, unknown>>, agents: readonly AgentCapacity[]): string[] {
  if (agents.length === 0) return [];
  const prefix = kind === 'SERVICE' ? '' : 'task.';
  const template = (kind === 'SERVICE' ? spec : spec['task']) as Record<string, unknown> | undefined;
  if (typeof template !== 'object' || template === null) return [];
  const warnings: string[] = [];
  const pending = kind === 'SERVICE' ? 'its instances stay pending until one that has joins' : 'its tasks stay pending until one that has joins';
  const resources = (template['resources'] ?? {}) as Record<string, unknown>;
  for (const name of SCALARS) {
    const need = Number(resources[name] ?? 0);
    if (!(need > 0)) continue;
    const largest = maxBy(agents, (a) => a.scalars[name]);
    if (need > largest.scalars[name]) {
      warnings.push(`${prefix}resources.${name}: ${need}${UNITS[name]} is more than any agent has (the largest, ${largest.hostname}, has ${largest.scalars[name]}${UNITS[name]}); ${pending}`);
    }
  }
  const ports = Array.isArray(template['ports']) ? template['ports'].length : 0;
  const most = maxBy(agents, (a) => a.ports);
  if (ports > most.ports) warnings.push(`${prefix}ports: ${ports} ports are more than any agent offers (the most, ${most.hostname}, has ${most.ports}); ${pending}`);
  const constraints = safeConstraints(template['constraints']);
  if (constraints.length > 0 && !agents.some((a) => constraints.every((c) => passesAlone(c, a)))) {
    const judged = constraints.map((c, i) => ({ c, i })).filter(({ c }) => !agents.some((a) => passesAlone(c, a)));
    const at = judged.length === 1 ? `${prefix}constraints[${judged[0]!.i}]` : `${prefix}constraints`;
    warnings.push(`${at}: no agent matches (${agents.length} agent${agents.length === 1 ? '' : 's'}: ${agents.slice(0, 3).map(describeAgent).join('; ')}${agents.length > 3 ? '; …' : ''}); ${pending}`);
  }
  return warnings;
}

function safeConstraints(value: unknown): readonly Constraint[] {
  try {
    return parseConstraints(value ?? undefined);
  } catch {
    return []; // the controller has validated the spec; nothing to judge here
  }
}

/**
 * Whether an agent passes a constraint with no task placed yet, judged as placement judges it
 * (sdk/constraints.ts): UNIQUE, MAX_PER, GROUP_BY pass on any agent that has the field.
 */
function passesAlone(c: Constraint, agent: AgentCapacity): boolean {
  return checkConstraint(c, agent, NO_TASKS, undefined, false) === undefined;
}

const NO_TASKS = new PlacementTally();

function describeAgent(a: AgentCapacity): string {
  const attrs = Object.entries(a.attributes).map(([k, v]) => `${k}=${v}`);
  return `${a.hostname}${attrs.length ? ` ${attrs.join(',')}` : ' (no attributes)'}`;
}

function maxBy<T>(items: readonly T[], f: (t: T) => number): T {
  return items.reduce((best, t) => (f(t) > f(best) ? t : best));
}
