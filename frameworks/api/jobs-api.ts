// The Jobs API's operations, independent of transport: gRPC (grpc.ts) and the HTTP/JSON mirror
// (http.ts) both call these, for an authenticated principal. Parsing, routing and authorisation
// (access.ts) happen here; validation and state belong to the controllers, whose errors pass
// through unchanged (with their `field`).
import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import type { Principal } from '../../core/security/principal.js';
import { authorizeSpec, HIDDEN_ENV_VALUE, maskEnv, readable, requireRead, requireWrite } from './access.js';
import type { ApplyResponse, Deployment, DeploymentResponse, Endpoint, Workload } from '../../proto/index.js';
import type { ApplyOutcome, TaskLocator, WorkloadKind } from '../workload.js';
import { parseDocument, readDocument, specFromWire, type DocumentFormat, type ParsedSpec } from './document.js';
import type { ConfigObjects } from '../objects/store.js';
import type { ObjectKind, ObjectView } from '../objects/spec.js';
import { applyObject, authorizeRefs, deleteObject, getObject, listObjects, objectKindOfDocument, requireObjects } from './objects-api.js';
import { namesOf } from './kinds.js';
import { feasibilityWarnings } from './feasibility.js';
import type { ControllerRegistry } from './registry.js';
import { readTaskLogs, type LogChunk, type LogRequest } from './task-logs.js';
import { openWatch, type WatchFilter, type WatchSink } from './watch.js';

/** What Apply takes: a document, or a structured spec of one kind. */
export type ApplyInput =
  | { readonly document: string; readonly format?: DocumentFormat; readonly expected?: WorkloadKind }
  | { readonly structured: WorkloadKind; readonly spec: Record<string, unknown> }
  | { readonly parsed: ParsedSpec }
  /** A Secret or Config document, already parsed (objects-api.ts). */
  | { readonly object: Record<string, unknown>; readonly kind: ObjectKind };

export interface JobsApiOptions {
  /** Who a spec's tasks run as when it names no user (the frameworks' --task-user). */
  readonly taskUser: string;
}

export class JobsApi {
  /** Set by the host at start, from --task-user. */
  taskUser: string;
  /** Secrets and Configs: set by the host while it leads (objects/store.ts). */
  objects: ConfigObjects | undefined;

  constructor(
    readonly controllers: ControllerRegistry,
    readonly locator: TaskLocator,
    options: JobsApiOptions = { taskUser: 'nobody' },
  ) {
    this.taskUser = options.taskUser;
    this.objects = undefined;
  }

  async apply(principal: Principal, input: ApplyInput, dryRun = false): Promise<ApplyResponse> {
    const object = objectOf(input);
    if (object) return applyObject(requireObjects(this.objects), this.controllers, principal, object.kind, object.raw, dryRun);
    const { kind, spec } = toParsed(input as Exclude<ApplyInput, { object: unknown }>);
    requireWrite(principal, kind);
    refuseMaskedEnv(kind, spec);
    authorizeSpec(principal, kind, spec, this.taskUser);
    authorizeRefs(this.objects, principal, kind, spec);
    const outcome = await this.controllers.get(kind).apply(spec, { dryRun });
    const feasibility = await this.#feasibility(kind, spec);
    return applyResponse(feasibility.length === 0 ? outcome : { ...outcome, warnings: [...(outcome.warnings ?? []), ...feasibility] });
  }

  /** Warnings for what no agent of the cluster could ever take; none when the agents are unknown. */
  async #feasibility(kind: WorkloadKind, spec: Record<string, unknown>): Promise<string[]> {
    if (this.locator.agents === undefined) return [];
    try {
      return feasibilityWarnings(kind, spec, await this.locator.agents());
    } catch {
      return []; // the master is away or slow: the spec is applied all the same, unjudged
    }
  }

  async get(principal: Principal, kind: WorkloadKind, name: string): Promise<Workload> {
    requireRead(principal, kind);
    return maskEnv(principal, await this.controllers.get(kind).get(required(name)));
  }

  /**
   * Every workload of the given kinds (default: all served that the principal may read), filtered
   * by labels, by kind then name.
   */
  async list(principal: Principal, kinds: readonly WorkloadKind[] = [], labels: Readonly<Record<string, string>> = {}): Promise<Workload[]> {
    for (const k of kinds) requireRead(principal, k);
    const served = kinds.length > 0 ? [...new Set(kinds)] : readable(principal, this.controllers.kinds());
    const lists = await Promise.all(served.map((k) => this.controllers.get(k).list()));
    const all = lists.map((items) => [...items].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''))).flat().filter((w) => hasLabels(w, labels));
    return maskEnv(principal, all);
  }

  /** A Secret or Config: its keys and sizes; a Secret's values only with `reveal` and secrets.read. */
  getObject(principal: Principal, kind: ObjectKind, name: string, reveal = false): ObjectView {
    return getObject(requireObjects(this.objects), principal, kind, required(name), reveal);
  }

  listObjects(principal: Principal, kind: ObjectKind): ObjectView[] {
    return listObjects(requireObjects(this.objects), principal, kind);
  }

  async deleteObject(principal: Principal, kind: ObjectKind, name: string): Promise<void> {
    await deleteObject(requireObjects(this.objects), this.controllers, principal, kind, required(name));
  }

  async delete(principal: Principal, kind: WorkloadKind, name: string): Promise<{ deploymentId: string }> {
    requireWrite(principal, kind);
    await this.controllers.get(kind).delete(required(name));
    return { deploymentId: '' };
  }

  async scale(principal: Principal, name: string, instances: number): Promise<DeploymentResponse> {
    requireWrite(principal, 'SERVICE');
    if (!Number.isInteger(instances) || instances < 0) throw new InvalidArgumentError('instances', `must be a non-negative integer, got ${String(instances)}`);
    return deploymentResponse(await this.controllers.service().scale(required(name), instances));
  }

  async rollback(principal: Principal, name: string, toVersion?: string): Promise<DeploymentResponse> {
    requireWrite(principal, 'SERVICE');
    return deploymentResponse(await this.controllers.service().rollback(required(name), toVersion === '' ? undefined : toVersion));
  }

  async restart(principal: Principal, name: string): Promise<DeploymentResponse> {
    requireWrite(principal, 'SERVICE');
    return deploymentResponse(await this.controllers.service().restart(required(name)));
  }

  async killTasks(principal: Principal, name: string, taskIds: readonly string[], scale: boolean): Promise<DeploymentResponse> {
    requireWrite(principal, 'SERVICE');
    if (taskIds.length === 0) throw new InvalidArgumentError('taskIds', 'name at least one task');
    return deploymentResponse(await this.controllers.service().killTasks(required(name), taskIds, scale));
  }

  async promote(principal: Principal, name: string): Promise<DeploymentResponse> {
    requireWrite(principal, 'SERVICE');
    return deploymentResponse(await this.controllers.service().promote(required(name)));
  }

  async abort(principal: Principal, name: string): Promise<DeploymentResponse> {
    requireWrite(principal, 'SERVICE');
    return deploymentResponse(await this.controllers.service().abort(required(name)));
  }

  endpoints(principal: Principal, name: string): Promise<Endpoint[]> {
    requireRead(principal, 'SERVICE');
    return this.controllers.service().endpoints(required(name));
  }

  trigger(principal: Principal, kind: WorkloadKind, name: string): Promise<{ runId: string }> {
    const runnable = runnableKind(kind, 'Trigger');
    requireWrite(principal, runnable);
    return this.controllers.runnable(runnable).trigger(required(name));
  }

  async suspend(principal: Principal, kind: WorkloadKind, name: string, suspend: boolean): Promise<void> {
    const runnable = runnableKind(kind, 'Suspend');
    requireWrite(principal, runnable);
    await this.controllers.runnable(runnable).suspend(required(name), suspend);
  }

  /** Changes to the kinds asked for (default: every kind served that the principal may read). */
  watch(principal: Principal, filter: WatchFilter, sink: WatchSink): () => void {
    for (const k of filter.kinds) requireRead(principal, k);
    const kinds = filter.kinds.length > 0 ? filter.kinds : readable(principal, this.controllers.kinds());
    if (kinds.length === 0) requireRead(principal, 'SERVICE');
    return openWatch(this.controllers, { ...filter, kinds }, { send: (e) => sink.send(maskEnv(principal, e)), end: (err) => sink.end(err) });
  }

  /** A task's logs, for principals that may read the kind of workload it belongs to. */
  async *logs(principal: Principal, req: LogRequest, signal?: AbortSignal): AsyncGenerator<LogChunk> {
    if (req.taskId === '') throw new InvalidArgumentError('taskId', 'is required');
    const where = await this.locator.locate(req.taskId);
    if (!where || where.kind === undefined) throw new NotFoundError('task', req.taskId);
    requireRead(principal, where.kind);
    yield* readTaskLogs(this.locator, req, signal, where);
  }
}

/** A Secret or Config to apply: given as one, or a document whose kind says so. */
function objectOf(input: ApplyInput): { kind: ObjectKind; raw: Record<string, unknown> } | undefined {
  if ('object' in input) return { kind: input.kind, raw: input.object };
  if (!('document' in input) || input.expected !== undefined) return undefined;
  const raw = readDocument(input.document, input.format);
  const kind = objectKindOfDocument(raw);
  return kind ? { kind, raw: raw as Record<string, unknown> } : undefined;
}

function toParsed(input: Exclude<ApplyInput, { object: unknown }>): ParsedSpec {
  if ('parsed' in input) return input.parsed;
  if ('document' in input) return parseDocument(input.document, input.format, input.expected);
  return { kind: input.structured, spec: specFromWire(input.structured, input.spec) };
}

/**
 * A spec printed by `get` for a caller without env.view shows every env value as the mask; applied
 * back, it would replace the real values with the mask. Refuse it, naming the variable.
 */
function refuseMaskedEnv(kind: WorkloadKind, spec: Record<string, unknown>): void {
  const where = kind === 'SERVICE' ? '' : 'task.';
  const template = kind === 'SERVICE' ? spec : spec['task'];
  const env = typeof template === 'object' && template !== null ? (template as Record<string, unknown>)['env'] : undefined;
  if (typeof env !== 'object' || env === null) return;
  for (const [name, value] of Object.entries(env)) {
    if (value === HIDDEN_ENV_VALUE) {
      throw new InvalidArgumentError(`${where}env.${name}`, `is '${HIDDEN_ENV_VALUE}', the mask shown to callers without env.view: give the real value (applying the mask would overwrite it)`);
    }
  }
}

function required(name: string): string {
  if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('name', 'is required');
  return name;
}

function runnableKind(kind: WorkloadKind, call: string): 'CRONJOB' | 'JOB' {
  if (kind === 'CRONJOB' || kind === 'JOB') return kind;
  throw new InvalidArgumentError('kind', `${call} takes CronJob or Job, got ${namesOf(kind).document}`);
}

function hasLabels(w: Workload, labels: Readonly<Record<string, string>>): boolean {
  const own = (w.service ?? w.cronjob ?? w.job)?.labels ?? {};
  return Object.entries(labels).every(([k, v]) => own[k] === v);
}

export function applyResponse(outcome: ApplyOutcome): ApplyResponse {
  return { kind: outcome.kind, name: outcome.name, version: outcome.version, result: outcome.result, deploymentId: outcome.deploymentId ?? '', warnings: [...(outcome.warnings ?? [])] };
}

export function deploymentResponse(d: Deployment): DeploymentResponse {
  return { deploymentId: d.id ?? '', version: d.version ?? '' };
}
