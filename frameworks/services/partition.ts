// Partition awareness (pure), as Marathon's unreachableStrategy. The framework subscribes
// PARTITION_AWARE, so a task whose agent stops answering is TASK_UNREACHABLE rather than LOST.
// Such a task keeps its instance's place for inactiveAfterSeconds (no replacement yet: the agent
// may come back), then a replacement starts; after expungeAfterSeconds the task is forgotten.
// A task that comes back RUNNING while it is still known is live again, and the planner kills the
// surplus (the youngest), so the count is exact; one that comes back after it was forgotten is
// unknown to the book and is killed.
//
//   RUNNING ──(agent unreachable)──► UNREACHABLE ──inactiveAfter──► replaced ──expungeAfter──► forgotten
//                                        └──(agent back: RUNNING)──► live ──► surplus killed
import { isTerminal } from '../../core/task-state.js';
import { specOf, type ServiceRecord, type TaskView } from './model.js';
import { UNREACHABLE_DEFAULTS, type UnreachableStrategy } from './spec.js';

/** Still there (or maybe there): not terminal, not unreachable or unknown. */
export function isLive(task: TaskView): boolean {
  return !isTerminal(task.state) && task.state !== 'TASK_UNREACHABLE' && task.state !== 'TASK_UNKNOWN';
}

export function unreachableStrategyOf(record: ServiceRecord, version: string): UnreachableStrategy {
  return (specOf(record, version) ?? specOf(record, record.version))?.unreachableStrategy ?? UNREACHABLE_DEFAULTS;
}

function unreachableFor(task: TaskView, now: number): number | undefined {
  if (task.state !== 'TASK_UNREACHABLE') return undefined;
  return now - (task.unreachableSinceMs ?? now);
}

/** Holds its instance's place: live, or unreachable for less than inactiveAfterSeconds. */
export function holdsPlace(record: ServiceRecord, task: TaskView, now: number): boolean {
  if (isLive(task)) return true;
  const away = unreachableFor(task, now);
  return away !== undefined && away < unreachableStrategyOf(record, task.version).inactiveAfterSeconds * 1000;
}

/** Unreachable tasks to forget now (unreachable for expungeAfterSeconds or more). */
export function toExpunge(record: ServiceRecord, tasks: readonly TaskView[], now: number): string[] {
  return tasks
    .filter((t) => {
      const away = unreachableFor(t, now);
      return away !== undefined && away >= unreachableStrategyOf(record, t.version).expungeAfterSeconds * 1000;
    })
    .map((t) => t.taskId);
}

/** When an unreachable task next changes standing (replaced, then forgotten), if ever. */
export function nextPartitionChange(record: ServiceRecord, tasks: readonly TaskView[], now: number): number | undefined {
  let next: number | undefined;
  for (const t of tasks) {
    if (t.state !== 'TASK_UNREACHABLE') continue;
    const since = t.unreachableSinceMs ?? now;
    const s = unreachableStrategyOf(record, t.version);
    for (const at of [since + s.inactiveAfterSeconds * 1000, since + s.expungeAfterSeconds * 1000]) {
      if (at > now) next = Math.min(next ?? at, at);
    }
  }
  return next;
}
