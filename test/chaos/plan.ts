// The fault schedule: a pure function of the options (the seed above all), so that a run can be
// replayed. What each fault finds when it fires (a process already down, a node already out)
// depends on the real processes; the runner records that as a skip.
//
//   kill   SIGKILL a master, agent or frameworks process; its supervisor starts it again
//   stop   SIGSTOP one for holdMs, then SIGCONT (past the ZooKeeper session when holdMs is long)
//   zk     stop one ZooKeeper node (SIGKILL) for holdMs, then start it again; one at a time
import type { ChaosOptions } from './options.js';
import { seededRng } from './rng.js';

export type Role = 'master' | 'agent' | 'frameworks';
export type FaultKind = 'kill' | 'stop' | 'zk';

export interface Fault {
  /** Milliseconds after the chaos starts. */
  readonly atMs: number;
  readonly kind: FaultKind;
  /** For kill and stop. */
  readonly role?: Role;
  /** Which process of the role, or which ZooKeeper node. */
  readonly index: number;
  /** For stop and zk: how long until SIGCONT / the restart. */
  readonly holdMs?: number;
}

export interface Topology {
  readonly zookeepers: number;
  readonly masters: number;
  readonly agents: number;
  readonly frameworks: number;
}

/** What the seed users ran: 3 ZooKeepers, 3 masters, 3 agents, 2 frameworks processes. */
export const TOPOLOGY: Topology = Object.freeze({ zookeepers: 3, masters: 3, agents: 3, frameworks: 2 });

const ROLES: readonly Role[] = ['master', 'agent', 'frameworks'];

export function planFaults(o: Pick<ChaosOptions, 'seed' | 'durationMs' | 'faultIntervalMs' | 'killWeight' | 'stopWeight' | 'zkWeight' | 'holdMaxMs'>, topology: Topology = TOPOLOGY): Fault[] {
  const rng = seededRng(o.seed);
  const faults: Fault[] = [];
  const total = o.killWeight + o.stopWeight + o.zkWeight;
  let zkBackAt = 0;
  for (let at = gap(); at < o.durationMs; at += gap()) {
    const draw = rng.next() * total;
    const hold = Math.round(o.holdMaxMs * (0.3 + 0.7 * rng.next()));
    const kind: FaultKind = draw < o.killWeight ? 'kill' : draw < o.killWeight + o.stopWeight ? 'stop' : 'zk';
    if (kind === 'zk') {
      const index = rng.int(0, topology.zookeepers - 1);
      // One node out at a time: the quorum holds, as the runs kept it.
      if (at < zkBackAt) continue;
      // A node's outage ends before the chaos does, so convergence starts with all of them up.
      const holdMs = Math.min(hold, o.durationMs - at);
      zkBackAt = at + holdMs + 1_000;
      faults.push({ atMs: at, kind, index, holdMs });
      continue;
    }
    const role = rng.pick(ROLES);
    const index = rng.int(0, count(topology, role) - 1);
    faults.push(kind === 'kill' ? { atMs: at, kind, role, index } : { atMs: at, kind, role, index, holdMs: Math.min(hold, o.durationMs - at) });
  }
  return faults;

  function gap(): number {
    return Math.round(o.faultIntervalMs * (0.5 + rng.next()));
  }
}

function count(t: Topology, role: Role): number {
  return role === 'master' ? t.masters : role === 'agent' ? t.agents : t.frameworks;
}

/** Faults by kind and role, for the summary: { 'kill.master': 3, 'stop.agent': 2, 'zk': 1, … }. */
export function countFaults(faults: readonly Pick<Fault, 'kind' | 'role'>[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const f of faults) {
    const key = f.kind === 'zk' ? 'zk.stop' : `${f.kind}.${f.role}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
