// Each task's status history, for the dashboard's task page: the statuses the master applied to it,
// oldest first, as small entries (not the wire messages, which carry labels and data). Bounded: an
// ever-flapping health check refreshes a RUNNING task's status forever, so only the last
// MAX_TASK_STATUSES are kept and the ones dropped are counted.
import type { TaskStatus } from '../proto/index.js';
import type { TaskRecord, TaskStatusEntry } from './model.js';

export const MAX_TASK_STATUSES = 32;
/** A status message longer than this is cut in the history (the latest status keeps it whole). */
const MAX_MESSAGE = 1024;

/** Keep `status` in the task's history, dropping (and counting) the oldest beyond the bound. */
export function recordStatus(task: TaskRecord, status: TaskStatus, max = MAX_TASK_STATUSES): void {
  const history = (task.statuses ??= []);
  history.push(entryOf(task, status));
  const excess = history.length - max;
  if (excess > 0) {
    history.splice(0, excess);
    task.statusesDropped = (task.statusesDropped ?? 0) + excess;
  }
}

/** Start the history with the status the task was made with (once). */
export function seedHistory(task: TaskRecord): void {
  if (!task.statuses?.length) recordStatus(task, task.status);
}

function entryOf(task: TaskRecord, s: TaskStatus): TaskStatusEntry {
  const message = s.message ?? '';
  return {
    state: String(s.state ?? task.state),
    reason: String(s.reason ?? 'REASON_UNSPECIFIED'),
    message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message,
    source: String(s.source ?? 'SOURCE_UNSPECIFIED'),
    ...(s.healthy === undefined || s.healthy === null ? {} : { healthy: s.healthy }),
    ...(s.ready === undefined || s.ready === null ? {} : { ready: s.ready }),
    timestampMs: Number(s.timestampMs ?? 0),
  };
}
