// From a task to Docker's container-create options, with no I/O (so it is easy to test):
// command, environment, working directory, user, limits (memory, CPU and the agent's pids limit),
// network, ports, volumes, labels and the engine's log (json-file, capped).
// What may not run at all (privileged, cap-add, host paths) is docker-policy.ts's to refuse first.
import path from 'node:path';
import type Docker from 'dockerode';
import type { ContainerSpec } from '../executor.js';
import { requestedPorts } from './docker-ports.js';

/** Where the task's sandbox appears inside the container (as Mesos' /mnt/mesos/sandbox). */
export const CONTAINER_SANDBOX = '/mnt/agora/sandbox';

export const LABEL_TASK_ID = 'agora.task-id';
export const LABEL_FRAMEWORK_ID = 'agora.framework-id';
export const LABEL_SANDBOX = 'agora.sandbox';

const NETWORK_MODES: Readonly<Record<string, string>> = {
  NETWORK_HOST: 'host',
  NETWORK_BRIDGE: 'bridge',
  NETWORK_NONE: 'none',
};

/** The agent's cap on a task's log: --log-max-size (0: none) and --log-max-files. */
export interface LogLimits {
  readonly maxBytes: number;
  readonly maxFiles: number;
}

/** What the agent's flags add to every container. */
export interface AgentLimits {
  /** Most processes and threads in the container (HostConfig.PidsLimit); 0 or absent = none. */
  readonly pidsLimit?: number;
  /** The engine's own copy of the log (json-file max-size, max-file); absent = the engine's default. */
  readonly logs?: LogLimits | undefined;
}

export function containerCreateOptions(spec: ContainerSpec, image: string, agent: AgentLimits = {}): Docker.ContainerCreateOptions {
  const info = spec.task.container;
  const docker = info?.docker;
  const networkMode = networkModeOf(spec);
  const mapped = publishes(networkMode);
  const params = parameters(docker?.parameters ?? []);
  const env = { ...spec.env, AGORA_SANDBOX: CONTAINER_SANDBOX, ...params.env };
  const ports = mapped ? portBindings(spec) : undefined;
  const options: Docker.ContainerCreateOptions = {
    Image: image,
    // Numeric ids from the host's user database, not a name looked up in the image: files the
    // task writes in the bind-mounted sandbox are its user's on the host.
    User: `${spec.user.uid}:${spec.user.gid}`,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    WorkingDir: params.workdir ?? CONTAINER_SANDBOX,
    Labels: {
      ...params.labels,
      [LABEL_TASK_ID]: spec.taskId,
      [LABEL_FRAMEWORK_ID]: spec.frameworkId,
      [LABEL_SANDBOX]: spec.sandbox,
    },
    HostConfig: {
      NetworkMode: networkMode,
      Binds: binds(spec),
      Privileged: docker?.privileged ?? false,
      ...memoryLimit(spec.memMb),
      ...(spec.cpus > 0 ? { NanoCpus: Math.round(spec.cpus * 1e9) } : {}),
      // Left out, Docker's own default applies: no limit (as --pids-limit 0 or -1).
      ...(agent.pidsLimit ? { PidsLimit: agent.pidsLimit } : {}),
      ...(ports ? { PortBindings: ports } : {}),
      ...(params.capAdd.length ? { CapAdd: params.capAdd } : {}),
      ...(params.capDrop.length ? { CapDrop: params.capDrop } : {}),
      ...(supplementary(spec).length ? { GroupAdd: supplementary(spec) } : {}),
      ...(agent.logs && agent.logs.maxBytes > 0 ? { LogConfig: logConfig(agent.logs) } : {}),
    },
  };
  const cmd = containerCmd(spec);
  if (cmd) options.Cmd = cmd;
  if (params.entrypoint !== undefined) options.Entrypoint = params.entrypoint;
  if (ports) options.ExposedPorts = Object.fromEntries(Object.keys(ports).map((k) => [k, {}]));
  // Docker refuses a hostname with host networking.
  if (info?.hostname && networkMode !== 'host') options.Hostname = info.hostname;
  return options;
}

/** Docker's NetworkMode for the task: host, bridge, none or a user network's name. */
export function networkModeOf(spec: Pick<ContainerSpec, 'task'>): string {
  const docker = spec.task.container?.docker;
  // proto3 enums default to their zero value, NETWORK_HOST: like Mesos, host networking by default.
  const network = docker?.network ?? 'NETWORK_HOST';
  return network === 'NETWORK_USER' ? docker?.networkName || 'bridge' : (NETWORK_MODES[network] ?? 'host');
}

/** Whether ports are published (mapped) on this network mode: not on host (nothing to map) or none. */
export function publishes(networkMode: string): boolean {
  return networkMode !== 'host' && networkMode !== 'none';
}

/**
 * The engine keeps its own copy of the output, which the agent follows into the sandbox: json-file
 * (a driver the agent can read back, whatever the daemon's default) capped as the sandbox copy is,
 * max-file counting the current file as Docker does. Without a cap (--log-max-size 0), the
 * daemon's own log settings.
 */
export function logConfig(logs: LogLimits): { Type: string; Config: Record<string, string> } {
  return { Type: 'json-file', Config: { 'max-size': String(logs.maxBytes), 'max-file': String(logs.maxFiles + 1) } };
}

/** `sh -c <value>` for a shell command, argv for the exec form, nothing for the image default. */
export function containerCmd(spec: ContainerSpec): string[] | undefined {
  const command = spec.task.command;
  if (!command) return undefined;
  if (command.shell !== false) return command.value ? ['sh', '-c', command.value] : undefined;
  if (command.value) return [command.value, ...command.arguments.slice(1)];
  // No program: the arguments go to the image's entrypoint.
  return command.arguments.length ? [...command.arguments] : undefined;
}

/** The user's other groups (the primary one is User's), as Docker takes them. */
function supplementary(spec: ContainerSpec): string[] {
  return spec.user.groups.filter((g) => g !== spec.user.gid).map(String);
}

function memoryLimit(memMb: number): { Memory?: number; MemorySwap?: number } {
  if (memMb <= 0) return {};
  const bytes = Math.round(memMb * 1024 * 1024);
  // MemorySwap equal to Memory: no swap beyond the limit, as the process executor's memsw.
  return { Memory: bytes, MemorySwap: bytes };
}

/** The sandbox at CONTAINER_SANDBOX, then the task's volumes (host paths relative to the sandbox). */
function binds(spec: ContainerSpec): string[] {
  const volumes = spec.task.container?.volumes ?? [];
  return [
    `${spec.sandbox}:${CONTAINER_SANDBOX}:rw`,
    ...volumes.map((v) => `${path.resolve(spec.sandbox, v.hostPath)}:${v.containerPath}:${v.mode === 'RO' ? 'ro' : 'rw'}`),
  ];
}

/** Bridge/user networks: container ports published on the task's host ports (docker-ports.ts). */
function portBindings(spec: ContainerSpec): Docker.PortMap {
  const bindings: Docker.PortMap = {};
  for (const p of requestedPorts(spec)) {
    // A port with no host port is published on none: the check after the start names it.
    const key = `${p.containerPort}/${p.protocol}`;
    bindings[key] = [...(bindings[key] ?? []), ...(p.hostPort ? [{ HostPort: String(p.hostPort) }] : [])];
  }
  return bindings;
}

interface Params {
  labels: Record<string, string>;
  env: Record<string, string>;
  capAdd: string[];
  capDrop: string[];
  workdir?: string;
  entrypoint?: string[];
}

/**
 * The `docker run` options we understand from DockerInfo.parameters; others are ignored. `user`
 * is refused before this (docker-policy.ts): the task's user decides.
 */
function parameters(list: readonly { key: string; value: string }[]): Params {
  const p: Params = { labels: {}, env: {}, capAdd: [], capDrop: [] };
  for (const { key, value } of list) {
    const [k, ...rest] = value.split('=');
    if (key === 'label' && k) p.labels[k] = rest.join('=');
    else if ((key === 'env' || key === 'e') && k) p.env[k] = rest.join('=');
    else if (key === 'cap-add') p.capAdd.push(value);
    else if (key === 'cap-drop') p.capDrop.push(value);
    else if (key === 'workdir' || key === 'w') p.workdir = value;
    else if (key === 'entrypoint') p.entrypoint = value ? [value] : [];
  }
  return p;
}
