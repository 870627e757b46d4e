// Agents: registration and re-registration over the gateway stream, pings, unreachable agents,
// status updates from agents, draining. Each agent stream is an AgentSession that handles its
// messages one at a time, in order.
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '../core/errors.js';
import { INSECURE_PRINCIPAL, requirePermission, type Principal } from '../core/security/principal.js';
import { isActive, type TaskState } from '../core/task-state.js';
import { attributesFromWire, resourcesFromWire } from '../core/wire.js';
import { Resources } from '../core/resources.js';
import type { AgentInfo__Output, AgentMessage__Output, ReregisterAgent__Output, TaskStatus } from '../proto/index.js';
import type { UsedResources } from './allocator/types.js';
import type { AgentLink, AgentRecord, TaskRecord } from './model.js';
import type { AgentEntry } from './registry.js';
import type { MasterState } from './state.js';
import { adoptFramework } from './frameworks.js';
import { reportTask, type ReregistrationContext } from './task-reports.js';
import { agentBack } from './reconciliation.js';

export class AgentSession {
  #agentId: string | undefined;
  #queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly state: MasterState,
    private readonly link: AgentLink,
    /** Who opened the stream (an agent's client certificate, or a token). */
    private readonly principal: Principal = INSECURE_PRINCIPAL,
  ) {}

  get agentId(): string | undefined {
    return this.#agentId;
  }

  /** Messages are handled strictly in order; a failure answers the agent and never crashes the master. */
  receive(message: AgentMessage__Output): void {
    this.#queue = this.#queue.then(() => this.#handle(message)).catch((err: unknown) => {
      const fatal = this.#agentId === undefined;
      this.state.logger.warn({ err, agentId: this.#agentId }, 'agent message rejected');
      this.link.send({ error: { message: err instanceof Error ? err.message : String(err), fatal } });
      if (fatal) this.link.close('registration refused');
    });
  }

  closed(): void {
    this.#queue = this.#queue.then(() => {
      const agent = this.#agentId === undefined ? undefined : this.state.agents.get(this.#agentId);
      if (agent && agent.link === this.link) agentDisconnected(this.state, agent);
    });
  }

  async #handle(message: AgentMessage__Output): Promise<void> {
    if ((message.register || message.reregister) && this.#agentId !== undefined) {
      // A second registration on one stream would make a second record of the same agent.
      throw new FailedPreconditionError(`this stream is already registered as agent '${this.#agentId}'`);
    }
    const { register, reregister } = message;
    if (register || reregister) requirePermission(this.principal, 'agents.register');
    if (register) {
      this.#agentId = await this.state.slices.run(() => registerAgent(this.state, this.link, register.agentInfo, register.version, this.principal));
      return;
    }
    if (reregister) {
      this.#agentId = await this.state.slices.run(() => reregisterAgent(this.state, this.link, reregister, this.principal));
      return;
    }
    const agent = this.#agentId === undefined ? undefined : this.state.agents.get(this.#agentId);
    if (!agent || agent.link !== this.link) throw new FailedPreconditionError('the agent must register (or re-register) first');
    if (message.pong) agent.pongSeq = Math.max(agent.pongSeq, Number(message.pong.seq));
    else if (message.statusUpdate) handleStatusUpdate(this.state, agent, message.statusUpdate.frameworkId, message.statusUpdate.status);
    else if (message.resourceUpdate) updateAgentResources(this.state, agent, message.resourceUpdate.resources);
    else if (message.frameworkMessage) {
      const m = message.frameworkMessage;
      this.state.sendEvent(m.frameworkId, { message: { agentId: agent.id, executorId: m.executorId, data: m.data } });
    } else if (message.executorExited) {
      const m = message.executorExited;
      this.state.sendEvent(m.frameworkId, { failure: { agentId: agent.id, executorId: m.executorId, ...(m.status === undefined ? {} : { status: m.status }) } });
    } else if (message.taskStates) {
      for (const t of message.taskStates.tasks) reportTask(this.state, agent, t);
    }
  }
}

function validateAgentInfo(info: AgentInfo__Output | null | undefined): { info: AgentInfo__Output; total: Resources } {
  if (!info) throw new InvalidArgumentError('agentInfo', 'is required');
  if (!info.hostname) throw new InvalidArgumentError('agentInfo.hostname', 'is required');
  const total = resourcesFromWire(info.resources, 'agentInfo.resources');
  if (total.isEmpty()) throw new InvalidArgumentError('agentInfo.resources', 'the agent offers no resources');
  return { info, total };
}

function registeredMessage(state: MasterState, agentId: string): { agentId: string; masterInfo: typeof state.masterInfo; pingIntervalSeconds: number; maxMissedPings: number } {
  return { agentId, masterInfo: state.masterInfo, pingIntervalSeconds: state.options.agentPingInterval / 1000, maxMissedPings: state.options.maxAgentPingTimeouts };
}

export function agentEntry(agent: AgentRecord): AgentEntry {
  return {
    id: agent.id,
    hostname: agent.hostname,
    info: agent.info,
    state: agent.state === 'unreachable' ? 'unreachable' : 'admitted',
    ...(agent.drain ? { drain: agent.drain } : {}),
    registeredAtMs: agent.registeredAtMs,
    ...(agent.unreachableSinceMs === undefined ? {} : { unreachableSinceMs: agent.unreachableSinceMs }),
    ...(agent.principal === undefined ? {} : { principal: agent.principal }),
  };
}

/** The principal an agent id is bound to (security off: nobody can be told apart). */
function agentPrincipal(principal: Principal): string | undefined {
  return principal.via === 'insecure' ? undefined : principal.name;
}

function newAgentRecord(state: MasterState, id: string, info: AgentInfo__Output, total: Resources, link: AgentLink, version: string, principal: string | undefined): AgentRecord {
  return {
    id,
    info: { ...info, id },
    hostname: info.hostname,
    httpAddress: info.httpAddress,
    total,
    attributes: attributesFromWire(info.attributes),
    state: 'connected',
    drain: undefined,
    registeredAtMs: state.now(),
    reregisteredAtMs: undefined,
    unreachableSinceMs: undefined,
    link,
    pingSeq: 0,
    pongSeq: 0,
    pingTimer: undefined,
    version: version || info.version,
    principal,
  };
}

async function registerAgent(state: MasterState, link: AgentLink, rawInfo: AgentInfo__Output | null, version: string, principal: Principal): Promise<string> {
  const { info, total } = validateAgentInfo(rawInfo);
  const id = state.ids.next('S');
  const agent = newAgentRecord(state, id, info, total, link, version, agentPrincipal(principal));
  await state.registry.putAgent(agentEntry(agent));
  state.agents.set(id, agent);
  state.allocator.addAgent({ id, hostname: agent.hostname, total });
  link.send({ registered: registeredMessage(state, id) });
  startPinging(state, agent);
  state.logger.info({ agentId: id, hostname: agent.hostname, resources: total.format() }, 'agent registered');
  state.emit({ type: 'AGENT_ADDED', agentId: id, hostname: agent.hostname });
  state.requestAllocation([id]);
  return id;
}

async function reregisterAgent(state: MasterState, link: AgentLink, message: ReregisterAgent__Output, principal: Principal): Promise<string> {
  const id = message.agentId;
  if (!id) throw new InvalidArgumentError('reregister.agentId', 'is required');
  const owner = agentPrincipal(principal);
  const bound = state.agents.get(id)?.principal;
  // An agent id belongs to the credential that registered it: nobody else may take its place
  // (and with it its tasks' fate and its launches).
  if (bound !== undefined && owner !== undefined && bound !== owner) {
    throw new PermissionDeniedError(principal.name, 'agents.register', undefined, `agent '${id}' was registered by principal '${bound}'; principal '${principal.name}' cannot re-register it`);
  }
  // A failover re-registers thousands of agents just as the registry remembers them: the registry
  // already says "admitted, with this info", and their resources need not be parsed again.
  const infoJson = message.agentInfo ? JSON.stringify({ ...message.agentInfo, id }) : undefined;
  const asRemembered = (a: AgentRecord | undefined): a is AgentRecord => a !== undefined && a.state !== 'unreachable' && infoJson !== undefined && JSON.stringify(a.info) === infoJson;
  const prior = state.agents.get(id);
  const priorSame = asRemembered(prior) && !prior.total.isEmpty();
  const { info, total } = priorSame && message.agentInfo ? { info: message.agentInfo, total: prior.total } : validateAgentInfo(message.agentInfo);
  // Every await happens first; from the registry write on, the agent's record, its tasks and the
  // allocator change in one synchronous step, so no call (a reconcile, an accept) sees half of it.
  for (const f of message.frameworks) if (f.id && !state.frameworks.has(f.id) && !state.removedFrameworks.has(f.id)) await adoptFramework(state, f);
  const known = state.agents.get(id);
  // Written only when the agent was unreachable, unknown or has changed.
  const unchanged = (known === prior ? priorSame : asRemembered(known)) && (known?.principal !== undefined || owner === undefined);
  if (!unchanged) {
    await state.registry.putAgent({
      id,
      hostname: info.hostname,
      info: { ...info, id },
      state: 'admitted',
      ...(known?.drain ? { drain: known.drain } : {}),
      registeredAtMs: known?.registeredAtMs ?? state.now(),
      ...(bound ?? owner ? { principal: (bound ?? owner) as string } : {}),
    });
  }
  let agent = state.agents.get(id);
  if (agent?.principal !== undefined && owner !== undefined && agent.principal !== owner) {
    throw new PermissionDeniedError(principal.name, 'agents.register', undefined, `agent '${id}' was registered by principal '${agent.principal}'; principal '${principal.name}' cannot re-register it`);
  }
  const wasRecovering = agent?.state === 'recovering';
  const wasInAllocator = state.allocator.agent(id) !== undefined;
  if (agent?.link && agent.link !== link) agent.link.close('replaced by a new connection from the same agent');
  if (!agent) {
    agent = newAgentRecord(state, id, info, total, link, message.version, owner);
    state.agents.set(id, agent);
  }
  agent.principal ??= owner;
  Object.assign(agent, {
    info: { ...info, id },
    hostname: info.hostname,
    httpAddress: info.httpAddress,
    total,
    attributes: attributesFromWire(info.attributes),
    state: 'connected',
    link,
    unreachableSinceMs: undefined,
    reregisteredAtMs: state.now(),
    pingSeq: 0,
    pongSeq: 0,
    version: message.version || info.version,
  } satisfies Partial<AgentRecord>);
  // Offers made before are void: what the agent now reports (tasks, total) replaces them.
  state.rescindOffersWhere((o) => o.agentId === id, 'agent re-registered');

  const reported = new Set<TaskRecord>();
  // After a master start the frameworks ask for their tasks (answered as agents come back, see
  // reconciliation.ts). An agent back from anything else — unreachable, unknown — may bring tasks
  // a framework was told are UNREACHABLE or LOST, or never heard of: those it is told at once.
  const context: ReregistrationContext = { newlyHeld: wasInAllocator ? [] : undefined, told: new Set(), tell: !wasRecovering };
  for (const t of message.tasks) {
    const task = reportTask(state, agent, t, context);
    if (task) reported.add(task);
  }
  for (const task of state.tasksOnAgent(id)) {
    if (reported.has(task)) continue;
    const gone: TaskState = task.state === 'TASK_STAGING' ? 'TASK_DROPPED' : 'TASK_GONE';
    const status = state.masterStatus(task, gone, 'REASON_TASK_UNKNOWN', 'the agent re-registered without this task');
    if (state.applyStatus(task, status)) state.forwardStatus(task.frameworkId, status);
  }
  if (wasInAllocator) {
    state.allocator.updateAgentTotal(id, total);
    for (const task of context.newlyHeld ?? []) state.allocator.allocateUsed(usedOf(task));
  } else {
    const used = state.tasksOnAgent(id).filter((t) => t.holdsResources).map(usedOf);
    state.allocator.addAgent({ id, hostname: agent.hostname, total }, used);
  }
  state.allocator.setAgentActive(id, agent.drain === undefined);
  link.send({ reregistered: registeredMessage(state, id) });
  agentBack(state, id, reported, context.told);
  startPinging(state, agent);
  state.logger.info({ agentId: id, hostname: agent.hostname, tasks: message.tasks.length }, 'agent re-registered');
  state.emit({ type: 'AGENT_REREGISTERED', agentId: id, hostname: agent.hostname });
  checkDrained(state, agent);
  state.requestAllocation([id]);
  return id;
}

function usedOf(task: TaskRecord): UsedResources {
  return { frameworkId: task.frameworkId, agentId: task.agentId, role: task.role, resources: task.resources };
}

function startPinging(state: MasterState, agent: AgentRecord): void {
  state.clock.clearInterval(agent.pingTimer);
  agent.pingTimer = state.clock.setInterval(() => {
    if (agent.pingSeq - agent.pongSeq >= state.options.maxAgentPingTimeouts) {
      markUnreachable(state, agent, `missed ${state.options.maxAgentPingTimeouts} pings`);
      return;
    }
    agent.pingSeq += 1;
    state.sendToAgent(agent.id, { ping: { seq: agent.pingSeq } });
  }, state.options.agentPingInterval);
}

function agentDisconnected(state: MasterState, agent: AgentRecord): void {
  agent.link = undefined;
  if (agent.state !== 'connected') return;
  agent.state = 'disconnected';
  if (state.allocator.agent(agent.id)) state.allocator.setAgentActive(agent.id, false);
  state.rescindOffersWhere((o) => o.agentId === agent.id, 'agent disconnected');
  state.logger.warn({ agentId: agent.id }, 'agent disconnected');
  state.emit({ type: 'AGENT_DISCONNECTED', agentId: agent.id });
}

/** The agent missed too many pings: its tasks are UNREACHABLE (LOST for frameworks that are not partition-aware). */
export function markUnreachable(state: MasterState, agent: AgentRecord, why: string): void {
  if (agent.state === 'unreachable') return;
  state.clock.clearInterval(agent.pingTimer);
  agent.pingTimer = undefined;
  state.rescindOffersWhere((o) => o.agentId === agent.id, 'agent unreachable');
  agent.state = 'unreachable';
  agent.unreachableSinceMs = state.now();
  agent.link?.close('unreachable');
  agent.link = undefined;
  for (const task of state.tasksOnAgent(agent.id)) {
    const partitionAware = state.frameworks.get(task.frameworkId)?.partitionAware ?? false;
    const to: TaskState = partitionAware ? 'TASK_UNREACHABLE' : 'TASK_LOST';
    const status = state.masterStatus(task, to, 'REASON_AGENT_UNREACHABLE', `agent ${agent.id} is unreachable: ${why}`);
    if (state.applyStatus(task, status)) state.forwardStatus(task.frameworkId, status);
  }
  if (state.allocator.agent(agent.id)) state.allocator.removeAgent(agent.id);
  void state.registry.putAgent(agentEntry(agent)).catch((err: unknown) => state.logger.error({ err, agentId: agent.id }, 'registry write failed'));
  for (const framework of state.frameworks.values()) state.sendEvent(framework.id, { failure: { agentId: agent.id, executorId: '' } });
  state.logger.warn({ agentId: agent.id, why }, 'agent unreachable');
  state.emit({ type: 'AGENT_UNREACHABLE', agentId: agent.id });
}

function handleStatusUpdate(state: MasterState, agent: AgentRecord, frameworkId: string, status: TaskStatus | null | undefined): void {
  if (!status?.taskId || !status.uuid) throw new InvalidArgumentError('statusUpdate.status', 'needs a task id and a uuid');
  state.stats.statusUpdates += 1;
  const full: TaskStatus = { ...status, agentId: agent.id, source: status.source || 'SOURCE_EXECUTOR' };
  const framework = state.frameworks.get(frameworkId);
  if (!framework) {
    // Nobody will ever acknowledge it: do it for the framework so the agent stops resending.
    state.sendToAgent(agent.id, { acknowledgement: { frameworkId, taskId: status.taskId, uuid: status.uuid } });
    return;
  }
  const task = state.task(frameworkId, status.taskId);
  // Only the agent running a task may move it or speak for it: an update about a task the master
  // knows on another agent (live, or ended there) is dropped (acknowledged, so the sender stops resending).
  const ranOn = task?.agentId ?? state.completedTask(frameworkId, status.taskId)?.agentId;
  if (ranOn !== undefined && ranOn !== agent.id) {
    state.logger.warn({ agentId: agent.id, frameworkId, taskId: status.taskId, runsOn: ranOn }, 'status update for a task on another agent; dropped');
    state.sendToAgent(agent.id, { acknowledgement: { frameworkId, taskId: status.taskId, uuid: status.uuid } });
    return;
  }
  // A terminal update is kept until the framework acknowledges it: reconciliation answers with it.
  if (task && state.applyStatus(task, full)) state.awaitAcknowledgement(task);
  state.forwardStatus(frameworkId, full);
  checkDrained(state, agent);
}

function updateAgentResources(state: MasterState, agent: AgentRecord, resources: AgentInfo__Output['resources']): void {
  const total = resourcesFromWire(resources, 'resourceUpdate.resources');
  // Offers are given back first, so only tasks must fit; the allocator checks before anything changes.
  state.rescindOffersWhere((o) => o.agentId === agent.id, 'agent resources changed');
  if (state.allocator.agent(agent.id)) state.allocator.updateAgentTotal(agent.id, total);
  agent.total = total;
  agent.info = { ...agent.info, resources };
  state.requestAllocation([agent.id]);
}

// ---- draining ----

export async function drainAgent(state: MasterState, agentId: string, gracePeriodMs: number): Promise<void> {
  const agent = state.agents.get(agentId);
  if (!agent) throw new NotFoundError('agent', agentId);
  if (agent.drain) return;
  agent.drain = { state: 'draining', gracePeriodMs, startedAtMs: state.now() };
  await state.registry.putAgent(agentEntry(agent));
  if (state.allocator.agent(agentId)) state.allocator.setAgentActive(agentId, false);
  state.rescindOffersWhere((o) => o.agentId === agentId, 'agent draining');
  for (const task of state.tasksOnAgent(agentId)) {
    if (!isActive(task.state)) continue;
    const taskGrace = task.info.killPolicy?.gracePeriodSeconds;
    const graceSeconds = Math.min(taskGrace ?? Infinity, gracePeriodMs / 1000);
    state.sendToAgent(agentId, { kill: { frameworkId: task.frameworkId, taskId: task.taskId, killPolicy: { gracePeriodSeconds: graceSeconds } } });
  }
  state.logger.info({ agentId, gracePeriodMs }, 'agent draining');
  state.emit({ type: 'AGENT_DRAINING', agentId });
  checkDrained(state, agent);
}

function checkDrained(state: MasterState, agent: AgentRecord): void {
  if (agent.drain?.state !== 'draining') return;
  if (state.tasksOnAgent(agent.id).some((t) => isActive(t.state))) return;
  agent.drain = { ...agent.drain, state: 'drained' };
  void state.registry.putAgent(agentEntry(agent)).catch((err: unknown) => state.logger.error({ err }, 'registry write failed'));
  state.emit({ type: 'AGENT_DRAINED', agentId: agent.id });
}

export async function undrainAgent(state: MasterState, agentId: string): Promise<void> {
  const agent = state.agents.get(agentId);
  if (!agent) throw new NotFoundError('agent', agentId);
  if (!agent.drain) return;
  agent.drain = undefined;
  await state.registry.putAgent(agentEntry(agent));
  if (state.allocator.agent(agentId)) state.allocator.setAgentActive(agentId, agent.state === 'connected');
  state.requestAllocation([agentId]);
}

export function stopAgentTimers(state: MasterState): void {
  for (const agent of state.agents.values()) {
    state.clock.clearInterval(agent.pingTimer);
    agent.pingTimer = undefined;
  }
}
