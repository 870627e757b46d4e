// Registration and re-registration of an agent. A new agent gets an id, is persisted, then joins
// the allocator. An agent back (after a master failover, a partition, a restart of its own) is
// bound to the principal that registered it, and its report replaces what the master had: the
// tasks it brings are adopted, those it does not are DROPPED or GONE, and offers made before are void.
import net from 'node:net';
import { isUnspecified } from '../core/advertise.js';
import { InvalidArgumentError, PermissionDeniedError } from '../core/errors.js';
import type { Principal } from '../core/security/principal.js';
import type { TaskState } from '../core/task-state.js';
import { resourcesFromWire } from '../core/wire.js';
import type { Resources } from '../core/resources.js';
import type { AgentInfo__Output, ReregisterAgent__Output } from '../proto/index.js';
import { schedulable } from './agent-cordon.js';
import { checkDrained } from './agent-drain.js';
import { knownCapabilities } from './agent-updates.js';
import { agentAddedEvent } from './agent-events.js';
import { startPinging } from './agent-liveness.js';
import { agentEntry, agentPrincipal, connectedFields, newAgentRecord, usedOf } from './agent-records.js';
import { adoptFramework } from './frameworks.js';
import type { AgentLink, AgentRecord, TaskRecord } from './model.js';
import type { AgentEntry } from './registry.js';
import { agentBack } from './reconciliation.js';
import type { MasterState } from './state.js';
import { reportTask, type ReregistrationContext } from './task-reports.js';

function validateAgentInfo(info: AgentInfo__Output | null | undefined): { info: AgentInfo__Output; total: Resources } {
  if (!info) throw new InvalidArgumentError('agentInfo', 'is required');
  if (!info.hostname) throw new InvalidArgumentError('agentInfo.hostname', 'is required');
  // "" is an agent older than the field; anything else must be an address tasks can be reached at.
  if (info.ip && (net.isIP(info.ip) === 0 || isUnspecified(info.ip))) throw new InvalidArgumentError('agentInfo.ip', `expected the agent's IP address, got '${info.ip.slice(0, 64)}'`);
  const total = resourcesFromWire(info.resources, 'agentInfo.resources');
  if (total.isEmpty()) throw new InvalidArgumentError('agentInfo.resources', 'the agent offers no resources');
  return { info: { ...info, capabilities: knownCapabilities(info.capabilities) }, total };
}

function registeredMessage(state: MasterState, agentId: string): { agentId: string; masterInfo: typeof state.masterInfo; pingIntervalSeconds: number; maxMissedPings: number } {
  return { agentId, masterInfo: state.masterInfo, pingIntervalSeconds: state.options.agentPingInterval / 1000, maxMissedPings: state.options.maxAgentPingTimeouts };
}

export async function registerAgent(state: MasterState, link: AgentLink, rawInfo: AgentInfo__Output | null, version: string, principal: Principal): Promise<string> {
  const { info, total } = validateAgentInfo(rawInfo);
  const id = state.ids.next('S');
  const agent = newAgentRecord(state, id, info, total, link, version, agentPrincipal(principal));
  await state.registry.putAgent(agentEntry(agent));
  state.admitAgent(agent);
  state.allocator.addAgent({ id, hostname: agent.hostname, total });
  link.send({ registered: registeredMessage(state, id) });
  startPinging(state, agent);
  state.logger.info({ agentId: id, hostname: agent.hostname, resources: total.format() }, 'agent registered');
  state.emit({ type: 'AGENT_ADDED', agentId: id, hostname: agent.hostname });
  agentAddedEvent(state, agent);
  state.requestAllocation([id]);
  return id;
}

export async function reregisterAgent(state: MasterState, link: AgentLink, message: ReregisterAgent__Output, principal: Principal): Promise<string> {
  const id = message.agentId;
  if (!id) throw new InvalidArgumentError('reregister.agentId', 'is required');
  const owner = agentPrincipal(principal);
  const bound = state.agent(id)?.principal;
  // An agent id belongs to the credential that registered it: nobody else may take its place
  // (and with it its tasks' fate and its launches).
  if (bound !== undefined && owner !== undefined && bound !== owner) {
    throw new PermissionDeniedError(principal.name, 'agents.register', undefined, `agent '${id}' was registered by principal '${bound}'; principal '${principal.name}' cannot re-register it`);
  }
  // A failover re-registers thousands of agents just as the registry remembers them: the registry
  // already says "admitted, with this info", and their resources need not be parsed again.
  const infoJson = message.agentInfo ? JSON.stringify({ ...message.agentInfo, id }) : undefined;
  const asRemembered = (a: AgentRecord | undefined): a is AgentRecord => a !== undefined && a.state !== 'unreachable' && infoJson !== undefined && JSON.stringify(a.info) === infoJson;
  const prior = state.agent(id);
  const priorSame = asRemembered(prior) && !prior.total.isEmpty();
  const { info, total } = priorSame && message.agentInfo ? { info: message.agentInfo, total: prior.total } : validateAgentInfo(message.agentInfo);
  // Every await happens first; from the registry write on, the agent's record, its tasks and the
  // allocator change in one synchronous step, so no call (a reconcile, an accept) sees half of it.
  for (const f of message.frameworks) if (f.id && !state.knowsFramework(f.id) && !state.wasRemoved(f.id)) await adoptFramework(state, f);
  const known = state.agent(id);
  // Written only when the agent was unreachable, unknown or has changed.
  const unchanged = (known === prior ? priorSame : asRemembered(known)) && (known?.principal !== undefined || owner === undefined);
  if (!unchanged) {
    const entry: AgentEntry = {
      id,
      hostname: info.hostname,
      info: { ...info, id },
      state: 'admitted',
      ...(known?.drain ? { drain: known.drain } : {}),
      ...(known?.cordon ? { cordon: known.cordon } : {}),
      registeredAtMs: known?.registeredAtMs ?? state.now(),
      ...(bound ?? owner ? { principal: (bound ?? owner) as string } : {}),
    };
    await state.registry.putAgent(entry);
    // An operator's drain or cordon written while this write was on its way has been overwritten
    // by it: write the entry again with what the record now holds.
    const now = state.agent(id);
    const { drain, cordon, ...rest } = entry;
    if (now && (now.drain !== drain || now.cordon !== cordon)) {
      await state.registry.putAgent({ ...rest, ...(now.drain ? { drain: now.drain } : {}), ...(now.cordon ? { cordon: now.cordon } : {}) });
    }
  }
  let agent = state.agent(id);
  if (agent?.principal !== undefined && owner !== undefined && agent.principal !== owner) {
    throw new PermissionDeniedError(principal.name, 'agents.register', undefined, `agent '${id}' was registered by principal '${agent.principal}'; principal '${principal.name}' cannot re-register it`);
  }
  const wasRecovering = agent?.state === 'recovering';
  const wasInAllocator = state.allocator.agent(id) !== undefined;
  if (agent?.link && agent.link !== link) agent.link.close('replaced by a new connection from the same agent');
  if (!agent) {
    agent = newAgentRecord(state, id, info, total, link, message.version, owner);
    state.admitAgent(agent);
  }
  agent.principal ??= owner;
  Object.assign(agent, { ...connectedFields(id, info, total, link, message.version), reregisteredAtMs: state.now() } satisfies Partial<AgentRecord>);
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
  state.allocator.setAgentActive(id, schedulable(agent));
  link.send({ reregistered: registeredMessage(state, id) });
  agentBack(state, id, reported, context.told);
  startPinging(state, agent);
  state.logger.info({ agentId: id, hostname: agent.hostname, tasks: message.tasks.length }, 'agent re-registered');
  state.emit({ type: 'AGENT_REREGISTERED', agentId: id, hostname: agent.hostname });
  agentAddedEvent(state, agent);
  checkDrained(state, agent);
  state.requestAllocation([id]);
  return id;
}
