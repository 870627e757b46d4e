// The verdict on a chaos run: pure functions of what was observed. Each returns what it found, so
// the summary can count it, and a violation is any count the invariants say must be zero.
//
//   ledgers (lines the tasks themselves appended)  ─► runTwice: a batch index or cron slot completed twice
//   the frameworks' records + the ledgers          ─► reportedLost: a task that completed, recorded as failed/lost
//   master, agents, frameworks, /proc at the end   ─► orphans and lost tasks (every side knows the same tasks)
//   capacity probes                                ─► the share of probes with at least the minimum healthy
//   leader claims                                  ─► two masters answering `self: true` at once
import { isTerminal, type TaskState } from '../../core/task-state.js';

/** One ledger line: the key (index or scheduled time) and the task that wrote it. */
export interface LedgerEntry {
  readonly key: string;
  readonly taskId: string;
}

export function parseLedger(text: string): LedgerEntry[] {
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((parts) => parts.length === 2 && parts[0] !== '' && parts[1] !== '')
    .map(([key, taskId]) => ({ key: key as string, taskId: taskId as string }));
}

/** Keys completed by more than one task: { key: [taskIds…] }. */
export function completedTwice(entries: readonly LedgerEntry[]): Record<string, string[]> {
  const byKey = new Map<string, Set<string>>();
  for (const e of entries) byKey.set(e.key, (byKey.get(e.key) ?? new Set()).add(e.taskId));
  return Object.fromEntries([...byKey].filter(([, ids]) => ids.size > 1).map(([key, ids]) => [key, [...ids].sort()]));
}

/** Values that occur more than once. */
export function duplicates<T>(values: readonly T[]): T[] {
  const seen = new Set<T>();
  const twice = new Set<T>();
  for (const v of values) (seen.has(v) ? twice : seen).add(v);
  return [...twice];
}

/** How a framework recorded a task: its final word on it. */
export interface RecordedTask {
  readonly taskId: string;
  /** A task state (batch), or a run phase (cron: JOB_SUCCEEDED, JOB_FAILED, …). */
  readonly state: string;
}

const SUCCESS = new Set(['TASK_FINISHED', 'JOB_SUCCEEDED', 'JOB_RUNNING', 'TASK_RUNNING', 'TASK_STARTING', 'TASK_STAGING']);

/** Tasks whose command completed (they wrote the ledger) that a framework recorded as anything but a success. */
export function reportedLost(ledger: readonly LedgerEntry[], recorded: readonly RecordedTask[]): RecordedTask[] {
  const completed = new Set(ledger.map((e) => e.taskId));
  return recorded.filter((r) => completed.has(r.taskId) && !SUCCESS.has(r.state));
}

/** Everything each side says is live (not terminal) at the end, after convergence. */
export interface LiveView {
  /** The leading master's non-terminal tasks. */
  readonly master: readonly string[];
  /** Each agent's non-terminal tasks. */
  readonly agents: readonly string[];
  /** What the frameworks say is live: service instances, the batch job's active tasks, active cron runs' tasks. */
  readonly frameworks: readonly string[];
  /** Task ids of processes found running in an agent's sandboxes (/proc, by working directory). */
  readonly processes: readonly string[];
}

export interface Orphans {
  /** A process runs but its agent has no live task for it. */
  readonly processWithoutAgentTask: string[];
  /** An agent runs a task the master does not know as live. */
  readonly agentTaskUnknownToMaster: string[];
  /** The master knows a live task no agent runs. */
  readonly masterTaskOnNoAgent: string[];
  /** The master knows a live task no framework claims. */
  readonly masterTaskUnknownToFramework: string[];
  /** A framework counts on a task the master does not know as live. */
  readonly frameworkTaskUnknownToMaster: string[];
  /** A live task on an agent with no process running in its sandbox. */
  readonly agentTaskWithoutProcess: string[];
}

export function findOrphans(v: LiveView): Orphans {
  const minus = (a: readonly string[], b: readonly string[]): string[] => {
    const set = new Set(b);
    return [...new Set(a)].filter((x) => !set.has(x)).sort();
  };
  return {
    processWithoutAgentTask: minus(v.processes, v.agents),
    agentTaskUnknownToMaster: minus(v.agents, v.master),
    masterTaskOnNoAgent: minus(v.master, v.agents),
    masterTaskUnknownToFramework: minus(v.master, v.frameworks),
    frameworkTaskUnknownToMaster: minus(v.frameworks, v.master),
    agentTaskWithoutProcess: minus(v.agents, v.processes),
  };
}

export function orphanCount(o: Orphans): number {
  return Object.values(o).reduce((n, list: string[]) => n + list.length, 0);
}

export function isLive(state: string): boolean {
  return !isTerminal(state as TaskState);
}

export interface CapacityProbe {
  readonly atMs: number;
  /** Instances whose heartbeat is fresh. */
  readonly available: number;
}

export interface CapacityVerdict {
  readonly probes: number;
  readonly held: number;
  /** held / probes (1 when there were none). */
  readonly share: number;
  readonly minSeen: number;
}

export function capacityVerdict(probes: readonly CapacityProbe[], minHealthy: number): CapacityVerdict {
  const held = probes.filter((p) => p.available >= minHealthy).length;
  return {
    probes: probes.length,
    held,
    share: probes.length === 0 ? 1 : held / probes.length,
    minSeen: probes.length === 0 ? 0 : Math.min(...probes.map((p) => p.available)),
  };
}

/** A master answered `/api/v1/leader` with `self: true` (its address: a restarted master is another). */
export interface LeaderClaim {
  readonly master: string;
  readonly atMs: number;
}

/**
 * Claims made within `windowMs` of another master's claim: two masters answering as leader at
 * once. A rightful hand-over cannot do it — the new leader is elected a session timeout after the
 * old one stopped answering — so each is a stale leader's answer (or the new one's).
 */
export function overlappingClaims(claims: readonly LeaderClaim[], windowMs: number): LeaderClaim[] {
  const sorted = [...claims].sort((a, b) => a.atMs - b.atMs);
  return sorted.filter((c, i) => {
    for (let j = i - 1; j >= 0 && c.atMs - sorted[j]!.atMs <= windowMs; j--) if (sorted[j]!.master !== c.master) return true;
    for (let j = i + 1; j < sorted.length && sorted[j]!.atMs - c.atMs <= windowMs; j++) if (sorted[j]!.master !== c.master) return true;
    return false;
  });
}

/** The least number of instances a rolling update keeps available (as the services planner rounds). */
export function minimumHealthy(instances: number, minimumHealthCapacity: number): number {
  return Math.ceil(instances * minimumHealthCapacity - 1e-9);
}
