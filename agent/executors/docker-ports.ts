// The ports a Docker task publishes, whether the engine published them, and whether they answer.
//
//   requestedPorts(spec)              portMappings → container port, protocol, host port (pure)
//   unpublished(requested, Ports)     after start: the first port docker inspect shows no HostPort
//                                     binding for, or undefined (pure)
//   probeTargets(requested, inspect)  where each TCP port is answered: the container's address on
//                                     its network, at the container port (pure)
//   waitForPorts(targets, bounds)     a TCP connect to each, every 500 ms, until all answer or the
//                                     time is up
//
// Why not a connect to the published host port: Docker's userland proxy (docker-proxy, which
// publishes ports when the engine runs without iptables, and for connections from the host itself
// when it runs with them) listens on the host port from the start and accepts every connection,
// closing it only once it fails to reach the container. A connect there succeeds before the task
// listens. The probe connects where the proxy (or Docker's DNAT rule) forwards to: the container's
// IP on its network, at the container port; that the host port is bound is docker inspect's word.
import net from 'node:net';
import type Docker from 'dockerode';
import type { ContainerSpec } from '../executor.js';
import { pause } from '../../core/pause.js';

export interface RequestedPort {
  /** The mapping's name, else its host port's name, else '' . */
  readonly name: string;
  readonly containerPort: number;
  readonly protocol: string;
  /** 0: the task has no host port for it. */
  readonly hostPort: number;
}

export interface ProbeTarget {
  readonly port: RequestedPort;
  readonly host: string;
}

export interface PortsAnswer {
  readonly ok: boolean;
  readonly message: string;
}

export const PORT_PROBE_INTERVAL_MS = 500;
/** How long one connect may take before it counts as not answered. */
const CONNECT_TIMEOUT_MS = 1_000;

/** Bridge/user networks: each port mapping with the host port it is published on (host_port 0: the task's port of that name, else at that position). */
export function requestedPorts(spec: Pick<ContainerSpec, 'task' | 'ports'>): RequestedPort[] {
  const mappings = spec.task.container?.docker?.portMappings ?? [];
  return mappings.map((m, i) => {
    const named = m.name ? spec.ports.find((p) => p.name === m.name) : undefined;
    const host = m.hostPort || named?.number || spec.ports[i]?.number || 0;
    const name = m.name || spec.ports.find((p) => p.number === host)?.name || '';
    return { name, containerPort: m.containerPort, protocol: m.protocol || 'tcp', hostPort: host };
  });
}

/** `port http (container 8080)`, `port 8080/udp (container 8080)`. */
export function describePort(port: RequestedPort): string {
  const proto = port.protocol === 'tcp' ? '' : `/${port.protocol}`;
  return `port ${port.name || `${port.containerPort}${proto}`} (container ${port.containerPort}${proto}${port.hostPort ? `, host ${port.hostPort}` : ''})`;
}

/** The first requested port with no HostPort binding in docker inspect's NetworkSettings.Ports. */
export function unpublished(requested: readonly RequestedPort[], ports: Docker.PortMap | null | undefined): RequestedPort | undefined {
  return requested.find((p) => {
    if (!p.hostPort) return true;
    const bound = ports?.[`${p.containerPort}/${p.protocol}`] ?? [];
    return !bound.some((b) => b.HostPort === String(p.hostPort));
  });
}

/** Why a port is not published, for the task's message. */
export function unpublishedMessage(port: RequestedPort, networkMode: string, hasNetwork: boolean): string {
  const what = `${describePort(port)} is not published`;
  if (!port.hostPort) return `${what}: the task has no host port for it (a ports resource named '${port.name}' or at its position)`;
  if (networkMode === 'none') return `${what}: network none cannot publish ports; use network: bridge, a user network, or host`;
  if (!hasNetwork && networkMode === 'bridge') return `${what}: the engine has no bridge network; use network: host or give the engine a bridge`;
  if (!hasNetwork) return `${what}: the engine has no network '${networkMode}'`;
  return `${what}: the engine bound no host port for it on network '${networkMode}' (a driver that cannot publish ports?)`;
}

/** The container's address on its network for each TCP port (UDP has no connect to test). */
export function probeTargets(requested: readonly RequestedPort[], networks: Record<string, { IPAddress?: string }> | null | undefined, networkMode: string): ProbeTarget[] {
  const address = networks?.[networkMode]?.IPAddress || Object.values(networks ?? {}).find((n) => n.IPAddress)?.IPAddress || '';
  if (!address) return [];
  return requested.filter((p) => p.protocol === 'tcp').map((port) => ({ port, host: address }));
}

export interface PortWaitBounds {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  readonly signal: AbortSignal;
}

/**
 * Connects to each target in turn, every interval, until all have answered (ok) or timeoutMs has
 * passed (not ok, naming the first port that never answered). An aborted wait resolves not ok.
 */
export async function waitForPorts(targets: readonly ProbeTarget[], bounds: PortWaitBounds): Promise<PortsAnswer> {
  const deadline = Date.now() + bounds.timeoutMs;
  const interval = bounds.intervalMs ?? PORT_PROBE_INTERVAL_MS;
  const waiting = [...targets];
  let last = '';
  while (waiting.length > 0) {
    const next = waiting[0] as ProbeTarget;
    const error = await connectOnce(next.host, next.port.containerPort, bounds.signal);
    if (error === undefined) {
      waiting.shift();
      continue;
    }
    last = error;
    const left = deadline - Date.now();
    if (bounds.signal.aborted) return { ok: false, message: 'port check stopped' };
    if (left <= 0) {
      const seconds = Math.round(bounds.timeoutMs / 100) / 10;
      return { ok: false, message: `${describePort(next.port)} did not answer within ${seconds} s (last: ${last})` };
    }
    await pause(Math.min(interval, left), bounds.signal);
  }
  return { ok: true, message: `${targets.length === 1 ? 'its port answers' : `its ${targets.length} ports answer`}` };
}

/** undefined when a TCP connection to host:port was accepted, else why not. */
function connectOnce(host: string, port: number, signal: AbortSignal): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, signal });
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => {
      socket.destroy();
      resolve(`connect to ${host}:${port} timed out`);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(`connect to ${host}:${port}: ${err.code ?? err.message}`));
  });
}

