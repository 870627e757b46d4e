// Leader election among several instances of one framework: one is active, the others wait and
// take over (with the state in the Store) when it dies. A thin layer over core/election.
import { LeaderElection, type LeaderInfo } from '../core/election.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../core/store/index.js';

export interface FrameworkLeaderOptions<T> {
  readonly store: Store;
  readonly cluster: string;
  readonly framework: string;
  /** What this instance advertises (e.g. its API address), readable by the others. */
  readonly data: T;
  /** Start acting: subscribe the driver, serve the API. */
  readonly onElected: () => void | Promise<void>;
  /** Stop acting at once: the session is in doubt or gone. */
  readonly onLost: (reason: string) => void | Promise<void>;
  /**
   * How long to keep leading while the store's connection is lost but its session may live (it
   * moves to another ZooKeeper server): as the masters do, at most 2/3 of the session timeout.
   * Default 0: step down at once. Whoever sets it must stop acting when the store can no longer
   * vouch for the session (`Store.contactAgeMs()` past 2/3 of its timeout).
   */
  readonly suspendedGraceMs?: number;
  readonly logger?: Logger;
}

export function frameworkElectionPath(cluster: string, framework: string): string {
  return `/${cluster}/frameworks/${framework}/election`;
}

export interface FrameworkLeadership<T> {
  readonly isLeader: boolean;
  readonly leader: LeaderInfo<T> | undefined;
  resign(): Promise<void>;
}

export async function electFrameworkLeader<T>(options: FrameworkLeaderOptions<T>): Promise<FrameworkLeadership<T>> {
  const election = new LeaderElection<T>({
    store: options.store,
    path: frameworkElectionPath(options.cluster, options.framework),
    data: options.data,
    ...(options.suspendedGraceMs !== undefined ? { suspendedGraceMs: options.suspendedGraceMs } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  election.on('elected', () => {
    void Promise.resolve(options.onElected()).catch((err: unknown) => options.logger?.error({ err }, 'onElected failed'));
  });
  election.on('lost', (reason) => {
    void Promise.resolve(options.onLost(String(reason))).catch((err: unknown) => options.logger?.error({ err }, 'onLost failed'));
  });
  await election.start();
  return {
    get isLeader() {
      return election.isLeader;
    },
    get leader() {
      return election.leader;
    },
    resign: () => election.resign(),
  };
}
