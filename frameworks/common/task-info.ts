// A task template (task-template.ts) as the master wants it (pure): what one task asks of an offer
// (resources, ports, for sdk matchOffers) and the TaskInfo it is launched with. Each framework adds
// its own environment (AGORA_SERVICE, AGORA_CRONJOB, AGORA_JOB …) and labels; the rest is built
// here once. Ports are the template's in order, named for the agent (which sets $PORT0…,
// $PORT_<NAME> from TaskInfo.discovery.ports) and for service discovery.
//
//   template ──► templateResources / portRequests ──► PendingTask ──► matchOffers ──► placement
//   template + placement + { env, labels } ──► templateTaskInfo ──► TaskInfo
import { Resources } from '../../core/resources.js';
import { resourcesToWire } from '../../core/wire.js';
import type { CommandInfo, ContainerInfo, Port, TaskInfo } from '../../proto/index.js';
import type { PortRequest, TaskPlacement } from '../../sdk/offers.js';
import { checkToWire } from './checks.js';
import { compact } from './spec-fields.js';
import type { TaskTemplateDoc } from './task-template.js';
import { resolveRefs, type ValueResolver } from './value-refs.js';

// Templates are frozen and shared by every task of a workload: their Resources are made once.
const NEEDS = new WeakMap<object, Resources>();

/** What one task of the template needs, as Resources (no ports; they are asked for apart). */
export function templateResources(template: Pick<TaskTemplateDoc, 'resources'>): Resources {
  let resources = NEEDS.get(template);
  if (resources === undefined) {
    const r = template.resources;
    resources = Resources.fromScalars(compact({ cpus: r.cpus, mem: r.mem, disk: r.disk || undefined, gpus: r.gpus || undefined }) as Record<string, number>);
    NEEDS.set(template, resources);
  }
  return resources;
}

/** One request per port of the template, in order (named and/or fixed). */
/** The agent capabilities a template's tasks need: a container image needs DOCKER. */
export function templateCapabilities(template: Pick<TaskTemplateDoc, 'container'>): { capabilities?: ['DOCKER'] } {
  return template.container?.image ? { capabilities: ['DOCKER'] } : {};
}

export function portRequests(template: Pick<TaskTemplateDoc, 'ports'>): PortRequest[] {
  return (template.ports ?? []).map((p) => compact({ name: p.name === '' ? undefined : p.name, number: p.number }));
}

export interface TaskIdentity {
  readonly taskId: string;
  readonly agentId: string;
  /** The task's name (the workload's). */
  readonly name: string;
  /** Added to the template's env (the framework's AGORA_* variables). */
  readonly env: Readonly<Record<string, string>>;
  /** Added to the template's labels (the framework's agora.* labels). */
  readonly labels: Readonly<Record<string, string>>;
  /** Announce the task for discovery even without ports (a service is always announced). */
  readonly discovery?: boolean;
  /** Where the values of the template's envFrom and files are read (TaskInfo.secrets). */
  readonly values?: ValueResolver;
}

/** The TaskInfo of one task of `template` placed on an offer. */
export function templateTaskInfo(template: TaskTemplateDoc, id: TaskIdentity, placement: Pick<TaskPlacement<unknown>, 'resources' | 'ports'>): TaskInfo {
  const ports = discoveryPorts(template, placement.ports);
  const secrets = resolveRefs(template, id.values);
  return {
    name: id.name,
    taskId: id.taskId,
    agentId: id.agentId,
    resources: resourcesToWire(placement.resources),
    command: commandInfo(template, { ...template.env, ...id.env }),
    ...(template.container ? { container: containerInfo(template, placement.ports) } : {}),
    ...(template.healthCheck ? { healthCheck: checkToWire(template.healthCheck) } : {}),
    ...(template.readinessCheck ? { readinessCheck: checkToWire(template.readinessCheck) } : {}),
    killPolicy: { gracePeriodSeconds: template.killGracePeriodSeconds },
    labels: { ...template.labels, ...id.labels },
    ...(ports.length > 0 || id.discovery === true ? { discovery: { name: id.name, ports, labels: {} } } : {}),
    ...(secrets ? { secrets } : {}),
  };
}

/** The template's ports with the numbers the offer gave them, for DiscoveryInfo. */
export function discoveryPorts(template: Pick<TaskTemplateDoc, 'ports'>, numbers: readonly number[]): Port[] {
  return numbers.map((number, i) => {
    const p = template.ports[i]!;
    return { number, name: p.name, protocol: p.protocol, labels: { ...p.labels } };
  });
}

/** The command (shell or exec form) with `env` as its environment, the template's user and fetch URIs. */
export function commandInfo(template: Pick<TaskTemplateDoc, 'command' | 'args' | 'user' | 'fetch'>, env: Record<string, string>): CommandInfo {
  const base = {
    environment: { variables: Object.entries(env).map(([name, value]) => ({ name, value })) },
    user: template.user,
    // A template stored before fetch was a field of every kind has none.
    uris: (template.fetch ?? []).map((f) => ({ ...f })),
  };
  if (template.command !== '') return { ...base, shell: true, value: template.command };
  // Exec form: `arguments` is the whole argv; with an image and no args, the image's own command.
  return { ...base, shell: false, value: '', arguments: [...template.args] };
}

/** The Docker container of a template with an image. */
export function containerInfo(template: Pick<TaskTemplateDoc, 'container' | 'ports'>, hostPorts: readonly number[]): ContainerInfo {
  const c = template.container!;
  // A job's template stored before it had the whole container holds only image and forcePull.
  const network = c.network ?? 'NETWORK_HOST';
  const mapped = network === 'NETWORK_BRIDGE' || network === 'NETWORK_USER';
  return {
    type: 'CONTAINER_DOCKER',
    docker: {
      image: c.image,
      forcePull: c.forcePull,
      network,
      networkName: c.networkName ?? '',
      portMappings: mapped
        ? template.ports.map((p, i) => ({ hostPort: hostPorts[i] ?? 0, containerPort: p.containerPort ?? hostPorts[i] ?? 0, protocol: p.protocol, name: p.name }))
        : [],
      parameters: (c.parameters ?? []).map((p) => ({ ...p })),
      privileged: c.privileged ?? false,
    },
    volumes: (c.volumes ?? []).map((v) => ({ ...v })),
  };
}
