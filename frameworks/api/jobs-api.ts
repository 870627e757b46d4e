// The Jobs API's operations, independent of transport: gRPC (grpc.ts) and the HTTP/JSON mirror
// (http.ts) both call these. Parsing and routing happen here; validation and state belong to the
// controllers, whose errors pass through unchanged (with their `field`).
import { InvalidArgumentError } from '../../core/errors.js';
import type { ApplyResponse, Deployment, DeploymentResponse, Endpoint, Workload } from '../../proto/index.js';
import type { ApplyOutcome, TaskLocator, WorkloadKind } from '../workload.js';
import { parseDocument, specFromWire, type DocumentFormat, type ParsedSpec } from './document.js';
import type { ControllerRegistry } from './registry.js';
import { readTaskLogs, type LogChunk, type LogRequest } from './task-logs.js';
import { openWatch, type WatchFilter, type WatchSink } from './watch.js';

/** What Apply takes: a document, or a structured spec of one kind. */
export type ApplyInput =
  | { readonly document: string; readonly format?: DocumentFormat; readonly expected?: WorkloadKind }
  | { readonly structured: WorkloadKind; readonly spec: Record<string, unknown> }
  | { readonly parsed: ParsedSpec };

export class JobsApi {
  constructor(
    readonly controllers: ControllerRegistry,
    readonly locator: TaskLocator,
  ) {}

  async apply(input: ApplyInput, dryRun = false): Promise<ApplyResponse> {
    const { kind, spec } = toParsed(input);
    const outcome = await this.controllers.get(kind).apply(spec, { dryRun });
    return applyResponse(outcome);
  }

  get(kind: WorkloadKind, name: string): Promise<Workload> {
    return this.controllers.get(kind).get(required(name));
  }

  /** Every workload of the given kinds (default: all served), filtered by labels, by kind then name. */
  async list(kinds: readonly WorkloadKind[] = [], labels: Readonly<Record<string, string>> = {}): Promise<Workload[]> {
    const served = kinds.length > 0 ? [...new Set(kinds)] : this.controllers.kinds();
    const lists = await Promise.all(served.map((k) => this.controllers.get(k).list()));
    return lists.map((items) => [...items].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''))).flat().filter((w) => hasLabels(w, labels));
  }

  async delete(kind: WorkloadKind, name: string): Promise<{ deploymentId: string }> {
    await this.controllers.get(kind).delete(required(name));
    return { deploymentId: '' };
  }

  async scale(name: string, instances: number): Promise<DeploymentResponse> {
    if (!Number.isInteger(instances) || instances < 0) throw new InvalidArgumentError('instances', `must be a non-negative integer, got ${String(instances)}`);
    return deploymentResponse(await this.controllers.service().scale(required(name), instances));
  }

  async rollback(name: string, toVersion?: string): Promise<DeploymentResponse> {
    return deploymentResponse(await this.controllers.service().rollback(required(name), toVersion === '' ? undefined : toVersion));
  }

  async restart(name: string): Promise<DeploymentResponse> {
    return deploymentResponse(await this.controllers.service().restart(required(name)));
  }

  async killTasks(name: string, taskIds: readonly string[], scale: boolean): Promise<DeploymentResponse> {
    if (taskIds.length === 0) throw new InvalidArgumentError('taskIds', 'name at least one task');
    return deploymentResponse(await this.controllers.service().killTasks(required(name), taskIds, scale));
  }

  async promote(name: string): Promise<DeploymentResponse> {
    return deploymentResponse(await this.controllers.service().promote(required(name)));
  }

  async abort(name: string): Promise<DeploymentResponse> {
    return deploymentResponse(await this.controllers.service().abort(required(name)));
  }

  endpoints(name: string): Promise<Endpoint[]> {
    return this.controllers.service().endpoints(required(name));
  }

  trigger(kind: WorkloadKind, name: string): Promise<{ runId: string }> {
    return this.controllers.runnable(runnableKind(kind, 'Trigger')).trigger(required(name));
  }

  async suspend(kind: WorkloadKind, name: string, suspend: boolean): Promise<void> {
    await this.controllers.runnable(runnableKind(kind, 'Suspend')).suspend(required(name), suspend);
  }

  watch(filter: WatchFilter, sink: WatchSink): () => void {
    return openWatch(this.controllers, filter, sink);
  }

  logs(req: LogRequest, signal?: AbortSignal): AsyncGenerator<LogChunk> {
    return readTaskLogs(this.locator, req, signal);
  }
}

function toParsed(input: ApplyInput): ParsedSpec {
  if ('parsed' in input) return input.parsed;
  if ('document' in input) return parseDocument(input.document, input.format, input.expected);
  return { kind: input.structured, spec: specFromWire(input.structured, input.spec) };
}

function required(name: string): string {
  if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('name', 'is required');
  return name;
}

function runnableKind(kind: WorkloadKind, call: string): 'CRONJOB' | 'JOB' {
  if (kind === 'CRONJOB' || kind === 'JOB') return kind;
  throw new InvalidArgumentError('kind', `${call} takes CRONJOB or JOB, got ${kind}`);
}

function hasLabels(w: Workload, labels: Readonly<Record<string, string>>): boolean {
  const own = (w.service ?? w.cronjob ?? w.job)?.labels ?? {};
  return Object.entries(labels).every(([k, v]) => own[k] === v);
}

export function applyResponse(outcome: ApplyOutcome): ApplyResponse {
  return { kind: outcome.kind, name: outcome.name, version: outcome.version, result: outcome.result, deploymentId: outcome.deploymentId ?? '', warnings: [] };
}

export function deploymentResponse(d: Deployment): DeploymentResponse {
  return { deploymentId: d.id ?? '', version: d.version ?? '' };
}
