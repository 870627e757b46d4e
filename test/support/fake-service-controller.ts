// An in-memory ServiceController for the Jobs API's shape tests (routing, errors, streams,
// standbys) — no master, no tasks. Deployments finish at once. The end-to-end tests use the real
// services framework.
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import type { FrameworkModule } from '../../frameworks/host-modules.js';
import type { ApplyOptions, ApplyOutcome, ServiceController, WatchListener } from '../../frameworks/workload.js';
import type { Deployment, Endpoint, WatchEvent, Workload } from '../../proto/index.js';

interface Entry {
  spec: Record<string, unknown>;
  versions: { version: string; spec: Record<string, unknown>; change: string; createdAtMs: number }[];
  deployments: Deployment[];
  endpoints: Endpoint[];
  createdAtMs: number;
}

export class FakeServiceController implements ServiceController {
  readonly kind = 'SERVICE' as const;
  readonly entries = new Map<string, Entry>();
  readonly #listeners = new Set<WatchListener>();
  #seq = 0;
  stopped = false;

  async apply(spec: Record<string, unknown>, options: ApplyOptions = {}): Promise<ApplyOutcome> {
    const name = validate(spec);
    const entry = this.entries.get(name);
    const same = entry && JSON.stringify(entry.spec) === JSON.stringify(spec);
    if (options.dryRun || same) {
      return { kind: 'SERVICE', name, version: entry?.versions.at(-1)?.version ?? '', result: same ? 'UNCHANGED' : entry ? 'UPDATED' : 'CREATED' };
    }
    const now = Date.now();
    const created = entry ?? { spec, versions: [], deployments: [], endpoints: [], createdAtMs: now };
    created.spec = spec;
    this.entries.set(name, created);
    const deployment = this.#deploy(name, created, spec, 'spec');
    this.#emit({ type: entry ? 'MODIFIED' : 'ADDED', kind: 'SERVICE', name, object: this.#workload(name, created), timestampMs: now });
    return { kind: 'SERVICE', name, version: deployment.version ?? '', result: entry ? 'UPDATED' : 'CREATED', deploymentId: deployment.id ?? '' };
  }

  async get(name: string): Promise<Workload> {
    return this.#workload(name, this.#entry(name));
  }

  async list(): Promise<Workload[]> {
    return [...this.entries.keys()].map((name) => this.#workload(name, this.#entry(name)));
  }

  async delete(name: string): Promise<void> {
    const entry = this.#entry(name);
    this.entries.delete(name);
    this.#emit({ type: 'DELETED', kind: 'SERVICE', name, object: this.#workload(name, entry), timestampMs: Date.now() });
  }

  watch(listener: WatchListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async scale(name: string, instances: number): Promise<Deployment> {
    const entry = this.#entry(name);
    entry.spec = { ...entry.spec, instances };
    return this.#deploy(name, entry, entry.spec, 'scale');
  }

  async rollback(name: string, toVersion?: string): Promise<Deployment> {
    const entry = this.#entry(name);
    const target = toVersion === undefined ? entry.versions.at(-2) : entry.versions.find((v) => v.version === toVersion);
    if (!target) throw new FailedPreconditionError(toVersion === undefined ? `service '${name}' has no earlier version` : `service '${name}' has no version '${toVersion}'`, { field: 'toVersion' });
    entry.spec = target.spec;
    return this.#deploy(name, entry, target.spec, 'rollback');
  }

  async restart(name: string): Promise<Deployment> {
    const entry = this.#entry(name);
    return this.#deploy(name, entry, entry.spec, 'restart');
  }

  async killTasks(name: string, _taskIds: readonly string[], scale: boolean): Promise<Deployment> {
    return scale ? this.scale(name, Math.max(0, Number(this.#entry(name).spec['instances'] ?? 1) - _taskIds.length)) : this.restart(name);
  }

  async promote(name: string): Promise<Deployment> {
    throw new FailedPreconditionError(`service '${name}' has no paused deployment`);
  }

  async abort(name: string): Promise<Deployment> {
    throw new FailedPreconditionError(`service '${name}' has no deployment in progress`);
  }

  async endpoints(name: string): Promise<Endpoint[]> {
    return this.#entry(name).endpoints;
  }

  /** Test hook: the service's endpoints change. */
  setEndpoints(name: string, endpoints: Endpoint[]): void {
    this.#entry(name).endpoints = endpoints;
    this.#emit({ type: 'ENDPOINTS', kind: 'SERVICE', name, endpoints, timestampMs: Date.now() });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.#listeners.clear();
  }

  #deploy(name: string, entry: Entry, spec: Record<string, unknown>, change: string): Deployment {
    this.#seq += 1;
    const from = entry.versions.at(-1)?.version ?? '';
    const version = `v${this.#seq}`;
    entry.versions.push({ version, spec, change, createdAtMs: Date.now() });
    const deployment: Deployment = { id: `d${this.#seq}`, version, fromVersion: from, phase: 'DEPLOYMENT_SUCCEEDED', progress: 1, steps: [{ action: 'start', description: `start version ${version}`, done: true }] };
    entry.deployments.unshift(deployment);
    this.#emit({ type: 'DEPLOYMENT_PROGRESS', kind: 'SERVICE', name, deployment, timestampMs: Date.now() });
    return deployment;
  }

  #entry(name: string): Entry {
    const entry = this.entries.get(name);
    if (!entry) throw new NotFoundError('service', name);
    return entry;
  }

  #workload(name: string, e: Entry): Workload {
    const instances = Number(e.spec['instances'] ?? 1);
    return {
      kind: 'SERVICE',
      name,
      version: e.versions.at(-1)?.version ?? '',
      createdAtMs: e.createdAtMs,
      updatedAtMs: e.versions.at(-1)?.createdAtMs ?? e.createdAtMs,
      service: e.spec,
      serviceStatus: {
        instances,
        running: instances,
        healthy: instances,
        ready: instances,
        version: e.versions.at(-1)?.version ?? '',
        versions: e.versions.map((v) => ({ version: v.version, createdAtMs: v.createdAtMs, change: v.change })),
        deployments: e.deployments,
        endpoints: e.endpoints,
      },
    };
  }

  #emit(event: WatchEvent): void {
    for (const listener of [...this.#listeners]) listener(event);
  }
}

function validate(spec: Record<string, unknown>): string {
  const name = spec['name'];
  if (typeof name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(name)) throw new InvalidArgumentError('name', 'must be a lower-case name such as web');
  const instances = spec['instances'];
  if (instances !== undefined && (typeof instances !== 'number' || !Number.isInteger(instances) || instances < 0)) {
    throw new InvalidArgumentError('instances', `must be a non-negative integer, got ${JSON.stringify(instances)}`);
  }
  if (typeof spec['command'] !== 'string' && !Array.isArray(spec['args'])) throw new InvalidArgumentError('command', 'is required (or args)');
  return name;
}

/** A host module serving `controller` (what the services module does with the real one). */
export function fakeServicesModule(controller: FakeServiceController): FrameworkModule {
  return { name: 'fake-services', kind: 'SERVICE', start: async () => controller };
}
