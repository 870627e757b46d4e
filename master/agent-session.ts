// One agent's gateway stream: its messages handled one at a time, in order — registration first,
// then pongs, status updates, resource and capability changes, framework messages and task reports — and a
// failure answered on the stream without ever crashing the master.
import { FailedPreconditionError } from '../core/errors.js';
import { INSECURE_PRINCIPAL, requirePermission, type Principal } from '../core/security/principal.js';
import type { AgentMessage__Output, AgentUsage__Output } from '../proto/index.js';
import { agentDisconnected } from './agent-liveness.js';
import { registerAgent, reregisterAgent } from './agent-registration.js';
import { handleStatusUpdate, updateAgentCapabilities, updateAgentResources } from './agent-updates.js';
import type { AgentLink, AgentRecord } from './model.js';
import type { MasterState } from './state.js';
import { reportTask } from './task-reports.js';
import { acceptUsage } from './usage.js';

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
      const agent = this.#agentId === undefined ? undefined : this.state.agent(this.#agentId);
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
    const agent = this.#agentId === undefined ? undefined : this.state.agent(this.#agentId);
    if (!agent || agent.link !== this.link) throw new FailedPreconditionError('the agent must register (or re-register) first');
    if (message.pong) {
      agent.pongSeq = Math.max(agent.pongSeq, Number(message.pong.seq));
      if (message.pong.usage) this.#keepUsage(agent, message.pong.usage);
    }
    else if (message.statusUpdate) handleStatusUpdate(this.state, agent, message.statusUpdate.frameworkId, message.statusUpdate.status);
    else if (message.resourceUpdate) updateAgentResources(this.state, agent, message.resourceUpdate.resources);
    else if (message.capabilitiesUpdate) updateAgentCapabilities(this.state, agent, message.capabilitiesUpdate.capabilities);
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

  /** Keep a usage report that passes the checks; a bad one is logged and dropped (the last stays). */
  #keepUsage(agent: AgentRecord, wire: AgentUsage__Output): void {
    const report = acceptUsage(wire, this.state.clock.now());
    if (typeof report === 'string') this.state.logger.warn({ agentId: agent.id, reason: report }, 'agent usage report dropped');
    else agent.usage = report;
  }
}
