// What a service instance asks of an offer (a PendingTask for sdk matchOffers) and the TaskInfo it
// is launched with (pure). Ports: the spec's ports in order, named for the agent (which sets
// $PORT0…, $PORT_<NAME> from TaskInfo.discovery.ports) and for service discovery.
import { Resources } from '../../core/resources.js';
import { resourcesToWire } from '../../core/wire.js';
import type { PendingTask, PortRequest, TaskPlacement } from '../../sdk/offers.js';
import type { CommandInfo, ContainerInfo, Port, TaskInfo } from '../../proto/index.js';
import { checkToWire } from './spec-checks.js';
import { compact } from './spec-fields.js';
import type { ServiceSpecDoc } from './spec.js';

/** One instance waiting for an offer. */
export interface PendingLaunch extends PendingTask {
  readonly service: string;
  readonly version: string;
  readonly canary: boolean;
  readonly spec: ServiceSpecDoc;
  /** The failed instance this launch carries on (its consecutive failures), if any. */
  readonly relaunch?: { readonly taskId: string; readonly failures: number };
}

const NEEDS = new WeakMap<ServiceSpecDoc, Resources>();

export function pendingLaunch(spec: ServiceSpecDoc, version: string, canary: boolean, defaultRole: string, relaunch?: { readonly taskId: string; readonly failures: number }): PendingLaunch {
  let resources = NEEDS.get(spec);
  if (resources === undefined) {
    const r = spec.resources;
    resources = Resources.fromScalars(compact({ cpus: r.cpus, mem: r.mem, disk: r.disk || undefined, gpus: r.gpus || undefined }) as Record<string, number>);
    NEEDS.set(spec, resources);
  }
  const ports: PortRequest[] = spec.ports.map((p) => compact({ name: p.name === '' ? undefined : p.name, number: p.number }));
  return {
    service: spec.name,
    version,
    canary,
    spec,
    ...(relaunch === undefined ? {} : { relaunch: { taskId: relaunch.taskId, failures: relaunch.failures } }),
    resources,
    ports,
    role: spec.role || defaultRole,
    group: spec.name,
    constraints: spec.constraints,
  };
}

export function taskInfo(taskId: string, agentId: string, version: string, placement: TaskPlacement<PendingLaunch>): TaskInfo {
  const spec = placement.task.spec;
  const ports = discoveryPorts(spec, placement.ports);
  return {
    name: spec.name,
    taskId,
    agentId,
    resources: resourcesToWire(placement.resources),
    command: commandInfo(spec, { ...spec.env, AGORA_SERVICE: spec.name, AGORA_SERVICE_VERSION: version }),
    ...(spec.container ? { container: container(spec, placement.ports) } : {}),
    ...(spec.healthCheck ? { healthCheck: checkToWire(spec.healthCheck) } : {}),
    ...(spec.readinessCheck ? { readinessCheck: checkToWire(spec.readinessCheck) } : {}),
    killPolicy: { gracePeriodSeconds: spec.killGracePeriodSeconds },
    labels: { ...spec.labels, 'agora.service': spec.name, 'agora.version': version },
    discovery: { name: spec.name, ports, labels: {} },
  };
}

/** The spec's ports with the numbers the offer gave them, for DiscoveryInfo (cron tasks use it too). */
export function discoveryPorts(spec: Pick<ServiceSpecDoc, 'ports'>, numbers: readonly number[]): Port[] {
  return numbers.map((number, i) => {
    const p = spec.ports[i]!;
    return { number, name: p.name, protocol: p.protocol, labels: { ...p.labels } };
  });
}

/** The command (shell or exec form) with `env` as its environment, the spec's user and fetch URIs (cron tasks use it too). */
export function commandInfo(spec: Pick<ServiceSpecDoc, 'command' | 'args' | 'user' | 'fetch'>, env: Record<string, string>): CommandInfo {
  const base = {
    environment: { variables: Object.entries(env).map(([name, value]) => ({ name, value })) },
    user: spec.user,
    uris: spec.fetch.map((f) => ({ ...f })),
  };
  if (spec.command !== '') return { ...base, shell: true, value: spec.command };
  // Exec form: `arguments` is the whole argv; with an image and no args, the image's own command.
  return { ...base, shell: false, value: '', arguments: [...spec.args] };
}

/** The Docker container of a spec with an image (cron and batch tasks use it too). */
export function container(spec: Pick<ServiceSpecDoc, 'container' | 'ports'>, hostPorts: readonly number[]): ContainerInfo {
  const c = spec.container!;
  const mapped = c.network === 'NETWORK_BRIDGE' || c.network === 'NETWORK_USER';
  return {
    type: 'CONTAINER_DOCKER',
    docker: {
      image: c.image,
      forcePull: c.forcePull,
      network: c.network,
      networkName: c.networkName,
      portMappings: mapped
        ? spec.ports.map((p, i) => ({ hostPort: hostPorts[i] ?? 0, containerPort: p.containerPort ?? hostPorts[i] ?? 0, protocol: p.protocol, name: p.name }))
        : [],
      parameters: c.parameters.map((p) => ({ ...p })),
      privileged: c.privileged,
    },
    volumes: c.volumes.map((v) => ({ ...v })),
  };
}
