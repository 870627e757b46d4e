// Reconciliation: a framework asks for the state of its tasks and the master answers from what it
// knows — the task's latest status (a task that ended: its end, kept until the framework
// acknowledges it, also when an agent reported it while re-registering), TASK_UNREACHABLE for an
// unreachable agent, TASK_GONE (LOST for frameworks that are not partition-aware) or TASK_UNKNOWN
// for tasks it knows nothing of.
//
// After a master start, tasks come back with their agents. For a task it has not heard of whose
// agent (or, when the ask names none, any agent) is still re-registering, the master cannot answer
// yet — Mesos stays silent and the framework asks again. Agora stays silent too, but remembers the
// ask and answers it exactly once, as soon as it can:
//
//   ask (task unknown, agent recovering) ─► owed
//   the task comes back with an agent ──────► its status (none if the framework was told already)
//   the named agent re-registers without it ─► TASK_GONE
//   recovery over (all back, or timed out) ─► the answer of the moment (UNREACHABLE, GONE, …)
//
// So a framework that subscribes while agents are still re-registering hears of each task as soon
// as its agent is back, instead of at its next retry after the last agent — and never twice for
// one ask. Owed answers are dropped when the framework's subscription ends (a new one asks anew).
import { InvalidArgumentError } from '../core/errors.js';
import type { ReconcileRequest__Output, TaskStatus } from '../proto/index.js';
import { subscribedFramework } from './frameworks.js';
import type { FrameworkRecord, TaskRecord } from './model.js';
import type { Ask } from './owed-answers.js';
import type { MasterState } from './state.js';

/** Answer with the latest state of the named tasks (explicit) or of every live task (implicit). */
export function reconcile(state: MasterState, request: ReconcileRequest__Output): void {
  const framework = subscribedFramework(state, request.frameworkId);
  if (request.tasks.length === 0) {
    for (const task of state.tasksOfFramework(framework.id)) sendAnswer(state, framework.id, task.status);
    // As Mesos: tasks that ended but whose final update is not acknowledged yet are still its tasks.
    for (const task of state.unacknowledgedTasks()) if (task.frameworkId === framework.id) sendAnswer(state, framework.id, task.status);
    return;
  }
  for (const [i, { taskId }] of request.tasks.entries()) {
    if (!taskId) throw new InvalidArgumentError(`tasks[${i}].taskId`, 'is required');
  }
  // Whether any agent is still expected back, and the finished tasks by id: once per call, not
  // once per task (a framework asks for thousands).
  let anyRecovering: boolean | undefined;
  const recoveringAnywhere = (): boolean => (anyRecovering ??= [...state.allAgents()].some((a) => a.state === 'recovering'));
  let completed: Map<string, TaskRecord> | undefined;
  const finished = (taskId: string): TaskRecord | undefined =>
    state.unacknowledgedTask(framework.id, taskId) ?? (completed ??= new Map(framework.completed.map((t) => [t.taskId, t]))).get(taskId);
  for (const { taskId, agentId } of request.tasks) {
    const status = answerFor(state, framework, taskId, agentId, recoveringAnywhere, finished);
    if (status) sendAnswer(state, framework.id, status);
    else state.owed.add({ frameworkId: framework.id, taskId, agentId });
  }
}

/**
 * An agent has re-registered with `reported` (the tasks the master now holds from it). `told`:
 * tasks (by taskKey) whose framework has had, or will have from the agent, an update because of
 * this re-registration — an ask owed for those is settled without another answer.
 */
export function agentBack(state: MasterState, agentId: string, reported: Iterable<TaskRecord>, told: ReadonlySet<string>): void {
  if (state.owed.size === 0) return;
  for (const key of told) state.owed.takeKey(key);
  for (const task of reported) if (state.owed.take(task.frameworkId, task.taskId)) sendAnswer(state, task.frameworkId, task.status);
  // Asks naming this agent for tasks it did not bring back: it is back, so the answer is definite.
  for (const ask of state.owed.takeNaming(agentId)) answerOwed(state, ask, () => false);
}

/** Recovery is over (every agent is back or unreachable): answer everything still owed. */
export function recoveryOver(state: MasterState): void {
  for (const ask of state.owed.takeAll()) answerOwed(state, ask, () => false);
}

function answerOwed(state: MasterState, ask: Ask, recoveringAnywhere: () => boolean): void {
  const framework = state.framework(ask.frameworkId);
  if (!framework || framework.state !== 'connected') return;
  const status = answerFor(state, framework, ask.taskId, ask.agentId, recoveringAnywhere);
  if (status) sendAnswer(state, framework.id, status);
  else state.owed.add(ask);
}

/** The answer for one task, or undefined while the master cannot know yet. */
function answerFor(
  state: MasterState,
  framework: FrameworkRecord,
  taskId: string,
  agentId: string,
  recoveringAnywhere: () => boolean,
  finished: (taskId: string) => TaskRecord | undefined = (id) => state.completedTask(framework.id, id),
): TaskStatus | undefined {
  const task = state.task(framework.id, taskId);
  if (task) return task.status;
  const done = finished(taskId);
  if (done) return done.status;
  const agent = agentId ? state.agent(agentId) : undefined;
  // While the agent (or, with no agent named, any agent) has yet to re-register after a master
  // start, the task may still come back: no answer yet.
  if (agent ? agent.state === 'recovering' : recoveringAnywhere()) return undefined;
  const base = { taskId, agentId, message: '', source: 'SOURCE_MASTER' as const, timestampMs: state.now(), uuid: '' };
  if (agent?.state === 'unreachable') return { ...base, state: 'TASK_UNREACHABLE', message: `agent ${agentId} is unreachable` };
  return { ...base, state: agentId && !agent ? 'TASK_UNKNOWN' : 'TASK_GONE', message: 'the master knows nothing of this task' };
}

function sendAnswer(state: MasterState, frameworkId: string, status: TaskStatus): void {
  state.forwardStatus(frameworkId, { ...status, uuid: '', reason: 'REASON_RECONCILIATION' });
}
