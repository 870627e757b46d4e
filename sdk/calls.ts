// Every scheduler call as an async method that rejects with a typed AgoraError — and never throws:
// a framework writes `driver.launch(…).then(remember).catch(forget)`, so a call made while not
// subscribed (the master just went away while the framework handled its offers) or with bad
// arguments must reach that catch too. The driver supplies the connection (callContext) and the
// error handling around each call (run).
import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from '../core/errors.js';
import type {
  Ack__Output,
  FrameworkInfo,
  KillPolicy,
  Offer__Output,
  Operation,
  SchedulerClient,
  TaskInfo,
  TaskStatus__Output,
} from '../proto/index.js';

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

export abstract class SchedulerCalls {
  /** The client, the framework, the call's deadline, and metadata naming the subscription (agora-stream-id). */
  protected abstract callContext(): { client: SchedulerClient; frameworkId: string; deadline: Date; metadata: grpc.Metadata };
  protected abstract run(call: (callback: grpc.requestCallback<Ack__Output>) => unknown): Promise<void>;

  /** Use offers (all on one agent) for these operations; what they don't use is declined with `filters`. */
  async accept(offers: readonly (string | Offer__Output)[], operations: readonly Operation[], filters?: CallFilters): Promise<void> {
    const { client, frameworkId, deadline, metadata } = this.callContext();
    const request = { frameworkId, offerIds: offerIdsOf(offers), operations: [...operations], filters: filtersOf(filters) };
    return this.run((cb) => client.Accept(request, metadata, { deadline }, cb));
  }

  /** Launch tasks on offers of one agent. */
  async launch(offers: readonly (string | Offer__Output)[], tasks: readonly TaskInfo[], filters?: CallFilters): Promise<void> {
    if (tasks.length === 0) throw new InvalidArgumentError('tasks', 'at least one task is required (use decline to give offers back)');
    return this.accept(offers, [{ launch: { taskInfos: [...tasks] } }], filters);
  }

  /** Launch tasks together, all or none, on one agent. */
  async launchGroup(offers: readonly (string | Offer__Output)[], tasks: readonly TaskInfo[], filters?: CallFilters, executorId = ''): Promise<void> {
    return this.accept(offers, [{ launchGroup: { executorId, taskGroup: { tasks: [...tasks] } } }], filters);
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
  async acknowledge(status: Pick<TaskStatus__Output, 'agentId' | 'taskId' | 'uuid'>): Promise<void> {
    const { client, frameworkId, deadline, metadata } = this.callContext();
    const request = { frameworkId, agentId: status.agentId, taskId: status.taskId, uuid: status.uuid };
    return this.run((cb) => client.Acknowledge(request, metadata, { deadline }, cb));
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
