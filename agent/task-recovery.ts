// Recovery after an agent restart: every task in the checkpoint gets its record back, its
// unacknowledged updates are queued again (ahead of anything new), and its container is re-adopted
// through executor.recover — nothing is killed. A task whose container ended while the agent was
// down gets a new terminal update with its real exit status; a task that never got as far as a
// durable TASK_STARTING was never launched, and is reported failed. A task keeps the user it was
// launched as (in its journal), whatever its framework says now.
import { isTerminal, type TaskState } from '../core/task-state.js';
import type { RecoveredState, RecoveredTask } from './checkpoint.js';
import type { Container, ExitInfo } from './executor.js';
import type { TaskManager } from './task-manager.js';
import { KILLED_BY_FRAMEWORK } from './task-spec.js';
import type { TaskUser } from './task-user.js';
import type { UserIdentity } from './user-db.js';

/** Who ran every task before agents knew task users. */
const ROOT: UserIdentity = Object.freeze({ name: 'root', uid: 0, gid: 0, home: '/root', groups: Object.freeze([0]), known: true });

export interface RecoverySummary {
  readonly running: number;
  readonly endedWhileDown: number;
  readonly awaitingAck: number;
}

export async function recoverTasks(manager: TaskManager, state: RecoveredState): Promise<RecoverySummary> {
  for (const info of state.frameworks.values()) manager.frameworks.set(info.id, info);
  const counts = { running: 0, endedWhileDown: 0, awaitingAck: 0 };
  await Promise.all(
    state.tasks.map(async (task) => {
      const outcome = await recoverTask(manager, task);
      counts[outcome] += 1;
    }),
  );
  return counts;
}

async function recoverTask(manager: TaskManager, recovered: RecoveredTask): Promise<keyof RecoverySummary> {
  const { deps } = manager;
  const { frameworkId, taskId, info } = recovered;
  const log = deps.logger.child({ frameworkId, taskId });
  const kind = recovered.container?.kind ?? manager.executorKindOf(info);
  const sandbox = deps.checkpoint.sandboxDir(frameworkId, taskId);
  const entry = manager.newEntry(frameworkId, info, sandbox, recovered.launchedAtMs, kind, launchedAs(recovered));
  entry.journaled = true;
  const latest = recovered.updates.at(-1);
  entry.latest = latest;
  entry.state = (latest?.state as TaskState | undefined) ?? 'TASK_STAGING';
  entry.healthy = latest?.healthy ?? undefined;
  entry.ready = latest?.ready ?? undefined;
  deps.updates.recover(frameworkId, taskId, recovered.unacknowledged);

  if (isTerminal(entry.state)) {
    if (recovered.unacknowledged.length > 0) return 'awaitingAck';
    await manager.forget(frameworkId, taskId);
    return 'awaitingAck';
  }
  if (!latest) {
    await manager.report(entry, { state: 'TASK_FAILED', reason: 'REASON_AGENT_RESTARTED', message: 'the agent restarted before the task was launched' });
    return 'endedWhileDown';
  }
  if (!entry.spec) {
    await manager.finish(entry, { launchFailed: true, message: entry.refusal ?? 'the task has no user to run as' });
    return 'endedWhileDown';
  }
  if (entry.state === 'TASK_KILLING') entry.cause = KILLED_BY_FRAMEWORK;
  let outcome: Container | ExitInfo;
  try {
    outcome = await deps.executor(kind).recover(entry.spec, recovered.container?.checkpoint ?? {});
  } catch (err) {
    log.warn({ err }, 'task could not be re-adopted');
    outcome = { reason: 'REASON_AGENT_RESTARTED', message: `the agent restarted and could not re-adopt the task: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (isContainer(outcome)) {
    log.info({ state: entry.state }, 'task re-adopted');
    manager.adopt(entry, outcome, entry.state === 'TASK_STARTING');
    return 'running';
  }
  log.info({ exitCode: outcome.exitCode, signal: outcome.signal }, 'task ended while the agent was down');
  await manager.finish(entry, outcome);
  return 'endedWhileDown';
}

function launchedAs(recovered: RecoveredTask): TaskUser {
  if (recovered.user) return { identity: recovered.user };
  if (recovered.refusal !== undefined) return { refusal: recovered.refusal };
  return { identity: ROOT };
}

function isContainer(value: Container | ExitInfo): value is Container {
  return typeof (value as Container).wait === 'function';
}
