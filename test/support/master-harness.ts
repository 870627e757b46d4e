// A master in-process on loopback (gRPC and HTTP on port 0) with a `memory:` store, or a file store
// in a temp dir, and short intervals, plus the peers tests connect to it and an invariant check.
//
//   const h = await MasterHarness.start({ offerTimeout: '200ms' });
//   const agent = await h.agent({ resources: 'cpus:2;mem:1024' });
//   const fw = await h.framework({ name: 'a' });
//   const [offer] = await fw.nextOffers();
//   ...
//   h.invariant();                 // allocator's own checks + allocated + available = total, per agent
//   await stopHarnesses();         // in afterEach: peers, masters, stores
//
// With `clock: new FakeClock(Date.now())` (certificates are checked against it) the master's timers (allocation interval, heartbeats, pings, offer
// and re-registration timeouts) move only when the test advances that clock; the network does not,
// so wait for what the peers receive with `eventually`.
import type { Clock } from '../../core/clock.js';
import { AgoraError } from '../../core/errors.js';
import { Resources } from '../../core/resources.js';
import { openStore, type Store } from '../../core/store/index.js';
import { Master } from '../../master/master.js';
import { testMasterSecurity } from './security.js';
import { TestAgent, type TestAgentOptions } from './test-agent.js';
import { TestFramework, type TestFrameworkOptions } from './test-framework.js';
import { tempDir } from './tmp.js';
import { TEST_MASTER_FLAGS } from '../../sdk/testing/index.js';

/** Short intervals so tests run in seconds (values as the master's flags take them): the testing kit's. */
export { TEST_MASTER_FLAGS as TEST_MASTER_OPTIONS } from '../../sdk/testing/index.js';

export interface HarnessOptions {
  /** Master flags over TEST_MASTER_OPTIONS (the testing kit's TEST_MASTER_FLAGS), e.g. { offerTimeout: '200ms' }. */
  master?: Record<string, unknown>;
  /** 'memory' (default), 'file' (a fresh temp dir), { dir } (an existing store directory) or { url } (a named memory:// store others share: jobs-host.ts uniqueStore()). */
  store?: 'memory' | 'file' | { dir: string } | { url: string };
  /** The master's clock (default: the system's); a FakeClock lets a test move its timers. Start it at Date.now(): peers' certificates are checked against it. */
  clock?: Clock;
  /** The built dashboard to serve (default: dist/web when built). */
  dashboardDir?: string;
}

const running = new Set<MasterHarness>();

export class MasterHarness {
  readonly agents: TestAgent[] = [];
  readonly frameworks: TestFramework[] = [];
  #stopped = false;

  private constructor(
    public master: Master,
    public store: Store,
    readonly storeDir: string | undefined,
    readonly flags: Readonly<Record<string, unknown>>,
    readonly clock: Clock | undefined,
  ) {}

  static async start(options: HarnessOptions = {}): Promise<MasterHarness> {
    const storeDir = options.store === 'file' ? await tempDir('master-store') : typeof options.store === 'object' && 'dir' in options.store ? options.store.dir : undefined;
    const named = typeof options.store === 'object' && 'url' in options.store ? options.store.url : undefined;
    const store = await openStore(storeDir ?? named ?? 'memory:', { chroot: '/agora' });
    const flags = { ...TEST_MASTER_FLAGS, ...options.master };
    let master: Master;
    try {
      master = await Master.start(flags, { store, security: testMasterSecurity(), ...(options.clock ? { clock: options.clock } : {}), ...(options.dashboardDir ? { dashboardDir: options.dashboardDir } : {}) });
    } catch (err) {
      await store.close();
      throw err;
    }
    const harness = new MasterHarness(master, store, storeDir, flags, options.clock);
    running.add(harness);
    return harness;
  }

  /** host:port of the master's gRPC endpoint. */
  get address(): string {
    return this.master.grpcAddress;
  }

  get state(): Master['state'] {
    return this.master.state;
  }

  /** A registered (or, with `agentId`, re-registered) test agent, closed by stop(). */
  async agent(options: TestAgentOptions = {}): Promise<TestAgent> {
    const agent = await TestAgent.connect(this.address, options);
    this.agents.push(agent);
    return agent;
  }

  /** A subscribed test framework, closed by stop(). */
  async framework(options: TestFrameworkOptions = {}): Promise<TestFramework> {
    const framework = await TestFramework.subscribe(this.address, options);
    this.frameworks.push(framework);
    return framework;
  }

  /** Let the harness close a peer the test made itself. */
  track<T extends TestAgent | TestFramework>(peer: T): T {
    if (peer instanceof TestAgent) this.agents.push(peer);
    else this.frameworks.push(peer as TestFramework);
    return peer;
  }

  /**
   * The allocator's own invariants, then for every agent the allocator knows: allocated +
   * available = total, and allocated = what the master's outstanding offers and live tasks on it
   * hold (so nothing leaks and nothing is counted twice).
   */
  invariant(): void {
    const { allocator } = this.state;
    allocator.checkInvariants();
    for (const agent of this.state.allAgents()) {
      const view = allocator.agent(agent.id);
      if (!view) continue;
      const sum = view.allocated.add(view.available);
      if (!sum.equals(view.total)) {
        throw new Error(`agent ${agent.id}: allocated ${view.allocated.format()} + available ${view.available.format()} = ${sum.format()} ≠ total ${view.total.format()}`);
      }
      const offered = Resources.sum([...this.state.outstandingOffers()].filter((o) => o.agentId === agent.id).map((o) => o.resources));
      const used = Resources.sum(this.state.tasksOnAgent(agent.id).filter((t) => t.holdsResources).map((t) => t.resources));
      const held = offered.add(used);
      if (!held.flatten().equals(view.allocated.flatten())) {
        throw new Error(
          `agent ${agent.id}: allocator says allocated ${view.allocated.format()}, but offers hold ${offered.format()} and tasks ${used.format()} (${held.format()})`,
        );
      }
    }
  }

  /** What the allocator counts as allocated on the agent, less the outstanding offers: what tasks hold. */
  taskAllocation(agentId: string): Resources {
    const view = this.state.allocator.agent(agentId);
    if (!view) throw new Error(`the allocator does not know agent ${agentId}`);
    const offered = Resources.sum([...this.state.outstandingOffers()].filter((o) => o.agentId === agentId).map((o) => o.resources));
    return view.allocated.flatten().subtract(offered.flatten());
  }

  /**
   * Stop this master and start a new one on the same store (a file store is closed and reopened
   * from its directory). Peers are not touched: their streams end with the old master.
   */
  async restart(masterFlags: Record<string, unknown> = {}): Promise<void> {
    await this.master.stop();
    if (this.storeDir !== undefined) {
      await this.store.close();
      this.store = await openStore(this.storeDir, { chroot: '/agora' });
    }
    this.master = await Master.start({ ...this.flags, ...masterFlags }, { store: this.store, security: testMasterSecurity(), ...(this.clock ? { clock: this.clock } : {}) });
  }

  /** Close every peer, stop the master, close the store. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    running.delete(this);
    await Promise.allSettled([...this.frameworks.map((f) => f.dispose()), ...this.agents.map((a) => a.close())]);
    await this.master.stop();
    await this.store.close();
  }
}

/** Stop every harness still running (call in afterEach). */
export async function stopHarnesses(): Promise<void> {
  await Promise.allSettled([...running].map((h) => h.stop()));
}

export { eventually } from './waits.js';

/** Await a call that must fail; returns the AgoraError (fails the test if it resolved). */
export async function rejection(promise: Promise<unknown>): Promise<AgoraError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AgoraError) return err;
    throw new Error(`expected an AgoraError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected the call to fail, but it succeeded');
}
