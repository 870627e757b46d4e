// The task state machine: one table, used by the master, the agent and the SDK alike. Names match
// the wire enum (agora.v1.TaskState) so no translation is needed at the edges.
import { FailedPreconditionError, InvalidArgumentError } from './errors.js';

export const TASK_STATES = [
  'TASK_STAGING',
  'TASK_STARTING',
  'TASK_RUNNING',
  'TASK_KILLING',
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_UNREACHABLE',
  'TASK_GONE',
  'TASK_DROPPED',
  'TASK_UNKNOWN',
] as const;
export type TaskState = (typeof TASK_STATES)[number];

type Row = {
  /** No further transitions: the task is over and its resources are free. */
  terminal: boolean;
  /** The task still holds resources on its agent. */
  active: boolean;
  to: readonly TaskState[];
};

// Why these edges (Mesos semantics):
// - RUNNING → RUNNING carries health/readiness changes.
// - UNREACHABLE is not terminal: the agent may come back, and the task with it (→ any live or
//   terminal state it really reached), or be declared GONE.
// - LOST is terminal for the framework (non-partition-aware view of an unreachable agent).
// - UNKNOWN is only ever an answer to reconciliation; it is never stored, so nothing leads to it
//   except reconciliation and it may be followed by anything the task turns out to be.
const LIVE_TERMINALS: readonly TaskState[] = ['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_GONE'];

export const TASK_STATE_TABLE: Readonly<Record<TaskState, Row>> = Object.freeze({
  TASK_STAGING: {
    terminal: false,
    active: true,
    to: ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', ...LIVE_TERMINALS, 'TASK_ERROR', 'TASK_DROPPED', 'TASK_UNREACHABLE'],
  },
  TASK_STARTING: {
    terminal: false,
    active: true,
    to: ['TASK_RUNNING', 'TASK_KILLING', ...LIVE_TERMINALS, 'TASK_DROPPED', 'TASK_UNREACHABLE'],
  },
  TASK_RUNNING: { terminal: false, active: true, to: ['TASK_RUNNING', 'TASK_KILLING', ...LIVE_TERMINALS, 'TASK_UNREACHABLE'] },
  TASK_KILLING: { terminal: false, active: true, to: ['TASK_KILLING', ...LIVE_TERMINALS, 'TASK_UNREACHABLE'] },
  TASK_FINISHED: { terminal: true, active: false, to: [] },
  TASK_FAILED: { terminal: true, active: false, to: [] },
  TASK_KILLED: { terminal: true, active: false, to: [] },
  TASK_ERROR: { terminal: true, active: false, to: [] },
  TASK_LOST: { terminal: true, active: false, to: [] },
  TASK_GONE: { terminal: true, active: false, to: [] },
  TASK_DROPPED: { terminal: true, active: false, to: [] },
  TASK_UNREACHABLE: {
    terminal: false,
    active: false,
    to: ['TASK_UNREACHABLE', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', ...LIVE_TERMINALS, 'TASK_DROPPED'],
  },
  TASK_UNKNOWN: {
    terminal: false,
    active: false,
    to: ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', ...LIVE_TERMINALS, 'TASK_ERROR', 'TASK_DROPPED', 'TASK_UNREACHABLE'],
  },
});

export function isTaskState(value: unknown): value is TaskState {
  return typeof value === 'string' && Object.hasOwn(TASK_STATE_TABLE, value);
}

export function parseTaskState(value: unknown, field = 'state'): TaskState {
  if (isTaskState(value)) return value;
  if (typeof value === 'string' && isTaskState(`TASK_${value.toUpperCase()}`)) return `TASK_${value.toUpperCase()}` as TaskState;
  throw new InvalidArgumentError(field, `unknown task state '${String(value)}'; expected one of ${TASK_STATES.join(', ')}`);
}

export function isTerminal(state: TaskState): boolean {
  return TASK_STATE_TABLE[state].terminal;
}

/** The task holds resources on its agent (counted as allocated). */
export function isActive(state: TaskState): boolean {
  return TASK_STATE_TABLE[state].active;
}

export function canTransition(from: TaskState, to: TaskState): boolean {
  return TASK_STATE_TABLE[from].to.includes(to);
}

/** Throws FailedPreconditionError naming both states when the table forbids the move. */
export function assertTransition(from: TaskState, to: TaskState, taskId?: string): void {
  if (canTransition(from, to)) return;
  const who = taskId === undefined ? 'task' : `task '${taskId}'`;
  throw new FailedPreconditionError(`${who} cannot go from ${from} to ${to}`, { details: { from, to, ...(taskId ? { taskId } : {}) } });
}
