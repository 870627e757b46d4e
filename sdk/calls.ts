// Every scheduler call as an async method that rejects with a typed AgoraError — and never throws:
// a framework writes `driver.launch(…).then(remember).catch(forget)`, so a call made while not
// subscribed (the master just went away while the framework handled its offers) or with bad
// arguments must reach that catch too. The driver supplies the connection (callContext) and the
// error handling around each call (run).
import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError, type AgoraError } from '../core/errors.js';
import { MAX_ACKNOWLEDGEMENTS_PER_CALL } from '../core/limits.js';
import type {
  AcknowledgeBatchResult__Output,
  Ack__Output,
  FrameworkInfo,
  KillPolicy,
  Offer__Output,
  Operation,
  SchedulerClient,
  TaskStatus__Output,
} from '../proto/index.js';
import { taskSpecToWire, type TaskSpec } from './types.js';
import { asLaunchField, checkAccept, unknownUpdate } from './client-checks.js';

export interface CallFilters {
  /** Do not offer these resources again for this long (the master's default is 5 s). */
  readonly refuseSeconds?: number;
}

function filtersOf(filters: CallFilters | undefined): { refuseSeconds?: number } {
  return filters?.refuseSeconds === undefined ? {} : { refuseSeconds: filters.refuseSeconds };
}

function offerIdsOf(offers: readonly (string | Offer__Output)[]): string[] {
  return offers.map((o) => (typeof o === 'string' ? o : o.id));
}

/** What an acknowledgement names: the update's task, its agent and its uuid. */
export type AckTarget = Pick<TaskStatus__Output, 'agentId' | 'taskId' | 'uuid'>;

/** An acknowledgement of a batch that the master did not apply, and why. */
export interface AcknowledgementRefused {
  /** Its position in the list given to acknowledgeBatch. */
  readonly index: number;
  readonly taskId: string;
  /** The input at fault, e.g. `acknowledgements[3].uuid`. */
  readonly field: string;
  /** The code it would have had alone (AGORA_INVALID_ARGUMENT, AGORA_NOT_FOUND, ...). */
  readonly code: string;
  readonly message: string;
}

export abstract class SchedulerCalls {
  /** The client, the framework, the call's deadline, and metadata naming the subscription (agora-stream-id). */
  protected abstract callContext(): { client: SchedulerClient; frameworkId: string; deadline: Date; metadata: grpc.Metadata };
  protected abstract run(call: (callback: grpc.requestCallback<Ack__Output>) => unknown): Promise<void>;
  /** As run, for a call whose answer is more than an Ack. */
  protected abstract ask<T>(call: (callback: grpc.requestCallback<T>) => unknown): Promise<T>;
  /** The agent of an offer this driver holds (undefined: not known here; the master checks). */
  protected offerAgent(_offerId: string): string | undefined {
    return undefined;
  }
  /** Did this driver receive the update (and not yet acknowledge it)? Unknown ones are refused before sending. */
  protected receivedUpdate(_status: AckTarget): boolean {
    return true;
  }
  /** The update was acknowledged (sent and applied): it is no longer expected. */
  protected acknowledgedUpdate(_status: AckTarget): void {}

  /** Use offers (all on one agent) for these operations; what they don't use is declined with `filters`. */
  async accept(offers: readonly (string | Offer__Output)[], operations: readonly Operation[], filters?: CallFilters): Promise<void> {
    const { client, frameworkId, deadline, metadata } = this.callContext();
    checkAccept(offers, operations, (id) => this.offerAgent(id));
    const request = { frameworkId, offerIds: offerIdsOf(offers), operations: [...operations], filters: filtersOf(filters) };
    return this.run((cb) => client.Accept(request, metadata, { deadline }, cb));
  }

  /** Launch tasks on offers of one agent. (Wire TaskInfos, unchecked by the type: accept with a launch operation.) */
  async launch(offers: readonly (string | Offer__Output)[], tasks: readonly TaskSpec[], filters?: CallFilters): Promise<void> {
    if (tasks.length === 0) throw new InvalidArgumentError('tasks', 'at least one task is required (use decline to give offers back)');
    return this.accept(offers, [{ launch: { taskInfos: tasks.map(taskSpecToWire) } }], filters).catch((err: unknown) => {
      throw asLaunchField(err);
    });
  }

  /** Launch tasks together, all or none, on one agent. */
  async launchGroup(offers: readonly (string | Offer__Output)[], tasks: readonly TaskSpec[], filters?: CallFilters, executorId = ''): Promise<void> {
    return this.accept(offers, [{ launchGroup: { executorId, taskGroup: { tasks: tasks.map(taskSpecToWire) } } }], filters).catch((err: unknown) => {
      throw asLaunchField(err);
    });
  }

  async decline(offers: readonly (string | Offer__Output)[], filters?: CallFilters): Promise<void> {
    const { client, frameworkId, deadline, metadata } = this.callContext();
    const request = { frameworkId, offerIds: offerIdsOf(offers), filters: filtersOf(filters) };
    return this.run((cb) => client.Decline(request, metadata, { deadline }, cb));
  }

  /** Offers again for these roles (all when empty), and clears refuse filters. */
  async revive(roles: readonly string[] = []): Promise<void> {
    const { client, frameworkId, deadline, metadata } = this.callContext();
    return this.run((cb) => client.Revive({ frameworkId, roles: [...roles] }, metadata, { deadline }, cb));
  }

  /** No offers for these roles (all when empty) until revive. */
  async suppress(roles: readonly string[] = []): Promise<void> {
    const { client, frameworkId, deadline, metadata } = this.callContext();
    return this.run((cb) => client.Suppress({ frameworkId, roles: [...roles] }, metadata, { deadline }, cb));
  }

  async kill(taskId: string, agentId = '', killPolicy?: KillPolicy): Promise<void> {
    const { client, frameworkId, deadline, metadata } = this.callContext();
    return this.run((cb) => client.Kill({ frameworkId, taskId, agentId, ...(killPolicy ? { killPolicy } : {}) }, metadata, { deadline }, cb));
  }

  /** Acknowledge an update (only needed with autoAcknowledge off). */
  async acknowledge(status: AckTarget): Promise<void> {
    const { client, frameworkId, deadline, metadata } = this.callContext();
    if (!this.receivedUpdate(status)) throw unknownUpdate('uuid', status);
    const request = { frameworkId, agentId: status.agentId, taskId: status.taskId, uuid: status.uuid };
    await this.run((cb) => client.Acknowledge(request, metadata, { deadline }, cb));
    this.acknowledgedUpdate(status);
  }

  /**
   * Acknowledge many updates: one call per MAX_ACKNOWLEDGEMENTS_PER_CALL. Each is checked on its
   * own; resolves with those the master refused (none: all applied) — the others are applied all
   * the same. Rejects only when a call as a whole fails (not subscribed, the master unreachable):
   * then none of that call's are applied, and the agents resend them. A master without batches
   * (older than this SDK) gets one Acknowledge each.
   */
  async acknowledgeBatch(statuses: readonly AckTarget[]): Promise<AcknowledgementRefused[]> {
    this.callContext(); // a stopped driver refuses the whole batch
    // Updates this driver never received are refused here, each naming its field; the rest go out.
    const refused: AcknowledgementRefused[] = [];
    const known: Array<{ status: AckTarget; index: number }> = [];
    statuses.forEach((status, index) => {
      if (this.receivedUpdate(status)) known.push({ status, index });
      else {
        const err = unknownUpdate(`acknowledgements[${index}].uuid`, status);
        refused.push({ index, taskId: status.taskId, field: err.field ?? '', code: err.code, message: err.message });
      }
    });
    for (let start = 0; start < known.length; start += MAX_ACKNOWLEDGEMENTS_PER_CALL) {
      const chunk = known.slice(start, start + MAX_ACKNOWLEDGEMENTS_PER_CALL);
      const chunkRefused = await this.#acknowledgeChunk(chunk.map((k) => k.status));
      const refusedAt = new Set(chunkRefused.map((r) => r.index));
      for (const r of chunkRefused) {
        const index = chunk[r.index]?.index ?? r.index;
        refused.push({ ...r, index, field: r.field.replace(/^acknowledgements\[\d+\]/, `acknowledgements[${index}]`) });
      }
      chunk.forEach((k, i) => refusedAt.has(i) || this.acknowledgedUpdate(k.status));
    }
    return refused.sort((a, b) => a.index - b.index);
  }

  async #acknowledgeChunk(statuses: readonly AckTarget[]): Promise<AcknowledgementRefused[]> {
    const { client, frameworkId, deadline, metadata } = this.callContext();
    const acknowledgements = statuses.map((s) => ({ agentId: s.agentId, taskId: s.taskId, uuid: s.uuid }));
    try {
      const answer = await this.ask<AcknowledgeBatchResult__Output>((cb) => client.AcknowledgeBatch({ frameworkId, acknowledgements }, metadata, { deadline }, cb));
      return answer.refused.map((r) => ({ index: r.index, taskId: statuses[r.index]?.taskId ?? '', field: r.field, code: r.code, message: r.message }));
    } catch (err) {
      if ((err as AgoraError).code !== 'AGORA_UNIMPLEMENTED') throw err;
      return this.#acknowledgeOneByOne(statuses);
    }
  }

  async #acknowledgeOneByOne(statuses: readonly AckTarget[]): Promise<AcknowledgementRefused[]> {
    const outcomes = await Promise.allSettled(statuses.map((s) => this.acknowledge(s)));
    const refused: AcknowledgementRefused[] = [];
    for (const [index, outcome] of outcomes.entries()) {
      if (outcome.status === 'fulfilled') continue;
      const err = outcome.reason as AgoraError;
      const field = `acknowledgements[${index}]${err.field ? `.${err.field}` : ''}`;
      refused.push({ index, taskId: statuses[index]?.taskId ?? '', field, code: err.code, message: err.message });
    }
    return refused;
  }

  /** Ask for task states: the listed tasks (explicit) or, with none, every task (implicit). Answers arrive as updates. */
  async reconcile(tasks: readonly { taskId: string; agentId?: string }[] = []): Promise<void> {
    const { client, frameworkId, deadline, metadata } = this.callContext();
    const request = { frameworkId, tasks: tasks.map((t) => ({ taskId: t.taskId, agentId: t.agentId ?? '' })) };
    return this.run((cb) => client.Reconcile(request, metadata, { deadline }, cb));
  }

  async message(agentId: string, executorId: string, data: Buffer): Promise<void> {
    const { client, frameworkId, deadline, metadata } = this.callContext();
    return this.run((cb) => client.Message({ frameworkId, agentId, executorId, data }, metadata, { deadline }, cb));
  }

  async updateFramework(info: Omit<FrameworkInfo, 'id'>, suppressedRoles: readonly string[] = []): Promise<void> {
    const { client, frameworkId, deadline, metadata } = this.callContext();
    return this.run((cb) => client.UpdateFramework({ frameworkInfo: { ...info, id: frameworkId }, suppressedRoles: [...suppressedRoles] }, metadata, { deadline }, cb));
  }

  /** Remove the framework: the master kills all its tasks and forgets it. */
  async teardown(): Promise<void> {
    const { client, frameworkId, deadline, metadata } = this.callContext();
    return this.run((cb) => client.Teardown({ frameworkId }, metadata, { deadline }, cb));
  }
}
