// Frameworks: subscription (new, re-subscription, failover of the stream), heartbeats, the
// failover timeout, removal; and the simple scheduler calls (revive, suppress, kill, acknowledge,
// reconcile, message, update). Accept and Decline are in accept.ts.
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '../core/errors.js';
import { STREAM_ID_METADATA_KEY } from '../core/grpc.js';
import { newUuid, validateId, validateRole } from '../core/ids.js';
import { checkSeconds, MAX_GRACE_SECONDS, MAX_LIFETIME_SECONDS } from '../core/limits.js';
import { requirePermission, type Principal } from '../core/security/principal.js';
import { isActive } from '../core/task-state.js';
import type {
  FrameworkInfo__Output,
  KillRequest__Output,
  Resource__Output,
  SubscribeRequest__Output,
} from '../proto/index.js';
import type { FrameworkRecord, FrameworkStream } from './model.js';
import type { FrameworkEntry } from './registry.js';
import type { MasterState } from './state.js';
import { missingAckField } from './awaited-acks.js';
import { announceAgents, wantsAgentEvents } from './agent-events.js';

/** A framework subscribes in at most this many roles (Mesos has no cap; each role is a sorter entry). */
export const MAX_FRAMEWORK_ROLES = 100;
/** A framework's name is at most this many characters. */
export const MAX_FRAMEWORK_NAME = 255;

export function validateRoles(roles: readonly string[], field: string): string[] {
  if (roles.length > MAX_FRAMEWORK_ROLES) throw new InvalidArgumentError(field, `${roles.length} roles given; at most ${MAX_FRAMEWORK_ROLES}`);
  const out = roles.length === 0 ? ['*'] : [...roles];
  const seen = new Set<string>();
  for (const [i, role] of out.entries()) {
    validateRole(role, `${field}[${i}]`);
    if (seen.has(role)) throw new InvalidArgumentError(`${field}[${i}]`, `role '${role}' is given twice`);
    seen.add(role);
  }
  return out;
}

function validateFrameworkInfo(info: FrameworkInfo__Output | null | undefined): { info: FrameworkInfo__Output; roles: string[]; failoverTimeoutMs: number } {
  if (!info) throw new InvalidArgumentError('frameworkInfo', 'is required');
  if (!info.name) throw new InvalidArgumentError('frameworkInfo.name', 'is required');
  if (info.name.length > MAX_FRAMEWORK_NAME) throw new InvalidArgumentError('frameworkInfo.name', `is ${info.name.length} characters long; at most ${MAX_FRAMEWORK_NAME}`);
  if (info.id) validateId(info.id, 'frameworkInfo.id');
  const roles = validateRoles(info.roles, 'frameworkInfo.roles');
  const failover = checkSeconds(info.failoverTimeoutSeconds, 'frameworkInfo.failoverTimeoutSeconds', { max: MAX_LIFETIME_SECONDS });
  return { info, roles, failoverTimeoutMs: Math.round(failover * 1000) };
}

function entryOf(f: FrameworkRecord): FrameworkEntry {
  return {
    id: f.id,
    info: f.info,
    failoverTimeoutMs: f.failoverTimeoutMs,
    registeredAtMs: f.registeredAtMs,
    ...(f.disconnectedAtMs === undefined ? {} : { disconnectedAtMs: f.disconnectedAtMs }),
    ...(f.principal === undefined ? {} : { principal: f.principal }),
  };
}

function newRecord(state: MasterState, id: string, info: FrameworkInfo__Output, roles: string[], failoverTimeoutMs: number, principal: string | undefined): FrameworkRecord {
  return {
    id,
    info: { ...info, id, roles, principal: principal ?? '' },
    roles,
    suppressedRoles: new Set(),
    partitionAware: info.capabilities.includes('PARTITION_AWARE'),
    failoverTimeoutMs,
    state: 'disconnected',
    stream: undefined,
    registeredAtMs: state.now(),
    reregisteredAtMs: undefined,
    disconnectedAtMs: undefined,
    heartbeatTimer: undefined,
    failoverTimer: undefined,
    completed: [],
    principal,
    streamId: undefined,
  };
}

/**
 * The principal a framework is bound to: whoever authenticated. With security off nobody can be
 * verified, so the framework's own claim (or `anonymous`) stands.
 */
function principalName(principal: Principal, info: FrameworkInfo__Output): string {
  if (principal.via === 'insecure') return info.principal || principal.name;
  if (info.principal && info.principal !== principal.name) {
    throw new InvalidArgumentError('frameworkInfo.principal', `'${info.principal}' is not the principal this call authenticated as ('${principal.name}'); leave it empty`);
  }
  return principal.name;
}

/** The framework id belongs to another principal: refuse, naming the owner. */
function foreign(principal: Principal, framework: FrameworkRecord): PermissionDeniedError {
  return new PermissionDeniedError(principal.name, 'frameworks.register', undefined, `framework '${framework.id}' belongs to principal '${framework.principal}'; principal '${principal.name}' cannot act as it`);
}

function owns(principal: Principal, framework: FrameworkRecord): boolean {
  return principal.via === 'insecure' || framework.principal === undefined || framework.principal === principal.name;
}


/**
 * The framework a scheduler call names, bound to its caller: subscribed, registered by this
 * principal, and the call made on behalf of its current subscription (Mesos-Stream-Id).
 */
export function boundFramework(state: MasterState, frameworkId: string, principal: Principal, streamId: string | undefined): FrameworkRecord {
  const framework = subscribedFramework(state, frameworkId);
  if (!owns(principal, framework)) throw foreign(principal, framework);
  if (streamId === undefined || streamId === '') throw new InvalidArgumentError(STREAM_ID_METADATA_KEY, "calls after Subscribe carry the subscription's stream id (agora-stream-id metadata, from the SUBSCRIBED event)");
  if (streamId !== framework.streamId) {
    throw new FailedPreconditionError(`the call's stream id is not framework '${frameworkId}''s current subscription (a newer subscription replaced it); use the current one`, { field: STREAM_ID_METADATA_KEY });
  }
  return framework;
}

/** May `principal` act on this framework as an operator (view, kill, tear down)? */
export function ownsOr(principal: Principal, framework: { principal: string | undefined }): boolean {
  return principal.via === 'insecure' || (framework.principal !== undefined && framework.principal === principal.name);
}

/** Subscribe a framework's event stream. Resolves once SUBSCRIBED has been sent. */
export async function subscribe(state: MasterState, request: SubscribeRequest__Output, stream: FrameworkStream, principal: Principal): Promise<FrameworkRecord> {
  const { info, roles, failoverTimeoutMs } = validateFrameworkInfo(request.frameworkInfo);
  const owner = principalName(principal, info);
  for (const role of roles) requirePermission(principal, 'frameworks.register', role);
  const suppressed = validateRoles(request.suppressedRoles, 'suppressedRoles').filter((r) => request.suppressedRoles.includes(r));
  for (const [i, r] of suppressed.entries()) if (!roles.includes(r)) throw new InvalidArgumentError(`suppressedRoles[${i}]`, `'${r}' is not one of the framework's roles`);
  if (info.id && state.wasRemoved(info.id)) {
    throw new FailedPreconditionError(`framework '${info.id}' was removed (${state.removal(info.id)?.reason ?? 'torn down'}); subscribe without an id to start afresh`, { field: 'frameworkInfo.id' });
  }
  const id = info.id || state.ids.next('F');
  const prior = state.framework(id);
  if (prior && !owns(principal, prior)) throw foreign(principal, prior);
  // Validate → persist → apply: the live record and the allocator change only once the registry has it.
  const registeredAtMs = prior?.registeredAtMs ?? state.now();
  await state.registry.putFramework({ id, info: { ...info, id, roles, principal: owner }, failoverTimeoutMs, registeredAtMs, principal: owner });
  if (state.wasRemoved(id)) throw new FailedPreconditionError(`framework '${id}' was removed while subscribing`, { field: 'frameworkInfo.id' });
  let framework = state.framework(id);
  const isNew = framework === undefined;
  if (framework && !owns(principal, framework)) throw foreign(principal, framework);
  framework ??= newRecord(state, id, info, roles, failoverTimeoutMs, owner);
  framework.registeredAtMs = registeredAtMs;
  framework.principal = owner;
  framework.info = { ...info, id, roles, principal: owner };
  framework.roles = roles;
  framework.partitionAware = info.capabilities.includes('PARTITION_AWARE');
  framework.failoverTimeoutMs = failoverTimeoutMs;
  framework.disconnectedAtMs = undefined;
  state.admitFramework(framework);

  if (framework.stream) {
    const old = framework.stream;
    framework.stream = undefined;
    old.send({ error: { message: 'framework failed over: a new subscription with the same id replaced this one' } });
    old.end();
  }
  state.rescindOffersWhere((o) => o.frameworkId === id, 'framework re-subscribed');
  // Answers owed to the old subscription are not sent to the new one: it reconciles afresh.
  state.owed.dropFramework(id);
  state.clock.clearTimeout(framework.failoverTimer);
  framework.failoverTimer = undefined;
  framework.suppressedRoles = new Set(suppressed);
  const facts = { id, roles, suppressedRoles: suppressed };
  if (isNew) state.allocator.addFramework(facts);
  else state.allocator.updateFramework(facts);
  state.allocator.setFrameworkActive(id, true);

  framework.stream = stream;
  framework.streamId = newUuid();
  framework.state = 'connected';
  if (!isNew) framework.reregisteredAtMs = state.now();
  stream.send({ subscribed: { frameworkId: id, heartbeatIntervalSeconds: state.options.heartbeatInterval / 1000, masterInfo: state.masterInfo, streamId: framework.streamId } });
  state.clock.clearInterval(framework.heartbeatTimer);
  const fw = framework;
  framework.heartbeatTimer = state.clock.setInterval(() => fw.stream?.send({ heartbeat: {} }), state.options.heartbeatInterval);
  state.logger.info({ frameworkId: id, name: info.name, roles, resubscribed: !isNew }, 'framework subscribed');
  announceAgents(state, framework);
  state.emit({ type: isNew ? 'FRAMEWORK_ADDED' : 'FRAMEWORK_RESUBSCRIBED', frameworkId: id, name: info.name });
  state.requestAllocation();
  return framework;
}

/** The framework's stream closed: keep its tasks until the failover timeout, then remove it. */
export function streamClosed(state: MasterState, framework: FrameworkRecord, stream: FrameworkStream): void {
  if (framework.stream !== stream) return;
  framework.stream = undefined;
  framework.streamId = undefined;
  framework.state = 'disconnected';
  framework.disconnectedAtMs = state.now();
  state.owed.dropFramework(framework.id);
  state.clock.clearInterval(framework.heartbeatTimer);
  framework.heartbeatTimer = undefined;
  if (state.allocator.frameworks().some((f) => f.id === framework.id)) state.allocator.setFrameworkActive(framework.id, false);
  state.rescindOffersWhere((o) => o.frameworkId === framework.id, 'framework disconnected');
  state.logger.warn({ frameworkId: framework.id, failoverTimeoutMs: framework.failoverTimeoutMs }, 'framework disconnected');
  state.emit({ type: 'FRAMEWORK_DISCONNECTED', frameworkId: framework.id });
  void state.registry.putFramework(entryOf(framework)).catch((err: unknown) => state.logger.error({ err }, 'registry write failed'));
  startFailoverTimer(state, framework);
}

export function startFailoverTimer(state: MasterState, framework: FrameworkRecord, remainingMs = framework.failoverTimeoutMs): void {
  state.clock.clearTimeout(framework.failoverTimer);
  framework.failoverTimer = state.clock.setTimeout(() => {
    framework.failoverTimer = undefined;
    if (framework.state === 'disconnected' && state.framework(framework.id) === framework) {
      void removeFramework(state, framework.id, 'failover timeout expired').catch((err: unknown) => {
        // Nothing changed (validate → persist → apply): try again a heartbeat interval later.
        state.logger.error({ err, frameworkId: framework.id }, 'framework removal failed; retrying');
        if (framework.state === 'disconnected' && state.framework(framework.id) === framework) startFailoverTimer(state, framework, state.options.heartbeatInterval);
      });
    }
  }, Math.max(0, remainingMs));
}

/** Remove a framework: kill its tasks, give back everything it holds, remember its id as removed. */
export async function removeFramework(state: MasterState, frameworkId: string, reason: string): Promise<void> {
  const framework = state.framework(frameworkId);
  if (!framework) throw new NotFoundError('framework', frameworkId);
  const removed = { id: frameworkId, name: framework.info.name, removedAtMs: state.now(), reason };
  // Validate → persist → apply: a removal the registry did not take changes nothing.
  await state.registry.removeFramework(removed);
  // Removed meanwhile by another call (the failover timeout, a teardown): that one did the rest.
  if (state.framework(frameworkId) !== framework) return;
  state.rescindOffersWhere((o) => o.frameworkId === frameworkId, 'framework removed');
  const agentsWithTasks = new Set<string>();
  for (const task of state.tasksOfFramework(frameworkId)) {
    agentsWithTasks.add(task.agentId);
    state.applyStatus(task, state.masterStatus(task, 'TASK_KILLED', 'REASON_FRAMEWORK_REMOVED', `framework removed: ${reason}`));
  }
  for (const agentId of agentsWithTasks) state.sendToAgent(agentId, { shutdownFramework: { frameworkId } });
  if (state.allocator.frameworks().some((f) => f.id === frameworkId)) state.allocator.removeFramework(frameworkId);
  state.clock.clearTimeout(framework.failoverTimer);
  state.clock.clearInterval(framework.heartbeatTimer);
  if (framework.stream) {
    framework.stream.send({ error: { message: `framework removed: ${reason}` } });
    framework.stream.end();
    framework.stream = undefined;
  }
  state.owed.dropFramework(frameworkId);
  state.forgetUnacknowledged(frameworkId);
  state.awaited.dropFramework(frameworkId);
  state.rememberRemoved(removed);
  state.logger.info({ frameworkId, reason }, 'framework removed');
  state.emit({ type: 'FRAMEWORK_REMOVED', frameworkId, reason });
  state.requestAllocation([...agentsWithTasks]);
}

/** A framework an agent reports that the master does not know (registry lost): keep it, disconnected. */
export async function adoptFramework(state: MasterState, info: FrameworkInfo__Output): Promise<void> {
  const roles = info.roles.length > 0 ? [...info.roles] : ['*'];
  const failoverTimeoutMs = Math.max(0, Math.round((info.failoverTimeoutSeconds || 0) * 1000));
  const framework = newRecord(state, info.id, info, roles, failoverTimeoutMs, info.principal || undefined);
  framework.disconnectedAtMs = state.now();
  await state.registry.putFramework(entryOf(framework));
  if (state.knowsFramework(info.id) || state.wasRemoved(info.id)) return;
  state.admitFramework(framework);
  state.allocator.addFramework({ id: info.id, roles });
  state.allocator.setFrameworkActive(info.id, false);
  startFailoverTimer(state, framework);
}

/** The role a task's resources are allocated to: the first reserved role, else the framework's first role. */
export function taskRole(state: MasterState, frameworkId: string, resources: readonly Resource__Output[]): string {
  const reserved = resources.find((r) => r.role && r.role !== '*')?.role;
  return reserved ?? state.framework(frameworkId)?.roles[0] ?? '*';
}

/** The framework a call names, which must be subscribed. */
export function subscribedFramework(state: MasterState, frameworkId: string): FrameworkRecord {
  if (!frameworkId) throw new InvalidArgumentError('frameworkId', 'is required');
  const framework = state.framework(frameworkId);
  if (!framework) {
    if (state.wasRemoved(frameworkId)) throw new FailedPreconditionError(`framework '${frameworkId}' was removed`, { field: 'frameworkId' });
    throw new NotFoundError('framework', frameworkId);
  }
  if (framework.state !== 'connected') throw new FailedPreconditionError(`framework '${frameworkId}' is not subscribed; subscribe first`, { field: 'frameworkId' });
  return framework;
}

/** `roles`, each one of the framework's (`of`); none given means all of them. */
function rolesOf(of: readonly string[], roles: readonly string[], field: string): string[] {
  for (const [i, role] of roles.entries()) if (!of.includes(role)) throw new InvalidArgumentError(`${field}[${i}]`, `'${role}' is not one of the framework's roles (${of.join(', ')})`);
  return roles.length === 0 ? [...of] : [...roles];
}

export function revive(state: MasterState, frameworkId: string, roles: readonly string[]): void {
  const framework = subscribedFramework(state, frameworkId);
  const which = rolesOf(framework.roles, roles, 'roles');
  for (const r of which) framework.suppressedRoles.delete(r);
  state.allocator.revive(frameworkId, roles.length === 0 ? undefined : which);
  state.requestAllocation();
}

export function suppress(state: MasterState, frameworkId: string, roles: readonly string[]): void {
  const framework = subscribedFramework(state, frameworkId);
  const which = rolesOf(framework.roles, roles, 'roles');
  for (const r of which) framework.suppressedRoles.add(r);
  state.allocator.suppress(frameworkId, roles.length === 0 ? undefined : which);
  state.rescindOffersWhere((o) => o.frameworkId === frameworkId && which.includes(o.role), 'framework suppressed offers');
}

/** A framework's kill (it must be subscribed), or an operator's (`subscribed: false`). */
export function kill(state: MasterState, request: KillRequest__Output, options: { subscribed: boolean } = { subscribed: true }): void {
  if (options.subscribed) subscribedFramework(state, request.frameworkId);
  if (!request.taskId) throw new InvalidArgumentError('taskId', 'is required');
  const grace = request.killPolicy?.gracePeriodSeconds;
  if (grace !== undefined && grace !== null) checkSeconds(grace, 'killPolicy.gracePeriodSeconds', { max: MAX_GRACE_SECONDS });
  const task = state.task(request.frameworkId, request.taskId);
  if (!task) {
    const done = state.completedTask(request.frameworkId, request.taskId);
    if (!done) throw new NotFoundError('task', request.taskId);
    state.forwardStatus(request.frameworkId, { ...done.status, uuid: '' });
    return;
  }
  if (request.agentId && request.agentId !== task.agentId) throw new InvalidArgumentError('agentId', `task '${task.taskId}' runs on agent '${task.agentId}', not '${request.agentId}'`);
  const agent = state.agent(task.agentId);
  if (task.state === 'TASK_UNREACHABLE' || agent?.state === 'unreachable') {
    state.forwardStatus(request.frameworkId, { ...task.status, uuid: '' });
    return;
  }
  const sent = state.sendToAgent(task.agentId, {
    kill: { frameworkId: request.frameworkId, taskId: task.taskId, ...(request.killPolicy ? { killPolicy: request.killPolicy } : {}) },
  });
  if (!sent) throw new FailedPreconditionError(`agent '${task.agentId}' of task '${task.taskId}' is not connected; retry the kill later`);
}

export function acknowledge(state: MasterState, frameworkId: string, agentId: string, taskId: string, uuid: string): void {
  subscribedFramework(state, frameworkId);
  const missing = missingAckField({ agentId, taskId, uuid });
  if (missing) throw new InvalidArgumentError(missing, 'is required');
  if (!state.knowsAgent(agentId)) throw new NotFoundError('agent', agentId);
  state.acknowledged(frameworkId, taskId, uuid);
  state.awaited.settle(frameworkId, taskId, uuid);
  // Not connected: the agent resends the update after it reconnects, and it is acknowledged then.
  state.sendToAgent(agentId, { acknowledgement: { frameworkId, taskId, uuid } });
}

export function frameworkMessage(state: MasterState, frameworkId: string, agentId: string, executorId: string, data: Buffer): void {
  subscribedFramework(state, frameworkId);
  if (!agentId) throw new InvalidArgumentError('agentId', 'is required');
  if (!state.knowsAgent(agentId)) throw new NotFoundError('agent', agentId);
  if (!state.sendToAgent(agentId, { frameworkMessage: { frameworkId, executorId, data } })) {
    throw new FailedPreconditionError(`agent '${agentId}' is not connected`);
  }
}

export async function updateFramework(state: MasterState, info: FrameworkInfo__Output | null, suppressedRoles: readonly string[], principal: Principal): Promise<void> {
  const checked = validateFrameworkInfo(info);
  if (!checked.info.id) throw new InvalidArgumentError('frameworkInfo.id', 'is required');
  const framework = subscribedFramework(state, checked.info.id);
  const owner = principalName(principal, { ...checked.info, principal: checked.info.principal || (framework.principal ?? '') });
  if (framework.principal !== undefined && owner !== framework.principal) throw new InvalidArgumentError('frameworkInfo.principal', `a framework's principal cannot change (it is '${framework.principal}')`);
  for (const role of checked.roles) requirePermission(principal, 'frameworks.register', role);
  const suppressed = new Set(rolesOf(checked.roles, suppressedRoles, 'suppressedRoles').filter((r) => suppressedRoles.includes(r)));
  const nextInfo = { ...checked.info, roles: checked.roles, principal: owner };
  // Validate → persist → apply: nothing changes unless the registry has the new info.
  await state.registry.putFramework({ ...entryOf(framework), info: nextInfo, failoverTimeoutMs: checked.failoverTimeoutMs });
  if (state.framework(framework.id) !== framework) throw new FailedPreconditionError(`framework '${framework.id}' was removed while updating`, { field: 'frameworkInfo.id' });
  const hadAgentEvents = wantsAgentEvents(framework);
  framework.info = nextInfo;
  if (!hadAgentEvents) announceAgents(state, framework); // asked for them now: the current list first
  framework.roles = checked.roles;
  framework.failoverTimeoutMs = checked.failoverTimeoutMs;
  framework.partitionAware = checked.info.capabilities.includes('PARTITION_AWARE');
  framework.suppressedRoles = suppressed;
  state.allocator.updateFramework({ id: framework.id, roles: framework.roles, suppressedRoles: [...framework.suppressedRoles] });
  state.rescindOffersWhere((o) => o.frameworkId === framework.id && !framework.roles.includes(o.role), 'framework roles changed');
  state.requestAllocation();
}

export function liveTaskCount(state: MasterState, frameworkId: string): number {
  return state.tasksOfFramework(frameworkId).filter((t) => isActive(t.state)).length;
}
