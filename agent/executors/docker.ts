// The docker executor: a task in a Docker container, through dockerode against the engine's
// socket. Allowed here (docker-policy.ts: privileged, cap-add, host paths)? Image present? else
// pull (a failure ends the launch with REASON_CONTAINER_PULL_FAILED); create as the task's user
// with limits, network, ports, volumes and agora.* labels (docker-spec.ts); start; check that the
// engine published every mapped port (else the launch fails, naming the port and why) and hand
// the container a probe that waits for them to answer (docker-ports.ts); then a DockerContainer
// copies the logs, waits and removes it. After an agent restart the container is
// found again by id, else by its agora.task-id and agora.sandbox labels. Before anything, the
// engine is pinged: one that does not answer fails the launch saying so, naming where it was
// looked for (not as a pull that failed: nothing was pulled).
import Docker from 'dockerode';
import { dockerodeOptions, parseDockerEndpoint, resolveDockerEndpoint, type DockerEndpoint } from '../docker-endpoint.js';
import type { Logger } from '../../core/logger.js';
import { healthCheckSettings } from '../health/index.js';
import type { Container, ContainerCheckpoint, ContainerSpec, Executor, ExitInfo } from '../executor.js';
import { DockerContainer, statusCode, type DockerTaskFacts } from './docker-container.js';
import { containerRefusal } from './docker-policy.js';
import { probeTargets, requestedPorts, unpublished, unpublishedMessage, waitForPorts, type PortsAnswer } from './docker-ports.js';
import { containerCreateOptions, LABEL_SANDBOX, LABEL_TASK_ID, networkModeOf, type LogLimits } from './docker-spec.js';
import { failedLaunch } from './failed-launch.js';

export const REASON_PULL_FAILED = 'REASON_CONTAINER_PULL_FAILED';
/** How long a Docker task's published ports may take to answer before it fails (--docker-port-check-timeout). */
export const DEFAULT_PORT_CHECK_TIMEOUT_MS = 60_000;

/** How long the engine may take to answer a ping (--docker-check-timeout). */
export const DEFAULT_PING_TIMEOUT_MS = 5_000;

export interface DockerExecutorOptions {
  /** The engine's API socket (a path, unix:///path or tcp://host:port); default /var/run/docker.sock. */
  readonly socketPath?: string;
  /** Where the engine is, resolved (wins over socketPath). */
  readonly endpoint?: DockerEndpoint;
  /** How long a ping may take before the engine counts as unreachable; default 5 s. */
  readonly pingTimeoutMs?: number;
  /** --allow-privileged: privileged containers, cap-add and host-path volumes may run. */
  readonly allowPrivileged?: boolean;
  /** The agent's --log-max-size and --log-max-files, for the engine's json-file log. */
  readonly logLimits?: LogLimits;
  /** --task-pids-limit: HostConfig.PidsLimit of every container; 0 or absent = none. */
  readonly pidsLimit?: number;
  /** --docker-port-check-timeout: how long published ports may take to answer; default 60 s. */
  readonly portCheckTimeoutMs?: number;
  readonly log: Logger;
}

export class DockerExecutor implements Executor {
  readonly kind = 'docker' as const;
  private readonly docker: Docker;
  private readonly log: Logger;
  private readonly allowPrivileged: boolean;
  private readonly logLimits: LogLimits | undefined;
  private readonly pidsLimit: number;
  private readonly portCheckTimeoutMs: number;
  private readonly watching = new Set<DockerContainer>();
  private readonly pingTimeoutMs: number;
  /** Where the engine is (unix:///… or tcp://…), for messages. */
  readonly endpoint: DockerEndpoint;

  constructor(options: DockerExecutorOptions) {
    this.endpoint = options.endpoint ?? (options.socketPath === undefined ? resolveDockerEndpoint(undefined, {}) : parseDockerEndpoint(options.socketPath, 'socketPath'));
    this.docker = new Docker(dockerodeOptions(this.endpoint));
    this.pingTimeoutMs = options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS;
    this.log = options.log.child({ component: 'docker-executor' });
    this.allowPrivileged = options.allowPrivileged ?? false;
    this.logLimits = options.logLimits;
    this.pidsLimit = options.pidsLimit ?? 0;
    this.portCheckTimeoutMs = options.portCheckTimeoutMs ?? DEFAULT_PORT_CHECK_TIMEOUT_MS;
  }

  async launch(spec: ContainerSpec): Promise<Container> {
    const log = this.log.child({ frameworkId: spec.frameworkId, taskId: spec.taskId });
    const image = spec.task.container?.docker?.image;
    if (!image) return failedLaunch(spec.taskId, 'the task has no Docker image (container.docker.image)');
    const refusal = containerRefusal(spec, { allowPrivileged: this.allowPrivileged });
    if (refusal) return failedLaunch(spec.taskId, refusal);
    const unreachable = await this.ping();
    if (unreachable !== undefined) return failedLaunch(spec.taskId, unreachable);
    const pullError = await this.ensureImage(image, spec.task.container?.docker?.forcePull ?? false, log);
    if (pullError) return failedLaunch(spec.taskId, pullError, REASON_PULL_FAILED);
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(containerCreateOptions(spec, image, { pidsLimit: this.pidsLimit, logs: this.logLimits }));
    } catch (err) {
      return failedLaunch(spec.taskId, `could not create a container from '${image}': ${errorText(err)}`);
    }
    try {
      await container.start();
    } catch (err) {
      await container.remove({ force: true }).catch(() => undefined);
      return failedLaunch(spec.taskId, `could not start the container from '${image}': ${errorText(err)}`);
    }
    log.debug({ containerId: container.id, image }, 'task container started');
    const ports = await this.publishedPorts(spec, container);
    if (typeof ports === 'string') {
      await container.remove({ force: true }).catch(() => undefined);
      return failedLaunch(spec.taskId, ports);
    }
    return this.watch(new DockerContainer(this.docker, container, { ...facts(spec, log), truncateLogs: false, probePorts: ports }));
  }

  /**
   * After the start, on a network that publishes ports: every port mapping has its HostPort
   * binding in docker inspect (else why not, as a string), and a probe that waits for them to
   * answer (undefined when no TCP port is published).
   */
  private async publishedPorts(spec: ContainerSpec, container: Docker.Container): Promise<string | PortProbe | undefined> {
    const mode = networkModeOf(spec);
    const requested = requestedPorts(spec);
    if (requested.length === 0 || mode === 'host') return undefined;
    let info: Docker.ContainerInspectInfo;
    try {
      info = await container.inspect();
    } catch (err) {
      return `could not inspect the container to check its published ports: ${errorText(err)}`;
    }
    const missing = unpublished(requested, info.NetworkSettings.Ports);
    if (missing) {
      const hasNetwork = mode === 'none' || (await this.docker.getNetwork(mode).inspect().then(() => true, () => false));
      return unpublishedMessage(missing, mode, hasNetwork);
    }
    const targets = probeTargets(requested, info.NetworkSettings.Networks, mode);
    if (targets.length === 0) return undefined;
    const timeoutMs = portCheckTimeout(spec, this.portCheckTimeoutMs);
    return (signal) => waitForPorts(targets, { timeoutMs, signal });
  }

  /** Rejects when the engine cannot be asked: whether the task still runs is then unknown. */
  async recover(spec: ContainerSpec, checkpoint: ContainerCheckpoint): Promise<Container | ExitInfo> {
    const log = this.log.child({ frameworkId: spec.frameworkId, taskId: spec.taskId });
    const id = (await this.findContainer(spec, checkpoint)) ?? undefined;
    if (!id) return { message: 'the task container was not found after the agent restarted' };
    const info = await this.docker.getContainer(id).inspect();
    // Logs are copied again from the start, so the sandbox files end up whole whatever the
    // agent had copied before it went down.
    // A task not yet ready when the agent went down is probed again (the task manager asks only then).
    const ports = info.State.Running ? await this.publishedPorts(spec, this.docker.getContainer(id)) : undefined;
    const probePorts = typeof ports === 'function' ? ports : undefined;
    const container = this.watch(new DockerContainer(this.docker, this.docker.getContainer(id), { ...facts(spec, log), truncateLogs: true, probePorts }));
    if (info.State.Running) {
      log.info({ containerId: id }, 'task container re-adopted');
      return container;
    }
    return container.wait();
  }

  /** undefined when the engine answers its ping in time; else "the Docker engine is unreachable at …: why". */
  async ping(): Promise<string | undefined> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.pingTimeoutMs);
    try {
      // dockerode takes the signal; its types do not say so.
      await (this.docker as unknown as { ping(opts: { abortSignal: AbortSignal }): Promise<unknown> }).ping({ abortSignal: abort.signal });
      return undefined;
    } catch (err) {
      const why = abort.signal.aborted ? `no answer within ${this.pingTimeoutMs} ms` : errorText(err);
      return `the Docker engine is unreachable at ${this.endpoint.url}: ${why}`;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stop watching: open docker wait and log requests end; running containers are left alone. */
  async close(): Promise<void> {
    for (const container of this.watching) container.detach();
    this.watching.clear();
  }

  private watch(container: DockerContainer): DockerContainer {
    this.watching.add(container);
    void container.wait().then(() => this.watching.delete(container));
    return container;
  }

  /** undefined when the image is there (pulled if needed), else why not. */
  private async ensureImage(image: string, forcePull: boolean, log: Logger): Promise<string | undefined> {
    if (!forcePull) {
      const present = await this.docker.getImage(image).inspect().then(() => true, () => false);
      if (present) return undefined;
    }
    log.info({ image, forcePull }, 'pulling image');
    try {
      await this.pull(image);
      return undefined;
    } catch (err) {
      return `failed to pull image '${image}': ${errorText(err)}`;
    }
  }

  private async pull(image: string): Promise<void> {
    const stream = await this.docker.pull(image);
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(stream, (err: Error | null, events: { error?: string }[] = []) => {
        const failed = err ?? events.find((e) => e.error)?.error;
        if (failed) reject(failed instanceof Error ? failed : new Error(failed));
        else resolve();
      });
    });
  }

  private async findContainer(spec: ContainerSpec, checkpoint: ContainerCheckpoint): Promise<string | undefined> {
    const id = typeof checkpoint['containerId'] === 'string' ? checkpoint['containerId'] : undefined;
    if (id) {
      try {
        return (await this.docker.getContainer(id).inspect()).Id;
      } catch (err) {
        if (statusCode(err) !== 404) throw err;
      }
    }
    const found = await this.docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_TASK_ID}=${spec.taskId}`, `${LABEL_SANDBOX}=${spec.sandbox}`] },
    });
    return found[0]?.Id;
  }
}

type PortProbe = (signal: AbortSignal) => Promise<PortsAnswer>;

/** --docker-port-check-timeout, or the task's health check's delay and grace period when longer. */
export function portCheckTimeout(spec: Pick<ContainerSpec, 'task'>, flagMs: number): number {
  const check = spec.task.healthCheck;
  if (!check) return flagMs;
  const settings = healthCheckSettings(check);
  return Math.max(flagMs, settings.delayMs + settings.gracePeriodMs);
}

function facts(spec: ContainerSpec, log: Logger): Omit<DockerTaskFacts, 'truncateLogs'> {
  return { taskId: spec.taskId, sandbox: spec.sandbox, owner: spec.user, memMb: spec.memMb, log };
}

/** Docker's own message (`json.message`, else the error's without dockerode's HTTP prefix). */
function errorText(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string } | undefined;
  const text = e?.json?.message ?? e?.message ?? String(err);
  return text.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}
