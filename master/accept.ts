// Accept and Decline. The call is checked first (offers exist, are this framework's, are on one
// agent): a bad call gets an error and changes nothing. Then each task is checked on its own: a bad
// task gets TASK_ERROR, a task whose agent has gone gets TASK_DROPPED, the others launch. Resources
// of the offers not used by launched tasks go back to the allocator (with the call's filter), so
// nothing leaks and nothing is counted twice.
import { FailedPreconditionError, InvalidArgumentError } from '../core/errors.js';
import { validateId } from '../core/ids.js';
import { Resources } from '../core/resources.js';
import { resourcesFromWire } from '../core/wire.js';
import type { AcceptRequest__Output, DeclineRequest__Output, Filters__Output, TaskInfo__Output, TaskStatus } from '../proto/index.js';
import { INSECURE_PRINCIPAL, type Principal } from '../core/security/principal.js';
import { subscribedFramework } from './frameworks.js';
import { authorizeLaunch } from './launch-policy.js';
import { checkTaskBounds } from './task-bounds.js';
import type { AgentRecord, OfferRecord, TaskRecord } from './model.js';
import type { MasterState } from './state.js';

const MAX_REFUSE_SECONDS = 365 * 24 * 3600;

function refuseMs(state: MasterState, filters: Filters__Output | null | undefined, field: string): number {
  const seconds = filters?.refuseSeconds;
  if (seconds === undefined || seconds === null) return state.options.refuseSeconds;
  if (!Number.isFinite(seconds) || seconds < 0) throw new InvalidArgumentError(field, `must be a finite number ≥ 0, got ${seconds}`);
  return Math.min(seconds, MAX_REFUSE_SECONDS) * 1000;
}

/** The named offers, all valid for this framework and on one agent; throws otherwise. */
function checkOffers(state: MasterState, frameworkId: string, offerIds: readonly string[]): OfferRecord[] {
  if (offerIds.length === 0) throw new InvalidArgumentError('offerIds', 'at least one offer id is required');
  const seen = new Set<string>();
  const offers: OfferRecord[] = [];
  for (const [i, id] of offerIds.entries()) {
    if (seen.has(id)) throw new InvalidArgumentError(`offerIds[${i}]`, `offer '${id}' is named twice`);
    seen.add(id);
    const offer = state.offer(id);
    if (!offer) throw new FailedPreconditionError(`offer '${id}' is not valid: it was used, declined, rescinded or never made`, { field: `offerIds[${i}]` });
    if (offer.frameworkId !== frameworkId) throw new FailedPreconditionError(`offer '${id}' belongs to another framework`, { field: `offerIds[${i}]` });
    offers.push(offer);
  }
  const agentId = offers[0]?.agentId;
  const other = offers.find((o) => o.agentId !== agentId);
  if (other) throw new InvalidArgumentError('offerIds', `offers must all be for one agent: '${offers[0]?.id}' is for agent '${agentId}', '${other.id}' for '${other.agentId}'`);
  return offers;
}

function taskResourcesOf(task: TaskInfo__Output, field: string): Resources {
  // Checked on the wire list: Resources drops zero-valued entries, so `cpus: 0` would pass unseen.
  for (const [i, r] of task.resources.entries()) {
    if (r.type === 'SCALAR' && !(r.scalar > 0 && Number.isFinite(r.scalar))) {
      throw new InvalidArgumentError(`${field}.resources[${i}].scalar`, `'${r.name}' must be positive and finite, got ${r.scalar}`);
    }
  }
  const resources = resourcesFromWire(task.resources, `${field}.resources`);
  if (resources.isEmpty()) throw new InvalidArgumentError(`${field}.resources`, 'a task needs resources');
  for (const [name, value] of resources.scalars()) {
    if (!(value > 0) || !Number.isFinite(value)) throw new InvalidArgumentError(`${field}.resources.${name}`, `must be positive and finite, got ${value}`);
  }
  return resources;
}

/** Check one task against what is left of the offers; returns its resources or throws why not. */
function checkTask(state: MasterState, frameworkId: string, task: TaskInfo__Output, field: string, pool: Resources, batchIds: Set<string>): Resources {
  checkTaskBounds(task, field);
  if (batchIds.has(task.taskId)) throw new InvalidArgumentError(`${field}.taskId`, `task id '${task.taskId}' is used twice in this call`);
  const existing = state.task(frameworkId, task.taskId);
  if (existing) throw new InvalidArgumentError(`${field}.taskId`, `task id '${task.taskId}' is already in use by a ${existing.state} task`);
  const hasCommand = Boolean(task.command && (task.command.value || task.command.arguments.length > 0));
  const hasContainer = Boolean(task.container?.docker?.image);
  const hasFake = Boolean(task.fake);
  if (!hasCommand && !hasContainer && !hasFake) throw new InvalidArgumentError(`${field}`, 'a task needs a command or a container image');
  const resources = taskResourcesOf(task, field);
  if (!pool.contains(resources)) {
    const missing = resources.missingFrom(pool);
    throw new InvalidArgumentError(`${field}.resources`, `${resources.format()} do not fit in what is left of the offers (${pool.format()}); missing ${missing}`);
  }
  return resources;
}

export function accept(state: MasterState, request: AcceptRequest__Output, principal: Principal = INSECURE_PRINCIPAL): void {
  const framework = subscribedFramework(state, request.frameworkId);
  const offers = checkOffers(state, framework.id, request.offerIds);
  const filterMs = refuseMs(state, request.filters, 'filters.refuseSeconds');
  for (const [i, op] of request.operations.entries()) {
    if (!op.launch && !op.launchGroup) throw new InvalidArgumentError(`operations[${i}]`, `operation '${op.type ?? 'none'}' is not supported; use launch or launchGroup`);
    if (op.launchGroup?.executorId) validateId(op.launchGroup.executorId, `operations[${i}].launchGroup.executorId`);
  }
  const first = offers[0] as OfferRecord;
  const agentId = first.agentId;
  const role = first.role;
  for (const o of offers) if (o.role !== role) throw new InvalidArgumentError('offerIds', `offers must all be for one role: '${first.id}' is for '${role}', '${o.id}' for '${o.role}'`);
  for (const o of offers) state.takeOffer(o.id);

  let pool = Resources.sum(offers.map((o) => o.resources));
  const batchIds = new Set<string>();
  const launched: TaskRecord[] = [];
  const failed: Array<{ task: TaskInfo__Output; state: 'TASK_ERROR' | 'TASK_DROPPED'; reason: string; message: string }> = [];
  const agent = state.agent(agentId);
  const agentConnected = agent?.state === 'connected' && agent.link !== undefined && !agent.drain;

  for (const [i, op] of request.operations.entries()) {
    const group = op.launch ? op.launch.taskInfos : (op.launchGroup?.taskGroup?.tasks ?? []);
    const isGroup = Boolean(op.launchGroup);
    const field = isGroup ? `operations[${i}].launchGroup.taskGroup.tasks` : `operations[${i}].launch.taskInfos`;
    if (isGroup && group.length === 0) {
      continue;
    }
    let groupPool = pool;
    const ok: Array<{ task: TaskInfo__Output; resources: Resources }> = [];
    let groupError: { message: string; unauthorized: boolean } | undefined;
    for (const [j, task] of group.entries()) {
      try {
        const resources = checkTask(state, framework.id, task, `${field}[${j}]`, groupPool, batchIds);
        const authorized = authorizeLaunch(principal, framework.info, task, state.options.defaultTaskUser);
        if (agent) checkRunsContainers(agent, task, `${field}[${j}]`);
        groupPool = groupPool.subtract(resources);
        batchIds.add(task.taskId);
        ok.push({ task: authorized, resources });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        const unauthorized = (err as { code?: string }).code === 'AGORA_PERMISSION_DENIED';
        if (isGroup) {
          groupError = { message, unauthorized };
          break;
        }
        failed.push({ task, state: 'TASK_ERROR', reason: unauthorized ? 'REASON_TASK_UNAUTHORIZED' : 'REASON_TASK_INVALID', message });
      }
    }
    if (groupError !== undefined) {
      const reason = groupError.unauthorized ? 'REASON_TASK_GROUP_UNAUTHORIZED' : 'REASON_TASK_GROUP_INVALID';
      for (const task of group) failed.push({ task, state: 'TASK_ERROR', reason, message: `task group is invalid: ${groupError.message}` });
      continue;
    }
    if (!agentConnected) {
      const why = agent?.drain ? 'the agent is draining' : 'the agent is not connected';
      for (const { task } of ok) failed.push({ task, state: 'TASK_DROPPED', reason: agent?.drain ? 'REASON_AGENT_DRAINING' : 'REASON_AGENT_DISCONNECTED', message: why });
      continue;
    }
    pool = groupPool;
    const records = ok.map(({ task, resources }) => newTask(state, framework.id, agentId, role, task, resources));
    for (const record of records) {
      state.addTask(record);
      launched.push(record);
    }
    // The agent gets each TaskInfo whole; the master's own copy has no values of secrets (newTask).
    const tasks = ok.map(({ task }) => ({ ...task, agentId }));
    if (isGroup) {
      state.sendToAgent(agentId, { launchGroup: { frameworkId: framework.id, frameworkInfo: framework.info, executorId: op.launchGroup?.executorId ?? '', taskGroup: { tasks } } });
    } else if (tasks.length > 0) {
      state.sendToAgent(agentId, { launch: { frameworkId: framework.id, frameworkInfo: framework.info, tasks } });
    }
  }
  state.stats.tasksLaunched += launched.length;
  // Unused resources go back, with the call's filter.
  if (!pool.isEmpty() && state.allocator.agent(agentId)) {
    state.allocator.recover(framework.id, agentId, role, pool, { refuseMs: filterMs, now: state.now() });
  }
  for (const f of failed) {
    const status: TaskStatus = {
      taskId: f.task.taskId,
      agentId,
      state: f.state,
      reason: f.reason as TaskStatus['reason'],
      message: f.message,
      source: 'SOURCE_MASTER',
      uuid: '',
      timestampMs: state.now(),
    };
    state.forwardStatus(framework.id, status);
  }
  state.requestAllocation([agentId]);
}

function newTask(state: MasterState, frameworkId: string, agentId: string, role: string, info: TaskInfo__Output, resources: Resources): TaskRecord {
  const now = state.now();
  // TaskInfo.secrets is relayed to the agent, never kept: no view, event or reconciliation of the
  // master's can show what it does not hold.
  const taskInfo = { ...info, agentId, secrets: null };
  return {
    frameworkId,
    taskId: info.taskId,
    agentId,
    info: taskInfo,
    resources,
    role,
    state: 'TASK_STAGING',
    status: { taskId: info.taskId, agentId, state: 'TASK_STAGING', source: 'SOURCE_MASTER', uuid: '', timestampMs: now, message: '' },
    holdsResources: true,
    launchedAtMs: now,
    updatedAtMs: now,
  };
}

export function decline(state: MasterState, request: DeclineRequest__Output): void {
  const framework = subscribedFramework(state, request.frameworkId);
  const filterMs = refuseMs(state, request.filters, 'filters.refuseSeconds');
  if (request.offerIds.length === 0) throw new InvalidArgumentError('offerIds', 'at least one offer id is required');
  const offers: OfferRecord[] = [];
  const seen = new Set<string>();
  for (const [i, id] of request.offerIds.entries()) {
    if (seen.has(id)) throw new InvalidArgumentError(`offerIds[${i}]`, `offer '${id}' is named twice`);
    seen.add(id);
    const offer = state.offer(id);
    // An offer no longer outstanding (used, declined, rescinded — the master rescinds a framework's
    // offers when it suppresses, so a decline can cross the rescind) is already back: declining it
    // again is a no-op, as in Mesos. Only the others are declined.
    if (!offer) {
      state.logger.debug({ frameworkId: framework.id, offerId: id }, 'declined offer is no longer outstanding: ignored');
      continue;
    }
    if (offer.frameworkId !== framework.id) throw new FailedPreconditionError(`offer '${id}' belongs to another framework`, { field: `offerIds[${i}]` });
    offers.push(offer);
  }
  for (const offer of offers) {
    state.takeOffer(offer.id);
    if (state.allocator.agent(offer.agentId)) {
      state.allocator.recover(framework.id, offer.agentId, offer.role, offer.resources, { refuseMs: filterMs, now: state.now() });
    }
  }
  state.requestAllocation(offers.map((o) => o.agentId));
}

/**
 * An image task only on an agent whose Docker engine answered (the DOCKER capability): the
 * frameworks' matching already skips the others; this is for any framework that did not.
 */
function checkRunsContainers(agent: AgentRecord, task: TaskInfo__Output, field: string): void {
  const image = task.container?.docker?.image;
  if (!image && task.container?.type !== 'CONTAINER_DOCKER') return;
  if ((agent.info.capabilities ?? []).includes('DOCKER')) return;
  throw new InvalidArgumentError(`${field}.container`, `agent '${agent.id}' runs no containers (no Docker engine answers there); a task with a container image needs an agent with the DOCKER capability`);
}
