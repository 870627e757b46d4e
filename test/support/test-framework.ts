// A test framework that speaks the real scheduler API to a master over gRPC: one Subscribe stream
// recording every Event, and a typed wrapper for every call (through unaryCall, so failures reject
// with typed AgoraErrors carrying .code and .field).
//
//   TestFramework.subscribe(address, options) ──► Subscribe stream ──► SUBSCRIBED → frameworkId
//        │ every Event ──► Recorder (waitFor, expectNone, nextOffers, summary on timeout)
//        │ UPDATE with a uuid ──► Acknowledge (when autoAck)
//        └ accept / launch / decline / revive / suppress / kill / acknowledge(Batch) / reconcile /
//          message / updateFramework / teardown ──► unary calls; close() cancels the stream
import * as grpc from '@grpc/grpc-js';
import { AgoraError } from '../../core/errors.js';
import { fromGrpcError, STREAM_ID_METADATA_KEY, unaryCall } from '../../core/grpc.js';
import { Resources } from '../../core/resources.js';
import type { TaskState } from '../../core/task-state.js';
import { resourcesFromWire, resourcesToWire } from '../../core/wire.js';
import {
  SchedulerClient,
  type AcceptRequest,
  type Ack__Output,
  type AcknowledgeBatchRequest,
  type AcknowledgeBatchResult__Output,
  type AcknowledgeRequest,
  type DeclineRequest,
  type Event__Output,
  type FrameworkCapability,
  type FrameworkInfo,
  type KillRequest,
  type MessageRequest,
  type Offer__Output,
  type Operation,
  type ReconcileRequest,
  type ReconcileTask,
  type SubscribeRequest,
  type TaskAcknowledgement,
  type TaskInfo,
  type TaskStatus__Output,
  type UpdateFrameworkRequest,
} from '../../proto/index.js';
import { adminChannel } from './security.js';
import { Recorder, type WaitOptions } from './test-agent.js';

export interface TestFrameworkOptions {
  name?: string;
  roles?: string[];
  /** Default 10 s. */
  failoverTimeoutSeconds?: number;
  capabilities?: FrameworkCapability[];
  /** Re-subscribe with this id. */
  id?: string;
  suppressedRoles?: string[];
  /** Acknowledge every UPDATE that carries a uuid (default false). */
  autoAck?: boolean;
  /** Extra FrameworkInfo fields (override the above). */
  info?: Partial<FrameworkInfo>;
  /** How long subscribe() waits for SUBSCRIBED (default 5000 ms). */
  timeoutMs?: number;
  /** How the framework authenticates (default: TLS and the test admin token). */
  credentials?: grpc.ChannelCredentials;
}

type Without<T, K extends keyof T> = Omit<T, K> & { frameworkId?: string };

export class TestFramework {
  readonly events: Recorder<Event__Output>;
  readonly info: FrameworkInfo;
  autoAck: boolean;
  /** Errors from automatic acknowledgements. */
  readonly ackErrors: AgoraError[] = [];
  #frameworkId: string | undefined;
  /** The subscription's stream id, sent on every call (a test may change it to play a stale stream). */
  streamId: string | undefined;
  #offerCursor = 0;
  #error: AgoraError | undefined;
  readonly #client: InstanceType<typeof SchedulerClient>;
  readonly #stream: grpc.ClientReadableStream<Event__Output>;
  readonly #closed: Promise<void>;

  private constructor(
    readonly address: string,
    options: TestFrameworkOptions,
  ) {
    this.info = {
      id: options.id ?? '',
      name: options.name ?? 'test-framework',
      // No user of its own: the master's default (nobody), a user every agent has.
      user: '',
      roles: options.roles ?? ['*'],
      failoverTimeoutSeconds: options.failoverTimeoutSeconds ?? 10,
      capabilities: options.capabilities ?? [],
      ...options.info,
    };
    this.autoAck = options.autoAck ?? false;
    this.events = new Recorder(`framework ${this.info.name}`, describeEvent);
    this.#client = new SchedulerClient(address, options.credentials ?? adminChannel());
    const request: SubscribeRequest = { frameworkInfo: this.info, suppressedRoles: options.suppressedRoles ?? [] };
    this.#stream = this.#client.subscribe(request);
    this.#closed = new Promise((resolve) => {
      this.#stream.on('data', (e: Event__Output) => this.#receive(e));
      this.#stream.on('error', (err) => {
        this.#error = fromGrpcError(err);
        this.events.end(`error ${this.#error.code}: ${this.#error.message}`);
      });
      this.#stream.on('status', (s: grpc.StatusObject) => {
        this.events.end(`status ${grpc.status[s.code]}${s.details ? `: ${s.details}` : ''}`);
        resolve();
      });
      this.#stream.on('close', () => {
        this.events.end('closed');
        resolve();
      });
    });
  }

  /** Subscribe and wait for SUBSCRIBED; rejects with the AgoraError the master answered. */
  static async subscribe(address: string, options: TestFrameworkOptions = {}): Promise<TestFramework> {
    const framework = new TestFramework(address, options);
    try {
      await framework.events.waitFor((e) => e.type === 'subscribed', { timeoutMs: options.timeoutMs ?? 5000, what: 'SUBSCRIBED' });
    } catch (err) {
      await framework.#closed.catch(() => undefined);
      framework.#client.close();
      throw framework.#error ?? err;
    }
    return framework;
  }

  get frameworkId(): string {
    if (this.#frameworkId === undefined) throw new Error(`framework ${this.info.name} is not subscribed`);
    return this.#frameworkId;
  }

  /** The error the stream ended with (fromGrpcError), if any. */
  get error(): AgoraError | undefined {
    return this.#error;
  }

  get closed(): Promise<void> {
    return this.#closed;
  }

  get isClosed(): boolean {
    return this.events.ended !== undefined;
  }

  // ---- events ----

  waitFor(predicate: (e: Event__Output) => boolean, options?: WaitOptions): Promise<Event__Output> {
    return this.events.waitFor(predicate, options);
  }

  /** Offers of the next OFFERS event not yet returned by nextOffers (optionally only for `agentId`). */
  async nextOffers(options: WaitOptions & { agentId?: string } = {}): Promise<Offer__Output[]> {
    const since = Math.max(this.#offerCursor, options.since ?? 0);
    const event = await this.events.waitFor((e) => e.type === 'offers' && (!options.agentId || (e.offers?.offers ?? []).some((o) => o.agentId === options.agentId)), {
      what: `offers${options.agentId ? ` for agent ${options.agentId}` : ''}`,
      ...options,
      since,
    });
    this.#offerCursor = this.events.items.indexOf(event) + 1;
    const offers = event.offers?.offers ?? [];
    return options.agentId ? offers.filter((o) => o.agentId === options.agentId) : offers;
  }

  /** The next offer (first of the next OFFERS event). */
  async nextOffer(options: WaitOptions & { agentId?: string } = {}): Promise<Offer__Output> {
    const offers = await this.nextOffers(options);
    return offers[0] as Offer__Output;
  }

  /** Offers made and not rescinded, not yet skipped by nextOffers. */
  offersSeen(since = 0): Offer__Output[] {
    return this.events.filter((e) => e.type === 'offers', since).flatMap((e) => e.offers?.offers ?? []);
  }

  /** The first UPDATE for `taskId` (in `state`, when given) at or after `since`. */
  waitForUpdate(taskId: string, state?: TaskState, options: WaitOptions = {}): Promise<TaskStatus__Output> {
    return this.events
      .waitFor((e) => e.update?.status?.taskId === taskId && (state === undefined || e.update.status.state === state), {
        what: `UPDATE ${taskId}${state ? ` ${state}` : ''}`,
        ...options,
      })
      .then((e) => e.update?.status as TaskStatus__Output);
  }

  updates(taskId?: string, since = 0): TaskStatus__Output[] {
    return this.events
      .filter((e) => e.type === 'update' && (taskId === undefined || e.update?.status?.taskId === taskId), since)
      .map((e) => e.update?.status as TaskStatus__Output);
  }

  // ---- calls ----

  accept(request: Without<AcceptRequest, 'frameworkId'>): Promise<Ack__Output> {
    return unaryCall<Ack__Output>((cb) => this.#client.accept({ frameworkId: this.#frameworkId, ...request }, this.#meta(), cb));
  }

  /** Accept `offers` launching `tasks` (one LAUNCH operation). */
  launch(offers: Offer__Output | readonly Offer__Output[] | readonly string[], tasks: TaskInfo[], filters?: { refuseSeconds?: number }): Promise<Ack__Output> {
    return this.accept({ offerIds: offerIds(offers), operations: [{ launch: { taskInfos: tasks } }], ...(filters ? { filters } : {}) });
  }

  /** Accept `offers` launching `tasks` as one task group. */
  launchGroup(offers: Offer__Output | readonly Offer__Output[] | readonly string[], tasks: TaskInfo[], executorId = '', filters?: { refuseSeconds?: number }): Promise<Ack__Output> {
    return this.accept({ offerIds: offerIds(offers), operations: [{ launchGroup: { executorId, taskGroup: { tasks } } }], ...(filters ? { filters } : {}) });
  }

  acceptOperations(offers: Offer__Output | readonly Offer__Output[] | readonly string[], operations: Operation[], filters?: { refuseSeconds?: number }): Promise<Ack__Output> {
    return this.accept({ offerIds: offerIds(offers), operations, ...(filters ? { filters } : {}) });
  }

  decline(offers: Offer__Output | readonly Offer__Output[] | readonly string[], refuseSeconds?: number): Promise<Ack__Output> {
    return this.declineRaw({ offerIds: offerIds(offers), ...(refuseSeconds === undefined ? {} : { filters: { refuseSeconds } }) });
  }

  declineRaw(request: Without<DeclineRequest, 'frameworkId'>): Promise<Ack__Output> {
    return unaryCall<Ack__Output>((cb) => this.#client.decline({ frameworkId: this.#frameworkId, ...request }, this.#meta(), cb));
  }

  revive(roles: string[] = [], frameworkId = this.#frameworkId): Promise<Ack__Output> {
    return unaryCall<Ack__Output>((cb) => this.#client.revive({ frameworkId, roles }, this.#meta(), cb));
  }

  suppress(roles: string[] = [], frameworkId = this.#frameworkId): Promise<Ack__Output> {
    return unaryCall<Ack__Output>((cb) => this.#client.suppress({ frameworkId, roles }, this.#meta(), cb));
  }

  kill(taskId: string, agentId = '', extra: Partial<KillRequest> = {}): Promise<Ack__Output> {
    return unaryCall<Ack__Output>((cb) => this.#client.kill({ frameworkId: this.#frameworkId, taskId, agentId, ...extra }, this.#meta(), cb));
  }

  /** Acknowledge an update (its agent, task and uuid). */
  acknowledge(status: Pick<TaskStatus__Output, 'agentId' | 'taskId' | 'uuid'>, extra: Partial<AcknowledgeRequest> = {}): Promise<Ack__Output> {
    const request: AcknowledgeRequest = { frameworkId: this.#frameworkId, agentId: status.agentId, taskId: status.taskId, uuid: status.uuid, ...extra };
    return unaryCall<Ack__Output>((cb) => this.#client.acknowledge(request, this.#meta(), cb));
  }

  /** Acknowledge many updates in one AcknowledgeBatch call; resolves with the items refused. */
  acknowledgeBatch(acks: readonly TaskAcknowledgement[], extra: Partial<AcknowledgeBatchRequest> = {}): Promise<AcknowledgeBatchResult__Output> {
    const request: AcknowledgeBatchRequest = { frameworkId: this.#frameworkId, acknowledgements: [...acks], ...extra };
    return unaryCall<AcknowledgeBatchResult__Output>((cb) => this.#client.AcknowledgeBatch(request, this.#meta(), cb));
  }

  /** Explicit reconciliation of `tasks`, or implicit (all tasks) when empty. */
  reconcile(tasks: ReconcileTask[] = [], extra: Partial<ReconcileRequest> = {}): Promise<Ack__Output> {
    return unaryCall<Ack__Output>((cb) => this.#client.reconcile({ frameworkId: this.#frameworkId, tasks, ...extra }, this.#meta(), cb));
  }

  message(agentId: string, executorId: string, data: Buffer, extra: Partial<MessageRequest> = {}): Promise<Ack__Output> {
    return unaryCall<Ack__Output>((cb) => this.#client.message({ frameworkId: this.#frameworkId, agentId, executorId, data, ...extra }, this.#meta(), cb));
  }

  /** Update the framework's info (merged over what it subscribed with; the id is filled in). */
  updateFramework(info: Partial<FrameworkInfo>, suppressedRoles: string[] = []): Promise<Ack__Output> {
    const request: UpdateFrameworkRequest = { frameworkInfo: { ...this.info, id: this.#frameworkId ?? '', ...info }, suppressedRoles };
    return unaryCall<Ack__Output>((cb) => this.#client.updateFramework(request, this.#meta(), cb));
  }

  teardown(frameworkId = this.#frameworkId): Promise<Ack__Output> {
    return unaryCall<Ack__Output>((cb) => this.#client.teardown({ frameworkId }, this.#meta(), cb));
  }

  /** Cancel the stream (the master sees the framework disconnect). Calls still work until dispose(). */
  async close(): Promise<void> {
    if (!this.isClosed) this.#stream.cancel();
    await Promise.race([this.#closed, new Promise((resolve) => setTimeout(resolve, 1000))]);
  }

  /** Cancel the stream and close the channel (for afterEach). */
  async dispose(): Promise<void> {
    await this.close();
    this.#client.close();
  }

  #meta(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.streamId !== undefined) metadata.set(STREAM_ID_METADATA_KEY, this.streamId);
    return metadata;
  }

  #receive(e: Event__Output): void {
    if (e.subscribed) {
      this.#frameworkId = e.subscribed.frameworkId;
      this.streamId = e.subscribed.streamId;
    }
    this.events.push(e);
    const status = e.update?.status;
    if (this.autoAck && status?.uuid && this.#frameworkId) {
      this.acknowledge(status).catch((err: unknown) => this.ackErrors.push(err instanceof AgoraError ? err : fromGrpcError(err)));
    }
  }
}

function offerIds(offers: Offer__Output | readonly Offer__Output[] | readonly string[]): string[] {
  const list = Array.isArray(offers) ? offers : [offers];
  return list.map((o: Offer__Output | string) => (typeof o === 'string' ? o : o.id));
}

/** A task for `launch`: `taskInfo('t1', 'cpus:1;mem:128')`, a shell command, overridable fields. */
export function taskInfo(taskId: string, resources = 'cpus:0.5;mem:64', extra: Partial<TaskInfo> = {}): TaskInfo {
  return {
    name: taskId,
    taskId,
    resources: resourcesToWire(Resources.parse(resources)),
    command: { value: 'sleep 1000' },
    ...extra,
  };
}

/** An offer's resources as a Resources value, for assertions. */
export function offerResources(offer: Pick<Offer__Output, 'resources'>): Resources {
  return resourcesFromWire(offer.resources);
}

export function describeEvent(e: Event__Output): string {
  switch (e.type) {
    case 'subscribed':
      return `subscribed(${e.subscribed?.frameworkId})`;
    case 'offers':
      return `offers(${(e.offers?.offers ?? []).map((o) => `${o.agentId}: ${offerResources(o).format()}`).join(' | ')})`;
    case 'rescind':
      return 'rescind';
    case 'update':
      return `update(${e.update?.status?.taskId} ${e.update?.status?.state}${e.update?.status?.uuid ? '' : ' no-uuid'})`;
    case 'failure':
      return `failure(${e.failure?.agentId}${e.failure?.executorId ? `/${e.failure.executorId}` : ''})`;
    case 'error':
      return `error(${e.error?.message})`;
    default:
      return e.type ?? 'unknown';
  }
}
