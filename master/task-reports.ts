// Tasks an agent reports — re-registering, or answering ReconcileTasks — and what the master makes
// of them: a known task takes the reported state, an unknown one is adopted (unless its framework
// is gone, or was told it is LOST), and a task the master knows on another agent is not this
// agent's to report. agent-registration.ts and agent-session.ts call it for each task of a report.
import { isActive, isTerminal, type TaskState } from '../core/task-state.js';
import { resourcesFromWireCached } from '../core/wire.js';
import type { AgentTask__Output, TaskStatus } from '../proto/index.js';
import { taskRole } from './frameworks.js';
import { taskKey, type AgentRecord, type TaskRecord } from './model.js';
import type { MasterState } from './state.js';

/** What a re-registration collects from its reported tasks. */
export interface ReregistrationContext {
  /** Tasks that hold resources the allocator does not count yet (when the agent was in it). */
  readonly newlyHeld: TaskRecord[] | undefined;
  /** Tasks (taskKey) whose framework hears of them because of this report: forwarded, or resent by the agent. */
  readonly told: Set<string>;
  /** Tell frameworks of tasks the master adopts (else they learn when they reconcile). */
  readonly tell: boolean;
}

/**
 * A task an agent reports (on re-registration, or answering ReconcileTasks). Known tasks take the
 * reported state; unknown ones are adopted — unless their framework is gone, or the framework has
 * already been told the task is LOST, in which case the agent is told to kill it, so a framework
 * never has a task running that it believes dead.
 */
export function reportTask(state: MasterState, agent: AgentRecord, reported: AgentTask__Output, rereg?: ReregistrationContext): TaskRecord | undefined {
  const frameworkId = reported.frameworkId;
  const info = reported.task;
  const latest = reported.latestStatus;
  if (!info || !latest) return undefined;
  const taskId = info.taskId;
  if (state.wasRemoved(frameworkId) || !state.knowsFramework(frameworkId)) {
    state.sendToAgent(agent.id, { shutdownFramework: { frameworkId } });
    return undefined;
  }
  const reportedState = latest.state as TaskState;
  let task = state.task(frameworkId, taskId);
  // A task the master knows on another agent is not this agent's to report (nor to end).
  if (task && task.agentId !== agent.id) {
    state.logger.warn({ agentId: agent.id, frameworkId, taskId, runsOn: task.agentId }, 'agent reported a task that runs on another agent; ignored');
    return undefined;
  }
  if (!task) {
    const framework = state.framework(frameworkId);
    const wasLost = framework?.completed.some((t) => t.taskId === taskId && t.agentId === agent.id && t.state === 'TASK_LOST');
    if (wasLost && !isTerminal(reportedState)) {
      state.sendToAgent(agent.id, { kill: { frameworkId, taskId } });
      return undefined;
    }
    // An end — also of a task the framework was told is LOST: the agent's word is the last.
    if (isTerminal(reportedState)) return reportEnded(state, agent, reported, rereg);
    task = {
      frameworkId,
      taskId,
      agentId: agent.id,
      info,
      resources: resourcesFromWireCached(info.resources, 'task.resources'),
      role: taskRole(state, frameworkId, info.resources),
      state: reportedState,
      status: latest as TaskStatus,
      holdsResources: isActive(reportedState),
      launchedAtMs: reportedLaunch(reported, state.now()),
      updatedAtMs: state.now(),
    };
    state.addTask(task);
    if (task.holdsResources) rereg?.newlyHeld?.push(task);
    // The agent resends an update not yet acknowledged itself; else the framework is told now, or
    // (after a master start) when it reconciles.
    if (agentWillResend(reported)) rereg?.told.add(taskKey(frameworkId, taskId));
    else if (rereg?.tell || !rereg) {
      state.forwardStatus(frameworkId, { ...(latest as TaskStatus), uuid: '', reason: 'REASON_RECONCILIATION' });
      rereg?.told.add(taskKey(frameworkId, taskId));
    }
    return task;
  }
  const wasHolding = task.holdsResources;
  if (task.state !== reportedState) {
    if (task.state === 'TASK_UNREACHABLE' && isActive(reportedState)) task.holdsResources = true;
    const status: TaskStatus = { ...(latest as TaskStatus), uuid: '', reason: 'REASON_AGENT_REREGISTERED' };
    // An update the agent has not had acknowledged is resent by the agent itself, with its uuid:
    // forwarding a uuid-less copy too would show the framework the same update twice.
    if (state.applyStatus(task, status)) {
      if (!agentWillResend(reported)) state.forwardStatus(frameworkId, status);
      rereg?.told.add(taskKey(frameworkId, taskId));
    }
  }
  if (!wasHolding && task.holdsResources) rereg?.newlyHeld?.push(task);
  return task;
}

/**
 * A task that ended (while the master was away, or before its update was acknowledged) and that
 * the master does not hold live. As Mesos does, the master keeps it as a completed task, and until
 * the framework acknowledges its final update, so that a reconciliation is answered with how it
 * really ended — never "the master knows nothing of it", which a framework takes for TASK_LOST.
 * The agent resends an unacknowledged update itself; otherwise the framework is told as for an
 * adopted task (at once when the agent was not expected back, else when it reconciles).
 */
function reportEnded(state: MasterState, agent: AgentRecord, reported: AgentTask__Output, rereg?: ReregistrationContext): TaskRecord | undefined {
  const info = reported.task!;
  const latest = reported.latestStatus as TaskStatus;
  const key = taskKey(reported.frameworkId, info.taskId);
  const resend = agentWillResend(reported);
  let task = state.completedTask(reported.frameworkId, info.taskId);
  // It ran and ended on another agent: not this agent's to report.
  if (task && task.agentId !== agent.id) {
    state.logger.warn({ agentId: agent.id, frameworkId: reported.frameworkId, taskId: info.taskId, ranOn: task.agentId }, 'agent reported the end of a task that ran on another agent; ignored');
    return undefined;
  }
  // Known already (reported before, or ended under this master): the same end, nothing new to tell.
  const known = task?.state === latest.state;
  if (!task || !known) {
    // The master's own end of it (LOST, GONE) gives way to the agent's.
    if (task) state.forgetCompleted(task);
    task = {
      frameworkId: reported.frameworkId,
      taskId: info.taskId,
      agentId: agent.id,
      info,
      resources: resourcesFromWireCached(info.resources, 'task.resources'),
      role: taskRole(state, reported.frameworkId, info.resources),
      state: latest.state as TaskState,
      status: latest,
      holdsResources: false,
      launchedAtMs: reportedLaunch(reported, state.now()),
      updatedAtMs: state.now(),
    };
    state.addCompleted(task);
  }
  if (resend) {
    // Kept until the framework acknowledges the update the agent is about to resend.
    task.status = latest;
    state.awaitAcknowledgement(task);
    rereg?.told.add(key);
  } else if (!known && (rereg?.tell || !rereg)) {
    state.forwardStatus(reported.frameworkId, { ...latest, uuid: '', reason: 'REASON_RECONCILIATION' });
    rereg?.told.add(key);
  }
  return task;
}

/** The agent's latest update for this task is not acknowledged yet: it will send it again itself. */
function agentWillResend(reported: AgentTask__Output): boolean {
  const uuid = reported.latestStatus?.uuid ?? '';
  return uuid !== '' && reported.unacknowledged.some((u) => u.uuid === uuid);
}

/**
 * When the agent says it launched a task it reports (its checkpoint keeps the time across
 * restarts of the agent and the master), so that a re-adopted task's age counts from its launch,
 * not from the re-registration. Bounded by now: the agent's clock cannot make a task younger than
 * it is or older than the epoch. 0 (an older agent) means now.
 */
function reportedLaunch(reported: AgentTask__Output, now: number): number {
  const at = Number(reported.launchedAtMs ?? 0);
  return Number.isFinite(at) && at > 0 ? Math.min(at, now) : now;
}
