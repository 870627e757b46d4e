// Finding the leading master. Two ways in: a list of addresses (tried in turn; a standby's
// UNAVAILABLE reply names the leader, which is tried next), or a ZooKeeper URL, where the SDK reads
// the master election and follows every change of leader.
import { InvalidArgumentError } from './errors.js';
import { readSuccessor, watchLeader } from './election.js';
import { parseAddress } from './options.js';
import { openStore, type Store } from './store/index.js';

/** What a master advertises in its election node. */
export interface MasterAdvert {
  readonly id?: string;
  readonly grpcAddress: string;
  readonly httpAddress?: string;
}

/** The election path of a cluster's masters (relative to the store's chroot, /agora). */
export function masterElectionPath(cluster: string): string {
  return `/${cluster}/master/election`;
}

/**
 * gRPC metadata on an agent's stream to the successor: "my stream to this leader (host:port)
 * broke". The successor holds such a stream while that master still holds the election.
 */
export const LEADER_LOST_HEADER = 'agora-leader-lost';

export interface MasterDiscovery {
  /** The address to try now (host:port), or undefined when no master is known yet. */
  current(): string | undefined;
  /** The last tried address failed: move on to the next candidate. */
  failed(address: string): void;
  /** A master said the leader is elsewhere. */
  redirect(address: string): void;
  /**
   * The master next in line after the leader (zk), read afresh: where to wait when the stream to
   * the leader breaks. Undefined when not known (a plain address list).
   */
  successor?(): Promise<string | undefined>;
  /** Called when the leader changes (zk) so a connected driver can move. */
  onChange(listener: () => void): () => void;
  close(): Promise<void>;
}

export class StaticDiscovery implements MasterDiscovery {
  readonly #addresses: string[];
  #index = 0;
  #redirected: string | undefined;

  constructor(addresses: readonly string[]) {
    if (addresses.length === 0) throw new InvalidArgumentError('master', 'at least one master address is required');
    this.#addresses = addresses.map((a, i) => parseAddress(a, `master[${i}]`));
  }

  current(): string | undefined {
    return this.#redirected ?? this.#addresses[this.#index % this.#addresses.length];
  }

  failed(address: string): void {
    if (address === this.#redirected) this.#redirected = undefined;
    else this.#index += 1;
  }

  redirect(address: string): void {
    this.#redirected = address;
  }

  onChange(): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {}
}

export class ZooKeeperDiscovery implements MasterDiscovery {
  #leader: string | undefined;
  readonly #listeners = new Set<() => void>();
  #unwatch: (() => void) | undefined;
  /** One read at a time, shared by all who ask meanwhile. */
  #successor: Promise<string | undefined> | undefined;

  private constructor(
    private readonly store: Store,
    private readonly cluster: string,
  ) {}

  static async open(url: string, cluster: string, sessionTimeoutMs?: number): Promise<ZooKeeperDiscovery> {
    // Only reads the (world-readable) election: needs no credentials, and writes nothing.
    const store = await openStore(url, { createChroot: false, ...(sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs }) });
    const discovery = new ZooKeeperDiscovery(store, cluster);
    discovery.#unwatch = watchLeader<MasterAdvert>(store, masterElectionPath(cluster), (leader) => {
      const next = leader?.data?.grpcAddress;
      if (next === discovery.#leader) return;
      discovery.#leader = next;
      for (const l of discovery.#listeners) l();
    });
    return discovery;
  }

  current(): string | undefined {
    return this.#leader;
  }

  failed(): void {}

  redirect(): void {}

  successor(): Promise<string | undefined> {
    this.#successor ??= readSuccessor<MasterAdvert>(this.store, masterElectionPath(this.cluster))
      .then((s) => s?.data?.grpcAddress, () => undefined)
      .finally(() => (this.#successor = undefined));
    return this.#successor;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#unwatch?.();
    await this.store.close();
  }
}

/** `zk://h1:2181,h2:2181/agora` → ZooKeeper discovery; `h1:5051,h2:5051` or a list → static. */
export async function discoverMasters(master: string | readonly string[], cluster: string): Promise<MasterDiscovery> {
  if (typeof master === 'string' && master.startsWith('zk://')) return ZooKeeperDiscovery.open(master, cluster);
  const list = typeof master === 'string' ? master.split(',').map((s) => s.trim()).filter(Boolean) : [...master];
  return new StaticDiscovery(list);
}
