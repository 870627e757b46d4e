// A load of watches and writes on a ZooKeeper ensemble, for tests that restart its servers under
// traffic: each client keeps a data watch on every node of its own directory and a child watch on
// the directory, re-arming each as it fires, while it rewrites the nodes and adds and removes
// ephemeral children as fast as the ensemble answers, and rewrites and rereads a 256 KiB node.
//
//   const load = await startZkLoad(`zk://${ensemble.connectString}/agora`, { clients: 2 });
//   …restart servers…
//   const counts = await load.stop();   // writes, events, failed calls, sessions expired
import { openStore, type SessionEvent, type Store } from '../../core/store/index.js';

/** Under ZooKeeper's default 1 MiB limit on a node, and many TCP segments long. */
const BIG_BYTES = 256 * 1024;

export interface ZkLoadCounts {
  writes: number;
  events: number;
  /** Calls that failed (connection loss while a server restarts is expected). */
  failures: number;
  sessionEvents: Record<SessionEvent, number>;
}

export interface ZkLoad {
  readonly counts: ZkLoadCounts;
  stop(): Promise<ZkLoadCounts>;
}

export async function startZkLoad(url: string, options: { clients?: number; nodes?: number; sessionTimeoutMs?: number } = {}): Promise<ZkLoad> {
  const nodes = options.nodes ?? 40;
  const counts: ZkLoadCounts = { writes: 0, events: 0, failures: 0, sessionEvents: { connected: 0, suspended: 0, reconnected: 0, expired: 0, closed: 0 } };
  let running = true;
  const stores: Store[] = [];
  const loops: Promise<void>[] = [];
  for (let c = 0; c < (options.clients ?? 2); c++) {
    const store = await openStore(url, { sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000 });
    stores.push(store);
    store.onSession((e) => (counts.sessionEvents[e] += 1));
    const dir = `/zk-load-${process.pid}-${c}`;
    await store.mkdirp(dir);
    const paths = Array.from({ length: nodes }, (_, i) => `${dir}/n${i}`);
    for (const p of paths) await store.create(p, Buffer.from('0')).catch(() => undefined);
    const watchData = (p: string): void => {
      if (!running) return;
      store.get(p, { watch: () => ((counts.events += 1), watchData(p)) }).catch(() => {
        counts.failures += 1;
        setTimeout(() => watchData(p), 50);
      });
    };
    const watchChildren = (): void => {
      if (!running) return;
      store.getChildren(dir, { watch: () => ((counts.events += 1), watchChildren()) }).catch(() => {
        counts.failures += 1;
        setTimeout(watchChildren, 50);
      });
    };
    // A big node, read on every change: a server killed while it sends one leaves half a frame.
    const big = `${dir}/big`;
    await store.create(big, Buffer.alloc(BIG_BYTES)).catch(() => undefined);
    for (const p of [...paths, big]) watchData(p);
    watchChildren();
    loops.push(
      (async () => {
        for (let i = 0; running; i++) {
          const p = paths[i % nodes] as string;
          try {
            await store.set(p, Buffer.from(String(i).repeat(1 + (i % 64))));
            if (i % 5 === 0) await store.create(`${dir}/e-`, Buffer.alloc(512, i), { mode: 'ephemeral-sequential' });
            if (i % 10 === 7) await store.set(big, Buffer.alloc(BIG_BYTES, i));
            if (i % 5 === 2) for (const child of (await store.getChildren(dir)).filter((n) => n.startsWith('e-')).slice(0, 1)) await store.delete(`${dir}/${child}`);
            counts.writes += 1;
          } catch {
            counts.failures += 1;
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
      })(),
    );
  }
  return {
    counts,
    async stop() {
      running = false;
      await Promise.all(loops);
      for (const [c, store] of stores.entries()) {
        await store.deleteRecursive(`/zk-load-${process.pid}-${c}`).catch(() => undefined);
        await store.close();
      }
      return counts;
    },
  };
}
