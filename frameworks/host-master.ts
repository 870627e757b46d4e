// Where the leading master's operator HTTP API is (the Jobs API finds tasks' agents there):
// --master-http when given; else, with a zk:// --master, the HTTP address the leading master
// advertises in its election node; else the first --master host on the default port 5050.
import { watchLeader } from '../core/election.js';
import { openStore, type Store } from '../core/store/index.js';
import { masterElectionPath, type MasterAdvert } from '../sdk/discovery.js';
import type { FrameworksOptions } from './host-options.js';

export interface MasterHttpFinder {
  current(): string | undefined;
  close(): Promise<void>;
}

const DEFAULT_MASTER_HTTP_PORT = 5050;

export async function masterHttpFinder(options: Pick<FrameworksOptions, 'master' | 'masterHttp' | 'cluster' | 'zkSessionTimeout'>): Promise<MasterHttpFinder> {
  if (options.masterHttp !== undefined) return fixed(options.masterHttp);
  if (!options.master.startsWith('zk://')) {
    const first = options.master.split(',')[0]?.trim() ?? '';
    const host = first.replace(/:\d+$/, '') || '127.0.0.1';
    return fixed(`${host}:${DEFAULT_MASTER_HTTP_PORT}`);
  }
  // Only reads the (world-readable) election: needs no credentials, and writes nothing.
  const store: Store = await openStore(options.master, { sessionTimeoutMs: options.zkSessionTimeout, createChroot: false });
  let address: string | undefined;
  const unwatch = watchLeader<MasterAdvert>(store, masterElectionPath(options.cluster), (leader) => {
    address = leader?.data?.httpAddress;
  });
  return {
    current: () => address,
    async close() {
      unwatch();
      await store.close();
    },
  };
}

function fixed(address: string): MasterHttpFinder {
  return { current: () => address, close: async () => undefined };
}
