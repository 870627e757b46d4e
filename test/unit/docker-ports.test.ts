// A Docker task's published ports (agent/executors/docker-ports.ts), on plain data: which host
// port each mapping asks for, which docker inspect shows unbound and why, where the probe connects,
// and how long it may take (agent/executors/docker.ts portCheckTimeout); a probe that throws fails
// the task instead of ending the agent (agent/task-reachable.ts).
import { describe, expect, it } from 'vitest';
import { portCheckTimeout } from '../../agent/executors/docker.js';
import { describePort, probeTargets, requestedPorts, unpublished, unpublishedMessage, waitForPorts } from '../../agent/executors/docker-ports.js';
import type { TaskEntry } from '../../agent/task-entry.js';
import { watchReachable } from '../../agent/task-reachable.js';
import type { ContainerSpec } from '../../agent/executor.js';
import type { PortMapping__Output, TaskInfo__Output } from '../../proto/index.js';

function spec(portMappings: Partial<PortMapping__Output>[], ports: ContainerSpec['ports'], healthCheck: unknown = null): Pick<ContainerSpec, 'task' | 'ports'> {
  const docker = { image: 'busybox', network: 'NETWORK_BRIDGE', portMappings: portMappings.map((m) => ({ hostPort: 0, containerPort: 0, protocol: '', name: '', ...m })) };
  return { ports, task: { taskId: 't1', container: { type: 'CONTAINER_DOCKER', docker }, healthCheck } as unknown as TaskInfo__Output };
}

const web = { name: 'http', containerPort: 8080, protocol: 'tcp', hostPort: 31000 };

describe('docker ports', () => {
  it('gives each mapping its host port: its own, else the task port of its name, else the one at its position; 0 when none', () => {
    const s = spec(
      [{ containerPort: 80, name: 'admin' }, { containerPort: 53, protocol: 'udp' }, { containerPort: 443, hostPort: 31999 }, { containerPort: 9 }],
      [{ number: 31000, name: 'web' }, { number: 31001 }, { number: 31002, name: 'admin' }],
    );
    expect(requestedPorts(s)).toEqual([
      { name: 'admin', containerPort: 80, protocol: 'tcp', hostPort: 31002 },
      { name: '', containerPort: 53, protocol: 'udp', hostPort: 31001 },
      { name: '', containerPort: 443, protocol: 'tcp', hostPort: 31999 },
      { name: '', containerPort: 9, protocol: 'tcp', hostPort: 0 },
    ]);
    expect(describePort(web)).toBe('port http (container 8080, host 31000)');
    expect(describePort({ name: '', containerPort: 53, protocol: 'udp', hostPort: 0 })).toBe('port 53/udp (container 53/udp)');
  });

  it('finds the first port docker inspect shows no HostPort binding for', () => {
    const dns = { name: 'dns', containerPort: 53, protocol: 'udp', hostPort: 31001 };
    const bound = { '8080/tcp': [{ HostIp: '0.0.0.0', HostPort: '31000' }], '53/udp': [{ HostIp: '0.0.0.0', HostPort: '31001' }] };
    expect(unpublished([web, dns], bound)).toBeUndefined();
    expect(unpublished([web, dns], {})).toBe(web);
    expect(unpublished([web, dns], null)).toBe(web);
    expect(unpublished([web, dns], { '8080/tcp': [{ HostIp: '0.0.0.0', HostPort: '31000' }] })).toBe(dns);
    expect(unpublished([web], { '8080/tcp': [{ HostIp: '0.0.0.0', HostPort: '32000' }] })).toBe(web);
    expect(unpublished([{ ...web, hostPort: 0 }], bound)?.containerPort).toBe(8080);
  });

  it('says why a port is not published', () => {
    const start = 'port http (container 8080, host 31000) is not published: ';
    expect(unpublishedMessage(web, 'bridge', false)).toBe(`${start}the engine has no bridge network; use network: host or give the engine a bridge`);
    expect(unpublishedMessage(web, 'none', true)).toBe(`${start}network none cannot publish ports; use network: bridge, a user network, or host`);
    expect(unpublishedMessage(web, 'backend', false)).toBe(`${start}the engine has no network 'backend'`);
    expect(unpublishedMessage(web, 'backend', true)).toBe(`${start}the engine bound no host port for it on network 'backend' (a driver that cannot publish ports?)`);
    expect(unpublishedMessage({ ...web, hostPort: 0 }, 'bridge', true)).toBe(
      "port http (container 8080) is not published: the task has no host port for it (a ports resource named 'http' or at its position)",
    );
  });

  it("probes each TCP port at the container's address on its network (UDP has no connect to try)", () => {
    const dns = { name: 'dns', containerPort: 53, protocol: 'udp', hostPort: 31001 };
    expect(probeTargets([web, dns], { backend: { IPAddress: '10.1.0.5' } }, 'backend')).toEqual([{ port: web, host: '10.1.0.5' }]);
    expect(probeTargets([web], { other: { IPAddress: '' }, backend: { IPAddress: '10.1.0.6' } }, 'bridge')).toEqual([{ port: web, host: '10.1.0.6' }]);
    expect(probeTargets([web], {}, 'bridge')).toEqual([]);
  });

  it('waits --docker-port-check-timeout, or the health check delay + grace when longer', () => {
    expect(portCheckTimeout(spec([], []), 60_000)).toBe(60_000);
    const check = { type: 'TCP', tcp: { port: 0, portName: 'http' }, delaySeconds: 30, gracePeriodSeconds: 300 };
    expect(portCheckTimeout(spec([], [], check), 60_000)).toBe(330_000);
    expect(portCheckTimeout(spec([], [], { ...check, delaySeconds: 1, gracePeriodSeconds: 2 }), 60_000)).toBe(60_000);
  });
});

describe('watching a task until its ports answer', () => {
  it('fails the task, naming the error, when the probe throws (a port no socket can connect to)', async () => {
    const entry = { checks: [] } as unknown as TaskEntry;
    const bad = { ...web, containerPort: 70_000 };
    const seen: string[] = [];
    await watchReachable(entry, (signal) => waitForPorts([{ port: bad, host: '127.0.0.1' }], { timeoutMs: 100, signal }), {
      ready: () => seen.push('ready'),
      unreachable: (message) => seen.push(message),
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^the port check failed: .*70000/);
  });
});
