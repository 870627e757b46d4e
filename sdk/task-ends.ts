// Whose word ends a task. Only the agent running a task knows how it ended: its TASK_FINISHED,
// TASK_FAILED, TASK_KILLED (or its own LOST) is authoritative. A TASK_LOST, TASK_GONE or
// TASK_UNKNOWN made by the master (SOURCE_MASTER) is its inference — an unreachable agent, a
// reconciliation answer about a task it does not hold — and may be overtaken by the agent's own
// report once the agent is back (Mesos: such tasks can reappear; a partition-aware framework sees
// UNREACHABLE instead). A framework that records a master's guess as a task's end should let a
// later authoritative end replace it, and count the task once.
import type { TaskStatus__Output } from '../proto/index.js';

const GUESSES: ReadonlySet<string> = new Set(['TASK_LOST', 'TASK_GONE', 'TASK_UNKNOWN']);
const ENDS: ReadonlySet<string> = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_GONE', 'TASK_DROPPED']);

type Status = Pick<TaskStatus__Output, 'state' | 'source'>;

/** A task end the master inferred (LOST, GONE, UNKNOWN from SOURCE_MASTER): the agent may still say otherwise. */
export function isInferredEnd(status: Status): boolean {
  return GUESSES.has(String(status.state)) && String(status.source) === 'SOURCE_MASTER';
}

/** A task end reported by the agent or executor that ran it: final, and it overrides an inferred one. */
export function isAuthoritativeEnd(status: Status): boolean {
  return ENDS.has(String(status.state)) && String(status.source) !== 'SOURCE_MASTER';
}
