// A user-defined bridge network on the test engine (which has no default bridge and no iptables:
// test/support/docker.ts). Docker publishes its containers' ports through docker-proxy, so no
// iptables rule is needed. Named `agi-<pid>-<n>` (the Linux bridge too, at most 15 characters) on
// a free 10.213.x.0/24: one whose prefix no route of the host uses yet (other engines' bridges,
// other test files' networks, network namespaces), tried in turn from a place tied to the pid.
import { execFileSync } from 'node:child_process';
import type Docker from 'dockerode';

export interface TestNetwork {
  readonly name: string;
  readonly subnet: string;
  /** Removes the network (its containers must be gone). */
  remove(): Promise<void>;
}

let made = 0;

export async function createTestNetwork(docker: Docker): Promise<TestNetwork> {
  const name = `agi-${process.pid % 1_000_000}-${made++}`.slice(0, 15);
  const start = process.pid % 250;
  let lastError: unknown;
  for (let i = 0; i < 20; i++) {
    const subnet = `10.213.${(start + i) % 250}.0/24`;
    if (routed(subnet)) continue;
    try {
      await docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, IPAM: { Config: [{ Subnet: subnet }] }, Options: { 'com.docker.network.bridge.name': name } });
      return { name, subnet, remove: () => docker.getNetwork(name).remove().then(() => undefined, () => undefined) };
    } catch (err) {
      lastError = err; // taken meanwhile (another engine's pool overlaps): try the next
    }
  }
  throw new Error(`no free 10.213.x.0/24 for a test bridge: ${String(lastError)}`);
}

function routed(subnet: string): boolean {
  const prefix = subnet.split('.').slice(0, 3).join('.');
  return execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' }).split('\n').some((line) => line.startsWith(`${prefix}.`));
}
